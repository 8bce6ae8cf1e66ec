/**
 * Limits of the protocol and of the types: every legal value is readable, and a request beyond a
 * protocol limit fails with a typed error while the connection stays usable.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { connect } from "./support/connect.ts"

describe("limits and edges", () => {
  it.live("a numeric with more than 32,767 digit groups is read and written exactly", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      // 131,072 nines (32,768 groups) and numeric's largest display scale
      const big = "9".repeat(131072)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT repeat('9', 131072)::numeric"))).toBe(big)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::numeric = repeat('9', 131072)::numeric", [big]))).toBe(
        true,
      )
      const negative = `-${big}.${"1".repeat(16383)}`
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::numeric", [negative]))).toBe(negative)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::numeric::text = $2", [negative, negative]))).toBe(true)
    }),
  )

  for (const statementCacheSize of [100, 0]) {
    it.live(
      `65,536 parameters fail with PgEncodeError and the connection stays usable (cache ${statementCacheSize})`,
      () =>
        Effect.gen(function* () {
          const conn = yield* connect({ statementCacheSize })
          const n = 65536
          const list = (count: number) => Array.from({ length: count }, (_, i) => `$${i + 1}::int4`).join(", ")
          const sql = `SELECT cardinality(ARRAY[${list(n)}])`
          const args = Array.from({ length: n }, () => 1)
          const error = yield* Effect.flip(Effect.map(conn.fetchVal(sql, args), Option.getOrThrow))
          expect(error._tag, error.message).toBe("PgEncodeError")
          expect(error.message).toContain("65535")
          expect(conn.isClosed).toBe(false)
          expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 41 + 1"))).toBe(42)
          // 65,535 is within the limit and works
          const sqlMax = `SELECT cardinality(ARRAY[${list(n - 1)}])`
          expect(Option.getOrThrow(yield* conn.fetchVal(sqlMax, args.slice(1)))).toBe(65535)
        }),
    )
  }
})
