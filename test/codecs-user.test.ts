/**
 * User-defined and extension types, found by introspection: composites, anonymous records, enums,
 * domains, user ranges and multiranges, arrays of them of any dimension with NULLs and lower
 * bounds, citext and hstore; introspection once per connection, reloadSchemaState, and the
 * "outdated schema" error after DDL.
 */
import * as PgError from "@pgfx/client/PgError"
import { lowerBoundsOf, withLowerBounds } from "@pgfx/types/ArrayCodec"
import { isPgComposite, type PgComposite } from "@pgfx/types/PgComposite"
import { PgDate } from "@pgfx/types/PgDate"
import { Range } from "@pgfx/types/Range"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Tracer } from "effect"
import { testCluster } from "./support/cluster.ts"
import { checkValue, textFormatRegistry } from "./support/oracle.ts"
import { ensureExtension, schemaConnect, schemaConnectAgain } from "./support/schema.ts"

const formats = [
  ["binary", {}],
  ["text", { codecs: textFormatRegistry().withBuiltinTypeCodec("hstore", "hstore", { format: "text" }) }],
] as const

/** Counts the introspection round trips (spans named pgfx.introspectTypes). */
const introspectionCounter = () => {
  const spans: Array<string> = []
  const tracer = Tracer.make({
    span(options) {
      if (options.name === "pgfx.introspectTypes") spans.push(options.name)
      return new Tracer.NativeSpan(options)
    },
  })
  return { count: () => spans.length, tracer }
}

