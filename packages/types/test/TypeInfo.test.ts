import { describe, expect, it } from "@effect/vitest"
import { lowerBoundsOf } from "@pgfx/types/ArrayCodec"
import * as CodecRegistry from "@pgfx/types/CodecRegistry"
import type { PgComposite } from "@pgfx/types/PgComposite"
import { Range } from "@pgfx/types/Range"
import { buildCodecs, introspectionQuery, type PgTypeInfo, typeInfoFromRow } from "@pgfx/types/TypeInfo"
import { Schema } from "effect"
import { decode, encode, fromHex, roundTrip } from "./util.ts"

const info = (i: Partial<PgTypeInfo> & Pick<PgTypeInfo, "oid" | "name" | "kind">): PgTypeInfo => ({
  schema: "public",
  elementOid: 0,
  arrayOid: 0,
  baseOid: 0,
  delimiter: ",",
  receive: "-",
  rangeSubtype: 0,
  multirangeRange: 0,
  attributes: [],
  wireTwinOid: 0,
  binaryFunctions: "",
  ...i,
})

/** A small catalog: an enum, its array, a domain, a composite using both, its array, a range, a multirange, hstore. */
const catalog: ReadonlyArray<PgTypeInfo> = [
  info({ oid: 50001, name: "mood", kind: "e", arrayOid: 50002, receive: "enum_recv" }),
  info({ oid: 50002, name: "_mood", kind: "b", elementOid: 50001, receive: "array_recv" }),
  info({ oid: 50003, name: "posint", kind: "d", baseOid: 23, arrayOid: 50004 }),
  info({ oid: 50004, name: "_posint", kind: "b", elementOid: 50003 }),
  info({
    oid: 50005,
    name: "person",
    kind: "c",
    arrayOid: 50006,
    attributes: [
      { name: "age", typeOid: 50003 },
      { name: "mood", typeOid: 50001 },
      { name: "tags", typeOid: 1009 },
    ],
  }),
  info({ oid: 50006, name: "_person", kind: "b", elementOid: 50005 }),
  info({ oid: 50007, name: "floatrange", kind: "r", rangeSubtype: 701, arrayOid: 50008 }),
  info({ oid: 50009, name: "floatmultirange", kind: "m", multirangeRange: 50007, arrayOid: 50010 }),
  info({ oid: 50010, name: "_floatmultirange", kind: "b", elementOid: 50009 }),
  info({
    oid: 50011,
    name: "hstore",
    kind: "b",
    receive: "public.hstore_recv",
    arrayOid: 50012,
    binaryFunctions: "hstore:hstore_recv/hstore_send",
  }),
  info({ oid: 50013, name: "citext", kind: "b", receive: "citextrecv", wireTwinOid: 25, arrayOid: 50014 }),
  info({ oid: 50014, name: "_citext", kind: "b", elementOid: 50013, receive: "array_recv" }),
  info({ oid: 50015, name: "ltree", kind: "b", binaryFunctions: "ltree:ltree_recv/ltree_send" }),
  info({ oid: 50016, name: "seg", kind: "b" }),
  info({ oid: 50018, name: "unknownext", kind: "b", binaryFunctions: "unknownext:ux_recv/ux_send" }),
  info({ oid: 50019, name: "cube", kind: "b", binaryFunctions: "cube:cube_recv/cube_send" }),
  info({ oid: 50017, name: "fake_hstore", kind: "b", receive: "hstore_recv", binaryFunctions: "other:hstore_recv/x" }),
]

const base = () => CodecRegistry.builtins

const registryWith = (base = CodecRegistry.builtins) => base.withAll(buildCodecs(catalog, base))

