/**
 * The `sql` tagged template against a real server: values and identifiers that try to break out
 * of their place arrive intact, and every query entry point takes a fragment.
 */
import { describe, expect, it } from "@effect/vitest"
import * as PgClient from "@pgfx/client/PgClient"
import { sql } from "@pgfx/client/PgSql"
import { Effect, Option, Stream } from "effect"
import { poolOptions } from "./support/pool.ts"
import { schemaConnect } from "./support/schema.ts"

const evilValues = [
  "'; DROP TABLE victims; --",
  "\\'; DROP TABLE victims; --",
  "\\",
  "$1",
  "$$ SELECT 1 $$",
  'a"b',
  ";--",
  "/* comment",
  "ünïcødé 😀 \u202e",
  "E'\\x00'",
]

const evilIdentifiers = ['x"; DROP TABLE victims; --', "$1", "a\\b", "ünï 😀", "Mixed Case", "semi;colon", "'quoted'"]

describe("sql template against the server", () => {
  it.live("injection attempts in values are stored and read back verbatim", () =>
    Effect.gen(function* () {
      const { conn } = yield* schemaConnect()
      yield* conn.execute("CREATE TABLE victims (id serial PRIMARY KEY, v text)")
      for (const v of evilValues) {
        yield* conn.execute(sql`INSERT INTO victims ${sql.insert({ v })}`)
        expect(Option.getOrThrow(yield* conn.fetchVal(sql`SELECT v FROM victims WHERE v = ${v}`))).toBe(v)
      }
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*)::int FROM victims"))).toBe(evilValues.length)
      const found = yield* conn.fetch(sql`SELECT v FROM victims WHERE v IN ${sql.in(evilValues)} ORDER BY id`)
      expect(found.map((r) => r.get("v"))).toEqual(evilValues)
    }),
  )

  it.live("injection attempts in identifiers name exactly one object", () =>
    Effect.gen(function* () {
      const { conn, schema } = yield* schemaConnect()
      yield* conn.execute("CREATE TABLE victims (id int)")
      for (const name of evilIdentifiers) {
        yield* conn.execute(sql`CREATE TABLE ${sql.id(schema, name)} (${sql.id(name)} text)`)
        yield* conn.execute(sql`INSERT INTO ${sql.id(name)} ${sql.insert({ [name]: name })}`)
        expect(Option.getOrThrow(yield* conn.fetchVal(sql`SELECT ${sql.id(name)} FROM ${sql.id(schema, name)}`))).toBe(
          name,
        )
      }
      const tables = yield* conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename",
      )
      expect(tables.map((r) => r.get("tablename")).sort()).toEqual([...evilIdentifiers, "victims"].sort())
    }),
  )

  it.live("multi-row insert, update, nested fragments, cursor", () =>
    Effect.gen(function* () {
      const { conn } = yield* schemaConnect()
      yield* conn.execute("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, qty int NOT NULL DEFAULT 7)")
      const tag = yield* conn.execute(
        sql`INSERT INTO items ${sql.insert([
          { id: 1, name: "a", qty: 1 },
          { id: 2, name: "b" },
          { id: 3, name: "c", qty: 3 },
        ])}`,
      )
      expect(tag).toBe("INSERT 0 3")
      expect(Option.getOrThrow(yield* conn.fetchVal(sql`SELECT qty FROM items WHERE id = ${2}`))).toBe(7)
      yield* conn.execute(sql`UPDATE items SET ${sql.update({ id: 3, name: "C", qty: 30 }, ["id"])} WHERE id = ${3}`)
      const where = sql.and([sql`qty > ${0}`, sql.or([sql`name = ${"a"}`, sql`name = ${"C"}`])])
      const rows = yield* conn.fetch(sql`SELECT id, name, qty FROM items WHERE ${where} ORDER BY id`)
      expect(rows.map((r) => r.toObject())).toEqual([
        { id: 1, name: "a", qty: 1 },
        { id: 3, name: "C", qty: 30 },
      ])
      const row = yield* conn.fetchRow(sql`SELECT name FROM items WHERE id = ${1}`, { timeout: "5 seconds" })
      expect(Option.map(row, (r) => r.get("name"))).toEqual(Option.some("a"))
      const streamed = yield* Stream.runCollect(conn.cursor(sql`SELECT id FROM items WHERE id >= ${2} ORDER BY id`))
      expect(Array.from(streamed, (r) => r.get("id"))).toEqual([2, 3])
      expect(
        Option.getOrThrow(yield* conn.fetchVal(sql`SELECT count(*)::int FROM items WHERE id IN ${sql.in([])}`)),
      ).toBe(0)
    }),
  )

  it.live("PgClient shortcuts and accessors take fragments", () =>
    Effect.gen(function* () {
      const client = yield* PgClient.make(poolOptions({ max: 2 }))
      expect(Option.getOrThrow(yield* client.fetchVal(sql`SELECT ${40}::int + ${2}`))).toBe(42)
      expect(Option.getOrThrow(yield* client.pool.fetchVal(sql`SELECT ${"x"}::text`))).toBe("x")
      const n = yield* Effect.map(
        PgClient.fetchVal(sql`SELECT ${sql.id("n")} FROM (SELECT ${5}::int AS n) s`),
        Option.getOrThrow,
      ).pipe(Effect.provideService(PgClient.PgClient, client))
      expect(n).toBe(5)
      expect((yield* client.fetch(sql`SELECT generate_series(1, ${3})`)).length).toBe(3)
    }),
  )
})
