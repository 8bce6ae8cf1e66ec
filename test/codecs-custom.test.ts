/**
 * Custom codecs as Effect Schema transformations: asyncpg's documented `set_type_codec` /
 * `set_builtin_type_codec` examples (docs/usage: JSON, numeric as float, `mycomplex` via tuple,
 * interval via tuple, PostGIS-style binary geometry, hstore), reset, per-connection registries,
 * and the typed errors of custom codecs.
 */
import * as CodecRegistry from "@pgfx/types/CodecRegistry"
import type { PgComposite } from "@pgfx/types/PgComposite"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Schema, SchemaGetter } from "effect"
import { ensureExtension, schemaConnect, schemaConnectAgain } from "./support/schema.ts"

/** `json.dumps` / `json.loads` as a Schema between JSON text and any value. */
const JsonText = Schema.String.pipe(
  Schema.decodeTo(Schema.Unknown, {
    decode: SchemaGetter.transform((s: string) => JSON.parse(s) as unknown),
    encode: SchemaGetter.transform((v: unknown) => JSON.stringify(v)),
  }),
)

class Complex {
  readonly real: number
  readonly imag: number
  constructor(real: number, imag: number) {
    this.real = real
    this.imag = imag
  }
}

/** asyncpg: encoder=lambda x: (x.real, x.imag), decoder=lambda t: complex(t[0], t[1]), format='tuple'. */
const ComplexFromTuple = Schema.Tuple([Schema.Number, Schema.Number]).pipe(
  Schema.decodeTo(Schema.instanceOf(Complex), {
    decode: SchemaGetter.transform(([r, i]: readonly [number, number]) => new Complex(r, i)),
    encode: SchemaGetter.transform((c: Complex) => [c.real, c.imag] as const),
  }),
)

/** dateutil's relativedelta, the interval example's user class. */
class RelativeDelta {
  readonly months: number
  readonly days: number
  readonly microseconds: bigint
  constructor(months: number, days: number, microseconds: bigint) {
    this.months = months
    this.days = days
    this.microseconds = microseconds
  }
  get years(): number {
    return Math.trunc(this.months / 12)
  }
}

const RelativeDeltaFromTuple = Schema.Tuple([Schema.Number, Schema.Number, Schema.BigInt]).pipe(
  Schema.decodeTo(Schema.instanceOf(RelativeDelta), {
    decode: SchemaGetter.transform(([m, d, us]: readonly [number, number, bigint]) => new RelativeDelta(m, d, us)),
    encode: SchemaGetter.transform((r: RelativeDelta) => [r.months, r.days, r.microseconds] as const),
  }),
)

/** A geometry value and its WKB encoding (little-endian Point), as shapely.wkb would do. */
class GeoPoint {
  readonly x: number
  readonly y: number
  constructor(x: number, y: number) {
    this.x = x
    this.y = y
  }
}

const WkbPoint = Schema.Uint8Array.pipe(
  Schema.decodeTo(Schema.instanceOf(GeoPoint), {
    decode: SchemaGetter.transform((b: Uint8Array) => {
      const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
      if (b.length !== 21 || b[0] !== 1 || view.getUint32(1, true) !== 1) throw new Error("not a WKB point")
      return new GeoPoint(view.getFloat64(5, true), view.getFloat64(13, true))
    }),
    encode: SchemaGetter.transform((p: GeoPoint) => {
      const b = new Uint8Array(21)
      const view = new DataView(b.buffer)
      b[0] = 1
      view.setUint32(1, 1, true)
      view.setFloat64(5, p.x, true)
      view.setFloat64(13, p.y, true)
      return b
    }),
  }),
)

/** A base type defined without C code: bytea's I/O functions under a new name (PostGIS is absent). */
const createGeometryType = `
  CREATE TYPE geometry;
  CREATE FUNCTION geometry_in(cstring) RETURNS geometry AS 'byteain' LANGUAGE internal IMMUTABLE STRICT;
  CREATE FUNCTION geometry_out(geometry) RETURNS cstring AS 'byteaout' LANGUAGE internal IMMUTABLE STRICT;
  CREATE FUNCTION geometry_recv(internal) RETURNS geometry AS 'bytearecv' LANGUAGE internal IMMUTABLE STRICT;
  CREATE FUNCTION geometry_send(geometry) RETURNS bytea AS 'byteasend' LANGUAGE internal IMMUTABLE STRICT;
  CREATE TYPE geometry (INPUT = geometry_in, OUTPUT = geometry_out, RECEIVE = geometry_recv, SEND = geometry_send, LIKE = bytea)`

