/**
 * The pool reads time from Effect's `Clock`: with a `TestClock` (the default of `it.effect`), idle
 * connections age, acquires time out and the wait-time metric advance only when the test moves the
 * clock, with no real waiting. Against a scripted server that accepts any number of connections.
 */
import * as PgMetrics from "@pgfx/client/PgMetrics"
import * as PgPool from "@pgfx/client/PgPool"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Metric } from "effect"
import * as TestClock from "effect/testing/TestClock"
import { failureOf } from "../../../test/support/failure.ts"
import { eventually } from "../../../test/support/pool.ts"
import { acceptingServer, hold, poolOn } from "./support/MockServer.ts"

/**
 * The scripted server answers simple queries only, not the default reset's first, extended-protocol
 * part (packages/client/test/Reset.mock.test.ts scripts that): these tests are about time, so the
 * pool only rolls back (and sends nothing to a session left idle).
 */
const noReset = { sessionReset: "transactionOnly" } as const

/** Until an acquire waits in the pool's queue (polled on the real clock: the test clock stands still). */
const queued = (pool: PgPool.PgPool) =>
  TestClock.withLive(eventually("an acquire waits", () => pool.stats.waiting === 1))

describe("the pool on Effect's clock", () => {
  it.effect("maxInactiveLifetime closes idle connections when the test clock says they are old", () =>
    Effect.gen(function* () {
      const mock = yield* acceptingServer
      const pool = yield* poolOn(mock, { min: 2, max: 2, maxInactiveLifetime: "1 minute", ...noReset })
      expect(pool.stats).toMatchObject({ size: 2, idle: 2 })

      yield* TestClock.adjust("30 seconds")
      // One connection is used at 30 s: it is idle again from 30 s on, the other since 0 s.
      const used = yield* hold(pool)
      yield* used.release
      expect(pool.stats).toMatchObject({ size: 2, idle: 2 })

      yield* TestClock.adjust("29 seconds")
      expect(pool.size).toBe(2)
      yield* TestClock.adjust("1 second")
      expect(pool.stats).toMatchObject({ size: 1, idle: 1 })
      const survivor = yield* hold(pool)
      expect(survivor.pid).toBe(used.pid)
      yield* survivor.release

      // Used again at 60 s: gone at 120 s, not before.
      yield* TestClock.adjust("59 seconds")
      expect(pool.size).toBe(1)
      yield* TestClock.adjust("1 second")
      expect(pool.size).toBe(0)
    }),
  )

  it.effect("a checked-out connection is never closed for inactivity, however far the clock moves", () =>
    Effect.gen(function* () {
      const mock = yield* acceptingServer
      const pool = yield* poolOn(mock, { min: 1, max: 1, maxInactiveLifetime: "1 second", ...noReset })
      const busy = yield* hold(pool)
      yield* TestClock.adjust("1 hour")
      expect(pool.stats).toMatchObject({ size: 1, inUse: 1 })
      yield* busy.release
      yield* TestClock.adjust("999 millis")
      expect(pool.stats).toMatchObject({ size: 1, idle: 1 })
      yield* TestClock.adjust("1 milli")
      expect(pool.size).toBe(0)
    }),
  )

  it.effect("maxInactiveLifetime 0 keeps idle connections for good", () =>
    Effect.gen(function* () {
      const mock = yield* acceptingServer
      const pool = yield* poolOn(mock, { min: 1, max: 1, maxInactiveLifetime: 0, ...noReset })
      yield* TestClock.adjust("1 day")
      const conn = yield* hold(pool)
      expect(conn.pid).toBe(1000)
      yield* conn.release
    }),
  )

  it.effect("the acquire timeout and the wait-time metric follow the test clock", () =>
    Effect.gen(function* () {
      const mock = yield* acceptingServer
      const waitTime = PgMetrics.connectionWaitTimeFor("clocked")
      const pool = yield* poolOn(mock, { min: 1, max: 1, name: "clocked", acquireTimeout: "5 seconds", ...noReset })
      const busy = yield* hold(pool)

      // A waiter is served after 3 s of test time: the metric records 3 s.
      const served = yield* Effect.forkChild(Effect.scoped(pool.acquire()))
      yield* queued(pool)
      yield* TestClock.adjust("3 seconds")
      yield* busy.release
      yield* Fiber.join(served)
      const value = yield* Metric.value(waitTime)
      expect(value.max).toBe(3)

      // A waiter nobody serves times out at exactly 5 s of test time.
      const again = yield* hold(pool)
      const timedOut = yield* Effect.forkChild(Effect.exit(Effect.scoped(pool.acquire())))
      yield* queued(pool)
      yield* TestClock.adjust("4999 millis")
      expect(pool.stats.waiting).toBe(1)
      yield* TestClock.adjust("1 milli")
      expect(failureOf(yield* Fiber.join(timedOut))).toMatchObject({ _tag: "PgTimeoutError", sent: false })
      yield* again.release
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())),
  )
})