describe("user-defined types", () => {
  for (const [format, options] of formats) {
    it.live(`composite types decode to PgComposite and encode from objects, arrays and PgComposite (${format})`, () =>
      Effect.gen(function* () {
        const { conn } = yield* schemaConnect(options)
        yield* conn.execute(`
          CREATE TYPE inner_t AS (a int4, b text);
          CREATE TYPE outer_t AS (i inner_t, arr int4[], d date, n numeric, "odd name" bool)`)
        const literal = `ROW(ROW(1, 'x y'), ARRAY[1, NULL], '2020-01-02', NULL, true)`
        const v = Option.getOrThrow(yield* conn.fetchVal(`SELECT ${literal}::outer_t`)) as PgComposite
        expect(isPgComposite(v)).toBe(true)
        expect(v.fieldNames).toEqual(["i", "arr", "d", "n", "odd name"])
        const inner = v.i as PgComposite
        expect(inner.toObject()).toEqual({ a: 1, b: "x y" })
        expect(v.arr).toEqual([1, null])
        expect(v.d).toEqual(PgDate.make(2020, 1, 2))
        expect(v.n).toBe(null)
        expect(v.get("odd name")).toBe(true)
        expect(v.at(0)).toBe(inner)
        expect([...v]).toEqual(v.values)
        // the three accepted inputs encode to the same value
        const same = (value: unknown) =>
          Effect.map(
            conn.fetchVal(`SELECT $1::outer_t::text = (${literal})::outer_t::text`, [value]),
            Option.getOrThrow,
          )
        expect(
          yield* same({ i: { a: 1, b: "x y" }, arr: [1, null], d: PgDate.make(2020, 1, 2), "odd name": true }),
        ).toBe(true)
        expect(yield* same([[1, "x y"], [1, null], PgDate.make(2020, 1, 2), null, true])).toBe(true)
        expect(yield* same(v)).toBe(true)
        // a string is the composite's text form, parsed by the server
        expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT ($1::inner_t).b`, ['(5,"a,b")']))).toBe("a,b")
        // String(v) is what the server prints (for field values that print like the server's)
        expect(String(inner)).toBe(Option.getOrThrow(yield* conn.fetchVal(`SELECT ROW(1, 'x y')::inner_t::text`)))
        // the oracle checks (decode, print, encode, arrays with NULL)
        yield* checkValue(conn, "inner_t", `ROW(-2, 'quote " and \\ backslash, (comma)')`, (decoded: unknown) =>
          expect((decoded as PgComposite).toObject()).toEqual({ a: -2, b: 'quote " and \\ backslash, (comma)' }),
        )
      }),
    )
  }

  it.live("composite encode errors name the parameter, the type and the JS type; the connection stays usable", () =>
    Effect.gen(function* () {
      const { conn } = yield* schemaConnect()
      yield* conn.execute("CREATE TYPE pair_t AS (a int4, b text)")
      const unknownKey = yield* Effect.flip(
        Effect.map(conn.fetchVal("SELECT $1::pair_t", [{ a: 1, c: "x" }]), Option.getOrThrow),
      )
      expect(unknownKey).toMatchObject({
        _tag: "PgEncodeError",
        parameter: 1,
        typeName: "pair_t",
        actualType: "Object",
      })
      expect(unknownKey.message).toContain('no field "c"')
      const wrongLength = yield* Effect.flip(Effect.map(conn.fetchVal("SELECT $1::pair_t", [[1]]), Option.getOrThrow))
      expect(wrongLength).toMatchObject({ _tag: "PgEncodeError", parameter: 1, actualType: "Array" })
      const wrongField = yield* Effect.flip(
        Effect.map(conn.fetchVal("SELECT $1::int4, $2::pair_t", [1, { a: 1, b: { not: "text" } }]), Option.getOrThrow),
      )
      expect(wrongField).toMatchObject({ _tag: "PgEncodeError", parameter: 2, typeName: "pair_t" })
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT ($1::pair_t).b", [{ a: 1, b: "ok" }]))).toBe("ok")
    }),
  )

  it.live("tables' row types and anonymous records", () =>
    Effect.gen(function* () {
      const { conn } = yield* schemaConnect()
      yield* conn.execute(`
        CREATE TABLE people (id int8, name text, tags text[]);
        INSERT INTO people VALUES (1, 'ann', '{a,b}'), (2, NULL, NULL)`)
      const rows = yield* conn.fetch("SELECT p FROM people p ORDER BY id")
      expect(rows.map((r) => (r.p as PgComposite).toObject())).toEqual([
        { id: 1n, name: "ann", tags: ["a", "b"] },
        { id: 2n, name: null, tags: null },
      ])
      const anon = Option.getOrThrow(
        yield* conn.fetchVal("SELECT ROW(1, 'a b', NULL, ARRAY[1.5]::float8[], ROW(true, 2::int2))"),
      ) as PgComposite
      expect(anon.fieldNames).toEqual(["f1", "f2", "f3", "f4", "f5"])
      expect(anon.values.slice(0, 4)).toEqual([1, "a b", null, [1.5]])
      expect((anon.f5 as PgComposite).toObject()).toEqual({ f1: true, f2: 2 })
      expect(String(anon)).toBe(
        Option.getOrThrow(
          yield* conn.fetchVal("SELECT ROW(1, 'a b', NULL, ARRAY[1.5]::float8[], ROW(true, 2::int2))::text"),
        ),
      )
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT ARRAY[ROW(1), NULL]"))).toSatisfy(
        (a: Array<PgComposite | null>) => a.length === 2 && a[0]!.f1 === 1 && a[1] === null,
      )
      // anonymous records cannot be parameters: a typed error before anything is sent
      const e = yield* Effect.flip(Effect.map(conn.fetchVal("SELECT $1::record", [[1, 2]]), Option.getOrThrow))
      expect(e).toMatchObject({ _tag: "PgEncodeError", parameter: 1, typeName: "record" })
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1"))).toBe(1)
    }),
  )

  it.live("an anonymous record field of a type the connection does not know yet fails clearly, then works", () =>
    Effect.gen(function* () {
      const { conn } = yield* schemaConnect()
      yield* conn.execute("CREATE TYPE color AS ENUM ('red', 'green')")
      const sql = "SELECT ROW(1, 'green'::color)"
      const e = yield* Effect.flip(Effect.map(conn.fetchVal(sql), Option.getOrThrow))
      expect(e._tag).toBe("PgDecodeError")
      expect(e.message).toMatch(/field f2 has type OID \d+/)
      // the type is looked up before the next statement, so the same query now decodes
      const v = Option.getOrThrow(yield* conn.fetchVal(sql)) as PgComposite
      expect(v.values).toEqual([1, "green"])
    }),
  )

  for (const [format, options] of formats) {
    it.live(`enums are strings, arrays of enums too (${format})`, () =>
      Effect.gen(function* () {
        const { conn } = yield* schemaConnect(options)
        yield* conn.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'very happy', '')")
        for (const label of ["sad", "very happy", ""]) {
          yield* checkValue(conn, "mood", `'${label}'`, label)
        }
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::mood[]", [["ok", null, ""]]))).toEqual([
          "ok",
          null,
          "",
        ])
        const bad = yield* Effect.flip(Effect.map(conn.fetchVal("SELECT $1::mood", ["angry"]), Option.getOrThrow))
        expect(bad._tag).toBe("PgServerError")
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 'ok'::mood"))).toBe("ok")
      }),
    )

    it.live(`domains decode as their base type (${format})`, () =>
      Effect.gen(function* () {
        const { conn } = yield* schemaConnect(options)
        yield* conn.execute(`
          CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);
          CREATE DOMAIN day_d AS date;
          CREATE TYPE pt AS (x posint, d day_d);
          CREATE DOMAIN pt_d AS pt`)
        yield* checkValue(conn, "posint", "5", 5)
        yield* checkValue(conn, "day_d", "'2020-02-29'", PgDate.make(2020, 2, 29))
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::posint[]", [[1, 2, null]]))).toEqual([1, 2, null])
        const pt = Option.getOrThrow(
          yield* conn.fetchVal("SELECT $1::pt_d", [{ x: 3, d: PgDate.make(2021, 1, 1) }]),
        ) as PgComposite
        expect(pt.toObject()).toEqual({ x: 3, d: PgDate.make(2021, 1, 1) })
        const violation = yield* Effect.flip(Effect.map(conn.fetchVal("SELECT $1::posint", [0]), Option.getOrThrow))
        expect(violation).toMatchObject({ _tag: "PgServerError", condition: "check_violation" })
      }),
    )

    it.live(`user range types and their multiranges (${format})`, () =>
      Effect.gen(function* () {
        const { conn } = yield* schemaConnect(options)
        yield* conn.execute(`
          CREATE TYPE floatrange AS RANGE (subtype = float8);
          CREATE TYPE mood2 AS ENUM ('a', 'b', 'c');
          CREATE TYPE moodrange AS RANGE (subtype = mood2)`)
        yield* checkValue(conn, "floatrange", "'[1.5,2.5)'", new Range(1.5, 2.5))
        yield* checkValue(conn, "floatrange", "'(,0.1]'", new Range(null, 0.1, { upperInc: true }))
        yield* checkValue(conn, "floatrange", "'empty'", Range.empty())
        yield* checkValue(conn, "moodrange", "'[a,\"c\"]'", new Range("a", "c", { upperInc: true }))
        if (testCluster().version >= 14) {
          yield* checkValue(
            conn,
            "floatmultirange",
            "'{[1,2),[3,4]}'",
            [new Range(1, 2), new Range(3, 4, { upperInc: true })],
            { compareAs: (x) => `${x}::text` },
          )
        }
      }),
    )
  }

  it.live("arrays of user types of any dimension, with NULLs and lower bounds", () =>
    Effect.gen(function* () {
      const { conn } = yield* schemaConnect()
      yield* conn.execute(`
        CREATE TYPE lvl AS ENUM ('lo', 'hi');
        CREATE TYPE cell AS (v int4, l lvl)`)
      // enum[] with lower bounds in two dimensions
      const literal = `'[0:1][-1:0]={{lo,NULL},{hi,lo}}'::lvl[]`
      const arr = Option.getOrThrow(yield* conn.fetchVal(`SELECT ${literal}`)) as Array<Array<string | null>>
      expect(arr).toEqual([
        ["lo", null],
        ["hi", "lo"],
      ])
      expect(lowerBoundsOf(arr)).toEqual([0, -1])
      expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT $1::lvl[] = ${literal}`, [arr]))).toBe(true)
      expect(
        Option.getOrThrow(
          yield* conn.fetchVal(`SELECT array_lower($1::lvl[], 2)`, [withLowerBounds([["lo"]], [5, -3])]),
        ),
      ).toBe(-3)
      // a 3-D composite array, given as objects and as tuples
      const cells = [[[{ v: 1, l: "lo" }, null]], [[[2, "hi"], { v: null, l: null }]]]
      const back = Option.getOrThrow(yield* conn.fetchVal("SELECT $1::cell[]", [cells])) as Array<
        Array<Array<PgComposite | null>>
      >
      expect(back.map((a) => a.map((b) => b.map((c) => c?.toObject() ?? null)))).toEqual([
        [[{ v: 1, l: "lo" }, null]],
        [
          [
            { v: 2, l: "hi" },
            { v: null, l: null },
          ],
        ],
      ])
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT array_dims($1::cell[])", [cells]))).toBe("[1:2][1:1][1:2]")
      // the empty array, and arrays with only NULLs
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::cell[]", [[]]))).toEqual([])
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::lvl[]", [[null, null]]))).toEqual([null, null])
      if (testCluster().version >= 14) {
        // multirange[]: each JS array of Ranges is one element
        const mr = [[new Range(1, 2)], [], null]
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int4multirange[]::text", [mr]))).toBe(
          '{"{[1,2)}","{}",NULL}',
        )
        expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT '{"{[1,2)}","{}"}'::int4multirange[]`))).toEqual([
          [new Range(1, 2)],
          [],
        ])
      }
    }),
  )

  it.live("citext travels as text's binary form; hstore decodes to a record of strings without configuration", () =>
    Effect.gen(function* () {
      yield* ensureExtension("citext")
      yield* ensureExtension("hstore")
      for (const [format, options] of formats) {
        const { conn } = yield* schemaConnect(options)
        const label = `(${format})`
        const formatOf = (sql: string) => conn.fetch(sql).pipe(Effect.map((rows) => rows[0]!.columns[0]!.format))
        expect(yield* formatOf("SELECT 'a=>1'::hstore"), label).toBe(format === "text" ? 0 : 1)
        expect(yield* formatOf("SELECT 'a'::citext"), label).toBe(format === "text" ? 0 : 1)
        yield* checkValue(conn, "citext", "'MiXeD Case'", "MiXeD Case")
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::citext = 'mixed CASE'", ["MiXeD Case"])), label).toBe(
          true,
        )
        yield* checkValue(
          conn,
          "hstore",
          `'a=>1, b=>NULL, "c d"=>"e\\"f", "" => ""'`,
          {
            a: "1",
            b: null,
            "c d": 'e"f',
            "": "",
          },
          { compareAs: (x) => `${x}::text` },
        )
        expect(
          Option.getOrThrow(yield* conn.fetchVal("SELECT $1::hstore -> 'k'", [new Map([["k", "v"]])])),
          label,
        ).toBe("v")
        const proto = Object.defineProperty({ n: 5 }, "__proto__", { value: "p", enumerable: true })
        const h = Option.getOrThrow(yield* conn.fetchVal("SELECT $1::hstore", [proto])) as Record<string, unknown>
        expect(Object.entries(h).sort(), label).toEqual([
          ["__proto__", "p"],
          ["n", "5"],
        ])
        expect(Object.getPrototypeOf(h), label).toBe(Object.prototype)
      }
    }),
  )

  it.live("introspection runs once per connection; reloadSchemaState forgets it", () =>
    Effect.gen(function* () {
      const counter = introspectionCounter()
      const { conn, schema } = yield* schemaConnect()
      yield* conn.execute("CREATE TYPE thing AS (a int4); CREATE TYPE kind AS ENUM ('x')")
      const run = <A, E>(e: Effect.Effect<A, E>) => Effect.withTracer(e, counter.tracer)
      yield* run(Effect.map(conn.fetchVal("SELECT $1::thing, 'x'::kind", [{ a: 1 }]), Option.getOrThrow))
      expect(counter.count()).toBe(1)
      // other statements with the same types, their arrays already described: no new lookups
      yield* run(Effect.map(conn.fetchVal("SELECT ROW(2)::thing, ARRAY['x'::kind]"), Option.getOrThrow))
      yield* run(Effect.map(conn.fetchVal("SELECT $1::kind", ["x"]), Option.getOrThrow))
      expect(counter.count()).toBe(1)
      // built-in types never need one
      yield* run(
        Effect.map(conn.fetchVal("SELECT '1 day'::interval, int4range(1, 2), '(1,2)'::point"), Option.getOrThrow),
      )
      expect(counter.count()).toBe(1)
      // a new connection looks the types up again, once
      const other = yield* schemaConnectAgain(schema)
      yield* run(Effect.map(other.fetchVal("SELECT ROW(2)::thing"), Option.getOrThrow))
      expect(counter.count()).toBe(2)
      // reloadSchemaState flushes types and statements
      yield* conn.reloadSchemaState()
      yield* run(Effect.map(conn.fetchVal("SELECT ROW(2)::thing, ARRAY['x'::kind]"), Option.getOrThrow))
      expect(counter.count()).toBe(3)
    }),
  )

  it.live("a composite changed by DDL gives PgOutdatedSchemaError; a retry and reloadSchemaState recover", () =>
    Effect.gen(function* () {
      const { conn } = yield* schemaConnect()
      yield* conn.execute(`
        CREATE TYPE custom AS (x int4, y int4);
        CREATE TABLE tbl (id int4, info custom);
        INSERT INTO tbl VALUES (1, (1, 2))`)
      const before = yield* conn.fetch("SELECT id, info FROM tbl")
      expect((before[0]!.info as PgComposite).toObject()).toEqual({ x: 1, y: 2 })
      yield* conn.execute("ALTER TYPE custom DROP ATTRIBUTE y; ALTER TYPE custom ADD ATTRIBUTE y text")
      // decoding with the stale layout: a typed error you can catchTag
      const stale = yield* conn.fetch("SELECT id, info FROM tbl").pipe(
        Effect.as(undefined),
        Effect.catchTag("PgOutdatedSchemaError", (e) => Effect.succeed(e)),
      )
      expect(stale?.typeName).toBe("custom")
      expect(stale?.message).toMatch(/reloadSchemaState/)
      // the caches were dropped, so the retry sees the new layout
      const after = yield* conn.fetch("SELECT id, info FROM tbl")
      expect((after[0]!.info as PgComposite).toObject()).toEqual({ x: 1, y: null })
      // encoding with a stale layout: the server rejects it, reported the same way
      yield* conn.execute("ALTER TYPE custom DROP ATTRIBUTE y; ALTER TYPE custom ADD ATTRIBUTE y int8")
      const rejected = yield* Effect.flip(conn.execute("UPDATE tbl SET info = $1 WHERE id = 1", [[3, "4"]]))
      expect(rejected).toBeInstanceOf(PgError.PgOutdatedSchemaError)
      // asyncpg's documented flow: change the type, reloadSchemaState, then write with the new layout
      yield* conn.execute("ALTER TYPE custom DROP ATTRIBUTE y; ALTER TYPE custom ADD ATTRIBUTE y text")
      yield* conn.reloadSchemaState()
      yield* conn.execute("UPDATE tbl SET info = $1 WHERE id = 1", [[1, "two"]])
      expect((Option.getOrThrow(yield* conn.fetchVal("SELECT info FROM tbl")) as PgComposite).toObject()).toEqual({
        x: 1,
        y: "two",
      })
    }),
  )
})
