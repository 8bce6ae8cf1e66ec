/**
 * Server log messages (notices) with every field, as callbacks, as a stream and through Effect's
 * logger; termination listeners; and the pool's clean-up primitive for listeners left behind.
 */
import type { Connection } from "@pgfx/client/internal/connection/Connection"
import { unguard } from "@pgfx/client/internal/pool/Lease"
import type * as PgConnection from "@pgfx/client/PgConnection"
import type { PgConnectionError, PgProtocolError } from "@pgfx/client/PgError"
import * as PgNotifications from "@pgfx/client/PgNotifications"
import * as PgPool from "@pgfx/client/PgPool"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Latch, Logger, type LogLevel, Option, References, Scope, Stream } from "effect"
import { waitUntil } from "./support/wait.ts"
import { connect, withAdmin } from "./support/connect.ts"
import { poolOptions } from "./support/pool.ts"
import { failureOf } from "./support/failure.ts"

const within = <A, E>(effect: Effect.Effect<A, E>, what: string) =>
  effect.pipe(
    Effect.timeoutOrElse({
      duration: "15 seconds",
      orElse: () => Effect.die(new Error(`timed out waiting for ${what}`)),
    }),
  )

interface Captured {
  readonly level: LogLevel.LogLevel
  readonly message: unknown
  readonly annotations: Readonly<Record<string, unknown>>
}

/** A logger that records every line, and a function providing it to an effect. */
const captureLogs = () => {
  const lines: Array<Captured> = []
  const logger = Logger.make((options) => {
    lines.push({
      level: options.logLevel,
      message: options.message,
      annotations: options.fiber.getRef(References.CurrentLogAnnotations),
    })
  })
  const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.provideService(effect, Logger.CurrentLoggers, new Set([logger]))
  return { lines, provide }
}

const messageText = (message: unknown) => (Array.isArray(message) ? message.join(" ") : String(message))

