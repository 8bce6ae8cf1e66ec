import { describe, expect, it } from "@effect/vitest"
import { date, timestamp, timestamptz } from "@pgfx/types/DateTimeCodecs"
import { parseDate, PgDate } from "@pgfx/types/PgDate"
import { parseTimestamp, PgTimestamp } from "@pgfx/types/PgTimestamp"
import { decode, encode, encodeErrorOf, fromHex, hex, roundTrip } from "./util.ts"

describe("PgDate", () => {
  it("prints like PostgreSQL's ISO DateStyle", () => {
    expect(PgDate.make(2024, 2, 29).toString()).toBe("2024-02-29")
    expect(PgDate.make(-43, 3, 15).toString()).toBe("0044-03-15 BC")
    expect(PgDate.make(0, 1, 1).toString()).toBe("0001-01-01 BC")
    expect(PgDate.make(-4713, 11, 24).toString()).toBe("4714-11-24 BC")
    expect(PgDate.make(1, 1, 1).toString()).toBe("0001-01-01")
    expect(PgDate.make(10000, 1, 1).toString()).toBe("10000-01-01")
    expect(PgDate.make(5874897, 12, 31).toString()).toBe("5874897-12-31")
    expect(PgDate.infinity.toString()).toBe("infinity")
    expect(PgDate.negativeInfinity.toString()).toBe("-infinity")
    expect(JSON.stringify({ d: PgDate.make(2024, 1, 2) })).toBe('{"d":"2024-01-02"}')
  })
  it("converts days since 2000-01-01 both ways", () => {
    expect(PgDate.make(2000, 1, 1).days).toBe(0)
    expect(PgDate.make(1999, 12, 31).days).toBe(-1)
    expect(PgDate.make(1970, 1, 1).days).toBe(-10957)
    expect(PgDate.make(-4713, 11, 24).days).toBe(-2451545)
    const d = PgDate.fromDays(8825)
    expect([d.year, d.month, d.day]).toEqual([2024, 2, 29])
    for (const days of [-2451545, -1000000, -1, 0, 59, 60, 1000000, 2145031948]) {
      const x = PgDate.fromDays(days)
      expect(PgDate.make(x.year, x.month, x.day).days).toBe(days)
    }
  })
  it("validates fields", () => {
    expect(() => PgDate.make(2023, 2, 29)).toThrow(RangeError)
    expect(() => PgDate.make(2024, 13, 1)).toThrow(RangeError)
    expect(() => PgDate.make(2024, 1, 1.5)).toThrow(RangeError)
    expect(PgDate.make(1900, 2, 28).day).toBe(28)
    expect(() => PgDate.make(1900, 2, 29)).toThrow(RangeError)
  })
  it("converts to and from JS Date (UTC)", () => {
    expect(PgDate.make(2024, 2, 29).toDate().toISOString()).toBe("2024-02-29T00:00:00.000Z")
    expect(PgDate.make(5, 1, 1).toDate().toISOString()).toBe("0005-01-01T00:00:00.000Z")
    expect(PgDate.fromDate(new Date("2024-02-29T23:00:00-05:00")).toString()).toBe("2024-03-01")
    expect(PgDate.fromDate(new Date("1969-12-31T23:59:59.999Z")).toString()).toBe("1969-12-31")
    expect(() => PgDate.infinity.toDate()).toThrow(RangeError)
    expect(() => PgDate.make(5874897, 1, 1).toDate()).toThrow(RangeError)
    expect(PgDate.infinity.isFinite).toBe(false)
    expect(PgDate.make(2000, 1, 1).isFinite).toBe(true)
  })
  it("parses its text", () => {
    for (const s of ["2024-02-29", "0044-03-15 BC", "4714-11-24 BC", "10000-01-01", "infinity", "-infinity"]) {
      expect(parseDate(s)?.toString()).toBe(s)
    }
    expect(parseDate("2024-02-30")).toBeUndefined()
    expect(parseDate("02/29/2024")).toBeUndefined()
  })
})

