/**
 * Every wait has a bound: under a SIGSTOPped backend, a stalled socket, a full black hole, and a
 * query pipelined behind a long one, a query settles within its timeout plus the grace
 * (`cancelTimeout`, 1 s by default), and so does interrupting it (`Effect.timeout` around a call
 * without a timeout of its own). A pool whose connection was given up serves again as soon as
 * the fault heals. Faults come from `@pgfx/testing`'s FaultProxy and `suspendProcess`.
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgError from "@pgfx/client/PgError"
import * as PgPool from "@pgfx/client/PgPool"
import { describe, expect, it } from "@effect/vitest"
import * as FaultProxy from "@pgfx/testing/FaultProxy"
import { Effect, Exit, Fiber, Option } from "effect"
import { testCluster } from "./support/cluster.ts"
import { tcpOptions } from "./support/connect.ts"
import { failureOf } from "./support/failure.ts"
import { eventually, untilRunning } from "./support/wait.ts"

/** The default grace, and a generous margin for a loaded machine. */
const GRACE_MS = 1000
const MARGIN_MS = 2000

const proxyFor = () => {
  const pg = testCluster()
  return FaultProxy.make({ host: pg.host, port: pg.port })
}

/** Options that reach the server through `proxy` (in clear, so the proxy can frame messages). */
const viaProxy = (proxy: FaultProxy.FaultProxy) =>
  tcpOptions({ host: proxy.host, port: proxy.port, sslMode: "disable", connectTimeout: "2 seconds" })

/** Runs `effect` and returns its exit and how long it took to settle. */
const timed = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const started = Date.now()
    const exit = yield* Effect.exit(effect)
    return { exit, ms: Date.now() - started }
  })

/** A query with a 1 s timeout settles, typed, within timeout + grace (+ margin), not before the timeout. */
const expectTimeoutBound = (result: { exit: Exit.Exit<unknown, unknown>; ms: number }, timeoutMs: number) => {
  const error = failureOf(result.exit) as { _tag: string }
  expect(error._tag).toBe("PgTimeoutError")
  expect(PgError.isSafeToRetry(error)).toBe(false)
  expect(result.ms).toBeGreaterThanOrEqual(timeoutMs - 20)
  expect(result.ms).toBeLessThan(timeoutMs + GRACE_MS + MARGIN_MS)
}

/** Interrupting a call (no timeout of its own) after `afterMs` completes within afterMs + grace. */
const expectInterruptBound = (result: { exit: Exit.Exit<unknown, unknown>; ms: number }, afterMs: number) => {
  expect(Exit.isFailure(result.exit)).toBe(true)
  expect(result.ms).toBeLessThan(afterMs + GRACE_MS + MARGIN_MS)
}

/** The pool answers within ~1 s (asserted with margin) once the fault is gone. */
const expectPoolServes = (pool: PgPool.PgPool) =>
  Effect.gen(function* () {
    const started = Date.now()
    expect(Option.getOrThrow(yield* pool.fetchVal("SELECT 41 + 1"))).toBe(42)
    expect(Date.now() - started).toBeLessThan(1000 + MARGIN_MS)
  })

/** A connection that carried a CancelRequest (startup code 80877102). */
const isCancelRequest = (c: FaultProxy.ProxyConnection) =>
  c.messages[0] !== undefined && Buffer.from(c.messages[0].bytes).readInt32BE(4) === 80877102

describe("a SIGSTOPped backend", () => {
  it.live("a query with a timeout settles within timeout + grace; the connection is given up", () =>
    Effect.gen(function* () {
      const conn = yield* PgConnection.make(tcpOptions({ sslMode: "disable" }))
      const stopped = yield* FaultProxy.suspendProcess(conn.serverPid)
      const result = yield* timed(
        Effect.map(conn.fetchVal("SELECT pg_sleep(0.3)", [], { timeout: "1 second" }), Option.getOrThrow),
      )
      expectTimeoutBound(result, 1000)
      expect(conn.isClosed).toBe(true)
      yield* stopped.resume
    }),
  )

  it.live("interrupting a call bounds it the same way; the pool's slot is freed and it serves after SIGCONT", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make({ ...tcpOptions({ sslMode: "disable" }), min: 0, max: 1 })
      const pid = Option.getOrThrow(yield* pool.fetchVal("SELECT pg_backend_pid()")) as number
      const stopped = yield* FaultProxy.suspendProcess(pid)
      const result = yield* timed(
        Effect.timeout(Effect.map(pool.fetchVal("SELECT 1"), Option.getOrThrow), "300 millis"),
      )
      expectInterruptBound(result, 300)
      expect(pool.stats.size).toBe(0)
      yield* stopped.resume
      yield* expectPoolServes(pool)
    }),
  )
})

describe("a stalled socket (new connections still work)", () => {
  it.live("a query with a timeout settles within timeout + grace; the pool serves once healed", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyFor()
      const pool = yield* PgPool.make({ ...viaProxy(proxy), min: 0, max: 1 })
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT 1"))).toBe(1)
      proxy.stall()
      const result = yield* timed(
        Effect.map(pool.fetchVal("SELECT pg_sleep(0.3)", [], { timeout: "1 second" }), Option.getOrThrow),
      )
      expectTimeoutBound(result, 1000)
      expect(pool.stats.size).toBe(0)
      proxy.heal()
      yield* expectPoolServes(pool)
    }),
  )

  it.live("interrupting a call on a stalled socket is bounded too", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyFor()
      const conn = yield* PgConnection.make(viaProxy(proxy))
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1"))).toBe(1)
      proxy.stall("toClient")
      const result = yield* timed(
        Effect.timeout(Effect.map(conn.fetchVal("SELECT 2"), Option.getOrThrow), "300 millis"),
      )
      expectInterruptBound(result, 300)
      expect(conn.isClosed).toBe(true)
    }),
  )
})

