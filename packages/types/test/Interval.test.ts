import { describe, expect, it } from "@effect/vitest"
import { Interval, parseInterval } from "@pgfx/types/Interval"
import { parseTime, PgTime, PgTimeTz } from "@pgfx/types/PgTime"
import { interval, time, timetz } from "@pgfx/types/TimeCodecs"
import { decode, encode, encodeErrorOf, fromHex, hex, roundTrip } from "./util.ts"

/** [months, days, microseconds, IntervalStyle postgres, iso_8601] as PostgreSQL 18 prints them. */
const cases: Array<[number, number, bigint, string, string]> = [
  [14, -3, 14_706_789_000n, "1 year 2 mons -3 days +04:05:06.789", "P1Y2M-3DT4H5M6.789S"],
  [0, -1, -1_000_000n, "-1 days -00:00:01", "P-1DT-1S"],
  [1, 0, -1_000_000n, "1 mon -00:00:01", "P1MT-1S"],
  [0, 0, 0n, "00:00:00", "PT0S"],
  [0, 0, 360_000_000_000_000n, "100000:00:00", "PT100000H"],
  [0, 0, -1_500_000n, "-00:00:01.5", "PT-1.5S"],
  [0, 0, -1n, "-00:00:00.000001", "PT-0.000001S"],
  [12, 1, 0n, "1 year 1 day", "P1Y1D"],
  [-13, 0, 0n, "-1 years -1 mons", "P-1Y-1M"],
  [0, 2147483647, 2n ** 63n - 1n, "2147483647 days 2562047788:00:54.775807", "P2147483647DT2562047788H54.775807S"],
]

describe("Interval", () => {
  it("prints both IntervalStyles like PostgreSQL and parses them back", () => {
    for (const [m, d, us, postgres, iso] of cases) {
      const i = new Interval(m, d, us)
      expect(String(i)).toBe(postgres)
      expect(i.toISOString()).toBe(iso)
      expect(parseInterval(postgres)).toEqual(i)
      expect(parseInterval(iso)).toEqual(i)
    }
    expect(String(Interval.infinity)).toBe("infinity")
    expect(String(Interval.negativeInfinity)).toBe("-infinity")
    expect(parseInterval("infinity")).toBe(Interval.infinity)
    expect(Interval.infinity.isFinite).toBe(false)
    expect(parseInterval("3 fortnights")).toBeUndefined()
  })

  it("parses the sql_standard and postgres_verbose styles as PostgreSQL prints them", () => {
    const styled: Array<[string, number, number, bigint]> = [
      ["1-2", 14, 0, 0n],
      ["-1-2", -14, 0, 0n],
      ["3 4:05:06", 0, 3, 14_706_000_000n],
      ["-3 4:05:06.5", 0, -3, -14_706_500_000n],
      ["-4:05:06", 0, 0, -14_706_000_000n],
      ["+1-2 -3 +4:05:06.789", 14, -3, 14_706_789_000n],
      ["-0-1 +0 -0:00:01", -1, 0, -1_000_000n],
      ["0", 0, 0, 0n],
      ["@ 1 year 2 mons -3 days 4 hours 5 mins 6.789 secs", 14, -3, 14_706_789_000n],
      ["@ 1 day -2 hours ago", 0, -1, 7_200_000_000n],
      ["@ 1.5 secs ago", 0, 0, -1_500_000n],
      ["@ 1 min -1 sec", 0, 0, 59_000_000n],
      ["@ 0", 0, 0, 0n],
    ]
    for (const [text, months, days, micros] of styled) {
      expect(parseInterval(text), text).toEqual(new Interval(months, days, micros))
    }
    for (const bad of ["1-2-3", "+3 4:05:06", "@ 1 fortnight", "@", "1 2 3 4"])
      expect(parseInterval(bad), bad).toBeUndefined()
  })

  it("make combines fields; months, days and microseconds stay apart", () => {
    const i = Interval.make({ years: 1, months: 2, weeks: 1, days: -3, hours: 4, minutes: 5, seconds: 6.789 })
    expect([i.months, i.days, i.microseconds]).toEqual([14, 4, 14_706_789_000n])
    expect(Interval.make({ milliseconds: 1, microseconds: 1n }).microseconds).toBe(1001n)
    expect(new Interval(0, 1).equals(new Interval(0, 0, 86_400_000_000n))).toBe(false)
    expect(() => new Interval(1.5)).toThrow(RangeError)
    expect(JSON.stringify(new Interval(1))).toBe('"P1M"')
  })

  it("codec: microseconds, days, months on the wire", () => {
    const i = new Interval(14, -3, 14_706_789_000n)
    const bytes = "000000036c97ca88 fffffffd 0000000e"
    expect(hex(encode(interval, i))).toBe(bytes.replaceAll(" ", ""))
    expect(decode(interval, fromHex(bytes))).toEqual(i)
    expect(roundTrip(interval, { months: 1, days: 2, microseconds: 3 })).toEqual(new Interval(1, 2, 3n))
    expect(roundTrip(interval, Interval.infinity)).toEqual(Interval.infinity)
    expect(interval.decodeText(interval.encodeText(i))).toEqual(i)
    expect(encodeErrorOf(() => encode(interval, 5))).toMatchObject({ typeName: "interval", actualType: "number" })
    expect(encodeErrorOf(() => encode(interval, { months: 2 ** 31, days: 0 }))).toMatchObject({ typeName: "interval" })
    expect(interval.sendAsText("1 day")).toBe(true)
  })
})