describe("date codec", () => {
  it("hand-computed bytes", () => {
    expect(hex(encode(date, PgDate.make(2000, 1, 1)))).toBe("00000000")
    expect(hex(encode(date, PgDate.make(1999, 12, 31)))).toBe("ffffffff")
    expect(hex(encode(date, PgDate.infinity))).toBe("7fffffff")
    expect(hex(encode(date, PgDate.negativeInfinity))).toBe("80000000")
    expect(decode(date, fromHex("00000000")).toString()).toBe("2000-01-01")
    expect(decode(date, fromHex("7fffffff"))).toBe(PgDate.infinity)
    expect(decode(date, fromHex("80000000"))).toBe(PgDate.negativeInfinity)
  })
  it("round trips", () => {
    for (const d of [
      PgDate.make(2024, 2, 29),
      PgDate.make(-43, 3, 15),
      PgDate.make(-4713, 11, 24),
      PgDate.make(5874897, 12, 31),
    ]) {
      expect(roundTrip(date, d)).toEqual(d)
    }
    expect(roundTrip(date, new Date("2024-05-06T22:00:00Z")).toString()).toBe("2024-05-06")
  })
  it("text", () => {
    expect(date.encodeText(PgDate.make(-43, 3, 15))).toBe("0044-03-15 BC")
    expect(date.encodeText(PgDate.infinity)).toBe("infinity")
    expect(date.encodeText(new Date("2024-01-02T00:00:00Z"))).toBe("2024-01-02")
    expect(date.decodeText("2024-01-02")).toEqual(PgDate.make(2024, 1, 2))
    expect(() => date.decodeText("garbage")).toThrow(/date/)
  })
  it("rejects out of range and wrong types", () => {
    expect(encodeErrorOf(() => encode(date, PgDate.make(-4713, 11, 23))).message).toContain("range")
    expect(encodeErrorOf(() => encode(date, PgDate.make(5874898, 1, 1))).typeName).toBe("date")
    expect(encodeErrorOf(() => encode(date, new Date(NaN))).message).toContain("invalid Date")
    expect(encodeErrorOf(() => encode(date, "2024-01-01"))).toMatchObject({ typeName: "date", actualType: "string" })
    expect(encodeErrorOf(() => encode(date, 0))).toMatchObject({ expected: "a PgDate or a JS Date" })
    expect(date.sendAsText("2024-01-01")).toBe(true)
  })
})

describe("PgTimestamp", () => {
  it("prints like PostgreSQL with TimeZone=UTC", () => {
    expect(PgTimestamp.make(2024, 1, 2, 3, 4, 5, 123456).toString()).toBe("2024-01-02 03:04:05.123456+00")
    expect(PgTimestamp.make(2024, 1, 2, 3, 4, 5, 100000).toString()).toBe("2024-01-02 03:04:05.1+00")
    expect(PgTimestamp.make(2024, 1, 2, 3, 4, 5, 0, false).toString()).toBe("2024-01-02 03:04:05")
    expect(PgTimestamp.make(2024, 1, 2, 0, 0, 0, 1, false).toString()).toBe("2024-01-02 00:00:00.000001")
    expect(PgTimestamp.make(-43, 3, 15, 12).toString()).toBe("0044-03-15 12:00:00+00 BC")
    expect(PgTimestamp.make(-43, 3, 15, 12, 0, 0, 0, false).toString()).toBe("0044-03-15 12:00:00 BC")
    expect(PgTimestamp.make(294276, 12, 31, 23, 59, 59, 999999).toString()).toBe("294276-12-31 23:59:59.999999+00")
    expect(PgTimestamp.infinity.toString()).toBe("infinity")
    expect(PgTimestamp.negativeInfinity.toString()).toBe("-infinity")
  })
  it("ISO strings", () => {
    const d = new Date("2024-01-02T03:04:05.123Z")
    expect(PgTimestamp.fromDate(d).toISOString()).toBe(d.toISOString())
    expect(PgTimestamp.fromDate(new Date("1969-12-31T23:59:59.999Z")).toISOString()).toBe("1969-12-31T23:59:59.999Z")
    expect(PgTimestamp.make(2024, 1, 2, 3, 4, 5, 123456).toISOString()).toBe("2024-01-02T03:04:05.123456Z")
    expect(PgTimestamp.make(2024, 1, 2, 3, 4, 5, 0, false).toISOString()).toBe("2024-01-02T03:04:05.000")
    expect(PgTimestamp.make(-43, 3, 15).toISOString()).toBe("-000043-03-15T00:00:00.000Z")
    expect(PgTimestamp.make(294276, 1, 1).toISOString()).toBe("+294276-01-01T00:00:00.000Z")
    expect(JSON.stringify(PgTimestamp.infinity)).toBe('"infinity"')
  })
  it("converts to JS Date by truncating to the millisecond", () => {
    expect(new PgTimestamp(1_999n).toDate().getTime()).toBe(1)
    expect(new PgTimestamp(-1n).toDate().getTime()).toBe(-1)
    expect(PgTimestamp.make(2024, 1, 2, 3, 4, 5, 123999).toDate().toISOString()).toBe("2024-01-02T03:04:05.123Z")
    expect(() => PgTimestamp.infinity.toDate()).toThrow(RangeError)
    expect(() => PgTimestamp.make(294276, 1, 1).toDate()).toThrow(RangeError)
  })
  it("parses PostgreSQL's text, any offset", () => {
    const t = PgTimestamp.make(2024, 1, 2, 3, 4, 5, 500000)
    expect(parseTimestamp("2024-01-02 03:04:05.5+00", true)).toEqual(t)
    expect(parseTimestamp("2024-01-02 08:34:05.5+05:30", true)).toEqual(t)
    expect(parseTimestamp("2024-01-01 23:04:05.5-04", true)).toEqual(t)
    expect(parseTimestamp("2024-01-02 03:04:05.5", false)?.micros).toBe(t.micros)
    expect(parseTimestamp("0044-03-15 12:00:00+00 BC", true)).toEqual(PgTimestamp.make(-43, 3, 15, 12))
    expect(parseTimestamp("infinity", false)).toEqual(PgTimestamp.infinityOf(1, false))
    expect(parseTimestamp("yesterday", true)).toBeUndefined()
    // ISO 8601; a timestamp ignores an offset like the server; a timestamptz needs one
    expect(parseTimestamp("2024-01-02T03:04:05.5Z", true)).toEqual(t)
    expect(parseTimestamp("2024-01-02T03:04:05.5+02:00", false)?.micros).toBe(t.micros)
    expect(parseTimestamp("2024-01-02T03:04:05.5Z", false)?.micros).toBe(t.micros)
    expect(parseTimestamp("2024-01-02 03:04:05.5", true)).toBeUndefined()
  })
})

