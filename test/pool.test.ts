/**
 * PgPool: acquire as a scoped resource (released on success, failure, defect, interruption),
 * FIFO waiters, interrupting a waiting acquire, the acquire timeout, hooks (init/setup/reset
 * counts and failures), released handles, shortcuts, stats and metrics, option validation.
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgError from "@pgfx/client/PgError"
import * as PgPool from "@pgfx/client/PgPool"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Metric, Option, Ref } from "effect"
import { eventually, failureOf, poolOptions } from "./support/pool.ts"
import { untilRunning } from "./support/wait.ts"

const pidOf = (pool: PgPool.PgPool) => pool.withConnection((c) => Effect.succeed(c.serverPid))

describe("PgPool basics", () => {
  it.live("opens min connections at start and answers queries", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ min: 2, max: 4 }))
      expect(pool.stats).toEqual({ size: 2, idle: 2, inUse: 0, waiting: 0, min: 2, max: 4 })
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT 40 + $1::int", [2]))).toBe(42)
      expect(yield* pool.execute("SELECT 1")).toBe("SELECT 1")
      const rows = yield* pool.fetch("SELECT g FROM generate_series(1, 3) g")
      expect(rows.map((r) => r.get("g"))).toEqual([1, 2, 3])
      const row = yield* pool.fetchRow("SELECT 'x' AS a")
      expect(Option.map(row, (r) => r.get("a"))).toEqual(Option.some("x"))
      // Shortcuts reuse idle connections rather than opening new ones.
      expect(pool.size).toBe(2)
      expect(pool.idle).toBe(2)
    }),
  )

  it.live("grows on demand up to max, then waits", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ min: 0, max: 2 }))
      expect(pool.size).toBe(0)
      const gate = yield* Deferred.make<void>()
      const holders = yield* Effect.forkChild(
        Effect.all(
          [1, 2].map(() => pool.withConnection(() => Deferred.await(gate))),
          { concurrency: "unbounded" },
        ),
      )
      yield* eventually("two connections are out", () => pool.stats.inUse === 2)
      expect(pool.size).toBe(2)
      const third = yield* Effect.forkChild(Effect.map(pool.fetchVal("SELECT 3"), Option.getOrThrow))
      yield* eventually("the third acquire waits", () => pool.waiting === 1)
      expect(pool.size).toBe(2)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holders)
      expect(yield* Fiber.join(third)).toBe(3)
      expect(pool.stats).toMatchObject({ size: 2, idle: 2, inUse: 0, waiting: 0 })
    }),
  )

  it.live("rejects invalid options with PgConfigError", () =>
    Effect.gen(function* () {
      for (const bad of [{ min: 5, max: 2 }, { max: 0 }, { min: -1 }, { maxQueries: 0 }, { min: 1.5 }]) {
        const error = failureOf(yield* Effect.exit(Effect.scoped(PgPool.make(poolOptions(bad)))))
        expect(error._tag).toBe("PgConfigError")
      }
      const error = failureOf(yield* Effect.exit(Effect.scoped(PgPool.make(poolOptions({ port: 70000 })))))
      expect(error._tag).toBe("PgConfigError")
    }),
  )

  it.live("a failing first connection fails make with a typed error", () =>
    Effect.gen(function* () {
      const error = failureOf(yield* Effect.exit(Effect.scoped(PgPool.make(poolOptions({ min: 1, database: "nope" })))))
      expect(error._tag).toBe("PgServerError")
    }),
  )
})

describe("acquire is a scoped resource", () => {
  const releasedAfter = <E>(pool: PgPool.PgPool, body: Effect.Effect<void, E>) =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        Effect.scoped(
          Effect.gen(function* () {
            const conn = yield* pool.acquire()
            Option.getOrThrow(yield* conn.fetchVal("SELECT 1"))
            expect(pool.stats.inUse).toBe(1)
            yield* body
          }),
        ),
      )
      expect(pool.stats).toMatchObject({ inUse: 0, idle: 1, size: 1 })
      return exit
    })

  it.live("released on success, failure, defect and interruption", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1 }))
      expect(Exit.isSuccess(yield* releasedAfter(pool, Effect.void))).toBe(true)
      expect(failureOf(yield* releasedAfter(pool, Effect.fail("boom")))).toBe("boom")
      const died = yield* releasedAfter(pool, Effect.die(new Error("defect")))
      expect(Exit.isFailure(died) && !Exit.hasInterrupts(died)).toBe(true)
      const interrupted = yield* releasedAfter(pool, Effect.interrupt)
      expect(Exit.hasInterrupts(interrupted)).toBe(true)
      // A fiber interrupted from outside while it holds a connection, mid-query.
      const started = yield* Deferred.make<number>()
      const fiber = yield* Effect.forkChild(
        pool.withConnection((conn) =>
          Effect.andThen(Deferred.succeed(started, conn.serverPid), conn.execute("SELECT pg_sleep(30)")),
        ),
      )
      yield* untilRunning(yield* Deferred.await(started))
      yield* Fiber.interrupt(fiber)
      expect(pool.stats).toMatchObject({ inUse: 0, idle: 1, size: 1 })
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT 2"))).toBe(2)
    }),
  )

  it.live("interrupting a waiting acquire leaks nothing", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1 }))
      const gate = yield* Deferred.make<void>()
      const holder = yield* Effect.forkChild(pool.withConnection(() => Deferred.await(gate)))
      yield* eventually("the holder has it", () => pool.stats.inUse === 1)
      const waiters = yield* Effect.forEach([1, 2, 3], () =>
        Effect.forkChild(Effect.map(pool.fetchVal("SELECT 1"), Option.getOrThrow)),
      )
      yield* eventually("three wait", () => pool.waiting === 3)
      yield* Fiber.interrupt(waiters[1]!)
      expect(pool.waiting).toBe(2)
      yield* Fiber.interruptAll([waiters[0]!, waiters[2]!])
      expect(pool.waiting).toBe(0)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holder)
      expect(pool.stats).toMatchObject({ size: 1, idle: 1, inUse: 0, waiting: 0 })
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT 5"))).toBe(5)
    }),
  )

  it.live("a waiter interrupted as a connection is handed to it gives it back", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1 }))
      for (let i = 0; i < 20; i++) {
        const gate = yield* Deferred.make<void>()
        const holder = yield* Effect.forkChild(pool.withConnection(() => Deferred.await(gate)))
        yield* eventually("held", () => pool.stats.inUse === 1)
        const waiter = yield* Effect.forkChild(Effect.map(pool.fetchVal("SELECT 1"), Option.getOrThrow))
        yield* eventually("waiting", () => pool.waiting === 1)
        // Release and interrupt in the same tick: the hand-over races the interruption.
        yield* Deferred.succeed(gate, undefined)
        yield* Fiber.interrupt(waiter)
        yield* Fiber.join(holder)
        yield* eventually("back in the pool", () => pool.stats.inUse === 0)
        expect(pool.stats).toMatchObject({ size: 1, idle: 1, waiting: 0 })
      }
    }),
  )

  it.live("waiters are served first come, first served", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1 }))
      const order = yield* Ref.make<Array<number>>([])
      const gate = yield* Deferred.make<void>()
      const holder = yield* Effect.forkChild(pool.withConnection(() => Deferred.await(gate)))
      yield* eventually("held", () => pool.stats.inUse === 1)
      const fibers: Array<Fiber.Fiber<void, unknown>> = []
      for (let i = 1; i <= 8; i++) {
        fibers.push(
          yield* Effect.forkChild(
            pool.withConnection((conn) =>
              Effect.andThen(
                conn.execute("SELECT 1"),
                Ref.update(order, (o) => [...o, i]),
              ),
            ),
          ),
        )
        yield* eventually(`waiter ${i} queued`, () => pool.waiting === i)
      }
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holder)
      yield* Fiber.joinAll(fibers)
      expect(yield* Ref.get(order)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    }),
  )

  it.live("acquireTimeout fails a waiting acquire with PgTimeoutError", () =>
    Effect.gen(function* () {
      // min: 1 opens the connection up front: the holder never has to connect within the bound.
      const pool = yield* PgPool.make(poolOptions({ min: 1, max: 1, acquireTimeout: "150 millis" }))
      const gate = yield* Deferred.make<void>()
      const holder = yield* Effect.forkChild(pool.withConnection(() => Deferred.await(gate)))
      yield* eventually("held", () => pool.stats.inUse === 1)
      const started = Date.now()
      const error = failureOf(yield* Effect.exit(Effect.map(pool.fetchVal("SELECT 1"), Option.getOrThrow)))
      expect(error._tag).toBe("PgTimeoutError")
      // Nothing was sent: safe to retry.
      expect(PgError.isSafeToRetry(error)).toBe(true)
      expect(Date.now() - started).toBeGreaterThanOrEqual(140)
      expect(pool.waiting).toBe(0)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holder)
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT 1"))).toBe(1)
      expect(pool.stats).toMatchObject({ size: 1, inUse: 0 })
    }),
  )
})

describe("released connections", () => {
  it.live("any use after release fails with PgInterfaceError", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1 }))
      let early: Effect.Effect<unknown, unknown> = Effect.void
      const leaked = yield* Effect.scoped(
        Effect.gen(function* () {
          const conn = yield* pool.acquire()
          early = Effect.map(conn.fetchVal("SELECT 1"), Option.getOrThrow)
          expect(conn.isClosed).toBe(false)
          return conn
        }),
      )
      for (const use of [
        Effect.map(leaked.fetchVal("SELECT 1"), Option.getOrThrow),
        leaked.execute("SELECT 1"),
        leaked.fetch("SELECT 1"),
        leaked.fetchRow("SELECT 1"),
        leaked.close(),
        early,
      ]) {
        const error = failureOf(yield* Effect.exit(use))
        expect(error).toMatchObject({ _tag: "PgInterfaceError" })
        expect((error as { message: string }).message).toContain("released back to the pool")
      }
      expect(leaked.isClosed).toBe(true)
      expect(() => leaked.serverPid).toThrow(/released back to the pool/)
      // The connection itself is fine and back in the pool.
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT 3"))).toBe(3)
      expect(pool.size).toBe(1)
    }),
  )

  it.live("a handle from withConnection stops working when the callback ends", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1 }))
      const leaked = yield* pool.withConnection((conn) => Effect.succeed(conn))
      expect(failureOf(yield* Effect.exit(Effect.map(leaked.fetchVal("SELECT 1"), Option.getOrThrow)))).toMatchObject({
        _tag: "PgInterfaceError",
      })
      expect(pool.owns(leaked)).toBe(true)
    }),
  )
})

describe("hooks", () => {
  it.live("init runs once per new connection, setup on every acquire, the reset hook on every release", () =>
    Effect.gen(function* () {
      const counts = { init: 0, setup: 0, reset: 0 }
      const pool = yield* PgPool.make(
        poolOptions({
          min: 1,
          max: 2,
          init: (conn) =>
            Effect.andThen(
              conn.execute("SELECT 1"),
              Effect.sync(() => counts.init++),
            ),
          setup: (conn) =>
            Effect.andThen(
              conn.execute("SELECT 2"),
              Effect.sync(() => counts.setup++),
            ),
          reset: (conn) =>
            Effect.andThen(
              conn.execute("SELECT 3"),
              Effect.sync(() => counts.reset++),
            ),
        }),
      )
      expect(counts).toEqual({ init: 1, setup: 0, reset: 0 })
      Option.getOrThrow(yield* pool.fetchVal("SELECT 1"))
      expect(counts).toEqual({ init: 1, setup: 1, reset: 1 })
      // Two at once: a second connection is opened (init), each checkout runs setup and reset.
      yield* Effect.all(
        [
          pool.withConnection(() => Effect.sleep("50 millis")),
          Effect.map(pool.fetchVal("SELECT pg_sleep(0.05)"), Option.getOrThrow),
        ],
        {
          concurrency: "unbounded",
        },
      )
      expect(counts).toEqual({ init: 2, setup: 3, reset: 3 })
      yield* Effect.scoped(pool.acquire())
      expect(counts).toEqual({ init: 2, setup: 4, reset: 4 })
    }),
  )

  it.live("setup receives the caller's handle and its SET is undone on release", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(
        poolOptions({ max: 1, setup: (conn) => conn.execute("SET application_name = 'in-setup'") }),
      )
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT current_setting('application_name')"))).toBe("in-setup")
      const raw = yield* pool.withConnection((conn) =>
        // The reset ran on release, and setup set it again for this checkout.
        Effect.map(conn.fetchVal("SELECT current_setting('application_name')"), Option.getOrThrow),
      )
      expect(raw).toBe("in-setup")
    }),
  )

  it.live("a failing init closes the connection and fails the acquire with PgPoolHookError", () =>
    Effect.gen(function* () {
      let calls = 0
      const pool = yield* PgPool.make(
        poolOptions({
          max: 2,
          init: (conn) => (++calls === 1 ? conn.execute("SELECT no_such_column") : Effect.void),
        }),
      )
      const error = failureOf(yield* Effect.exit(Effect.map(pool.fetchVal("SELECT 1"), Option.getOrThrow)))
      expect(error).toMatchObject({ _tag: "PgPoolHookError", hook: "init" })
      expect((error as PgPool.PgPoolHookError).cause).toMatchObject({ _tag: "PgServerError", code: "42703" })
      expect(pool.stats).toMatchObject({ size: 0, inUse: 0 })
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT 1"))).toBe(1)
      expect(calls).toBe(2)
    }),
  )

  it.live("a failing setup releases the connection and fails the acquire with PgPoolHookError", () =>
    Effect.gen(function* () {
      let fail = true
      const pool = yield* PgPool.make(
        poolOptions({ max: 1, setup: () => (fail ? Effect.fail("no setup today") : Effect.void) }),
      )
      const viaAcquire = failureOf(yield* Effect.exit(Effect.scoped(pool.acquire())))
      expect(viaAcquire).toMatchObject({ _tag: "PgPoolHookError", hook: "setup", cause: "no setup today" })
      expect(pool.stats).toMatchObject({ size: 1, idle: 1, inUse: 0 })
      const viaShortcut = failureOf(yield* Effect.exit(Effect.map(pool.fetchVal("SELECT 1"), Option.getOrThrow)))
      expect(viaShortcut).toMatchObject({ _tag: "PgPoolHookError", hook: "setup" })
      expect(pool.stats).toMatchObject({ size: 1, idle: 1, inUse: 0 })
      fail = false
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT 1"))).toBe(1)
    }),
  )

  it.live("a failing reset closes the connection instead of reusing it", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1, reset: (conn) => conn.execute("SELECT broken(") }))
      const first = yield* pidOf(pool)
      expect(pool.size).toBe(0)
      const second = yield* pidOf(pool)
      expect(second).not.toBe(first)
    }),
  )

  it.live("a custom connect factory opens the connections", () =>
    Effect.gen(function* () {
      const seen: Array<string | undefined> = []
      const pool = yield* PgPool.make(
        poolOptions({
          max: 2,
          connect: (options) => {
            seen.push(options.applicationName)
            return PgConnection.connect(options)
          },
          applicationName: "from-factory",
        }),
      )
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT current_setting('application_name')"))).toBe("from-factory")
      expect(seen).toEqual(["from-factory"])
    }),
  )
})

describe("stats and metrics", () => {
  it.live("gauges follow the pool", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ min: 2, max: 3, name: "metrics-test" }))
      const gauges = Effect.map(Metric.snapshot, (snapshots) => {
        const out: Record<string, unknown> = {}
        for (const s of snapshots) {
          if (s.attributes?.pool === "metrics-test") out[s.id] = (s.state as { value: number }).value
        }
        return out
      })
      expect(yield* gauges).toEqual({
        pgfx_pool_size: 2,
        pgfx_pool_idle: 2,
        pgfx_pool_in_use: 0,
        pgfx_pool_waiting: 0,
        pgfx_pool_min: 2,
        pgfx_pool_max: 3,
      })
      const inside = yield* pool.withConnection(() => gauges)
      expect(inside).toMatchObject({ pgfx_pool_idle: 1, pgfx_pool_in_use: 1 })
      yield* pool.close
      expect(yield* gauges).toEqual({})
    }),
  )
})