describe("PgTime / PgTimeTz", () => {
  it("print and parse like PostgreSQL", () => {
    expect(String(PgTime.make(4, 5, 6, 789_000))).toBe("04:05:06.789")
    expect(String(PgTime.make(24))).toBe("24:00:00")
    expect(String(PgTimeTz.make(4, 5, 6, 0, 19_800))).toBe("04:05:06+05:30")
    expect(String(PgTimeTz.make(4, 5, 6, 0, -8 * 3600))).toBe("04:05:06-08")
    expect(String(PgTimeTz.make(23, 59, 59, 999_999, -(15 * 3600 + 59 * 60 + 59)))).toBe("23:59:59.999999-15:59:59")
    expect(parseTime("04:05:06.789")).toEqual(PgTime.make(4, 5, 6, 789_000))
    expect(parseTime("04:05:06+05:30")).toEqual(PgTimeTz.make(4, 5, 6, 0, 19_800))
    expect(parseTime("25:00:00")).toBeUndefined()
    const t = PgTime.make(13, 14, 15, 16)
    expect([t.hour, t.minute, t.second, t.microsecond]).toEqual([13, 14, 15, 16])
    expect(() => new PgTimeTz(0, 16 * 3600)).toThrow(RangeError)
    expect(() => new PgTime(-1)).toThrow(RangeError)
  })

  it("codecs: the timetz zone is seconds west of UTC on the wire", () => {
    expect(hex(encode(time, PgTime.make(0, 0, 1)))).toBe("00000000000f4240")
    const tz = PgTimeTz.make(0, 0, 1, 0, 3600)
    expect(hex(encode(timetz, tz))).toBe("00000000000f4240" + "fffff1f0")
    expect(decode(timetz, fromHex("00000000000f4240 fffff1f0"))).toEqual(tz)
    expect(roundTrip(time, PgTime.make(24))).toEqual(PgTime.make(24))
    expect(() => decode(time, fromHex("0000001423a0b001"))).toThrow(/time/)
    expect(timetz.decodeText("04:05:06-08")).toEqual(PgTimeTz.make(4, 5, 6, 0, -28_800))
    expect(() => time.decodeText("04:05:06-08")).toThrow(/time/)
    expect(encodeErrorOf(() => encode(time, new Date()))).toMatchObject({ typeName: "time", actualType: "Date" })
  })
})