describe("timestamp / timestamptz codecs", () => {
  it("hand-computed bytes", () => {
    expect(hex(encode(timestamptz, PgTimestamp.make(2000, 1, 1)))).toBe("0000000000000000")
    expect(hex(encode(timestamptz, PgTimestamp.make(2000, 1, 1, 0, 0, 0, 1)))).toBe("0000000000000001")
    expect(hex(encode(timestamp, PgTimestamp.infinity))).toBe("7fffffffffffffff")
    expect(hex(encode(timestamp, PgTimestamp.negativeInfinity))).toBe("8000000000000000")
    // 1970-01-01 = -946684800 s from the PostgreSQL epoch
    expect(decode(timestamptz, encode(timestamptz, new Date(0))).micros).toBe(0n)
  })
  it("decode sets the time-zone flag from the type", () => {
    const bytes = fromHex("0000000000000000")
    expect(decode(timestamptz, bytes).withTimeZone).toBe(true)
    expect(decode(timestamp, bytes).withTimeZone).toBe(false)
    expect(decode(timestamp, fromHex("7fffffffffffffff")).isFinite).toBe(false)
    expect(decode(timestamp, fromHex("8000000000000000")).toString()).toBe("-infinity")
  })
  it("round trips with microsecond precision, BC and the range ends", () => {
    const values = [
      PgTimestamp.make(2024, 1, 2, 3, 4, 5, 123456),
      PgTimestamp.make(1969, 12, 31, 23, 59, 59, 999999),
      PgTimestamp.make(-43, 3, 15, 12),
      PgTimestamp.make(-4713, 11, 24),
      PgTimestamp.make(294276, 12, 31, 23, 59, 59, 999999),
      PgTimestamp.infinity,
      PgTimestamp.negativeInfinity,
    ]
    for (const v of values) {
      expect(roundTrip(timestamptz, v)).toEqual(v)
      expect(roundTrip(timestamp, v).micros).toBe(v.micros)
    }
    const d = new Date("2024-06-01T12:34:56.789Z")
    expect(roundTrip(timestamptz, d).toDate()).toEqual(d)
  })
  it("text", () => {
    const v = PgTimestamp.make(2024, 1, 2, 3, 4, 5, 123456)
    expect(timestamptz.encodeText(v)).toBe("2024-01-02 03:04:05.123456+00")
    expect(timestamp.encodeText(v)).toBe("2024-01-02 03:04:05.123456")
    expect(timestamptz.encodeText(new Date(0))).toBe("1970-01-01 00:00:00+00")
    expect(timestamptz.decodeText("2024-01-02 03:04:05.123456+00")).toEqual(v)
    expect(timestamp.decodeText("2024-01-02 03:04:05.123456").micros).toBe(v.micros)
    expect(() => timestamptz.decodeText("nope")).toThrow(/timestamptz/)
  })
  it("rejects out of range and wrong types", () => {
    expect(encodeErrorOf(() => encode(timestamptz, PgTimestamp.make(294277, 1, 1))).message).toContain("range")
    const early = new PgTimestamp(PgTimestamp.make(-4713, 11, 24).micros - 1n)
    expect(encodeErrorOf(() => encode(timestamp, early)).typeName).toBe("timestamp")
    expect(encodeErrorOf(() => encode(timestamptz, new Date(-8.64e15))).message).toContain("range")
    expect(encodeErrorOf(() => encode(timestamptz, 0))).toMatchObject({ typeName: "timestamptz", actualType: "number" })
    expect(encodeErrorOf(() => encode(timestamptz, PgDate.make(2000, 1, 1)))).toMatchObject({ actualType: "PgDate" })
  })
})