describe("a full black hole (nothing answers, new connections included)", () => {
  it.live("a query with a timeout settles within timeout + grace; the pool serves within ~1 s of healing", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyFor()
      const pool = yield* PgPool.make({ ...viaProxy(proxy), min: 0, max: 1 })
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT 1"))).toBe(1)
      proxy.blackHole()
      const result = yield* timed(Effect.map(pool.fetchVal("SELECT 1", [], { timeout: "1 second" }), Option.getOrThrow))
      expectTimeoutBound(result, 1000)
      expect(pool.stats.size).toBe(0)
      // A connection attempt made during the black hole is held; healing lets it through.
      const before = proxy.connections.length
      const waiting = yield* Effect.forkChild(Effect.exit(Effect.map(pool.fetchVal("SELECT 7"), Option.getOrThrow)))
      yield* eventually("the connection attempt reaches the proxy", () =>
        proxy.connections.slice(before).some((c) => c.messages[0] !== undefined && !isCancelRequest(c)),
      )
      proxy.heal()
      const healedAt = Date.now()
      const waited = yield* Fiber.join(waiting)
      expect(Exit.isSuccess(waited) && waited.value).toBe(7)
      expect(Date.now() - healedAt).toBeLessThan(1000 + MARGIN_MS)
      yield* expectPoolServes(pool)
    }),
  )

  it.live("interruption is bounded; the cancel request's own connection ends within the connect timeout", () =>
    Effect.gen(function* () {
      const proxy = yield* proxyFor()
      const conn = yield* PgConnection.make(viaProxy(proxy))
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1"))).toBe(1)
      proxy.blackHole()
      const result = yield* timed(
        Effect.timeout(Effect.map(conn.fetchVal("SELECT 2"), Option.getOrThrow), "300 millis"),
      )
      expectInterruptBound(result, 300)
      expect(conn.isClosed).toBe(true)
      // The CancelRequest connection (startup code 80877102) was accepted and never answered:
      // the client gives it up after connectTimeout (2 s).
      const started = Date.now()
      while (!proxy.connections.some((c) => isCancelRequest(c) && c.closed) && Date.now() - started < 10_000) {
        yield* Effect.sleep("50 millis")
      }
      expect(proxy.connections.some(isCancelRequest)).toBe(true)
      expect(proxy.connections.filter(isCancelRequest).every((c) => c.closed)).toBe(true)
      expect(Date.now() - started).toBeLessThan(2000 + MARGIN_MS)
    }),
  )
})

describe("a request pipelined behind a long one", () => {
  it.live("times out at its own timeout (abandoned, its reply discarded), not when the long one ends", () =>
    Effect.gen(function* () {
      const conn = yield* PgConnection.make(tcpOptions({ sslMode: "disable" }))
      const long = yield* Effect.forkChild(Effect.map(conn.fetchVal("SELECT pg_sleep(3)::text"), Option.getOrThrow))
      yield* untilRunning(conn.serverPid)
      const result = yield* timed(
        Effect.map(conn.fetchVal("SELECT 1", [], { timeout: "200 millis" }), Option.getOrThrow),
      )
      expectTimeoutBound(result, 200)
      // Not held until the long one ends.
      expect(result.ms).toBeLessThan(1500)
      const interrupted = yield* timed(
        Effect.timeout(Effect.map(conn.fetchVal("SELECT 2"), Option.getOrThrow), "200 millis"),
      )
      expectInterruptBound(interrupted, 200)
      expect(interrupted.ms).toBeLessThan(1500)
      // The long one is unharmed, the abandoned replies are drained, the connection goes on in order.
      expect(yield* Fiber.join(long)).toBe("")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 3"))).toBe(3)
      expect(conn.isClosed).toBe(false)
    }),
  )

  it.live("inside a transaction block it waits at most the grace, then the connection is given up", () =>
    Effect.gen(function* () {
      const conn = yield* PgConnection.make(tcpOptions({ sslMode: "disable" }))
      let measured: { exit: Exit.Exit<unknown, unknown>; ms: number } | undefined
      const exit = yield* Effect.exit(
        conn.transaction(
          Effect.gen(function* () {
            yield* Effect.forkChild(
              Effect.exit(Effect.map(conn.fetchVal("SELECT pg_sleep(5)::text"), Option.getOrThrow)),
            )
            yield* untilRunning(conn.serverPid)
            measured = yield* timed(
              Effect.map(conn.fetchVal("SELECT 1", [], { timeout: "200 millis" }), Option.getOrThrow),
            )
          }),
        ),
      )
      expectTimeoutBound(measured!, 200)
      // The transaction cannot commit: the connection is gone (its transaction rolled back).
      expect(Exit.isFailure(exit)).toBe(true)
      expect(conn.isClosed).toBe(true)
    }),
  )
})
