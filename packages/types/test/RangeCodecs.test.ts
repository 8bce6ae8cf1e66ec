import { describe, expect, it } from "@effect/vitest"
import { int4 } from "@pgfx/types/NumberCodecs"
import { PgDate } from "@pgfx/types/PgDate"
import { formatRange, parseRange, Range, splitMultirange } from "@pgfx/types/Range"
import { daterange, int4multirange, int4range, multirangeCodec, numrange, rangeCodec } from "@pgfx/types/RangeCodecs"
import { text } from "@pgfx/types/TextCodecs"
import { decode, encode, encodeErrorOf, fromHex, hex, roundTrip } from "./util.ts"

describe("Range", () => {
  it("is shaped like asyncpg's Range", () => {
    const r = new Range(1, 10)
    expect([r.lower, r.upper, r.lowerInc, r.upperInc, r.isEmpty]).toEqual([1, 10, true, false, false])
    const unbounded = new Range(null, 5, { upperInc: true })
    expect([unbounded.lowerInf, unbounded.lowerInc, unbounded.upperInf]).toEqual([true, false, false])
    const e = Range.empty()
    expect([e.isEmpty, e.lower, e.lowerInf, e.upperInf]).toEqual([true, null, false, false])
    expect(new Range(1, 2, { empty: true }).lower).toBe(null)
  })

  it("prints and parses range literals with PostgreSQL's quoting", () => {
    expect(String(new Range(1, 10))).toBe("[1,10)")
    expect(String(new Range(null, 5, { upperInc: true }))).toBe("(,5]")
    expect(String(new Range())).toBe("(,)")
    expect(String(Range.empty())).toBe("empty")
    expect(formatRange(new Range("a b", 'q"\\'), String)).toBe('["a b","q""\\\\")')
    expect(formatRange(new Range("", "x,y"), String)).toBe('["","x,y")')
    expect(parseRange('["a b","q""\\\\")', String)).toEqual(new Range("a b", 'q"\\'))
    expect(parseRange('["","x,y")', String)).toEqual(new Range("", "x,y"))
    expect(parseRange("(,5]", Number)).toEqual(new Range(null, 5, { upperInc: true }))
    expect(parseRange(" EMPTY ", Number)).toEqual(Range.empty())
    expect(parseRange("[1,2", Number)).toBeUndefined()
    expect(splitMultirange('{[1,3), (5,7],empty,["a)",b]}')).toEqual(["[1,3)", "(5,7]", "empty", '["a)",b]'])
    expect(splitMultirange("{}")).toEqual([])
  })
})

describe("range codecs", () => {
  it("int4range wire format: flags then length-prefixed bounds", () => {
    expect(hex(encode(int4range, new Range(1, 10)))).toBe("02" + "00000004" + "00000001" + "00000004" + "0000000a")
    expect(hex(encode(int4range, Range.empty()))).toBe("01")
    expect(hex(encode(int4range, new Range(null, 5, { upperInc: true })))).toBe("0c" + "00000004" + "00000005")
    expect(decode(int4range, fromHex("12 00000004 00000001"))).toEqual(new Range(1, null))
    expect(() => decode(int4range, fromHex("02 00000004 00000001"))).toThrow(/int4range/)
  })

  it("round trips with any element codec, both formats", () => {
    const cases: Array<[ReturnType<typeof rangeCodec>, Range<unknown>]> = [
      [int4range as never, new Range(-5, 7, { upperInc: true })],
      [numrange as never, new Range("1.50", null)],
      [daterange as never, new Range(PgDate.make(2020, 1, 1), PgDate.infinity)],
      [rangeCodec(text, { name: "textrange", oid: 1, arrayOid: 0 }) as never, new Range("a b", 'c"d')],
    ]
    for (const [codec, value] of cases) {
      expect(roundTrip(codec, value), codec.name).toEqual(value)
      expect(codec.decodeText(codec.encodeText(value)), codec.name).toEqual(value)
    }
    expect(roundTrip(int4range, { lower: 1, upper: 2 })).toEqual(new Range(1, 2))
    expect(encodeErrorOf(() => encode(int4range, 5))).toMatchObject({ typeName: "int4range", actualType: "number" })
    expect(int4range.sendAsText({ lower: "1", upper: 2 })).toBe(true)
    expect(int4range.sendAsText(new Range(1, 2))).toBe(false)
  })

  it("multiranges are arrays of ranges", () => {
    const mr = [new Range(1, 3), new Range(5, 7)]
    expect(roundTrip(int4multirange, mr)).toEqual(mr)
    expect(roundTrip(int4multirange, [])).toEqual([])
    expect(int4multirange.encodeText(mr)).toBe("{[1,3),[5,7)}")
    expect(int4multirange.decodeText("{[1,3),[5,7)}")).toEqual(mr)
    expect(hex(encode(int4multirange, [Range.empty()]))).toBe("00000001" + "00000001" + "01")
    const custom = multirangeCodec(int4range, { name: "m", oid: 2, arrayOid: 0 })
    expect(roundTrip(custom, mr)).toEqual(mr)
    expect(encodeErrorOf(() => encode(int4multirange, new Range(1, 2)))).toMatchObject({ typeName: "int4multirange" })
  })

  it("int4 bounds use the int4 codec's checks", () => {
    expect(
      encodeErrorOf(() => encode(rangeCodec(int4, { name: "r", oid: 3, arrayOid: 0 }), new Range(1.5, 2))),
    ).toMatchObject({
      typeName: "int4",
    })
  })
})
