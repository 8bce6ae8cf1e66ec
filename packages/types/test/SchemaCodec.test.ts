import { describe, expect, it } from "@effect/vitest"
import { DecodeError, EncodeError } from "@pgfx/types/Codec"
import { compositeCodec } from "@pgfx/types/CompositeCodecs"
import { date, timestamptz } from "@pgfx/types/DateTimeCodecs"
import { int4 } from "@pgfx/types/NumberCodecs"
import { numeric } from "@pgfx/types/NumericCodec"
import { PgDate } from "@pgfx/types/PgDate"
import { PgTimestamp } from "@pgfx/types/PgTimestamp"
import { customCodec, tupleCodec } from "@pgfx/types/SchemaCodec"
import { interval, time, timetz } from "@pgfx/types/TimeCodecs"
import { Interval } from "@pgfx/types/Interval"
import { PgTime, PgTimeTz } from "@pgfx/types/PgTime"
import { Schema, SchemaGetter } from "effect"
import { decode, encode, encodeErrorOf, fromHex, hex } from "./util.ts"

describe("custom codecs from Schema", () => {
  it("text format: the Schema sees the type's text", () => {
    const asFloat = customCodec(numeric, { format: "text", schema: Schema.NumberFromString })
    expect([asFloat.name, asFloat.oid, asFloat.binary]).toEqual(["numeric", 1700, false])
    expect(asFloat.decodeText("11.125")).toBe(11.125)
    expect(asFloat.encodeText(11.125)).toBe("11.125")
    expect(asFloat.sendAsText(1)).toBe(true)
    expect(asFloat.stringsAsText).toBe(false)
  })

  it("binary format: the Schema sees the bytes", () => {
    const byteCount = customCodec(int4, {
      format: "binary",
      schema: Schema.Uint8Array.pipe(
        Schema.decodeTo(Schema.Number, {
          decode: SchemaGetter.transform((b: Uint8Array) => b.length),
          encode: SchemaGetter.transform((n: number) => new Uint8Array(n)),
        }),
      ),
    })
    expect([byteCount.binary, byteCount.sendAsText("x")]).toEqual([true, false])
    expect(decode(byteCount, fromHex("00000005"))).toBe(4)
    expect(hex(encode(byteCount, 3))).toBe("000000")
  })

  it("tuple format: asyncpg's layouts", () => {
    const tuples: Array<[typeof int4, unknown, ReadonlyArray<unknown>]> = [
      [interval as never, new Interval(27, 1, 5n), [27, 1, 5n]],
      [date as never, PgDate.make(2000, 1, 2), [1]],
      [date as never, PgDate.infinity, [2147483647]],
      [timestamptz as never, PgTimestamp.make(2000, 1, 1, 0, 0, 1), [1_000_000n]],
      [time as never, PgTime.make(0, 0, 2), [2_000_000]],
      [timetz as never, PgTimeTz.make(0, 0, 0, 0, 3600), [0, 3600]],
    ]
    for (const [codec, value, tuple] of tuples) {
      const t = tupleCodec(codec)!
      expect(decode(t, encode(codec, value)), codec.name).toEqual(tuple)
      expect(decode(codec, encode(t, tuple)), codec.name).toEqual(value)
    }
    expect(tupleCodec(int4)).toBeUndefined()
    const pair = compositeCodec({ name: "p", oid: 1, arrayOid: 0 }, [
      { name: "a", typeOid: 23, codec: int4 },
      { name: "b", typeOid: 23, codec: int4 },
    ])
    expect(decode(tupleCodec(pair, true)!, encode(pair, [1, 2]))).toEqual([1, 2])
    expect(() => customCodec(int4, { format: "tuple", schema: Schema.Tuple([]) as never })).toThrow(/tuple/)
  })

  it("Schema failures become DecodeError / EncodeError without the value in the message", () => {
    const finite = customCodec(numeric, {
      format: "text",
      schema: Schema.NumberFromString.pipe(Schema.check(Schema.isFinite())),
    })
    try {
      finite.decodeText("NaN")
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError)
      expect((e as DecodeError).cause).toBeDefined()
    }
    const e = encodeErrorOf(() => finite.encodeText("secret-ish"))
    expect(e).toBeInstanceOf(EncodeError)
    expect(e.message).not.toContain("secret-ish")
    expect(e.cause).toBeDefined()
    const boom = SchemaGetter.transform((): number => {
      throw new Error("boom")
    })
    const throwing = customCodec(numeric, {
      format: "text",
      schema: Schema.String.pipe(
        Schema.decodeTo(Schema.Number, { decode: boom, encode: SchemaGetter.transform((n: number) => String(n)) }),
      ),
    })
    expect(() => throwing.decodeText("1")).toThrow(DecodeError)
  })
})
