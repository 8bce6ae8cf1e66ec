import { describe, expect, it } from "@effect/vitest"
import { arrayCodec } from "@pgfx/types/ArrayCodec"
import { OutdatedSchemaError } from "@pgfx/types/Codec"
import {
  compositeCodec,
  domainCodec,
  enumCodec,
  isCompositeTuple,
  parseRecordLiteral,
  recordCodec,
} from "@pgfx/types/CompositeCodecs"
import { builtins } from "@pgfx/types/CodecRegistry"
import { int4 } from "@pgfx/types/NumberCodecs"
import { compositeFactory, isPgComposite, type PgComposite } from "@pgfx/types/PgComposite"
import { text } from "@pgfx/types/TextCodecs"
import { decode, encode, encodeErrorOf, fromHex, hex, roundTrip } from "./util.ts"

const pair = compositeCodec({ name: "pair", oid: 90001, arrayOid: 90002 }, [
  { name: "a", typeOid: 23, codec: int4 },
  { name: "b", typeOid: 25, codec: text },
])

describe("PgComposite", () => {
  it("reads by name, position, as an object, iterates, prints a record literal", () => {
    const make = compositeFactory(["x", "y", "get", "1"])
    const v = make([1, "a b", true, null])
    expect(isPgComposite(v)).toBe(true)
    expect([v.x, v.y, v[0], v.at(-1), v.get("get"), v.get(1), v.length]).toEqual([1, "a b", 1, null, true, "a b", 4])
    expect(v.toObject()).toEqual({ x: 1, y: "a b", get: true, 1: null })
    expect(v.keys()).toEqual(["x", "y", "get", "1"])
    expect([...v]).toEqual([1, "a b", true, null])
    expect(String(v)).toBe('(1,"a b",t,)')
    expect(String(make([[1, null], new Uint8Array([1, 255]), "", 'q"']))).toBe('("{1,NULL}","\\\\x01ff","","q""")')
    expect(JSON.stringify(v)).toBe('{"1":null,"x":1,"y":"a b","get":true}')
  })

  it("get(key, fallback) and fields named like members (toString, values)", () => {
    const v = compositeFactory(["toString", "values", "r"])(["s", "v", null])
    expect(String(v)).toBe("(s,v,)")
    expect(v.values).toEqual(["s", "v", null])
    expect([v.get("toString"), v.get("values"), v.get("r", 0), v.get("zzz", 0), v.get(3, 0), v.get(2, 0)]).toEqual([
      "s",
      "v",
      null,
      0,
      0,
      null,
    ])
    expect(v.toObject()).toEqual({ toString: "s", values: "v", r: null })
  })

  it("parseRecordLiteral splits fields, NULLs and quoting", () => {
    expect(parseRecordLiteral('(1,"a b",,"","x""y\\\\z")')).toEqual(["1", "a b", null, "", 'x"y\\z'])
    expect(parseRecordLiteral("()")).toEqual([])
    expect(parseRecordLiteral("(,)")).toEqual([null, null])
    expect(parseRecordLiteral("1,2")).toBeUndefined()
  })
})

