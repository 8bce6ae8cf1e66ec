/**
 * Server log messages (notices) with every field, as callbacks, as a stream and through Effect's
 * logger; termination listeners; and the pool's clean-up primitive for listeners left behind.
 */
import type { Connection } from "@pgfx/client/internal/Connection"
import type * as PgConnection from "@pgfx/client/PgConnection"
import type { PgConnectionError, PgProtocolError } from "@pgfx/client/PgError"
import * as PgNotifications from "@pgfx/client/PgNotifications"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Logger, type LogLevel, Option, References, Stream } from "effect"
import { connect, withAdmin } from "./support/connect.ts"
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

/** Polls `check` until it returns true (generous bound for a loaded machine). */
const eventually = <E>(check: Effect.Effect<boolean, E>, what: string) =>
  Effect.gen(function* () {
    for (let i = 0; i < 500; i++) {
      if (yield* Effect.suspend(() => check)) return
      yield* Effect.sleep("10 millis")
    }
    throw new Error(`timed out waiting for ${what}`)
  })

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
      yield* eventually(
        Effect.map(conn.execute("DO $$ BEGIN RAISE NOTICE 'probe'; END $$"), () => seen.length > 0),
        "the stream to start",
      )
      yield* conn.execute("DO $$ BEGIN RAISE NOTICE 'one'; RAISE INFO 'two'; END $$")
      yield* eventually(
        Effect.sync(() => seen.some((n) => n.message === "two")),
        "two notices",
      )
      expect(seen.filter((n) => n.message !== "probe").map((n) => [n.severity, n.message])).toEqual([
        ["NOTICE", "one"],
        ["INFO", "two"],
      ])
    }),
  )

  it.live("notices are logged through Effect's logger at a matching level, unless turned off", () =>
    Effect.gen(function* () {
      const { lines, provide } = captureLogs()
      const conn = yield* provide(connect())
      yield* conn.execute(
        "DO $$ BEGIN RAISE NOTICE 'a notice' USING DETAIL = 'd'; RAISE WARNING 'a warning'; RAISE INFO 'info'; END $$",
      )
      yield* eventually(
        Effect.sync(() => lines.length >= 3),
        "three log lines",
      )
      const logged = lines.map((l) => [l.level, messageText(l.message), l.annotations["pg.code"]])
      expect(logged).toEqual([
        ["Info", "a notice", "00000"],
        ["Warn", "a warning", "01000"],
        ["Info", "info", "00000"],
      ])
      expect(lines[0]!.annotations["pg.detail"]).toBe("d")
      expect(lines[0]!.annotations["pg.backend_pid"]).toBe(conn.serverPid)

      const quiet = captureLogs()
      const silent = yield* quiet.provide(Effect.provideService(connect(), PgNotifications.LogNotices, false))
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
