/**
 * Timeouts and interruption against the real server: the statement in flight is cancelled, a
 * late cancel never reaches a later statement, the session stays usable, an interrupted
 * statement inside a transaction leaves it failed, and close/terminate behave as documented.
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option, Scope } from "effect"
import * as net from "node:net"
import { testCluster } from "./support/cluster.ts"
import { tcpOptions, unixOptions, withAdmin } from "./support/connect.ts"
import { failureOf } from "./support/failure.ts"
import { isRunning, untilRunning, waitUntil } from "./support/wait.ts"

/** Plain TCP: the cancel round trip is cheapest without TLS. */
const plain = () => PgConnection.make(tcpOptions({ sslMode: "disable" }))

/** The state of a backend, seen from another session. */
const backendState = (pid: number) =>
  withAdmin((admin) =>
    admin
      .fetchRow("SELECT state, query FROM pg_stat_activity WHERE pid = $1", [pid])
      .pipe(Effect.map((row) => Option.map(row, (r) => ({ state: r.get("state"), query: r.get("query") })))),
  )

describe("timeouts cancel the statement in flight", () => {
  it.live("pg_sleep(10) with a 50 ms timeout: a typed timeout within a second, then SELECT 1 works", () =>
    Effect.gen(function* () {
      const conn = yield* plain()
      const started = Date.now()
      const error = failureOf(yield* Effect.exit(conn.execute("SELECT pg_sleep(10)", [], { timeout: "50 millis" })))
      const elapsed = Date.now() - started
      expect(error._tag).toBe("PgTimeoutError")
      expect(elapsed).toBeLessThan(1000)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1"))).toBe(1)
      // The server is not still sleeping on our behalf.
      const state = yield* backendState(conn.serverPid)
      expect(Option.getOrThrow(state).state).toBe("idle")
    }),
  )

  it.live("the same over TLS and over a unix socket", () =>
    Effect.gen(function* () {
      for (const options of [tcpOptions({ sslMode: "require" }), unixOptions()]) {
        const conn = yield* PgConnection.make(options)
        const error = failureOf(yield* Effect.exit(conn.fetch("SELECT pg_sleep(10)", [], { timeout: "50 millis" })))
        expect(error._tag).toBe("PgTimeoutError")
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 2"))).toBe(2)
      }
    }),
  )

  it.live(
    "500 rounds of an immediately timed-out pg_sleep(1) then SELECT 1 (asyncpg's cancel race)",
    () =>
      Effect.gen(function* () {
        const conn = yield* plain()
        let timedOut = 0
        for (let i = 0; i < 500; i++) {
          const exit = yield* Effect.exit(conn.execute("SELECT pg_sleep(1)", undefined, { timeout: 0 }))
          if (Exit.isFailure(exit)) {
            expect(failureOf(exit)._tag).toBe("PgTimeoutError")
            timedOut++
          }
          // A late cancel would fail this with query_canceled.
          expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int", [i]))).toBe(i)
        }
        expect(timedOut).toBe(500)
        expect(conn.isClosed).toBe(false)
      }),
    120_000,
  )

  it.live("protocol 3.0 (4-byte cancel key) and 3.2 (long key on PostgreSQL 18) both cancel", () =>
    Effect.gen(function* () {
      for (const protocolVersion of ["3.0", "3.2"] as const) {
        const conn = yield* PgConnection.make(tcpOptions({ sslMode: "disable", protocolVersion }))
        if (protocolVersion === "3.2" && testCluster().version >= 18) expect(conn.protocolVersion).toBe("3.2")
        const started = Date.now()
        const error = failureOf(yield* Effect.exit(conn.execute("SELECT pg_sleep(10)", [], { timeout: "50 millis" })))
        expect(error._tag).toBe("PgTimeoutError")
        expect(Date.now() - started).toBeLessThan(3000)
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 3"))).toBe(3)
      }
    }),
  )

  it.live("commandTimeout is the default; a per-call timeout overrides it", () =>
    Effect.gen(function* () {
      const conn = yield* PgConnection.make(tcpOptions({ sslMode: "disable", commandTimeout: "100 millis" }))
      const error = failureOf(yield* Effect.exit(conn.execute("SELECT pg_sleep(5)")))
      expect(error._tag).toBe("PgTimeoutError")
      expect(error._tag === "PgTimeoutError" && error.timeoutMs).toBe(100)
      yield* conn.execute("SELECT pg_sleep(0.3)", [], { timeout: "10 seconds" })
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 4"))).toBe(4)
    }),
  )
})