describe("composite codec", () => {
  it("wire format: count, then per field OID and length", () => {
    const bytes = encode(pair, { a: 1, b: "x" })
    expect(hex(bytes)).toBe("00000002" + "00000017" + "00000004" + "00000001" + "00000019" + "00000001" + "78")
    const v = decode(pair, bytes)
    expect(v.toObject()).toEqual({ a: 1, b: "x" })
    expect(hex(encode(pair, [null, undefined]))).toBe("00000002" + "00000017ffffffff" + "00000019ffffffff")
    expect(roundTrip(pair, v).toObject()).toEqual({ a: 1, b: "x" })
  })

  it("a layout that changed is an OutdatedSchemaError", () => {
    const three = fromHex("00000003 00000017 ffffffff 00000019 ffffffff 00000017 ffffffff")
    expect(() => decode(pair, three)).toThrow(OutdatedSchemaError)
    const retyped = fromHex("00000002 00000017 ffffffff 00000014 ffffffff")
    expect(() => decode(pair, retyped)).toThrow(/attribute b has type OID 20/)
    expect(() => pair.decodeText("(1,2,3)")).toThrow(OutdatedSchemaError)
  })

  it("text format and sendAsText", () => {
    expect(pair.encodeText({ a: 1, b: 'a "quoted" (x), y' })).toBe('(1,"a ""quoted"" (x), y")')
    expect(pair.decodeText('(1,"a ""quoted"" (x), y")').toObject()).toEqual({ a: 1, b: 'a "quoted" (x), y' })
    expect(pair.encodeText([null, ""])).toBe('(,"")')
    expect(pair.sendAsText({ a: "1", b: "x" })).toBe(true)
    expect(pair.sendAsText({ a: 1, b: "x" })).toBe(false)
    expect(pair.sendAsText("(1,x)")).toBe(true)
  })

  it("rejects unknown fields, wrong lengths and non-objects", () => {
    expect(encodeErrorOf(() => encode(pair, { a: 1, c: 2 })).message).toContain('no field "c"')
    expect(encodeErrorOf(() => encode(pair, [1]))).toMatchObject({ typeName: "pair", actualType: "Array" })
    expect(encodeErrorOf(() => encode(pair, 5))).toMatchObject({ typeName: "pair", actualType: "number" })
    expect(encodeErrorOf(() => encode(pair, { a: "x" }))).toMatchObject({ typeName: "int4", actualType: "string" })
  })

  it("arrays of composites take objects or tuples as elements", () => {
    expect(isCompositeTuple([1, "a"])).toBe(true)
    expect(isCompositeTuple([{ a: 1 }])).toBe(false)
    expect(isCompositeTuple([[1]])).toBe(false)
    expect(isCompositeTuple([])).toBe(false)
    const pairs = arrayCodec(pair, { isElement: isCompositeTuple })
    const decoded = roundTrip(pairs, [[1, "a"], { a: 2, b: null }, null]) as Array<PgComposite | null>
    expect(decoded.map((c) => c?.toObject() ?? null)).toEqual([{ a: 1, b: "a" }, { a: 2, b: null }, null])
    expect(pairs.encodeText([[1, "a b"], null])).toBe('{"(1,\\"a b\\")",NULL}')
  })

  it("anonymous records decode with the codecs of the field OIDs", () => {
    const rec = recordCodec((oid) => builtins.get(oid))
    const v = decode(rec, fromHex("00000002 00000017 00000004 00000005 00000019 ffffffff"))
    expect(v.fieldNames).toEqual(["f1", "f2"])
    expect(v.values).toEqual([5, null])
    const unknown: Array<number> = []
    const strict = recordCodec(
      () => undefined,
      (oid) => unknown.push(oid),
    )
    expect(() => decode(strict, fromHex("00000001 00004e20 00000000"))).toThrow(/type OID 20000/)
    expect(unknown).toEqual([20000])
    expect(rec.decodeText("(1,x)").values).toEqual(["1", "x"])
    expect(encodeErrorOf(() => encode(rec, [1]))).toMatchObject({ typeName: "record" })
  })

  it("enums are strings, domains their base type under their own identity", () => {
    const mood = enumCodec({ name: "mood", oid: 90010, arrayOid: 90011 })
    expect(roundTrip(mood, "happy")).toBe("happy")
    expect(mood.sendAsText("happy")).toBe(false)
    const posint = domainCodec(int4, { name: "posint", oid: 90020, arrayOid: 90021 })
    expect([posint.name, posint.oid, posint.arrayOid, posint.binary]).toEqual(["posint", 90020, 90021, true])
    expect(roundTrip(posint, 7)).toBe(7)
    expect(arrayCodec(posint).oid).toBe(90021)
  })
})