describe("log listeners (NoticeResponse)", () => {
  it.live("asyncpg's documented example reaches the log listener", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const notices: Array<[PgConnection.PgConnection, PgNotifications.PgNotice]> = []
      const listener = (c: PgConnection.PgConnection, n: PgNotifications.PgNotice) => notices.push([c, n])
      yield* conn.addLogListener(listener)
      yield* conn.execute(`
        DO $$ BEGIN
          RAISE NOTICE 'This is a notice message';
        END $$`)
      expect(notices.length).toBe(1)
      const [c, notice] = notices[0]!
      expect(c).toBe(conn)
      expect(notice._tag).toBe("PgNotice")
      expect(notice.severity).toBe("NOTICE")
      expect(notice.message).toBe("This is a notice message")
      yield* conn.removeLogListener(listener)
      yield* conn.execute("DO $$ BEGIN RAISE NOTICE 'not seen'; END $$")
      expect(notices.length).toBe(1)
    }),
  )

  it.live("every field of the notice is parsed", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const notices: Array<PgNotifications.PgNotice> = []
      yield* conn.addLogListener((_c, n) => notices.push(n))
      yield* conn.execute(`
        DO $$ BEGIN
          RAISE WARNING 'careful: %', 42 USING
            ERRCODE = '01000', DETAIL = 'the detail', HINT = 'the hint',
            SCHEMA = 'the_schema', TABLE = 'the_table', COLUMN = 'the_column',
            CONSTRAINT = 'the_constraint', DATATYPE = 'the_type';
        END $$`)
      expect(notices.length).toBe(1)
      const n = notices[0]!
      expect({
        severity: n.severity,
        severityLocalized: n.severityLocalized,
        code: n.code,
        condition: n.condition,
        message: n.message,
        detail: n.detail,
        hint: n.hint,
        schema: n.schema,
        table: n.table,
        column: n.column,
        constraint: n.constraint,
        dataType: n.dataType,
      }).toEqual({
        severity: "WARNING",
        severityLocalized: "WARNING",
        code: "01000",
        condition: "warning",
        message: "careful: 42",
        detail: "the detail",
        hint: "the hint",
        schema: "the_schema",
        table: "the_table",
        column: "the_column",
        constraint: "the_constraint",
        dataType: "the_type",
      })
      expect(n.where).toMatch(/PL\/pgSQL function inline_code_block line \d+ at RAISE/)
      expect(n.file).toMatch(/\.c$/)
      expect(Number(n.line)).toBeGreaterThan(0)
      expect(n.routine).toBeTruthy()
      // a notice raised by the server itself carries its own SQLSTATE
      yield* conn.execute("CREATE TEMP TABLE IF NOT EXISTS dup_notice (a int)")
      yield* conn.execute("CREATE TEMP TABLE IF NOT EXISTS dup_notice (a int)")
      const skipped = notices[notices.length - 1]!
      expect(skipped.severity).toBe("NOTICE")
      expect(skipped.code).toBe("42P07")
      expect(skipped.condition).toBe("duplicate_table")
    }),
  )

  it.live("notices() is a stream of notices", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const seen: Array<PgNotifications.PgNotice> = []
      yield* conn.notices().pipe(
        Stream.runForEach((n) => Effect.sync(() => seen.push(n))),
        Effect.forkChild,
      )
      // the stream subscribes when it starts: probe until it sees a notice
      yield* waitUntil(
        "the stream to start",
        Effect.map(conn.execute("DO $$ BEGIN RAISE NOTICE 'probe'; END $$"), () => seen.length > 0),
      )
      yield* conn.execute("DO $$ BEGIN RAISE NOTICE 'one'; RAISE INFO 'two'; END $$")
      yield* waitUntil(
        "two notices",
        Effect.sync(() => seen.some((n) => n.message === "two")),
      )
      expect(seen.filter((n) => n.message !== "probe").map((n) => [n.severity, n.message])).toEqual([
        ["NOTICE", "one"],
        ["INFO", "two"],
      ])
    }),
  )

  it.live("notices are logged at Debug by default, so a default logger prints nothing", () =>
    Effect.gen(function* () {
      const raise = "DO $$ BEGIN RAISE NOTICE 'a notice' USING DETAIL = 'd'; RAISE WARNING 'a warning'; END $$"
      const { lines, provide } = captureLogs()
      const conn = yield* provide(Effect.provideService(connect(), References.MinimumLogLevel, "All"))
      yield* conn.execute(raise)
      yield* waitUntil(
        "two log lines",
        Effect.sync(() => lines.length >= 2),
      )
      expect(lines.map((l) => [l.level, messageText(l.message), l.annotations["pg.code"]])).toEqual([
        ["Debug", "a notice", "00000"],
        ["Debug", "a warning", "01000"],
      ])
      expect(lines[0]!.annotations["pg.detail"]).toBe("d")
      expect(lines[0]!.annotations["pg.backend_pid"]).toBe(conn.serverPid)

      // Effect's default minimum level is Info: nothing reaches the logger.
      const defaults = captureLogs()
      const plain = yield* defaults.provide(connect())
      yield* plain.execute(raise)
      yield* plain.execute("SELECT 1") // a later round trip: the notices have been dispatched
      yield* Effect.sleep("200 millis")
      expect(defaults.lines).toEqual([])
    }),
  )

  it.live("NoticeLogLevel: BySeverity maps severities, a level logs all at it, None turns logging off", () =>
    Effect.gen(function* () {
      const raise = "DO $$ BEGIN RAISE NOTICE 'a notice'; RAISE WARNING 'a warning'; RAISE INFO 'info'; END $$"
      const bySeverity = captureLogs()
      const conn = yield* bySeverity.provide(
        Effect.provideService(connect(), PgNotifications.NoticeLogLevel, "BySeverity"),
      )
      yield* conn.execute(raise)
      yield* waitUntil(
        "three log lines",
        Effect.sync(() => bySeverity.lines.length >= 3),
      )
      expect(bySeverity.lines.map((l) => [l.level, messageText(l.message)])).toEqual([
        ["Info", "a notice"],
        ["Warn", "a warning"],
        ["Info", "info"],
      ])

      const asWarn = captureLogs()
      const loud = yield* asWarn.provide(Effect.provideService(connect(), PgNotifications.NoticeLogLevel, "Warn"))
      yield* loud.execute("DO $$ BEGIN RAISE NOTICE 'loud'; END $$")
      yield* waitUntil(
        "one log line",
        Effect.sync(() => asWarn.lines.length >= 1),
      )
      expect(asWarn.lines.map((l) => [l.level, messageText(l.message)])).toEqual([["Warn", "loud"]])

      const quiet = captureLogs()
      const silent = yield* quiet.provide(
        Effect.provideService(connect(), PgNotifications.NoticeLogLevel, "None").pipe(
          Effect.provideService(References.MinimumLogLevel, "All"),
        ),
      )
      yield* silent.execute("DO $$ BEGIN RAISE WARNING 'not logged'; END $$")
      yield* Effect.sleep("200 millis")
      expect(quiet.lines).toEqual([])
    }),
  )
})

