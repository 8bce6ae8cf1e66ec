/**
 * The pool's bookkeeping (internal/Pool.ts) against a scripted server, without PostgreSQL: the
 * idle stack is LIFO (the most recently released connection is reused), waiters are served in
 * FIFO order, a waiter that gives up takes nothing with it, `expireConnections` replaces idle
 * connections now and checked-out ones on release, a connection the server closes leaves the
 * pool, and `close` refuses new acquires and waits for the checked-out ones.
 */
import { describe, expect, it } from "@effect/vitest"
import * as MockBackend from "@pgfx/testing/MockBackend"
import { Effect, Fiber } from "effect"
import { failureOf } from "../../../test/support/failure.ts"
import { eventually } from "../../../test/support/pool.ts"
import { acceptingServer, hold, poolOn } from "./support/MockServer.ts"

describe("pool bookkeeping", () => {
  it.live("idle connections are reused last in, first out", () =>
    Effect.gen(function* () {
      const mock = yield* acceptingServer
      const pool = yield* poolOn(mock, { min: 0, max: 3 })
      const a = yield* hold(pool)
      const b = yield* hold(pool)
      yield* b.release
      yield* a.release
      expect(pool.stats).toMatchObject({ size: 2, idle: 2, inUse: 0 })
      const next = yield* hold(pool)
      expect(next.pid).toBe(a.pid)
      yield* next.release
    }),
  )

  it.live("waiters are served first come, first served, each by a released connection", () =>
    Effect.gen(function* () {
      const mock = yield* acceptingServer
      const pool = yield* poolOn(mock, { min: 1, max: 1 })
      const held = yield* hold(pool)
      const served: Array<string> = []
      const waiter = (name: string) =>
        Effect.forkChild(Effect.scoped(Effect.map(pool.acquire(), (conn) => served.push(`${name} ${conn.serverPid}`))))
      const first = yield* waiter("first")
      yield* eventually("the first waits", () => pool.stats.waiting === 1)
      const second = yield* waiter("second")
      yield* eventually("the second waits", () => pool.stats.waiting === 2)
      yield* held.release
      yield* Fiber.join(first)
      yield* Fiber.join(second)
      expect(served).toEqual([`first ${held.pid}`, `second ${held.pid}`])
      expect(pool.stats).toMatchObject({ size: 1, idle: 1, waiting: 0 })
    }),
  )

  it.live("a waiter interrupted or timed out leaves the queue and takes nothing", () =>
    Effect.gen(function* () {
      const mock = yield* acceptingServer
      const pool = yield* poolOn(mock, { min: 1, max: 1 })
      const held = yield* hold(pool)
      const interrupted = yield* Effect.forkChild(Effect.scoped(pool.acquire()))
      yield* eventually("it waits", () => pool.stats.waiting === 1)
      yield* Fiber.interrupt(interrupted)
      expect(pool.stats.waiting).toBe(0)
      const timedOut = failureOf(yield* Effect.exit(Effect.scoped(pool.acquire({ acquireTimeout: 20 }))))
      expect(timedOut).toMatchObject({ _tag: "PgTimeoutError", sent: false })
      expect(pool.stats).toMatchObject({ size: 1, inUse: 1, waiting: 0 })
      yield* held.release
      expect(pool.stats).toMatchObject({ size: 1, idle: 1, inUse: 0 })
    }),
  )

  it.live("expireConnections replaces idle connections now and checked-out ones on release", () =>
    Effect.gen(function* () {
      const mock = yield* acceptingServer
      const pool = yield* poolOn(mock, { min: 0, max: 2 })
      const busy = yield* hold(pool)
      const idle = yield* hold(pool)
      yield* idle.release
      yield* pool.expireConnections
      expect(pool.stats).toMatchObject({ size: 1, idle: 0, inUse: 1 })
      yield* busy.release
      expect(pool.stats).toMatchObject({ size: 0, idle: 0 })
      const fresh = yield* hold(pool)
      expect([busy.pid, idle.pid]).not.toContain(fresh.pid)
      yield* fresh.release
    }),
  )

  it.live("a connection the server closes while idle leaves the pool; the next acquire opens another", () =>
    Effect.gen(function* () {
      // Connection 0 is closed by the server shortly after it is opened; the others stay.
      const mock = yield* MockBackend.serve((i) =>
        i === 0
          ? [
              MockBackend.acceptUnauthenticatedConnection({}, { processId: 1000 }),
              MockBackend.wait(50),
              MockBackend.closeConnection,
            ]
          : [MockBackend.acceptUnauthenticatedConnection({}, { processId: 1000 + i })],
      )
      const pool = yield* poolOn(mock, { min: 1, max: 1 })
      yield* eventually("the closed connection left the pool", () => pool.stats.size === 0)
      expect(pool.stats.idle).toBe(0)
      const next = yield* hold(pool)
      expect(next.pid).toBe(1001)
      yield* next.release
    }),
  )

  it.live("close refuses new acquires, waits for the checked-out connection, then has none", () =>
    Effect.gen(function* () {
      const mock = yield* acceptingServer
      const pool = yield* poolOn(mock, { min: 2, max: 2 })
      const held = yield* hold(pool)
      const closing = yield* Effect.forkChild(pool.close)
      yield* eventually("closing", () => pool.isClosing)
      expect(pool.stats).toMatchObject({ size: 1, idle: 0, inUse: 1 })
      expect(failureOf(yield* Effect.exit(Effect.scoped(pool.acquire())))).toMatchObject({
        _tag: "PgInterfaceError",
      })
      yield* held.release
      yield* Fiber.join(closing)
      expect(pool.stats).toMatchObject({ size: 0, idle: 0, inUse: 0 })
    }),
  )
})