describe("custom codecs (asyncpg's documented examples)", () => {
  it.live("automatic JSON conversion with a user encoder/decoder", () =>
    Effect.gen(function* () {
      const { conn } = yield* schemaConnect()
      yield* conn.setTypeCodec("json", { format: "text", schema: JsonText, schemaName: "pg_catalog" })
      const data = { foo: "bar", spam: 1 }
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::json", [data]))).toEqual(data)
      // every value goes through the schema: a JS string is a JSON string document here
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::json::text", ["x"]))).toBe('"x"')
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT '[1, {\"a\": null}]'::json"))).toEqual([1, { a: null }])
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT ARRAY['1'::json, '\"s\"'::json]"))).toEqual([1, "s"])
      const row = (yield* conn.fetch("SELECT '{}'::json AS j"))[0]!
      expect(row.columns[0]!.format).toBe(0)
    }),
  )

  it.live("decoding numeric columns as floats (text format), and resetTypeCodec", () =>
    Effect.gen(function* () {
      const { conn } = yield* schemaConnect()
      yield* conn.setTypeCodec("numeric", { format: "text", schema: Schema.NumberFromString, schemaName: "pg_catalog" })
      const res = Option.getOrThrow(yield* conn.fetchVal("SELECT $1::numeric", [11.123]))
      expect(res).toBe(11.123)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT ARRAY[1.5, NULL, 2]::numeric[]"))).toEqual([1.5, null, 2])
      expect(conn.codecs.getByName("numeric")?.binary).toBe(false)
      yield* conn.resetTypeCodec("numeric", { schemaName: "pg_catalog" })
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::numeric", ["11.123"]))).toBe("11.123")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT ARRAY[1.50]::numeric[]"))).toEqual(["1.50"])
    }),
  )

  it.live("a composite via the tuple format (mycomplex), arrays of it, and composites containing it", () =>
    Effect.gen(function* () {
      const { conn } = yield* schemaConnect()
      yield* conn.execute("CREATE TYPE mycomplex AS (r float8, i float8); CREATE TYPE wrapper AS (c mycomplex, n int4)")
      yield* conn.setTypeCodec("mycomplex", { format: "tuple", schema: ComplexFromTuple })
      const res = Option.getOrThrow(yield* conn.fetchVal("SELECT $1::mycomplex", [new Complex(1, 2)]))
      expect(res).toEqual(new Complex(1, 2))
      expect(res).toBeInstanceOf(Complex)
      expect(
        Option.getOrThrow(yield* conn.fetchVal("SELECT ARRAY[$1::mycomplex, NULL]", [new Complex(-0.5, 1e300)])),
      ).toEqual([new Complex(-0.5, 1e300), null])
      const w = Option.getOrThrow(yield* conn.fetchVal("SELECT ROW((3, 4)::mycomplex, 5)::wrapper")) as PgComposite
      expect(w.c).toEqual(new Complex(3, 4))
      expect(
        Option.getOrThrow(yield* conn.fetchVal("SELECT ($1::wrapper).c::text", [{ c: new Complex(6, 7), n: 1 }])),
      ).toBe("(6,7)")
      // point3d from the same docs: tuple <-> a record shape
      yield* conn.execute("CREATE TYPE point3d AS (x float8, y float8, z float8)")
      yield* conn.setTypeCodec("point3d", {
        format: "tuple",
        schema: Schema.Tuple([Schema.Number, Schema.Number, Schema.Number]).pipe(
          Schema.decodeTo(Schema.Struct({ x: Schema.Number, y: Schema.Number, z: Schema.Number }), {
            decode: SchemaGetter.transform(([x, y, z]: readonly [number, number, number]) => ({ x, y, z })),
            encode: SchemaGetter.transform((p: { x: number; y: number; z: number }) => [p.x, p.y, p.z] as const),
          }),
        ),
      })
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::point3d", [{ x: 1, y: 2, z: 3 }]))).toEqual({
        x: 1,
        y: 2,
        z: 3,
      })
    }),
  )

  it.live("interval via the tuple format into a user class", () =>
    Effect.gen(function* () {
      const { conn } = yield* schemaConnect()
      yield* conn.setTypeCodec("interval", {
        format: "tuple",
        schema: RelativeDeltaFromTuple,
        schemaName: "pg_catalog",
      })
      const result = Option.getOrThrow(yield* conn.fetchVal("SELECT '2 years 3 mons 1 day'::interval")) as RelativeDelta
      expect(result).toEqual(new RelativeDelta(27, 1, 0n))
      expect(result.years).toBe(2)
      expect(
        yield* Effect.map(
          conn.fetchVal("SELECT '2002-01-01'::timestamp + $1::interval", [result]),
          Option.getOrThrow,
        ).pipe(Effect.map(String)),
      ).toBe("2004-04-02 00:00:00")
      expect(
        Option.getOrThrow(yield* conn.fetchVal("SELECT $1::interval::text", [new RelativeDelta(-1, 2, -3_000_001n)])),
      ).toBe("-1 mons +2 days -00:00:03.000001")
    }),
  )

  it.live("a PostGIS-like binary codec on a non-built-in base type", () =>
    Effect.gen(function* () {
      const { conn, schema } = yield* schemaConnect()
      yield* conn.execute(createGeometryType)
      // without a codec: its send and receive functions are bytea's, so it reads as bytea (in binary)
      const wkb = "\\x010100000054fcdf11157f52c008e57d1ccd5f4440"
      const bytes = Uint8Array.from(Buffer.from(wkb.slice(2), "hex"))
      expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT '${wkb}'::geometry`))).toEqual(bytes)
      yield* conn.setTypeCodec("geometry", { format: "binary", schema: WkbPoint })
      const data = new GeoPoint(-73.985661, 40.748447)
      const res = (yield* conn.fetch(
        "SELECT 'Empire State Building' AS name, $1::geometry AS coordinates, $1::geometry::text AS hex",
        [data],
      ))[0]!
      expect(res.name).toBe("Empire State Building")
      expect(res.coordinates).toEqual(data)
      expect(res.hex).toBe(wkb)
      expect(res.columns[1]!.format).toBe(1)
      expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT '${wkb}'::geometry`))).toEqual(data)
      // the codec is this connection's: another connection still sees the bytes
      const other = yield* schemaConnectAgain(schema)
      expect(Option.getOrThrow(yield* other.fetchVal(`SELECT '${wkb}'::geometry`))).toEqual(bytes)
    }),
  )

  it.live("hstore as a record of strings (set_builtin_type_codec), and opting out of the default", () =>
    Effect.gen(function* () {
      yield* ensureExtension("hstore")
      const { conn } = yield* schemaConnect()
      yield* conn.setBuiltinTypeCodec("hstore", "pg_contrib.hstore")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 'a=>1,b=>2,c=>NULL'::hstore"))).toEqual({
        a: "1",
        b: "2",
        c: null,
      })
      yield* conn.execute("CREATE TABLE products (id serial PRIMARY KEY, attributes hstore)")
      yield* conn.execute("INSERT INTO products (attributes) VALUES ($1)", [
        { color: "red", size: "large", weight: "500g" },
      ])
      expect(
        Option.getOrThrow(yield* conn.fetchVal("SELECT attributes FROM products WHERE attributes -> 'color' = 'red'")),
      ).toEqual({
        color: "red",
        size: "large",
        weight: "500g",
      })
      // hstore is decoded to an object by default; this opts out to its text
      yield* conn.setBuiltinTypeCodec("hstore", "text", { format: "text" })
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 'a=>1'::hstore"))).toBe('"a"=>"1"')
    }),
  )

  it.live("setBuiltinTypeCodec declares a type wire-compatible with a built-in codec", () =>
    Effect.gen(function* () {
      yield* ensureExtension("citext")
      const { conn } = yield* schemaConnect()
      // money as its amount in minor units, binary
      yield* conn.setBuiltinTypeCodec("money", "int8")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 12.34::money"))).toBe(1234n)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::money::numeric::text", [-99n]))).toBe("-0.99")
      // citext exchanged with the text codec (its default is the same, found by its functions)
      yield* conn.setBuiltinTypeCodec("citext", "text")
      const row = (yield* conn.fetch("SELECT 'AbC'::citext AS c, $1::citext = 'abc' AS eq", ["ABC"]))[0]!
      expect(row.c).toBe("AbC")
      expect(row.eq).toBe(true)
      expect(row.columns[0]!.format).toBe(1)
      // a user domain, and an unknown codec or type name
      const badCodec = yield* Effect.flip(conn.setBuiltinTypeCodec("citext", "no_such_codec"))
      expect(badCodec._tag).toBe("PgInterfaceError")
      const badType = yield* Effect.flip(conn.setBuiltinTypeCodec("no_such_type", "text"))
      expect(badType).toMatchObject({ _tag: "PgInterfaceError", message: "unknown type no_such_type" })
    }),
  )

  it.live("registries are values: two connections map the same type differently", () =>
    Effect.gen(function* () {
      const { conn: plain, schema } = yield* schemaConnect()
      yield* plain.execute("CREATE TYPE mycomplex AS (r float8, i float8)")
      const registry = CodecRegistry.builtins
        .withTypeCodec("numeric", { format: "text", schema: Schema.NumberFromString })
        .withTypeCodec("mycomplex", { format: "tuple", schema: ComplexFromTuple })
      const custom = yield* schemaConnectAgain(schema, { codecs: registry })
      expect(Option.getOrThrow(yield* custom.fetchVal("SELECT 1.25::numeric"))).toBe(1.25)
      expect(Option.getOrThrow(yield* plain.fetchVal("SELECT 1.25::numeric"))).toBe("1.25")
      // a declaration for a user type applies when the connection looks the type up
      expect(Option.getOrThrow(yield* custom.fetchVal("SELECT (1, 2)::mycomplex"))).toEqual(new Complex(1, 2))
      expect((Option.getOrThrow(yield* plain.fetchVal("SELECT (1, 2)::mycomplex")) as PgComposite).toObject()).toEqual({
        r: 1,
        i: 2,
      })
      expect(custom.codecs).toBe(registry)
      expect(CodecRegistry.builtins.getByName("numeric")?.binary).toBe(true)
    }),
  )

  it.live("custom codec failures are typed errors and the connection stays usable", () =>
    Effect.gen(function* () {
      const { conn } = yield* schemaConnect()
      yield* conn.setTypeCodec("numeric", {
        format: "text",
        schema: Schema.NumberFromString.pipe(Schema.check(Schema.isFinite())),
        schemaName: "pg_catalog",
      })
      const decode = yield* Effect.flip(Effect.map(conn.fetchVal("SELECT 'NaN'::numeric"), Option.getOrThrow))
      expect(decode._tag).toBe("PgDecodeError")
      expect(decode.message).toContain("schema rejected")
      const encode = yield* Effect.flip(
        Effect.map(conn.fetchVal("SELECT $1::int4, $2::numeric", [1, "not a number"]), Option.getOrThrow),
      )
      expect(encode).toMatchObject({ _tag: "PgEncodeError", parameter: 2, typeName: "numeric", actualType: "string" })
      expect(encode.message).not.toContain("not a number")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 2.5::numeric"))).toBe(2.5)
      // a format that does not fit the type, and an unknown type
      yield* conn.execute("CREATE TYPE e AS ENUM ('x')")
      const tuple = yield* Effect.flip(conn.setTypeCodec("e", { format: "tuple", schema: ComplexFromTuple }))
      expect(tuple._tag).toBe("PgInterfaceError")
      expect(tuple.message).toContain("tuple")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 'x'::e"))).toBe("x")
      const unknown = yield* Effect.flip(conn.setTypeCodec("nope", { format: "text", schema: Schema.String }))
      expect(unknown).toMatchObject({ _tag: "PgInterfaceError", message: "unknown type nope" })
      const builtinTuple = yield* Effect.flip(
        conn.setTypeCodec("int4", { format: "tuple", schema: ComplexFromTuple, schemaName: "pg_catalog" }),
      )
      expect(builtinTuple._tag).toBe("PgInterfaceError")
    }),
  )
})