describe("interruption", () => {
  it.live("fiber interruption cancels the statement and leaves the session usable", () =>
    Effect.gen(function* () {
      const conn = yield* plain()
      const fiber = yield* Effect.forkChild(conn.execute("SELECT pg_sleep(10)"))
      yield* untilRunning(conn.serverPid)
      const started = Date.now()
      yield* Fiber.interrupt(fiber)
      expect(Date.now() - started).toBeLessThan(3000)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 5"))).toBe(5)
    }),
  )

  it.live("closing a scope that runs a statement cancels it", () =>
    Effect.gen(function* () {
      const conn = yield* plain()
      const scope = yield* Scope.make()
      yield* Effect.forkIn(conn.execute("SELECT pg_sleep(10)"), scope)
      yield* untilRunning(conn.serverPid)
      const started = Date.now()
      yield* Scope.close(scope, Exit.void)
      expect(Date.now() - started).toBeLessThan(3000)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 6"))).toBe(6)
    }),
  )

  it.live("an interrupted statement inside a transaction leaves the transaction failed", () =>
    Effect.gen(function* () {
      const conn = yield* plain()
      yield* conn.execute("CREATE TEMP TABLE cancelled_tx (id int)")
      yield* conn.execute("BEGIN")
      yield* conn.execute("INSERT INTO cancelled_tx VALUES (1)")
      const error = failureOf(
        yield* Effect.exit(
          conn.execute("INSERT INTO cancelled_tx SELECT 2 FROM pg_sleep(10)", [], { timeout: "50 millis" }),
        ),
      )
      expect(error._tag).toBe("PgTimeoutError")
      expect(conn.transactionStatus).toBe("failed")
      const commit = yield* conn.execute("COMMIT")
      expect(commit).toBe("ROLLBACK")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM cancelled_tx"))).toBe(0n)
    }),
  )

  it.live("a timed-out statement inside a transaction always fails it, even when it had already finished", () =>
    Effect.gen(function* () {
      const conn = yield* plain()
      yield* conn.execute("CREATE TEMP TABLE raced_tx (id int)")
      for (let i = 0; i < 50; i++) {
        yield* conn.execute("BEGIN")
        // Quick enough that it often completes before the cancel arrives.
        const exit = yield* Effect.exit(conn.execute("INSERT INTO raced_tx VALUES (1)", undefined, { timeout: 0 }))
        expect(Exit.isFailure(exit)).toBe(true)
        expect(conn.transactionStatus).toBe("failed")
        expect(yield* conn.execute("COMMIT")).toBe("ROLLBACK")
      }
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM raced_tx"))).toBe(0n)
    }),
  )

  it.live("a statement with later ones already pipelined behind it is not cancelled: they are unharmed", () =>
    Effect.gen(function* () {
      const conn = yield* plain()
      const slow = yield* Effect.forkChild(
        Effect.exit(conn.execute("SELECT pg_sleep(0.4)", [], { timeout: "50 millis" })),
      )
      yield* Effect.yieldNow
      const next = yield* Effect.forkChild(Effect.map(conn.fetchVal("SELECT 7"), Option.getOrThrow))
      const slowExit = yield* Fiber.join(slow)
      expect(failureOf(slowExit)._tag).toBe("PgTimeoutError")
      expect(yield* Fiber.join(next)).toBe(7)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 8"))).toBe(8)
    }),
  )

  it.live("a request interrupted before it was written is withdrawn", () =>
    Effect.gen(function* () {
      const conn = yield* plain()
      // The first cancel holds back later requests until it is confirmed; interrupt one of those.
      const first = yield* Effect.forkChild(Effect.exit(conn.execute("SELECT pg_sleep(10)", [], { timeout: 0 })))
      yield* Effect.yieldNow
      const held = yield* Effect.forkChild(conn.execute("SELECT pg_sleep(10)"))
      yield* Effect.yieldNow
      yield* Fiber.interrupt(held)
      expect(failureOf(yield* Fiber.join(first))._tag).toBe("PgTimeoutError")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 9"))).toBe(9)
    }),
  )
})

