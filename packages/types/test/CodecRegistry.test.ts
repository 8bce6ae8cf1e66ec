import { describe, expect, it } from "@effect/vitest"
import * as Types from "@pgfx/types"
import * as CodecRegistry from "@pgfx/types/CodecRegistry"
import { Oids } from "@pgfx/types/Oids"
import { textCodec } from "@pgfx/types/TextCodecs"
import { Schema } from "effect"
import { decode, encode } from "./util.ts"

/** Every built-in scalar codec's OID and array OID, as `pg_type` on PostgreSQL 18 lists them. */
const expectedOids: Record<string, [number, number]> = {
  bool: [16, 1000],
  bytea: [17, 1001],
  char: [18, 1002],
  name: [19, 1003],
  int8: [20, 1016],
  int2: [21, 1005],
  int2vector: [22, 1006],
  int4: [23, 1007],
  regproc: [24, 1008],
  text: [25, 1009],
  oid: [26, 1028],
  tid: [27, 1010],
  xid: [28, 1011],
  cid: [29, 1012],
  oidvector: [30, 1013],
  json: [114, 199],
  xml: [142, 143],
  point: [600, 1017],
  lseg: [601, 1018],
  path: [602, 1019],
  box: [603, 1020],
  polygon: [604, 1027],
  line: [628, 629],
  cidr: [650, 651],
  float4: [700, 1021],
  float8: [701, 1022],
  unknown: [705, 0],
  circle: [718, 719],
  macaddr8: [774, 775],
  money: [790, 791],
  macaddr: [829, 1040],
  inet: [869, 1041],
  bpchar: [1042, 1014],
  varchar: [1043, 1015],
  date: [1082, 1182],
  time: [1083, 1183],
  timestamp: [1114, 1115],
  timestamptz: [1184, 1185],
  interval: [1186, 1187],
  timetz: [1266, 1270],
  bit: [1560, 1561],
  varbit: [1562, 1563],
  numeric: [1700, 1231],
  refcursor: [1790, 2201],
  regprocedure: [2202, 2207],
  regoper: [2203, 2208],
  regoperator: [2204, 2209],
  regclass: [2205, 2210],
  regtype: [2206, 2211],
  record: [2249, 2287],
  cstring: [2275, 1263],
  void: [2278, 0],
  uuid: [2950, 2951],
  pg_lsn: [3220, 3221],
  tsvector: [3614, 3643],
  tsquery: [3615, 3645],
  regconfig: [3734, 3735],
  regdictionary: [3769, 3770],
  jsonb: [3802, 3807],
  int4range: [3904, 3905],
  numrange: [3906, 3907],
  tsrange: [3908, 3909],
  tstzrange: [3910, 3911],
  daterange: [3912, 3913],
  int8range: [3926, 3927],
  jsonpath: [4072, 4073],
  regnamespace: [4089, 4090],
  regrole: [4096, 4097],
  regcollation: [4191, 4192],
  int4multirange: [4451, 6150],
  nummultirange: [4532, 6151],
  tsmultirange: [4533, 6152],
  tstzmultirange: [4534, 6153],
  datemultirange: [4535, 6155],
  int8multirange: [4536, 6157],
  xid8: [5069, 271],
}

/** Types exchanged in text format (their JS value is the server's text). */
const textFormat = new Set([
  "money",
  "tsvector",
  "tsquery",
  "regproc",
  "regprocedure",
  "regoper",
  "regoperator",
  "regclass",
  "regtype",
  "regconfig",
  "regdictionary",
  "regnamespace",
  "regrole",
  "regcollation",
])

describe("CodecRegistry", () => {
  const reg = CodecRegistry.builtins

  it("holds every built-in scalar and array codec under pg_type's OIDs", () => {
    for (const [name, [oid, arrayOid]] of Object.entries(expectedOids)) {
      const codec = reg.get(oid)
      expect(codec?.name).toBe(name)
      expect(codec?.arrayOid).toBe(arrayOid)
      expect(codec?.binary).toBe(!textFormat.has(name))
      expect(reg.getByName(name)).toBe(codec)
      if (arrayOid !== 0) {
        expect(reg.get(arrayOid)?.name).toBe(`_${name}`)
        expect(reg.getByName(`${name}[]`)).toBe(reg.get(arrayOid))
      }
    }
    const scalars = Object.keys(expectedOids).length
    const arrays = Object.values(expectedOids).filter(([, a]) => a !== 0).length
    expect(reg.size).toBe(scalars + arrays)
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

  it("withTypeCodec installs a custom codec for a built-in type and its array at once", () => {
    const custom = reg.withTypeCodec("numeric", { format: "text", schema: Schema.NumberFromString })
    expect(custom.get(1700)).toMatchObject({ name: "numeric", binary: false })
    expect(custom.get(1700)!.decodeText("1.5")).toBe(1.5)
    expect(custom.get(1231)!.decodeText("{1.5,NULL}")).toEqual([1.5, null])
    expect(reg.get(1700)!.decodeText("1.5")).toBe("1.5")
    // SQL spellings and schema-qualified names
    expect(reg.withTypeCodec("double precision", { format: "text", schema: Schema.String }).get(701)?.binary).toBe(
      false,
    )
    expect(reg.withTypeCodec("pg_catalog.int4", { format: "text", schema: Schema.String }).get(23)?.binary).toBe(false)
    // a type in another schema is declared, not installed
    const declared = reg.withTypeCodec("public.int4", { format: "text", schema: Schema.String })
    expect(declared.get(23)?.binary).toBe(true)
    expect(declared.declarationFor("public", "int4")?._tag).toBe("Schema")
    expect(declared.declarationFor("other", "int4")).toBeUndefined()
    expect(() => reg.withTypeCodec("int4", { format: "tuple", schema: Schema.Array(Schema.Unknown) })).toThrow(/tuple/)
  })

  it("withoutTypeCodec restores the built-in codec; withBuiltinTypeCodec maps by codec name", () => {
    const custom = reg.withTypeCodec("numeric", { format: "text", schema: Schema.NumberFromString })
    const reset = custom.withoutTypeCodec("numeric")
    expect(reset.get(1700)).toBe(reg.get(1700))
    expect(reset.get(1231)).toBe(reg.get(1231))
    expect(reset.declarations.size).toBe(0)
    const money = reg.withBuiltinTypeCodec("money", "int8")
    expect(money.get(790)).toMatchObject({ name: "money", oid: 790, binary: true })
    expect(decode(money.get(790)!, encode(money.get(790)!, 1234n))).toBe(1234n)
    const hstore = reg.withBuiltinTypeCodec("hstore", "pg_contrib.hstore")
    expect(hstore.declarationFor("public", "hstore")).toMatchObject({ _tag: "Builtin", codecName: "pg_contrib.hstore" })
    expect(() => reg.withBuiltinTypeCodec("x", "no_such_codec")).toThrow(/unknown built-in codec/)
    expect(reg.withBuiltinTypeCodec("regclass", "oid").get(2205)?.decodeBinary).toBe(reg.get(26)!.decodeBinary)
    expect(CodecRegistry.qualifyTypeName("public.mytype", undefined)).toEqual({ name: "mytype", schema: "public" })
    expect(CodecRegistry.qualifyTypeName("integer", undefined)).toEqual({ name: "int4", schema: undefined })
  })
})
