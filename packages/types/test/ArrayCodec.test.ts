import { describe, expect, it } from "@effect/vitest"
import { arrayCodec, lowerBoundsOf, parseArrayLiteral, withLowerBounds } from "@pgfx/types/ArrayCodec"
import { bytea } from "@pgfx/types/ByteaCodec"
import { date, timestamptz } from "@pgfx/types/DateTimeCodecs"
import { arrayOptionsOf } from "@pgfx/types/Builtins"
import { jsonb } from "@pgfx/types/JsonCodecs"
import { bool, float8, int2, int4, int8 } from "@pgfx/types/NumberCodecs"
import { numeric } from "@pgfx/types/NumericCodec"
import { PgDate } from "@pgfx/types/PgDate"
import { PgTimestamp } from "@pgfx/types/PgTimestamp"
import { text, textCodec } from "@pgfx/types/TextCodecs"
import { uuid } from "@pgfx/types/UuidCodec"
import { decode, encode, encodeErrorOf, fromHex, hex, roundTrip } from "./util.ts"

const int4s = arrayCodec(int4)
const texts = arrayCodec(text)

describe("arrayCodec", () => {
  it("names and OIDs", () => {
    expect(int4s.name).toBe("_int4")
    expect(int4s.oid).toBe(1007)
    expect(int4s.arrayOid).toBe(0)
    expect(arrayCodec(text, { oid: 99, name: "x" })).toMatchObject({ oid: 99, name: "x" })
  })

  it("hand-computed 1-D bytes", () => {
    const expected =
      "00000001" +
      "00000000" +
      "00000017" +
      "00000003" +
      "00000001" +
      "00000004" +
      "00000001" +
      "00000004" +
      "00000002" +
      "00000004" +
      "00000003"
    expect(hex(encode(int4s, [1, 2, 3]))).toBe(expected)
    expect(decode(int4s, fromHex(expected))).toEqual([1, 2, 3])
  })

  it("NULL elements set the has-null flag", () => {
    const bytes = encode(int4s, [1, null, undefined])
    expect(hex(bytes.subarray(0, 8))).toBe("0000000100000001")
    expect(decode(int4s, bytes)).toEqual([1, null, null])
  })

  it("empty arrays have zero dimensions", () => {
    expect(hex(encode(int4s, []))).toBe("00000000" + "00000000" + "00000017")
    expect(hex(encode(int4s, [[], []]))).toBe("00000000" + "00000000" + "00000017")
    expect(decode(int4s, fromHex("00000000 00000000 00000017"))).toEqual([])
    // a dimension of length 0 with ndim 1 also decodes as empty
    expect(decode(int4s, fromHex("00000001 00000000 00000017 00000000 00000001"))).toEqual([])
  })

  it("2-D and 3-D round trips", () => {
    const twoD = [
      [1, 2, 3],
      [4, null, 6],
    ]
    expect(roundTrip(int4s, twoD)).toEqual(twoD)
    const bytes = encode(int4s, twoD)
    expect(hex(bytes.subarray(0, 28))).toBe(
      "00000002" + "00000001" + "00000017" + "00000002" + "00000001" + "00000003" + "00000001",
    )
    const threeD = [
      [
        ["a", "b"],
        ["c", null],
      ],
      [
        ["e", "f"],
        ["", "h"],
      ],
    ]
    expect(roundTrip(texts, threeD)).toEqual(threeD)
    expect(roundTrip(int4s, [[[[[[1]]]]]])).toEqual([[[[[[1]]]]]])
  })

  it("accepts lower bounds other than 1 when decoding", () => {
    // '[0:1]={7,8}'::int4[]
    const lb0 = fromHex("00000001 00000000 00000017 00000002 00000000 00000004 00000007 00000004 00000008")
    expect(decode(int4s, lb0)).toEqual([7, 8])
    // '[-2:-1][5:6]={{1,2},{3,4}}'::int4[]
    const lb2d = fromHex(
      "00000002 00000000 00000017 00000002 fffffffe 00000002 00000005" +
        "00000004 00000001 00000004 00000002 00000004 00000003 00000004 00000004",
    )
    expect(decode(int4s, lb2d)).toEqual([
      [1, 2],
      [3, 4],
    ])
  })

  it("round trips arrays of every element kind", () => {
    const cases: Array<[Parameters<typeof arrayCodec>[0], Array<unknown>]> = [
      [int2, [1, -32768, null]],
      [int8, [1n, -(2n ** 63n), null]],
      [bool, [true, false, null]],
      [float8, [1.5, -0, Infinity]],
      [numeric, ["1.500", "NaN", "-0.0000001", null]],
      [uuid, ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", null]],
      [jsonb, [{ a: 1 }, [1, 2], "[1,2]", null]],
      [bytea, [new Uint8Array([1, 2]), new Uint8Array(0), null]],
      [date, [PgDate.make(2024, 2, 29), PgDate.infinity, null]],
      [timestamptz, [PgTimestamp.make(2024, 1, 2, 3, 4, 5, 6), null]],
    ]
    for (const [element, value] of cases) {
      const decoded = roundTrip(arrayCodec(element, arrayOptionsOf(element)), value)
      if (element === float8) expect(Object.is(decoded[1], -0)).toBe(true)
      else expect(decoded).toEqual(value)
    }
  })

  it("rejects ragged arrays, too many dimensions and non-arrays", () => {
    for (const bad of [
      [[1], [1, 2]],
      [1, [2]],
      [[1], 2],
      [[[1]], [2]],
      [[], [1]],
    ]) {
      const e = encodeErrorOf(() => encode(int4s, bad))
      expect(e).toMatchObject({ typeName: "_int4", actualType: "Array" })
      expect(e.expected).toContain("rectangular")
    }
    expect(encodeErrorOf(() => encode(int4s, [[[[[[[1]]]]]]])).message).toContain("dimensions")
    expect(encodeErrorOf(() => encode(int4s, 5))).toMatchObject({ typeName: "_int4", actualType: "number" })
    expect(encodeErrorOf(() => encode(int4s, ["1"]))).toMatchObject({ typeName: "int4", actualType: "string" })
    expect(encodeErrorOf(() => int4s.encodeText([[1], [1, 2]])).typeName).toBe("_int4")
  })

  it("rejects malformed binary", () => {
    expect(() => decode(int4s, fromHex("00000001 00000000 00000017"))).toThrow(/_int4/)
    expect(() => decode(int4s, fromHex("00000001 00000000 00000017 00000002 00000001 00000004 00000001"))).toThrow(
      /truncated/,
    )
    expect(() => decode(int4s, fromHex("00000007 00000000 00000017"))).toThrow(/dimensions/)
  })

  it("text literal both ways, with quoting", () => {
    expect(
      int4s.encodeText([
        [1, 2],
        [3, null],
      ]),
    ).toBe("{{1,2},{3,NULL}}")
    expect(int4s.encodeText([])).toBe("{}")
    const tricky = ["a b", "", "NULL", "null", null, 'q"x\\y', "{}", "a,b", "plain", "ü"]
    const literal = texts.encodeText(tricky)
    expect(literal).toBe('{"a b","","NULL","null",NULL,"q\\"x\\\\y","{}","a,b",plain,ü}')
    expect(texts.decodeText(literal)).toEqual(tricky)
    expect(int4s.decodeText("{{1,2},{3,NULL}}")).toEqual([
      [1, 2],
      [3, null],
    ])
    expect(int4s.decodeText("[0:1]={7,8}")).toEqual([7, 8])
    expect(int4s.decodeText("{}")).toEqual([])
    expect(texts.decodeText('{ a , "b" ,c\\,d}')).toEqual(["a", "b", "c,d"])
    expect(arrayCodec(date).encodeText([PgDate.make(-43, 3, 15)])).toBe('{"0044-03-15 BC"}')
    expect(arrayCodec(numeric).decodeText("{1.50,NaN}")).toEqual(["1.50", "NaN"])
    expect(() => int4s.decodeText("{1,2")).toThrow(/_int4/)
    expect(parseArrayLiteral("{a;b}", "_box", 59, (s) => s)).toEqual(["a", "b"])
  })

  it("sendAsText: literals, and string elements of non-text types", () => {
    expect(int4s.sendAsText("{1,2}")).toBe(true)
    expect(int4s.sendAsText([1, 2])).toBe(false)
    expect(int4s.sendAsText([[1], ["2"]])).toBe(true)
    expect(int4s.encodeText([[1], ["2"]])).toBe("{{1},{2}}")
    expect(texts.sendAsText(["a"])).toBe(false)
    expect(texts.sendAsText("{a}")).toBe(true)
    expect(arrayCodec(textCodec(16385, "mood", 16384)).sendAsText(["a"])).toBe(true)
  })

  it("keeps non-default lower bounds both ways, in both formats", () => {
    const lb2d = fromHex(
      "00000002 00000000 00000017 00000002 fffffffe 00000002 00000005" +
        "00000004 00000001 00000004 00000002 00000004 00000003 00000004 00000004",
    )
    const v = decode(int4s, lb2d)
    expect(lowerBoundsOf(v)).toEqual([-2, 5])
    expect(Object.keys(v)).toEqual(["0", "1"])
    expect(hex(encode(int4s, v))).toBe(hex(lb2d))
    expect(int4s.encodeText(v)).toBe("[-2:-1][5:6]={{1,2},{3,4}}")
    expect(lowerBoundsOf(int4s.decodeText("[-2:-1][5:6]={{1,2},{3,4}}"))).toEqual([-2, 5])
    expect(lowerBoundsOf(int4s.decodeText("[1:2]={1,2}"))).toBeUndefined()
    expect(lowerBoundsOf(decode(int4s, encode(int4s, [1])))).toBeUndefined()
    expect(hex(encode(int4s, withLowerBounds([7], [0])).subarray(16, 20))).toBe("00000000")
    expect(() => withLowerBounds([1], [1.5])).toThrow(RangeError)
  })

  it("isElement: element values that are JS arrays", () => {
    const pairs = arrayCodec(int4s, { oid: 1, name: "_pair", isElement: (v) => !Array.isArray(v[0]) })
    expect(roundTrip(pairs, [[1, 2], [3], null])).toEqual([[1, 2], [3], null])
    expect(roundTrip(pairs, [[[1], [2]]])).toEqual([[[1], [2]]])
    expect(pairs.sendAsText([[1], ["2"]])).toBe(true)
  })
})