describe("termination listeners", () => {
  it.live("called when the server terminates the session", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const terminated = yield* Deferred.make<[PgConnection.PgConnection, PgConnectionError | PgProtocolError]>()
      let removedCalled = false
      const removed = () => {
        removedCalled = true
      }
      yield* conn.addTerminationListener((c, reason) => Deferred.doneUnsafe(terminated, Exit.succeed([c, reason])))
      yield* conn.addTerminationListener(removed)
      yield* conn.removeTerminationListener(removed)
      yield* withAdmin((admin) =>
        Effect.map(admin.fetchVal("SELECT pg_terminate_backend($1)", [conn.serverPid]), Option.getOrThrow),
      )
      const [c, reason] = yield* within(Deferred.await(terminated), "the termination listener")
      expect(c).toBe(conn)
      expect(reason._tag).toBe("PgConnectionError")
      if (reason._tag === "PgConnectionError") expect(reason.reason).toBe("ClosedByServer")
      expect(reason.message).toContain("57P01")
      expect(conn.isClosed).toBe(true)
      expect(removedCalled).toBe(false)
    }),
  )

  it.live("called on close(), and at once when added to a closed connection", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const reasons: Array<string> = []
      yield* conn.addTerminationListener((_c, reason) => reasons.push(`first:${reason._tag}`))
      yield* conn.close()
      expect(reasons).toEqual(["first:PgConnectionError"])
      yield* conn.addTerminationListener((_c, reason) => reasons.push(`late:${reason._tag}`))
      expect(reasons).toEqual(["first:PgConnectionError", "late:PgConnectionError"])
    }),
  )
})

describe("termination and query-log events as Effects and Streams", () => {
  it.live("awaitClose succeeds with the reason: a server-side termination, close(), already closed", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const waiting = yield* Effect.forkChild(conn.awaitClose())
      yield* withAdmin((admin) => admin.fetchVal("SELECT pg_terminate_backend($1)", [conn.serverPid]))
      const reason = yield* within(Fiber.join(waiting), "awaitClose")
      expect(reason).toMatchObject({ _tag: "PgConnectionError", reason: "ClosedByServer" })
      expect(reason.message).toContain("57P01")
      expect(yield* conn.awaitClose()).toBe(reason)

      const other = yield* connect()
      const onClose = yield* Effect.forkChild(other.awaitClose())
      yield* other.close()
      expect((yield* within(Fiber.join(onClose), "awaitClose after close()"))._tag).toBe("PgConnectionError")
    }),
  )

  it.live("an interrupted awaitClose leaves nothing registered", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const waiting = yield* Effect.forkChild(conn.awaitClose())
      yield* Effect.yieldNow
      expect((conn as unknown as Connection).hasRegistrations).toBe(true)
      yield* Fiber.interrupt(waiting)
      expect((conn as unknown as Connection).hasRegistrations).toBe(false)
    }),
  )

  it.live("queryLog streams each query call, redacts on request, and ends when the connection closes", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const logged = yield* Effect.forkChild(Stream.runCollect(conn.queryLog({ redactArgs: true })))
      yield* waitUntil(
        "the stream to start",
        Effect.sync(() => (conn as unknown as Connection).queryLoggers.size === 1),
      )
      yield* conn.fetchVal("SELECT $1::int", [42])
      yield* Effect.exit(conn.execute("SELECT 1/0"))
      yield* conn.close()
      const queries = yield* within(Fiber.join(logged), "the stream to end")
      expect(queries.map((q) => [q.query, q.error?._tag])).toEqual([
        ["SELECT $1::int", undefined],
        ["SELECT 1/0", "PgServerError"],
      ])
      expect(String(queries[0]!.args[0])).not.toContain("42")
    }),
  )

  it.live("queryLog is bounded: a consumer that falls behind sees the latest (sliding) or the first (dropping)", () =>
    Effect.gen(function* () {
      // The consumer takes the first query's log, then waits on a latch while four more arrive
      // in a buffer of two.
      const collect = (strategy: "sliding" | "dropping") =>
        Effect.gen(function* () {
          const conn = yield* connect()
          const latch = yield* Latch.make()
          let taken = 0
          const logged = yield* Effect.forkChild(
            Stream.runCollect(
              conn.queryLog({ bufferSize: 2, strategy }).pipe(
                Stream.tap(() => {
                  taken++
                  return latch.await
                }),
              ),
            ),
          )
          yield* waitUntil(
            "the stream to start",
            Effect.sync(() => (conn as unknown as Connection).queryLoggers.size === 1),
          )
          yield* conn.fetchVal("SELECT 1")
          yield* waitUntil(
            "the first log to be taken",
            Effect.sync(() => taken === 1),
          )
          for (const n of [2, 3, 4, 5]) Option.getOrThrow(yield* conn.fetchVal(`SELECT ${n}`))
          yield* latch.open
          yield* conn.close()
          return (yield* within(Fiber.join(logged), "the stream to end")).map((q) => q.query)
        })
      expect(yield* collect("sliding")).toEqual(["SELECT 1", "SELECT 4", "SELECT 5"])
      expect(yield* collect("dropping")).toEqual(["SELECT 1", "SELECT 2", "SELECT 3"])
      const conn = yield* connect()
      const invalid = yield* Effect.exit(Stream.runCollect(conn.queryLog({ bufferSize: 0 })))
      expect(failureOf(invalid)._tag).toBe("PgInterfaceError")
    }),
  )

  it.live("a callback that throws or rejects (async) is logged, not lost", () =>
    Effect.gen(function* () {
      const { lines, provide } = captureLogs()
      const conn = yield* provide(connect())
      yield* conn.addQueryLogger(async () => {
        throw new Error("query logger broke")
      })
      yield* conn.addLogListener(() => {
        throw new Error("log listener broke")
      })
      yield* conn.addTerminationListener(() => Promise.reject(new Error("termination listener broke")))
      yield* conn.execute("DO $$ BEGIN RAISE NOTICE 'n'; END $$")
      yield* conn.close()
      yield* waitUntil(
        "three error lines",
        Effect.sync(() => lines.length >= 3),
      )
      const errors = lines.filter((l) => l.level === "Error").map((l) => messageText(l.message))
      expect(errors).toHaveLength(3)
      for (const what of ["query logger", "log listener", "termination listener"]) {
        expect(errors.some((e) => e.includes(`pgfx: a ${what} failed`) && e.includes(`${what} broke`))).toBe(true)
      }
    }),
  )

  it.live("a pooled connection's release fails awaitClose and queryLog with PgInterfaceError", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const waiting = yield* Effect.forkChild(conn.awaitClose())
      const logged = yield* Effect.forkChild(Stream.runCollect(conn.queryLog()))
      yield* waitUntil(
        "the stream to start",
        Effect.sync(() => (conn as unknown as Connection).queryLoggers.size === 1),
      )
      const counts = yield* (conn as unknown as Connection).detachListeners()
      expect(counts).toMatchObject({ termination: 1, queryLoggers: 1 })
      expect(failureOf(yield* within(Fiber.await(waiting), "awaitClose"))._tag).toBe("PgInterfaceError")
      expect(failureOf(yield* within(Fiber.await(logged), "queryLog"))._tag).toBe("PgInterfaceError")
    }),
  )
})

