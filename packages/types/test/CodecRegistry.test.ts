import { describe, expect, it } from "@effect/vitest"
import * as Types from "@pgfx/types"
import * as CodecRegistry from "@pgfx/types/CodecRegistry"
import { Oids } from "@pgfx/types/Oids"
import { textCodec } from "@pgfx/types/TextCodecs"
import { decode, encode } from "./util.ts"

const expectedOids: Record<string, [number, number]> = {
  bool: [16, 1000],
  bytea: [17, 1001],
  char: [18, 1002],
  name: [19, 1003],
  int8: [20, 1016],
  int2: [21, 1005],
  int4: [23, 1007],
  text: [25, 1009],
  oid: [26, 1028],
  json: [114, 199],
  xml: [142, 143],
  float4: [700, 1021],
  float8: [701, 1022],
  unknown: [705, 0],
  bpchar: [1042, 1014],
  varchar: [1043, 1015],
  date: [1082, 1182],
  timestamp: [1114, 1115],
  timestamptz: [1184, 1185],
  numeric: [1700, 1231],
  uuid: [2950, 2951],
  jsonb: [3802, 3807],
}

describe("CodecRegistry", () => {
  const reg = CodecRegistry.builtins

  it("holds every built-in scalar and array codec under pg_type's OIDs", () => {
    for (const [name, [oid, arrayOid]] of Object.entries(expectedOids)) {
      const codec = reg.get(oid)
      expect(codec?.name).toBe(name)
      expect(codec?.arrayOid).toBe(arrayOid)
      expect(codec?.binary).toBe(true)
      expect(reg.getByName(name)).toBe(codec)
      if (arrayOid !== 0) {
        expect(reg.get(arrayOid)?.name).toBe(`_${name}`)
        expect(reg.getByName(`${name}[]`)).toBe(reg.get(arrayOid))
      }
    }
    expect(reg.size).toBe(22 + 21)
    expect(Oids.int4).toBe(23)
  })

  it("array codecs in the registry work", () => {
    const codec = reg.get(1007)
    if (codec === undefined) throw new Error("missing _int4")
    expect(
      decode(
        codec,
        encode(codec, [
          [1, 2],
          [3, 4],
        ]),
      ),
    ).toEqual([
      [1, 2],
      [3, 4],
    ])
  })

  it("is immutable: with returns a new registry", () => {
    const mood = textCodec(16385, "mood")
    const next = reg.with(mood)
    expect(next.get(16385)).toBe(mood)
    expect(next.getByName("mood")).toBe(mood)
    expect(reg.get(16385)).toBeUndefined()
    expect(next.size).toBe(reg.size + 1)
    // replacing a codec drops the old name
    const myInt = { ...mood, oid: 23, name: "myint4" }
    const replaced = reg.with(myInt)
    expect(replaced.get(23)).toBe(myInt)
    expect(replaced.getByName("int4")).toBeUndefined()
    expect(reg.get(23)?.name).toBe("int4")
  })

  it("make builds a registry from a list", () => {
    const r = CodecRegistry.make([textCodec(1, "a"), textCodec(2, "b")])
    expect(r.get(2)?.name).toBe("b")
    expect(r.has(1)).toBe(true)
    expect([...r.codecs()].map((c) => c.name)).toEqual(["a", "b"])
  })

  it("stringsAsText follows the contract", () => {
    const asText = [
      "int2",
      "int4",
      "int8",
      "oid",
      "float4",
      "float8",
      "numeric",
      "bool",
      "date",
      "timestamp",
      "timestamptz",
      "uuid",
      "bytea",
    ]
    const asBinary = ["text", "varchar", "bpchar", "name", "char", "json", "jsonb", "xml", "unknown"]
    for (const n of asText) expect(reg.getByName(n)?.stringsAsText).toBe(true)
    for (const n of asBinary) expect(reg.getByName(n)?.stringsAsText).toBe(false)
  })

  it("the package index re-exports the modules", () => {
    expect(Types.CodecRegistry.builtins).toBe(reg)
    expect(typeof Types.ArrayCodec.arrayCodec).toBe("function")
    expect(Types.PgDate.PgDate.infinity.toString()).toBe("infinity")
  })
})
