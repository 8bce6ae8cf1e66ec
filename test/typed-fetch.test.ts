/**
 * Schema-typed ad-hoc queries: `fetch`, `fetchRow` and `fetchVal` with `{ schema }` on a
 * connection, a pool, the client (service and accessors) and inside a transaction decode each
 * row once through the Schema, on the fast path and the general path alike; a row that does not
 * decode is a `PgSchemaError` naming the row and the column; "no row" is `None` for both
 * `fetchRow` and `fetchVal`, and a NULL value is `Some(null)`.
 */
import * as PgClient from "@pgfx/client/PgClient"
import type { RowSchemaOptions } from "@pgfx/client/PgConnection"
import * as PgPool from "@pgfx/client/PgPool"
import { PgSchemaError } from "@pgfx/client/PgSchema"
import { sql } from "@pgfx/client/PgSql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Schema, SchemaTransformation } from "effect"
import { connect, tcpOptions } from "./support/connect.ts"
import { failureOf } from "./support/failure.ts"

/** A Schema for `{ id, name }` that counts how many rows it decoded. */
const counted = () => {
  const counter = { rows: 0 }
  const Id = Schema.Number.pipe(
    Schema.decodeTo(
      Schema.Number,
      SchemaTransformation.transform({
        decode: (n: number) => {
          counter.rows++
          return n
        },
        encode: (n: number) => n,
      }),
    ),
  )
  return { counter, Row: Schema.Struct({ id: Id, name: Schema.String }) }
}

const ROWS = "SELECT g AS id, 'n' || g AS name FROM generate_series(1, $1::int) g"

