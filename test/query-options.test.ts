/**
 * Connection-wide query options: `commandTimeout` on every query method (a per-call `timeout`
 * overrides it), and `pipelining: false` against a real server.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Option, Stream } from "effect"
import { connect } from "./support/connect.ts"
import { failureOf } from "./support/failure.ts"

describe("commandTimeout", () => {
  it.live("fails every query method typed after the default timeout; a per-call timeout overrides it", () =>
    Effect.gen(function* () {
      const conn = yield* connect({ commandTimeout: "150 millis" })
      const slow = "SELECT pg_sleep(5)"
      const timedOut = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        Effect.map(Effect.exit(effect), (exit) => {
          expect((failureOf(exit) as { _tag: string })._tag).toBe("PgTimeoutError")
          return exit
        })
      const started = Date.now()
      yield* timedOut(conn.execute(slow))
      yield* timedOut(conn.execute("SELECT pg_sleep($1)", [5]))
      yield* timedOut(conn.fetch(slow))
      yield* timedOut(conn.fetchRow(slow))
      yield* timedOut(Effect.map(conn.fetchVal(slow), Option.getOrThrow))
      yield* timedOut(conn.executeMany("SELECT pg_sleep($1)", [[5]]))
      yield* timedOut(conn.fetchMany("SELECT pg_sleep($1)", [[5]]))
      yield* timedOut(Stream.runDrain(conn.cursor(slow)))
      yield* timedOut(
        Effect.scoped(
          Effect.gen(function* () {
            const cur = yield* conn.openCursor("SELECT pg_sleep(5) FROM generate_series(1, 2)")
            yield* cur.fetch(1)
          }),
        ),
      )
      yield* timedOut(
        Effect.scoped(
          Effect.flatMap(conn.prepare("SELECT pg_sleep($1)"), (stmt) =>
            Effect.map(stmt.fetchVal([5]), Option.getOrThrow),
          ),
        ),
      )
      expect(Date.now() - started).toBeLessThan(30_000)
      // A per-call timeout overrides the default.
      expect(yield* conn.execute("SELECT pg_sleep(0.3)", [], { timeout: "20 seconds" })).toBe("SELECT 1")
      expect(conn.transactionStatus).toBe("idle")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 'still usable'"))).toBe("still usable")
    }),
  )

  it.live("a query waiting for another fiber's transaction counts that wait against its timeout", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const inside = yield* Deferred.make<void>()
      // The transaction holds the connection for 500 ms, longer than the query's timeout.
      const tx = yield* Effect.forkChild(
        conn.transaction(Effect.andThen(Deferred.succeed(inside, undefined), Effect.sleep("500 millis"))),
      )
      yield* Deferred.await(inside)
      const exit = yield* Effect.exit(
        Effect.map(conn.fetchVal("SELECT 1", [], { timeout: "100 millis" }), Option.getOrThrow),
      )
      expect(failureOf(exit)._tag).toBe("PgTimeoutError")
      yield* Fiber.join(tx)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 2"))).toBe(2)
    }),
  )
})

describe("pipelining: false", () => {
  it.live("concurrent queries, transactions and failures still answer correctly", () =>
    Effect.gen(function* () {
      const conn = yield* connect({ pipelining: false })
      yield* conn.execute("CREATE TEMP TABLE np (a int)")
      const results = yield* Effect.forEach(
        Array.from({ length: 60 }, (_, i) => i),
        (i) =>
          i % 20 === 7
            ? Effect.map(Effect.exit(Effect.map(conn.fetchVal("SELECT 1/0"), Option.getOrThrow)), Exit.isFailure)
            : i % 10 === 3
              ? conn.transaction(
                  Effect.andThen(
                    conn.execute("INSERT INTO np VALUES ($1)", [i]),
                    Effect.map(conn.fetchVal("SELECT $1::int", [i]), Option.getOrThrow),
                  ),
                )
              : Effect.map(conn.fetchVal("SELECT $1::int * 2", [i]), Option.getOrThrow),
        { concurrency: "unbounded" },
      )
      results.forEach((r, i) => expect(r).toBe(i % 20 === 7 ? true : i % 10 === 3 ? i : i * 2))
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM np"))).toBe(6n)
    }),
  )
})
