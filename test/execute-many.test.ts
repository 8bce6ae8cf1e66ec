/**
 * executeMany / fetchMany: asyncpg's examples, atomicity, RETURNING rows per argument set,
 * encoding errors before anything is sent, big batches.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { connect } from "./support/connect.ts"
import { failureOf } from "./support/failure.ts"

describe("executeMany", () => {
  it.live("asyncpg's example: insert several rows, then update with a timeout", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE users (id serial PRIMARY KEY, name text NOT NULL, email text UNIQUE)")
      yield* conn.executeMany("INSERT INTO users(name, email) VALUES($1, $2)", [
        ["Bob", "bob@example.com"],
        ["Charlie", "charlie@example.com"],
        ["Diana", "diana@example.com"],
      ])
      yield* conn.executeMany(
        "UPDATE users SET name = $1 WHERE email = $2",
        [
          ["Robert", "bob@example.com"],
          ["Chuck", "charlie@example.com"],
        ],
        { timeout: "30 seconds" },
      )
      expect((yield* conn.fetch("SELECT name FROM users ORDER BY id")).map((r) => r.name)).toEqual([
        "Robert",
        "Chuck",
        "Diana",
      ])
    }),
  )

  it.live("is atomic: a failing argument set rolls back every set, and the connection is usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE atomic (a int PRIMARY KEY)")
      const exit = yield* Effect.exit(conn.executeMany("INSERT INTO atomic VALUES ($1)", [[1], [2], [1], [3]]))
      expect((failureOf(exit) as { condition?: string }).condition).toBe("unique_violation")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM atomic"))).toBe(0n)
      expect(conn.transactionStatus).toBe("idle")
      // Inside a transaction it is part of the transaction.
      yield* conn.transaction(
        Effect.gen(function* () {
          yield* conn.executeMany("INSERT INTO atomic VALUES ($1)", [[1], [2]])
          yield* conn.executeMany("INSERT INTO atomic VALUES ($1)", [[3]])
        }),
      )
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM atomic"))).toBe(3n)
    }),
  )

  it.live("fetchMany returns each argument set's RETURNING rows", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE ret (id serial, v text)")
      const result = yield* conn.fetchMany("INSERT INTO ret (v) SELECT unnest($1::text[]) RETURNING id, v", [
        [["a", "b"]],
        [[]],
        [["c"]],
      ])
      expect(result.map((rows) => rows.map((r) => r.toObject()))).toEqual([
        [
          { id: 1, v: "a" },
          { id: 2, v: "b" },
        ],
        [],
        [{ id: 3, v: "c" }],
      ])
      const selected = yield* conn.fetchMany("SELECT $1::int * 2 AS d", [[1], [2], [3]])
      expect(selected.map((rows) => rows[0]!.d)).toEqual([2, 4, 6])
    }),
  )

  it.live("an empty list does nothing; an unencodable set fails before anything is sent", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE enc (a int)")
      yield* conn.executeMany("INSERT INTO enc VALUES ($1)", [])
      expect(yield* conn.fetchMany("SELECT 1", [])).toEqual([])
      const exit = yield* Effect.exit(conn.executeMany("INSERT INTO enc VALUES ($1)", [[1], [{ not: "an int" }], [3]]))
      const error = failureOf(exit)
      expect(error._tag).toBe("PgEncodeError")
      expect(error.message).toContain("argument set 1")
      expect(error).toMatchObject({ batchIndex: 1 })
      const wrongCount = failureOf(yield* Effect.exit(conn.executeMany("INSERT INTO enc VALUES ($1)", [[1, 2]])))
      expect(wrongCount._tag).toBe("PgEncodeError")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM enc"))).toBe(0n)
    }),
  )

  it.live("10,000 argument sets in one batch", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE big (a int, b text)")
      const sets = Array.from({ length: 10_000 }, (_, i) => [i, `row ${i}`])
      yield* conn.executeMany("INSERT INTO big VALUES ($1, $2)", sets)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM big"))).toBe(10_000n)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT sum(a) FROM big"))).toBe(49_995_000n)
    }),
  )

  for (const statementCacheSize of [100, 0]) {
    it.live(`a server error names the argument set that failed (cache ${statementCacheSize})`, () =>
      Effect.gen(function* () {
        const conn = yield* connect({ statementCacheSize })
        yield* conn.execute("CREATE TEMP TABLE idx (a int PRIMARY KEY)")
        const sets = Array.from({ length: 10_000 }, (_, i) => [i === 5_000 ? 0 : i])
        const error = yield* Effect.flip(conn.executeMany("INSERT INTO idx VALUES ($1)", sets))
        expect(error).toMatchObject({ _tag: "PgServerError", condition: "unique_violation", batchIndex: 5_000 })
        // the batch is atomic: nothing stays
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM idx"))).toBe(0n)
        // a statement that fails as a whole names no argument set
        const whole = yield* Effect.flip(conn.executeMany("INSERT INTO no_such_table VALUES ($1)", [[1], [2]]))
        expect(whole).toMatchObject({ _tag: "PgServerError", condition: "undefined_table" })
        expect((whole as { batchIndex?: number }).batchIndex).toBeUndefined()
      }),
    )
  }

  it.live("concurrent executeMany calls on one connection stay separate", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE conc (batch int, a int PRIMARY KEY)")
      const results = yield* Effect.forEach(
        [0, 1, 2, 3],
        (b) =>
          Effect.exit(
            conn.executeMany(
              "INSERT INTO conc VALUES ($1, $2)",
              // Batch 2 collides with itself and fails alone.
              Array.from({ length: 5 }, (_, i) => [b, b === 2 ? 200 : b * 10 + i]),
            ),
          ),
        { concurrency: "unbounded" },
      )
      expect(results.map((r) => r._tag)).toEqual(["Success", "Success", "Failure", "Success"])
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM conc"))).toBe(15n)
    }),
  )
})
