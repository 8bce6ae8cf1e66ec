/**
 * No text path where the server has a binary form: composites, arrays, ranges, multiranges and
 * domains of extension types whose binary form pgfx knows (citext is text's, ltree a version byte
 * and its text) travel in binary both ways, so session settings the server does not report
 * (`extra_float_digits`) cannot round a value. Where text is unavoidable (seg has no binary form,
 * cube's pgfx does not know), a value whose text may be rounded is refused with a typed error,
 * and the other text paths read right under every IntervalStyle and ISO DateStyle.
 */
import * as PgCopy from "@pgfx/client/PgCopy"
import { PgDecodeError } from "@pgfx/client/PgError"
import type { PgComposite } from "@pgfx/types/PgComposite"
import { Range } from "@pgfx/types/Range"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { testCluster } from "./support/cluster.ts"
import { ensureExtension, schemaConnect } from "./support/schema.ts"

const SUM = 0.1 + 0.2 // 0.30000000000000004, printed "0.3" with extra_float_digits = 0
const FLOAT4_MAX = 3.4028234663852886e38 // printed "3.40282e+38" with extra_float_digits = 0
const SUM_SQL = "(0.1::float8 + 0.2::float8)"
const FLOAT4_MAX_SQL = "'3.4028235e38'::float4"

const extensions = Effect.all([ensureExtension("citext"), ensureExtension("ltree"), ensureExtension("seg")], {
  discard: true,
})

const setup = `
CREATE TYPE fc AS (f float8, r float4, c citext);
CREATE DOMAIN cidom AS citext;
CREATE DOMAIN dfc AS fc;
CREATE TYPE f8range AS RANGE (subtype = float8);
CREATE TYPE cirange AS RANGE (subtype = citext);
CREATE TYPE nest AS (a fc[], r f8range, d cidom, t ltree, p point, cr cirange);
`