describe("typed fetch", () => {
  it.live("a connection decodes each row once, fast path and general path alike", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const { counter, Row } = counted()
      // First call prepares (general path); the second finds the statement cached (fast path);
      // the third has a timeout (general path again).
      const paths: Array<RowSchemaOptions<typeof Row.Type>> = [
        { schema: Row },
        { schema: Row },
        { schema: Row, timeout: "5 seconds" },
      ]
      for (const options of paths) {
        counter.rows = 0
        const rows = yield* conn.fetch(ROWS, [3], options)
        expect(rows).toEqual([
          { id: 1, name: "n1" },
          { id: 2, name: "n2" },
          { id: 3, name: "n3" },
        ])
        expect(counter.rows).toBe(3)
      }
      const viaFragment = yield* conn.fetch(sql`SELECT 7 AS id, ${"x"}::text AS name`, { schema: Row })
      expect(viaFragment).toEqual([{ id: 7, name: "x" }])
      expect(yield* conn.fetchRow(ROWS, [2], { schema: Row })).toEqual(Option.some({ id: 1, name: "n1" }))
      expect(yield* conn.fetchRow(ROWS, [0], { schema: Row })).toEqual(Option.none())
    }),
  )

  it.live("fetchVal: None without a row, Some(null) for NULL, the value decoded by its Schema", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      expect(yield* conn.fetchVal("SELECT 1 WHERE false")).toEqual(Option.none())
      expect(yield* conn.fetchVal("SELECT NULL::int")).toEqual(Option.some(null))
      expect(yield* conn.fetchVal("SELECT count(*) FROM generate_series(1, 4)", [], { schema: Schema.BigInt })).toEqual(
        Option.some(4n),
      )
      const Nullable = Schema.NullOr(Schema.Number)
      expect(yield* conn.fetchVal("SELECT NULL::int", [], { schema: Nullable })).toEqual(Option.some(null))
      expect(yield* conn.fetchVal("SELECT 1 WHERE false", [], { schema: Nullable })).toEqual(Option.none())
      expect(yield* conn.fetchVal(sql`SELECT 1, ${"b"}::text`, { column: 1, schema: Schema.String })).toEqual(
        Option.some("b"),
      )
    }),
  )

  it.live("a prepared statement takes the same { schema } (and the same Option for no row)", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const { counter, Row } = counted()
      const stmt = yield* conn.prepare(ROWS)
      expect(yield* stmt.fetch([2], { schema: Row })).toEqual([
        { id: 1, name: "n1" },
        { id: 2, name: "n2" },
      ])
      expect(counter.rows).toBe(2)
      expect(yield* stmt.fetchRow([0], { schema: Row })).toEqual(Option.none())
      expect(yield* stmt.fetchVal([3], { column: 1, schema: Schema.String })).toEqual(Option.some("n1"))
      expect(yield* stmt.fetchVal([0])).toEqual(Option.none())
      const error = failureOf(yield* Effect.exit(stmt.fetchVal([1], { schema: Schema.Boolean })))
      expect(error._tag).toBe("PgSchemaError")
    }).pipe(Effect.scoped),
  )

  it.live("a row that does not decode is a PgSchemaError naming the row and the column", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const Row = Schema.Struct({ id: Schema.Number, name: Schema.String })
      const query = "SELECT g AS id, CASE WHEN g = 2 THEN NULL ELSE 'x' END AS name FROM generate_series(1, 3) g"
      for (let attempt = 0; attempt < 2; attempt++) {
        const error = failureOf(yield* Effect.exit(conn.fetch(query, [], { schema: Row })))
        expect(error).toBeInstanceOf(PgSchemaError)
        const schemaError = error as PgSchemaError
        expect(schemaError.row).toBe(1)
        expect(schemaError.direction).toBe("row")
        expect(schemaError.query).toBe(query)
        expect(schemaError.message).toContain("row 1")
        expect(schemaError.message).toContain("name")
      }
      const value = failureOf(
        yield* Effect.exit(conn.fetchVal("SELECT 'x'::text AS label", [], { schema: Schema.Number })),
      ) as PgSchemaError
      expect(value._tag).toBe("PgSchemaError")
      expect(value.column).toBe("label")
      expect(value.row).toBe(0)
      // The connection is fine afterwards.
      expect(yield* conn.fetchVal("SELECT 1")).toEqual(Option.some(1))
    }),
  )

  it.live("a pool's shortcuts and the client decode once per row, inside a transaction too", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make({ ...tcpOptions(), min: 0, max: 2 })
      const { counter, Row } = counted()
      for (let i = 0; i < 2; i++) {
        counter.rows = 0
        expect(yield* pool.fetch(ROWS, [2], { schema: Row })).toEqual([
          { id: 1, name: "n1" },
          { id: 2, name: "n2" },
        ])
        expect(counter.rows).toBe(2)
      }
      const client = PgClient.fromPool(pool)
      const inside = yield* client.transaction(
        Effect.gen(function* () {
          counter.rows = 0
          const rows = yield* client.fetch(sql`SELECT 5 AS id, 'five' AS name`, { schema: Row })
          const row = yield* client.fetchRow(ROWS, [1], { schema: Row })
          const pid = yield* client.fetchVal("SELECT pg_backend_pid()", [], { schema: Schema.Number })
          const samePid = yield* client.fetchVal("SELECT pg_backend_pid()", [], { schema: Schema.Number })
          return { rows, row, pid, samePid }
        }),
      )
      expect(inside.rows).toEqual([{ id: 5, name: "five" }])
      expect(inside.row).toEqual(Option.some({ id: 1, name: "n1" }))
      expect(inside.pid).toEqual(inside.samePid)
      expect(counter.rows).toBe(2)
      const viaAccessor = yield* PgClient.fetchRow("SELECT 9 AS id, 'nine' AS name", [], { schema: Row }).pipe(
        Effect.provideService(PgClient.PgClient, client),
      )
      expect(viaAccessor).toEqual(Option.some({ id: 9, name: "nine" }))
      const failed = failureOf(yield* Effect.exit(pool.fetchVal("SELECT 'nope'::text", [], { schema: Schema.Number })))
      expect(failed._tag).toBe("PgSchemaError")
      expect(pool.stats.inUse).toBe(0)
    }).pipe(Effect.scoped),
  )
})
