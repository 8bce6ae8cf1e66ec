import { describe, expect, it } from "@effect/vitest"
import { arrayCodec, dimensionsOf, withDimensions } from "@pgfx/types/ArrayCodec"
import { arrayOptionsOf } from "@pgfx/types/Builtins"
import { json, jsonb, jsonbLossless, jsonLossless } from "@pgfx/types/JsonCodecs"
import { parseExact, PgJson } from "@pgfx/types/PgJson"
import { randomJsonText } from "./jsonGen.ts"
import { decode, encode, encodeErrorOf, fromHex, hex, roundTrip } from "./util.ts"

const utf8 = new TextEncoder()
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

describe("json / jsonb (default: parsed values)", () => {
  const docs: Array<unknown> = [{ a: 1, b: [true, null, "x"] }, [1, 2], 42, true, "str", { nested: { ü: "✓" } }]
  it("round trip JS values, a JS string being a JSON string", () => {
    for (const d of docs) {
      expect(roundTrip(json, d)).toEqual(d)
      expect(roundTrip(jsonb, d)).toEqual(d)
    }
    expect(text(encode(json, "[1]"))).toBe('"[1]"')
    expect(json.encodeText('{"a":1}')).toBe('"{\\"a\\":1}"')
    expect(json.encodeText({ a: 1 })).toBe('{"a":1}')
  })
  it("the JSON null document is PgJson.null, never SQL NULL", () => {
    expect(roundTrip(json, PgJson.null)).toBe(PgJson.null)
    expect(decode(jsonb, fromHex("01 6e 75 6c 6c"))).toBe(PgJson.null)
    expect(json.decodeText(" null ")).toBe(PgJson.null)
    expect(json.encodeText(PgJson.null)).toBe("null")
    // nested nulls are plain nulls (no ambiguity there), and PgJson.null nests as null
    expect(roundTrip(json, { a: null })).toEqual({ a: null })
    expect(json.encodeText({ a: PgJson.null })).toBe('{"a":null}')
  })
  it("raw JSON text goes through PgJson.raw verbatim", () => {
    expect(text(encode(json, PgJson.raw('{"b":1,  "b":2}')))).toBe('{"b":1,  "b":2}')
    expect(hex(encode(jsonb, PgJson.raw("[1]")))).toBe(`01${hex(utf8.encode("[1]"))}`)
    // nested PgJson keeps its numbers exact (JSON.rawJSON leaves)
    expect(json.encodeText({ n: PgJson.raw("12345678901234567890123") })).toBe('{"n":12345678901234567890123}')
  })
  it("bigints are written with their exact digits", () => {
    expect(json.encodeText({ n: 12345678901234567890123n })).toBe('{"n":12345678901234567890123}')
    expect(json.encodeText(-(2n ** 70n))).toBe(String(-(2n ** 70n)))
  })
  it("jsonb binary carries version byte 1", () => {
    expect(hex(encode(jsonb, { a: 1 }))).toBe(`01${hex(utf8.encode('{"a":1}'))}`)
    expect(decode(jsonb, fromHex("01 5b 31 5d"))).toEqual([1])
    expect(() => decode(jsonb, fromHex("02 5b 31 5d"))).toThrow(/version/)
    expect(() => json.decodeText("{")).toThrow(/json/)
  })
  it("rejects undefined, functions, symbols and cycles", () => {
    expect(encodeErrorOf(() => encode(json, undefined))).toMatchObject({ typeName: "json", actualType: "undefined" })
    expect(encodeErrorOf(() => encode(jsonb, () => 1))).toMatchObject({ typeName: "jsonb", actualType: "function" })
    expect(encodeErrorOf(() => encode(json, Symbol("s")))).toMatchObject({ actualType: "symbol" })
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(encodeErrorOf(() => encode(jsonb, cyclic)).message).toContain("cycle")
  })
})

describe("json / jsonb (lossless: exact text)", () => {
  it("keeps the exact text, and parses numbers exactly", () => {
    const doc = '{ "b": 1,  "a": [1.0, 1e400, 12345678901234567890123, -0, 0.1] , "b": 2 }'
    const v = roundTrip(jsonLossless, PgJson.raw(doc))
    expect(v).toBeInstanceOf(PgJson)
    expect(v.text).toBe(doc)
    expect(JSON.stringify(v.value)).toBe('{"b":2,"a":[1.0,1e400,12345678901234567890123,-0,0.1]}')
    expect((v.value as { a: Array<unknown> }).a[4]).toBe(0.1)
    expect(decode(jsonbLossless, fromHex("01 6e 75 6c 6c"))).toBe(PgJson.null)
    expect(PgJson.null.isNull).toBe(true)
    expect(jsonbLossless.decodeText('"x"').text).toBe('"x"')
  })
  it("parseExact reads documents with no unsafe number as JSON.parse does", () => {
    expect(parseExact('{"a":[1,"1e400",{"b":null}]}')).toEqual({ a: [1, "1e400", { b: null }] })
  })
})

describe("json[] / jsonb[]", () => {
  const jsonbs = arrayCodec(jsonb, arrayOptionsOf(jsonb))
  it("a nested JS array is a JSON array document", () => {
    expect(jsonbs.encodeText([[1, 2], "x", PgJson.null, null])).toBe('{"[1,2]","\\"x\\"","null",NULL}')
    expect(roundTrip(jsonbs, [[1, 2], { a: [3] }, null])).toEqual([[1, 2], { a: [3] }, null])
  })
  it("multi-dimensional arrays carry their dimension count both ways", () => {
    const two = withDimensions(
      [
        [[1], 2],
        [3, { a: 4 }],
      ],
      2,
    )
    const decoded = roundTrip(jsonbs, two)
    expect(decoded).toEqual([
      [[1], 2],
      [3, { a: 4 }],
    ])
    expect(dimensionsOf(decoded)).toBe(2)
    expect(jsonbs.encodeText(decoded)).toBe('{{[1],2},{3,"{\\"a\\":4}"}}')
    const fromText = jsonbs.decodeText('{{"[1]",2},{3,"{\\"a\\": 4}"}}')
    expect(dimensionsOf(fromText)).toBe(2)
    expect(jsonbs.encodeText(fromText)).toBe(jsonbs.encodeText(decoded))
  })
})

describe("property: random JSON documents", () => {
  it("10,000 documents round-trip exactly (lossless) and as equal values (default)", () => {
    const docs = randomJsonText(10_000, 0x5eed)
    const failures: Array<string> = []
    for (const doc of docs) {
      // lossless: the bytes come back as they were sent, and the parsed value prints the same text
      if (roundTrip(jsonLossless, PgJson.raw(doc)).text !== doc) failures.push(`json lossless: ${doc}`)
      if (roundTrip(jsonbLossless, PgJson.raw(doc)).text !== doc) failures.push(`jsonb lossless: ${doc}`)
      if (JSON.stringify(parseExact(doc)) !== doc) failures.push(`parseExact: ${doc}`)
      // default: the parsed value equals JSON.parse's, and re-encodes to an equal document
      const value = roundTrip(jsonb, PgJson.raw(doc))
      const printed = JSON.stringify(value)
      if (printed !== JSON.stringify(JSON.parse(doc))) failures.push(`default decode: ${doc}`)
      if (JSON.stringify(roundTrip(jsonb, value)) !== printed) failures.push(`default re-encode: ${doc}`)
    }
    expect(failures.slice(0, 5)).toEqual([])
  }, 120_000)
})
