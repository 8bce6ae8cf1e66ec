/**
 * `CompatCodecs.effectSqlPg`: @effect/sql-pg's value types for timestamps, dates and times, in
 * both wire formats, for arrays too; parameters of either kind are still accepted.
 */
import { describe, expect, it } from "@effect/vitest"
import * as CompatCodecs from "@pgfx/types/CompatCodecs"
import { Oids } from "@pgfx/types/Oids"
import { PgDate } from "@pgfx/types/PgDate"
import { PgTimestamp } from "@pgfx/types/PgTimestamp"
import { builtins } from "@pgfx/types/CodecRegistry"
import { decode, encode, roundTrip } from "./util.ts"

const registry = CompatCodecs.effectSqlPg()
const codec = (oid: number) => registry.get(oid)!

describe("CompatCodecs.effectSqlPg", () => {
  it("timestamps decode to Date truncated to the millisecond; infinity is an invalid Date", () => {
    const tz = codec(Oids.timestamptz)
    const value = PgTimestamp.make(2024, 1, 2, 3, 4, 5, 678901)
    expect(roundTrip(tz, value)).toEqual(new Date("2024-01-02T03:04:05.678Z"))
    expect(tz.decodeText("2024-01-02 03:04:05.678901+00")).toEqual(new Date("2024-01-02T03:04:05.678Z"))
    expect(Number.isNaN((roundTrip(tz, PgTimestamp.infinity) as Date).getTime())).toBe(true)
    const ts = codec(Oids.timestamp)
    expect(ts.decodeText("2024-01-02 03:04:05")).toEqual(new Date("2024-01-02T03:04:05Z"))
    // a Date parameter encodes like the exact codec's
    const at = new Date("2030-05-06T07:08:09.123Z")
    expect(encode(tz, at)).toEqual(encode(builtins.get(Oids.timestamptz)!, at))
  })

  it("dates decode to text, times to bigint microseconds, timetz to text", () => {
    expect(roundTrip(codec(Oids.date), PgDate.make(2024, 2, 29))).toBe("2024-02-29")
    expect(roundTrip(codec(Oids.date), PgDate.infinity)).toBe("infinity")
    expect(codec(Oids.time).decodeText("01:02:03.000004")).toBe(3723000004n)
    expect(roundTrip(codec(Oids.time), 3723000004n)).toBe(3723000004n)
    expect(codec(Oids.timetz).decodeText("01:02:03+05:30")).toBe("01:02:03+05:30")
  })

  it("arrays follow their elements; other types are unchanged", () => {
    expect(codec(Oids._timestamptz).decodeText('{"2024-01-02 00:00:00+00",NULL}')).toEqual([
      new Date("2024-01-02T00:00:00Z"),
      null,
    ])
    expect(codec(Oids._date).decodeText("{2024-01-02}")).toEqual(["2024-01-02"])
    expect(registry.get(Oids.int8)).toBe(builtins.get(Oids.int8))
    expect(decode(codec(Oids.int8), encode(codec(Oids.int8), 5n))).toBe(5n)
  })
})