describe("introspection", () => {
  it("builds a codec for every kind of type, in dependency order", () => {
    const r = registryWith()
    expect(r.get(50001)?.name).toBe("mood")
    expect(roundTrip(r.get(50002)!, ["sad", null])).toEqual(["sad", null])
    expect(r.get(50003)).toMatchObject({ name: "posint", oid: 50003, binary: true })
    const person = r.get(50005)!
    const bytes = encode(person, { age: 30, mood: "ok", tags: ["a"] })
    expect((decode(person, bytes) as PgComposite).toObject()).toEqual({ age: 30, mood: "ok", tags: ["a"] })
    // person[] takes tuples as elements
    const people = decode(r.get(50006)!, encode(r.get(50006)!, [[1, "x", null], null])) as Array<PgComposite | null>
    expect(people[0]!.toObject()).toEqual({ age: 1, mood: "x", tags: null })
    expect(roundTrip(r.get(50007)!, new Range(1.5, 2))).toEqual(new Range(1.5, 2))
    expect(roundTrip(r.get(50009)!, [new Range(1, 2)])).toEqual([new Range(1, 2)])
    expect(roundTrip(r.get(50010)!, [[new Range(1, 2)], []])).toEqual([[new Range(1, 2)], []])
    expect(roundTrip(r.get(50011)!, { a: "1" })).toEqual({ a: "1" })
  })

  it("finds binary forms by the receive and send functions, never by guess", () => {
    const r = registryWith()
    // citext's functions are text's: binary, values are strings, arrays too
    expect(r.get(50013)).toMatchObject({ name: "citext", oid: 50013, arrayOid: 50014, binary: true })
    expect(roundTrip(r.get(50013)!, "MiXed é")).toBe("MiXed é")
    expect(r.get(50014)).toMatchObject({ binary: true })
    expect(roundTrip(r.get(50014)!, ["a", null])).toEqual(["a", null])
    // ltree: a version byte and the text
    const ltree = r.get(50015)!
    expect(ltree.binary).toBe(true)
    expect(encode(ltree, "a.b")).toEqual(fromHex("01 61 2e 62"))
    expect(decode(ltree, fromHex("01 61 2e 62"))).toBe("a.b")
    expect(() => decode(ltree, fromHex("02 61"))).toThrow(/unsupported binary format version 2/)
    // a binary form pgfx does not know stays text, whatever the function names
    expect(r.get(50016)).toMatchObject({ name: "seg", binary: false })
    expect(r.get(50018)).toMatchObject({ name: "unknownext", binary: false })
    expect(r.get(50019)).toMatchObject({ name: "cube", binary: true, textMayRound: true })
    expect(r.get(50017)).toMatchObject({ name: "fake_hstore", binary: false })
  })

  it("a composite that must travel as text refuses fields whose text may be rounded", () => {
    const r = base().withAll(
      buildCodecs(
        [
          info({
            oid: 50200,
            name: "fc",
            kind: "c",
            attributes: [
              { name: "f", typeOid: 701 },
              { name: "c", typeOid: 50016 },
            ],
          }),
          info({
            oid: 50201,
            name: "ic",
            kind: "c",
            attributes: [
              { name: "i", typeOid: 1186 },
              { name: "c", typeOid: 50016 },
            ],
          }),
          info({
            oid: 50202,
            name: "outer",
            kind: "c",
            attributes: [
              { name: "p", typeOid: 50203 },
              { name: "c", typeOid: 50016 },
            ],
          }),
          info({ oid: 50203, name: "pt", kind: "c", attributes: [{ name: "p", typeOid: 600 }] }),
          ...catalog,
        ],
        base(),
      ),
    )
    const fc = r.get(50200)!
    expect(fc).toMatchObject({ binary: false, textMayRound: true })
    expect(() => fc.decodeText("(0.3,1)")).toThrow(/f \(float8\).*extra_float_digits/)
    // writing is exact (every digit the double needs)
    expect(fc.encodeText([0.1 + 0.2, "1 .. 2"])).toBe('(0.30000000000000004,"1 .. 2")')
    // no rounding field: read from text as before
    expect(String((r.get(50201)!.decodeText("(1 day,1)") as PgComposite).get("i"))).toBe("1 day")
    // a nested binary composite holding a point still rounds in the outer text
    expect(r.get(50203)).toMatchObject({ binary: true, textMayRound: true })
    expect(() => r.get(50202)!.decodeText('("(""(1,2)"")",1)')).toThrow(/extra_float_digits/)
    // the flag follows ranges, multiranges, arrays and domains; other types never set it
    expect(r.get(50007)).toMatchObject({ textMayRound: true })
    expect(r.get(50009)).toMatchObject({ textMayRound: true })
    expect(r.get(50010)).toMatchObject({ textMayRound: true })
    expect(r.get(50005)).toMatchObject({ textMayRound: false })
    expect(CodecRegistry.builtins.get(1022)).toMatchObject({ name: "_float8", textMayRound: true })
    // a type switched to text on purpose is the text asked for
    const asked = CodecRegistry.builtins.withBuiltinTypeCodec("float8", "float8", { format: "text" })
    const codecs = buildCodecs(
      [
        info({
          oid: 50200,
          name: "fc",
          kind: "c",
          attributes: [
            { name: "f", typeOid: 701 },
            { name: "c", typeOid: 50016 },
          ],
        }),
        ...catalog,
      ],
      asked,
    )
    const fcAsked = codecs.find((c) => c.oid === 50200)!
    expect((fcAsked.decodeText("(0.3,1)") as PgComposite).get("f")).toBe(0.3)
  })

  it("unknown dependencies fall back to text; known OIDs keep their codecs", () => {
    const codecs = buildCodecs(
      [info({ oid: 50100, name: "_thing", kind: "b", elementOid: 50101 })],
      CodecRegistry.builtins,
    )
    expect(codecs.map((c) => c.name)).toEqual(["_thing"])
    expect(codecs[0]!.binary).toBe(false)
    expect(codecs[0]!.decodeText("{a,b}")).toEqual(["a", "b"])
    expect(buildCodecs([info({ oid: 23, name: "int4", kind: "b" })], CodecRegistry.builtins)).toEqual([])
  })

  it("applies the registry's declarations by name", () => {
    const base = CodecRegistry.builtins
      .withTypeCodec("person", { format: "tuple", schema: Schema.Array(Schema.Unknown) })
      .withBuiltinTypeCodec("public.citext", "text")
      .withBuiltinTypeCodec("hstore", "text", { format: "text" })
    const r = registryWith(base)
    expect(decode(r.get(50005)!, encode(r.get(50005)!, [1, "m", null]))).toEqual([1, "m", null])
    expect(r.get(50013)).toMatchObject({ name: "citext", binary: true })
    expect(r.get(50011)).toMatchObject({ name: "hstore", binary: false })
    // arrays of a customized type use the custom element codec
    expect(decode(r.get(50006)!, encode(r.get(50006)!, [[1, "m", null]]))).toEqual([[1, "m", null]])
    const bad = CodecRegistry.builtins.withTypeCodec("mood", { format: "tuple", schema: Schema.Array(Schema.Unknown) })
    expect(() => buildCodecs(catalog, bad)).toThrow(/tuple/)
  })

  it("keeps lower bounds through introspected array codecs", () => {
    const r = registryWith()
    const arr = decode(r.get(50002)!, fromHex("00000001 00000000 0000c351 00000001 00000000 00000002 6f6b"))
    expect(arr).toEqual(["ok"])
    expect(lowerBoundsOf(arr as Array<unknown>)).toEqual([0])
  })

  it("the query adapts to the server version and its rows decode", () => {
    expect(introspectionQuery(18)).toContain("rngmultitypid")
    expect(introspectionQuery(13)).not.toContain("rngmultitypid")
    const row = typeInfoFromRow([1, "s", "t", "c", 0, 2, 0, ",", "record_recv", 0, 0, ["a"], [23], 0, ""])
    expect(row).toMatchObject({ oid: 1, schema: "s", name: "t", kind: "c", attributes: [{ name: "a", typeOid: 23 }] })
    const citext = typeInfoFromRow([9, "public", "citext", "b", 0, 10, 0, ",", "citextrecv", 0, 0, [], [], 25, ""])
    expect(citext).toMatchObject({ wireTwinOid: 25, binaryFunctions: "" })
  })
})
