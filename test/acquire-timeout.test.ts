/**
 * The per-call acquire timeout (`{ acquireTimeout }` on `acquire`, `withConnection`, the
 * shortcuts, `PgClient.transaction` and the client's cursors): it fails with pgfx's own
 * `PgTimeoutError` (catchable by tag, `sent: false`, safe to retry), bounds the same wait as the
 * pool-wide `acquireTimeout` and replaces it for the call, leaves no waiter behind, and does not
 * apply to a call that runs on the current transaction's connection.
 */
import { describe, expect, it } from "@effect/vitest"
import * as PgClient from "@pgfx/client/PgClient"
import * as PgError from "@pgfx/client/PgError"
import * as PgPool from "@pgfx/client/PgPool"
import { sql } from "@pgfx/client/PgSql"
import { Deferred, Effect, Fiber, Option, Stream } from "effect"
import { eventually, failureOf, poolOptions } from "./support/pool.ts"

/** A pool of one whose only connection is held until the returned `release` runs. */
const exhausted = (overrides: PgPool.PgPoolOptions = {}) =>
  Effect.gen(function* () {
    // min: 1 opens the connection up front, so holding it never waits on a connect.
    const pool = yield* PgPool.make(poolOptions({ min: 1, max: 1, ...overrides }))
    const gate = yield* Deferred.make<void>()
    const held = yield* Deferred.make<void>()
    const holder = yield* Effect.forkChild(
      pool.withConnection(() => Effect.andThen(Deferred.succeed(held, undefined), Deferred.await(gate))),
    )
    yield* Deferred.await(held)
    const release = Effect.andThen(Deferred.succeed(gate, undefined), Fiber.join(holder))
    return { pool, release }
  })

const expectAcquireTimeout = (error: unknown, ms: number) => {
  expect(error).toBeInstanceOf(PgError.PgTimeoutError)
  const timeout = error as PgError.PgTimeoutError
  expect(timeout.timeoutMs).toBe(ms)
  expect(timeout.sent).toBe(false)
  expect(timeout.message).toContain("acquiring a connection")
  expect(PgError.isSafeToRetry(timeout)).toBe(true)
}

describe("per-call acquire timeout", () => {
  it.live("every way of checking out fails with PgTimeoutError, catchable by tag", () =>
    Effect.gen(function* () {
      const { pool, release } = yield* exhausted()
      const client = PgClient.fromPool(pool)
      const options = { acquireTimeout: "100 millis" } as const
      const attempts: Record<string, Effect.Effect<unknown, unknown>> = {
        "pool.acquire": Effect.scoped(pool.acquire(options)),
        "pool.withConnection": pool.withConnection(() => Effect.void, options),
        "pool.execute": pool.execute("SELECT $1::int", [1], options),
        "pool.fetch": pool.fetch(sql`SELECT ${1}::int`, options),
        "pool.fetchRow": pool.fetchRow("SELECT 1", [], options),
        "pool.fetchVal": pool.fetchVal("SELECT 1", [], { ...options, timeout: "5 seconds" }),
        "pool.executeMany": pool.executeMany("SELECT $1::int", [[1]], options),
        "pool.fetchMany": pool.fetchMany("SELECT $1::int", [[1]], options),
        "client.transaction": client.transaction(client.fetch("SELECT 1"), options),
        "client.cursor": Stream.runCollect(client.cursor("SELECT 1", [], options)),
        "client.openCursor": Effect.scoped(client.openCursor(sql`SELECT 1`, options)),
        "client.prepare": Effect.scoped(client.prepare("SELECT 1", options)),
        "client.acquire": Effect.scoped(client.acquire(options)),
      }
      for (const [name, attempt] of Object.entries(attempts)) {
        const started = Date.now()
        const error = failureOf(yield* Effect.exit(attempt))
        expectAcquireTimeout(error, 100)
        const elapsed = Date.now() - started
        expect(elapsed, name).toBeGreaterThanOrEqual(90)
        expect(elapsed, name).toBeLessThan(5_000)
        expect(pool.waiting, name).toBe(0)
      }
      const caught = yield* pool
        .fetchVal("SELECT 1", [], options)
        .pipe(Effect.catchTag("PgTimeoutError", (e) => Effect.succeed(`caught after ${e.timeoutMs} ms`)))
      expect(caught).toBe("caught after 100 ms")
      yield* release
      // The pool is intact: the connection serves the next call.
      expect(yield* pool.fetchVal("SELECT 1", [], options)).toEqual(Option.some(1))
      expect(pool.stats).toMatchObject({ size: 1, inUse: 0, waiting: 0 })
    }).pipe(Effect.scoped),
  )

  it.live("the call's bound replaces the pool's, shorter or longer", () =>
    Effect.gen(function* () {
      const long = yield* exhausted({ acquireTimeout: "60 seconds" })
      const started = Date.now()
      expectAcquireTimeout(failureOf(yield* Effect.exit(long.pool.fetch("SELECT 1", [], { acquireTimeout: 100 }))), 100)
      expect(Date.now() - started).toBeLessThan(5_000)
      yield* long.release

      const short = yield* exhausted({ acquireTimeout: "50 millis" })
      expectAcquireTimeout(failureOf(yield* Effect.exit(short.pool.fetchVal("SELECT 1"))), 50)
      // A longer bound for this call: the holder lets go 300 ms after it queued, past the pool's bound.
      const waiting = yield* Effect.forkChild(short.pool.fetchVal("SELECT 2", [], { acquireTimeout: "30 seconds" }))
      yield* eventually("the call waits", () => short.pool.stats.waiting === 1)
      yield* Effect.sleep("300 millis")
      yield* short.release
      expect(yield* Fiber.join(waiting)).toEqual(Option.some(2))
    }).pipe(Effect.scoped),
  )

  it.live("inside a transaction the call runs on its connection: nothing is checked out, no bound applies", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ min: 1, max: 1 }))
      const client = PgClient.fromPool(pool)
      const value = yield* client.transaction(client.fetchVal("SELECT 3", [], { acquireTimeout: 1 }))
      expect(value).toEqual(Option.some(3))
    }).pipe(Effect.scoped),
  )

  it.live("an invalid acquireTimeout is a PgConfigError naming it", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1 }))
      const error = failureOf(yield* Effect.exit(pool.fetch("SELECT 1", [], { acquireTimeout: -5 })))
      expect(error._tag).toBe("PgConfigError")
      expect(error.message).toContain("acquireTimeout")
    }).pipe(Effect.scoped),
  )
})