describe("the cancel request goes over TLS when the session does", () => {
  /** A TCP proxy to the cluster that records the first 8 bytes of every connection. */
  const recordingProxy = Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<{ port: number; firsts: Array<Buffer>; server: net.Server; sockets: Array<net.Socket> }>(
          (resolve) => {
            const pg = testCluster()
            const firsts: Array<Buffer> = []
            const sockets: Array<net.Socket> = []
            const server = net.createServer((client) => {
              const upstream = net.connect({ host: pg.host, port: pg.port })
              sockets.push(client, upstream)
              client.once("data", (chunk: Buffer) => firsts.push(chunk.subarray(0, 8)))
              client.pipe(upstream).pipe(client)
              client.on("error", () => upstream.destroy())
              upstream.on("error", () => client.destroy())
            })
            server.listen(0, "127.0.0.1", () =>
              resolve({ port: (server.address() as net.AddressInfo).port, firsts, server, sockets }),
            )
          },
        ),
    ),
    ({ server, sockets }) =>
      Effect.sync(() => {
        for (const s of sockets) s.destroy()
        server.close()
      }),
  )

  const code = (b: Buffer) => b.readInt32BE(4)

  it.live("SSLRequest first on the cancel connection of a TLS session; CancelRequest in clear otherwise", () =>
    Effect.gen(function* () {
      for (const [sslMode, expected] of [
        ["require", 80877103],
        ["disable", 80877102],
      ] as const) {
        const proxy = yield* recordingProxy
        const conn = yield* PgConnection.make(tcpOptions({ port: proxy.port, sslMode }))
        const error = failureOf(yield* Effect.exit(conn.execute("SELECT pg_sleep(10)", [], { timeout: "50 millis" })))
        expect(error._tag).toBe("PgTimeoutError")
        // The session's connection, then one cancel connection, or more when a loaded machine
        // made the cancel arrive before the backend read the query (it is re-sent): every
        // cancel connection must start the same way.
        expect(proxy.firsts.length).toBeGreaterThanOrEqual(2)
        for (const first of proxy.firsts.slice(1)) expect(code(first)).toBe(expected)
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 10"))).toBe(10)
      }
    }),
  )
})

describe("closing", () => {
  it.live("close() lets the statement in flight finish, then terminates the session", () =>
    Effect.gen(function* () {
      const conn = yield* PgConnection.connect(tcpOptions({ sslMode: "disable" }))
      // Watched from a connection opened beforehand: the statement runs for 0.3 s only.
      const observer = yield* plain()
      const running = yield* Effect.forkChild(
        Effect.map(conn.fetchVal("SELECT 11 FROM pg_sleep(0.3)"), Option.getOrThrow),
      )
      yield* waitUntil(
        "the statement runs (or has run)",
        Effect.map(isRunning(observer, conn.serverPid), (active) => active || running.pollUnsafe() !== undefined),
      )
      yield* conn.close({ timeout: "5 seconds" })
      expect(yield* Fiber.join(running)).toBe(11)
      expect(conn.isClosed).toBe(true)
      expect(failureOf(yield* Effect.exit(Effect.map(conn.fetchVal("SELECT 1"), Option.getOrThrow)))._tag).toBe(
        "PgConnectionError",
      )
    }),
  )

  it.live("close({ timeout }) terminates when the timeout elapses; the backend goes away", () =>
    Effect.gen(function* () {
      const conn = yield* PgConnection.connect(tcpOptions({ sslMode: "disable" }))
      const pid = conn.serverPid
      const running = yield* Effect.forkChild(Effect.exit(conn.execute("SELECT pg_sleep(30)")))
      yield* untilRunning(conn.serverPid)
      const started = Date.now()
      yield* conn.close({ timeout: "200 millis" })
      expect(Date.now() - started).toBeLessThan(3000)
      // The statement was running outside a transaction block: it may still commit.
      const error = failureOf(yield* Fiber.join(running))
      expect(error._tag === "PgCommitUnknownError" && error.cause.reason).toBe("Closed")
      let gone = false
      for (let i = 0; i < 100 && !gone; i++) {
        gone = Option.isNone(yield* backendState(pid))
        if (!gone) yield* Effect.sleep("20 millis")
      }
      expect(gone).toBe(true)
    }),
  )

  it.live("terminate() closes at once and fails queued requests", () =>
    Effect.gen(function* () {
      const conn = yield* PgConnection.connect(tcpOptions({ sslMode: "disable" }))
      const running = yield* Effect.forkChild(Effect.exit(conn.execute("SELECT pg_sleep(30)")))
      yield* untilRunning(conn.serverPid)
      const started = Date.now()
      yield* conn.terminate()
      const error = failureOf(yield* Fiber.join(running))
      expect(Date.now() - started).toBeLessThan(3000)
      expect(error._tag === "PgCommitUnknownError" && error.cause.reason).toBe("Closed")
      expect(conn.isClosed).toBe(true)
    }),
  )
})