describe("extension types in binary", () => {
  it.live("with extra_float_digits = 0, composites, arrays, domains and ranges with citext come back exact", () =>
    Effect.gen(function* () {
      yield* extensions
      const { conn } = yield* schemaConnect()
      yield* conn.execute(setup)
      yield* conn.execute("SET extra_float_digits = 0")
      // the setting is in effect: the server's text is rounded
      expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT ${SUM_SQL}::text`))).toBe("0.3")
      expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT ROW(${SUM_SQL}, 1, 'x')::fc::text`))).toBe("(0.3,1,x)")

      const fc = `ROW(${SUM_SQL}, ${FLOAT4_MAX_SQL}, 'MiXed')::fc`
      const rows = yield* conn.fetch(
        `SELECT ${fc} AS v, ARRAY[${fc}, NULL] AS arr, ${fc}::dfc AS dom, ARRAY[${fc}::dfc] AS doms,
           'AbC'::cidom AS cidom, ARRAY['x'::cidom, NULL] AS cids, ARRAY['y'::citext] AS citexts,
           f8range(${SUM_SQL}, 1) AS range, cirange('a', 'B') AS crange,
           ROW(ARRAY[${fc}], f8range(${SUM_SQL}, NULL), 'q', 'a.b', point(${SUM_SQL}, 1), cirange('a', NULL))::nest AS nest`,
      )
      const row = rows[0]!
      for (const column of row.columns) expect(column.format, column.name).toBe(1)
      const check = (v: unknown) => {
        const c = v as PgComposite
        expect(c.toObject()).toEqual({ f: SUM, r: FLOAT4_MAX, c: "MiXed" })
      }
      check(row.v)
      check((row.arr as Array<unknown>)[0])
      expect((row.arr as Array<unknown>)[1]).toBeNull()
      check(row.dom)
      check((row.doms as Array<unknown>)[0])
      expect(row.cidom).toBe("AbC")
      expect(row.cids).toEqual(["x", null])
      expect(row.citexts).toEqual(["y"])
      expect(row.range).toEqual(new Range(SUM, 1))
      expect(row.crange).toEqual(new Range("a", "B"))
      const nest = (row.nest as PgComposite).toObject()
      check((nest.a as Array<unknown>)[0])
      expect(nest.r).toEqual(new Range(SUM, null))
      expect(nest.d).toBe("q")
      expect(nest.t).toBe("a.b")
      expect((nest.p as { x: number }).x).toBe(SUM)
      expect(nest.cr).toEqual(new Range("a", null))
      if (testCluster().version >= 14) {
        const mr = (yield* conn.fetch(`SELECT f8multirange(f8range(${SUM_SQL}, 1)) AS m`))[0]!
        expect(mr.columns[0]!.format).toBe(1)
        expect(mr.m).toEqual([new Range(SUM, 1)])
      }
      // an anonymous record with a citext field, once citext is known to the connection
      const record = Option.getOrThrow(yield* conn.fetchVal(`SELECT ROW(${SUM_SQL}, 'x'::citext)`)) as PgComposite
      expect(record.toObject()).toEqual({ f1: SUM, f2: "x" })
    }),
  )

  it.live("writes of such values round-trip exactly under extra_float_digits = 0", () =>
    Effect.gen(function* () {
      yield* extensions
      const { conn } = yield* schemaConnect()
      yield* conn.execute(setup)
      yield* conn.execute("SET extra_float_digits = 0")
      const value = { f: SUM, r: FLOAT4_MAX, c: "MiXed é" }
      // the server compares what it received with its own values
      expect(
        Option.getOrThrow(
          yield* conn.fetchVal(
            `SELECT ($1::fc).f = ${SUM_SQL} AND ($1::fc).r = ${FLOAT4_MAX_SQL} AND ($1::fc).c = 'mixed é'`,
            [value],
          ),
        ),
      ).toBe(true)
      expect((Option.getOrThrow(yield* conn.fetchVal("SELECT $1::fc", [value])) as PgComposite).toObject()).toEqual(
        value,
      )
      const arr = Option.getOrThrow(
        yield* conn.fetchVal("SELECT $1::dfc[]", [[value, null]]),
      ) as Array<PgComposite | null>
      expect(arr[0]!.toObject()).toEqual(value)
      expect(arr[1]).toBeNull()
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::cidom[]", [["Ab", null]]))).toEqual(["Ab", null])
      expect(
        Option.getOrThrow(yield* conn.fetchVal(`SELECT lower($1::f8range) = ${SUM_SQL}`, [new Range(SUM, 1)])),
      ).toBe(true)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::cirange", [new Range("a", "b")]))).toEqual(
        new Range("a", "b"),
      )
      const nest = { a: [value], r: new Range(SUM, null), d: "q", t: "a.b.c", p: { x: SUM, y: 1 }, cr: null }
      const back = (Option.getOrThrow(yield* conn.fetchVal("SELECT $1::nest", [nest])) as PgComposite).toObject()
      expect((back.a as Array<PgComposite>)[0]!.toObject()).toEqual(value)
      expect(back.r).toEqual(new Range(SUM, null))
      expect(back.t).toBe("a.b.c")
      expect((back.p as { x: number }).x).toBe(SUM)
      expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT ($1::nest).p[0] = ${SUM_SQL}`, [nest]))).toBe(true)
    }),
  )

  it.live("binary COPY of records into citext, ltree and composite-with-citext columns", () =>
    Effect.gen(function* () {
      yield* extensions
      const { conn } = yield* schemaConnect()
      yield* conn.execute(setup)
      yield* conn.execute("CREATE TABLE t (c citext, l ltree, v fc, a cidom[])")
      const value = { f: SUM, r: FLOAT4_MAX, c: "MiXed" }
      expect(yield* PgCopy.copyRecordsToTable(conn, "t", { records: [["AbC", "a.b", value, ["x", null]]] })).toBe(
        "COPY 1",
      )
      yield* conn.execute("SET extra_float_digits = 0")
      const row = (yield* conn.fetch(`SELECT c, l, v, a, (v).f = ${SUM_SQL} AS exact FROM t WHERE c = 'abc'`))[0]!
      expect([row.c, row.l, (row.v as PgComposite).toObject(), row.a, row.exact]).toEqual([
        "AbC",
        "a.b",
        value,
        ["x", null],
        true,
      ])
    }),
  )

  it.live("cube in binary: the exact text whatever extra_float_digits, in composites and the earth domain", () =>
    Effect.gen(function* () {
      yield* ensureExtension("cube")
      yield* ensureExtension("earthdistance")
      const { conn } = yield* schemaConnect()
      yield* conn.execute("CREATE TYPE fcube AS (f float8, c cube); CREATE TABLE cubes (c cube)")
      const literals = [
        "(1, 2)",
        "(0.1, 0.2),(0.30000000000000004, 1e300)",
        "(-0, 5e-324),(1.7976931348623157e308, -1)",
        "(Infinity, -Infinity),(NaN, 0)",
        "(1.5),(1.5)",
        "()",
        `(${Array.from({ length: 100 }, (_, i) => i / 7).join(", ")})`,
      ]
      const values = literals.map((l) => `'${l}'::cube`).join(", ")
      // the server's own text with the default extra_float_digits is the reference
      const reference = (yield* conn.fetch(`SELECT unnest(ARRAY[${values}])::text AS t`)).map((r) => r.t)
      const earthText = Option.getOrThrow(yield* conn.fetchVal("SELECT ll_to_earth(0.1, 0.2)::cube::text"))
      yield* conn.execute("SET extra_float_digits = 0")
      const rows = yield* conn.fetch(`SELECT unnest(ARRAY[${values}]) AS c`)
      expect(rows[0]!.columns[0]!.format).toBe(1)
      expect(rows.map((r) => r.c)).toEqual(reference)
      expect(reference[1]).toBe("(0.1, 0.2),(0.30000000000000004, 1e+300)")
      const v = Option.getOrThrow(yield* conn.fetchVal(`SELECT ROW(${SUM_SQL}, '(0.1),(0.2)')::fcube`)) as PgComposite
      expect(v.toObject()).toEqual({ f: SUM, c: "(0.1),(0.2)" })
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT ll_to_earth(0.1, 0.2)"))).toBe(earthText)
      // writes: as a parameter the text goes to the server; in binary COPY pgfx parses it
      yield* conn.execute("RESET extra_float_digits")
      for (const l of literals)
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::cube::text", [l])), l).toBe(
          reference[literals.indexOf(l)],
        )
      const inputs = ["1, 2", "[(1, 2),(3, 4)]", "(0.30000000000000004),(0.30000000000000004)", "(1e-300, NaN)"]
      yield* PgCopy.copyRecordsToTable(conn, "cubes", { records: inputs.map((c) => [c]) })
      const copied = yield* conn.fetch("SELECT c, c::text AS t, c = ANY($1::cube[]) AS same FROM cubes", [inputs])
      expect(copied.map((r) => [r.c, r.same])).toEqual(copied.map((r) => [r.t, true]))
      expect(copied.map((r) => r.t)).toEqual(["(1, 2)", "(1, 2),(3, 4)", "(0.30000000000000004)", "(1e-300, NaN)"])
    }),
  )

  it.live("ltree, lquery and ltxtquery travel in binary both ways", () =>
    Effect.gen(function* () {
      yield* extensions
      const { conn } = yield* schemaConnect()
      const row = (yield* conn.fetch(
        "SELECT 'Top.Science.Astronomy'::ltree AS t, '*.Science.*'::lquery AS q, 'Astro* & !pictures'::ltxtquery AS x, ARRAY['a.b'::ltree, NULL] AS arr",
      ))[0]!
      for (const column of row.columns) expect(column.format, column.name).toBe(1)
      expect(row.t).toBe("Top.Science.Astronomy")
      expect(row.q).toBe("*.Science.*")
      expect(row.x).toBe("Astro* & !pictures")
      expect(row.arr).toEqual(["a.b", null])
      expect(
        Option.getOrThrow(
          yield* conn.fetchVal("SELECT $1::ltree ~ $2::lquery", ["Top.Science.Astronomy", "*.Science.*"]),
        ),
      ).toBe(true)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::ltree[]", [["x.y", null]]))).toEqual(["x.y", null])
    }),
  )
})

describe("where text is unavoidable", () => {
  it.live("a composite with a text-only field and a float field is refused, not rounded", () =>
    Effect.gen(function* () {
      yield* extensions
      const { conn } = yield* schemaConnect()
      // seg has no binary form
      yield* conn.execute("CREATE TYPE fs AS (f float8, s seg); CREATE TYPE f4s AS (f float4, s seg)")
      for (const setting of ["1", "0"]) {
        yield* conn.execute(`SET extra_float_digits = ${setting}`)
        for (const [sql, type, field] of [
          [`SELECT ROW(${SUM_SQL}, '1 .. 2')::fs`, "fs", "f (float8)"],
          [`SELECT ARRAY[ROW(${SUM_SQL}, '1 .. 2')::fs]`, "fs", "f (float8)"],
          [`SELECT ROW(${FLOAT4_MAX_SQL}, '1')::f4s`, "f4s", "f (float4)"],
        ] as const) {
          const error = yield* Effect.flip(conn.fetchVal(sql))
          expect(error, sql).toBeInstanceOf(PgDecodeError)
          expect(error.message).toContain(type)
          expect(error.message).toContain(field)
          expect(error.message).toContain("extra_float_digits")
        }
        // the connection is usable, and the fields read separately are exact
        expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT (ROW(${SUM_SQL}, '1 .. 2')::fs).f`))).toBe(SUM)
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT (ROW(1, '1 .. 2')::fs).s"))).toBe("1 .. 2")
        // writing travels as text, with every digit: the server reads the exact value
        expect(
          Option.getOrThrow(yield* conn.fetchVal(`SELECT ($1::fs).f = ${SUM_SQL}`, [{ f: SUM, s: "1 .. 2" }])),
        ).toBe(true)
        expect(
          Option.getOrThrow(yield* conn.fetchVal(`SELECT ($1::f4s).f = ${FLOAT4_MAX_SQL}`, [[FLOAT4_MAX, "1"]])),
        ).toBe(true)
      }
    }),
  )

  it.live("a built-in text-only field (money) with a float field: refused, binary with money as int8", () =>
    Effect.gen(function* () {
      const { conn } = yield* schemaConnect()
      yield* conn.execute("CREATE TYPE priced AS (price money, weight float8)")
      const lit = `ROW(12.34, ${SUM_SQL})::priced`
      const refused = yield* Effect.flip(conn.fetchVal(`SELECT ${lit}`))
      expect(refused).toBeInstanceOf(PgDecodeError)
      expect(refused.message).toContain("price (money)")
      // money in minor units has a binary form: the composite travels in binary, exact
      yield* conn.setBuiltinTypeCodec("money", "int8")
      yield* conn.execute("SET extra_float_digits = 0")
      const row = (yield* conn.fetch(`SELECT ${lit} AS v`))[0]!
      expect(row.columns[0]!.format).toBe(1)
      expect((row.v as PgComposite).toObject()).toEqual({ price: 1234n, weight: SUM })
    }),
  )

  it.live(
    "a text composite without float fields reads right under every IntervalStyle, ISO DateStyle, bytea_output",
    () =>
      Effect.gen(function* () {
        yield* extensions
        const { conn } = yield* schemaConnect()
        yield* conn.execute("CREATE TYPE si AS (s seg, i interval, d date, ts timestamptz, n numeric, b bytea)")
        const lit = `ROW('1 .. 2', '1 year -2 days 03:04:05.5', '2024-02-29', '2024-01-02 03:04:05.25+00', 0.1, '\\x00ff41'::bytea)::si`
        for (const intervalStyle of ["postgres", "postgres_verbose", "sql_standard", "iso_8601"]) {
          for (const dateStyle of ["ISO, MDY", "ISO, DMY", "ISO, YMD"]) {
            const byteaOutput = dateStyle === "ISO, DMY" ? "escape" : "hex"
            yield* conn.execute(
              `SET IntervalStyle = ${intervalStyle}; SET DateStyle = '${dateStyle}'; SET bytea_output = ${byteaOutput}`,
            )
            const fetched = (yield* conn.fetch(`SELECT ${lit} AS v`))[0]!
            expect(fetched.columns[0]!.format, "the composite travels as text").toBe(0)
            const v = (fetched.v as PgComposite).toObject()
            const label = `${intervalStyle} / ${dateStyle}`
            expect(String(v.i), label).toBe("1 year -2 days +03:04:05.5")
            expect(String(v.d), label).toBe("2024-02-29")
            expect(String(v.ts), label).toBe("2024-01-02 03:04:05.25+00")
            expect(v.n, label).toBe("0.1")
            expect(v.b, label).toEqual(Uint8Array.of(0, 255, 65))
            // and the value goes back as the same one
            expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT $1::si = ${lit}`, [v])), label).toBe(true)
          }
        }
      }),
  )
})
