import { describe, expect, it } from "@effect/vitest"
import { hstoreCodec, parseHstore } from "@pgfx/types/HstoreCodec"
import { decode, encode, encodeErrorOf, hex, roundTrip } from "./util.ts"

const hstore = hstoreCodec(90100)

describe("hstore codec", () => {
  it("wire format: count, then key / value (-1 for NULL)", () => {
    expect(hex(encode(hstore, { a: "1", b: null }))).toBe(
      "00000002" + "00000001" + "61" + "00000001" + "31" + "00000001" + "62" + "ffffffff",
    )
    expect(roundTrip(hstore, { a: "1", "k é": "v ✓", e: "" })).toEqual({ a: "1", "k é": "v ✓", e: "" })
    expect(roundTrip(hstore, new Map([["n", 5]]))).toEqual({ n: "5" })
    expect(roundTrip(hstore, {})).toEqual({})
  })

  it("a __proto__ key is data, not a prototype", () => {
    const v = decode(hstore, encode(hstore, Object.defineProperty({}, "__proto__", { value: "x", enumerable: true })))
    expect(Object.keys(v)).toEqual(["__proto__"])
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype)
  })

  it("text form both ways", () => {
    expect(hstore.encodeText({ a: "1", 'q"': "b\\", n: null })).toBe('"a"=>"1", "q\\""=>"b\\\\", "n"=>NULL')
    expect(parseHstore('"a"=>"1", "q\\""=>"b\\\\", "n"=>NULL')).toEqual({ a: "1", 'q"': "b\\", n: null })
    expect(parseHstore("a=>1,b=>2,c=>NULL")).toEqual({ a: "1", b: "2", c: null })
    expect(parseHstore("")).toEqual({})
    expect(parseHstore('"a"=')).toBeUndefined()
    expect(() => hstore.decodeText("a=>")).toThrow(/hstore/)
  })

  it("rejects non-objects and non-string values", () => {
    expect(encodeErrorOf(() => encode(hstore, ["a"]))).toMatchObject({ typeName: "hstore", actualType: "Array" })
    expect(encodeErrorOf(() => encode(hstore, { a: {} })).message).toContain("object")
  })
})