describe("events on a pooled connection", () => {
  it.live("a borrower's awaitClose and queryLog fail with PgInterfaceError when the checkout ends", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1 }))
      const scope = yield* Scope.make()
      const conn = yield* Scope.provide(pool.acquire(), scope)
      const waiting = yield* Effect.forkChild(conn.awaitClose())
      const logged = yield* Effect.forkChild(Stream.runCollect(conn.queryLog()))
      yield* waitUntil(
        "the stream to start",
        Effect.sync(() => (unguard(conn) as Connection).queryLoggers.size === 1),
      )
      yield* conn.execute("SELECT 1")
      yield* Scope.close(scope, Exit.void)
      expect(failureOf(yield* within(Fiber.await(waiting), "awaitClose"))._tag).toBe("PgInterfaceError")
      expect(failureOf(yield* within(Fiber.await(logged), "queryLog"))._tag).toBe("PgInterfaceError")
      // The next borrower's queries are not logged to the first one's stream (it ended), and
      // the connection itself is fine.
      expect(yield* Effect.scoped(Effect.flatMap(pool.acquire(), (c) => c.fetchVal("SELECT 2")))).toEqual(
        Option.some(2),
      )
    }),
  )
})

describe("listeners left on a connection given back to a pool", () => {
  it.live("releaseListeners removes them all, UNLISTENs, ends streams, and warns", () =>
    Effect.gen(function* () {
      const { lines, provide } = captureLogs()
      const conn = yield* connect()
      yield* conn.addListener("left_a", () => {})
      yield* conn.addListener("left_b", () => {})
      const stream = yield* conn.subscribe("left_a")
      const streamFiber = yield* Effect.forkChild(Stream.runCollect(stream))
      yield* conn.addLogListener(() => {})
      yield* conn.addTerminationListener(() => {})
      yield* conn.addQueryLogger(() => {})
      const counts = yield* provide((conn as unknown as Connection).releaseListeners())
      expect(counts).toEqual({
        notification: 2,
        notificationStreams: 1,
        log: 1,
        termination: 1,
        queryLoggers: 1,
        total: 6,
      })
      expect(lines.length).toBe(1)
      expect(lines[0]!.level).toBe("Warn")
      expect(messageText(lines[0]!.message)).toContain("released to the pool with active listeners")
      expect(failureOf(yield* within(Fiber.await(streamFiber), "the stream to end"))._tag).toBe("PgInterfaceError")
      expect(yield* conn.fetch("SELECT pg_listening_channels()")).toEqual([])
      // nothing left: a second release is silent
      const again = yield* provide((conn as unknown as Connection).releaseListeners())
      expect(again.total).toBe(0)
      expect(lines.length).toBe(1)
    }),
  )
})
