/**
 * Debug mode against the real server: the protocol trace of a query, a COPY and an error is the
 * expected message sequence both ways, with values redacted unless `showValues`; a connection
 * dropped without being closed is reported as a leak once it is garbage-collected; `PGFX_DEBUG`
 * turns it on.
 */
import * as PgConfig from "@pgfx/client/PgConfig"
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgCopy from "@pgfx/client/PgCopy"
import * as PgPool from "@pgfx/client/PgPool"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Scope } from "effect"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { connect, tcpOptions, withAdmin } from "./support/connect.ts"
import { failureOf } from "./support/failure.ts"

/** A debug-mode connection whose trace lines land in `lines` (startup lines dropped on request). */
const traced = (showValues = false) =>
  Effect.gen(function* () {
    const lines: Array<string> = []
    const conn = yield* connect({
      sslMode: "disable",
      statementCacheSize: 0,
      debug: { showValues, log: (line) => lines.push(line) },
    })
    return { conn, lines, since: () => lines.splice(0) }
  })

/** V8's gc(), made available at run time. */
const forceGc = (): (() => void) => {
  v8.setFlagsFromString("--expose-gc")
  return vm.runInNewContext("gc") as () => void
}

/** "pgfx[3] F Parse ..." -> "F Parse". */
const shape = (line: string) =>
  line
    .replace(/^pgfx\[\d+\] /, "")
    .split(" ")
    .slice(0, 2)
    .join(" ")

describe("debug mode: the protocol trace", () => {
  it.live("startup, then a query: every message both ways, parameter and row values redacted", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { conn, lines, since } = yield* traced()
        const startup = since()
        expect(startup[0]).toMatch(/^pgfx\[\d+\] F StartupMessage 3\.0 user=/)
        expect(startup.map(shape)).toContain("B AuthenticationOk")
        expect(startup.at(-1)).toMatch(/B ReadyForQuery I$/)
        yield* conn.fetchVal("SELECT $1::text AS secret_value", ["hunter2-param"])
        expect(since().map(shape)).toEqual([
          // the unnamed statement is described first (statementCacheSize: 0) ...
          "F Parse",
          "F Describe",
          "F Sync",
          "B ParseComplete",
          "B ParameterDescription",
          "B RowDescription",
          "B ReadyForQuery",
          // ... then parsed again, bound and executed for one row (fetchVal)
          "F Parse",
          "F Bind",
          "F Describe",
          "F Execute",
          "F Sync",
          "B ParseComplete",
          "B BindComplete",
          "B RowDescription",
          "B DataRow",
          "B PortalSuspended",
          "B ReadyForQuery",
        ])
        yield* conn.fetchVal("SELECT $1::text AS secret_value", ["hunter2-param"])
        const trace = lines.join("\n")
        expect(trace).toContain('"SELECT $1::text AS secret_value"')
        expect(trace).not.toContain("hunter2-param")
        expect(trace).toContain("1 params <13 bytes>")
        expect(trace).toContain("DataRow 1 fields <13 bytes>")
        expect(trace).toContain('RowDescription 1 fields "secret_value":25')
      }),
    ),
  )

  it.live("showValues shows parameter and row values", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { conn, lines } = yield* traced(true)
        yield* conn.fetchVal("SELECT $1::text AS v, $2::int4 AS n", ["visible-value", 258])
        const hex = Buffer.from("visible-value").toString("hex")
        // binary values in hex, text values quoted
        expect(lines.find((l) => shape(l) === "F Bind")).toContain(`\\x${hex} \\x00000102`)
        expect(lines.find((l) => shape(l) === "B DataRow")).toContain(`\\x${hex} \\x00000102`)
      }),
    ),
  )

  it.live("a COPY FROM STDIN: Query, CopyInResponse, CopyData, CopyDone, CommandComplete", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { conn, since } = yield* traced()
        yield* conn.execute("CREATE TEMP TABLE debug_copy (id int, name text)")
        since()
        const status = yield* PgCopy.copyToTable(conn, "debug_copy", { source: ["1\talpha\n", "2\tbeta\n"] })
        expect(status).toBe("COPY 2")
        const copy = since()
        expect(copy.map(shape)).toEqual([
          "F Query",
          "B CopyInResponse",
          ...copy.filter((l) => shape(l) === "F CopyData").map(() => "F CopyData"),
          "F CopyDone",
          "B CommandComplete",
          "B ReadyForQuery",
        ])
        expect(copy.filter((l) => shape(l) === "F CopyData").length).toBeGreaterThan(0)
        expect(copy.join("\n")).not.toContain("alpha")
        expect(copy[1]).toMatch(/CopyInResponse text 2 columns$/)
      }),
    ),
  )

  it.live("an error: ErrorResponse with severity, SQLSTATE and message, then ReadyForQuery", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { conn, since } = yield* traced()
        since()
        const error = failureOf(yield* Effect.exit(conn.fetchVal("SELECT 1 / $1::int", [0])))
        expect(error).toMatchObject({ code: "22012" })
        const lines = since()
        expect(lines.map(shape)).toEqual([
          "F Parse",
          "F Describe",
          "F Sync",
          "B ParseComplete",
          "B ParameterDescription",
          "B RowDescription",
          "B ReadyForQuery",
          "F Parse",
          "F Bind",
          "F Describe",
          "F Execute",
          "F Sync",
          "B ParseComplete",
          // the planner folds 1 / 0 while binding
          "B ErrorResponse",
          "B ReadyForQuery",
        ])
        expect(lines.find((l) => shape(l) === "B ErrorResponse")).toMatch(
          /ErrorResponse ERROR 22012 "division by zero"$/,
        )
        // the session stays usable, and traced
        yield* conn.fetchVal("SELECT 1")
        expect(since().at(-1)).toMatch(/B ReadyForQuery I$/)
      }),
    ),
  )
})

describe("debug mode: leaks and settings", () => {
  it.live("a connection dropped without close is reported once collected, with where it was opened", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const open = () =>
        Effect.runPromise(
          Effect.asVoid(
            PgConnection.connect(tcpOptions({ debug: { trace: false, log: (line) => lines.push(line) } })).pipe(
              Effect.tap((conn) => conn.fetchVal("SELECT 1")),
            ),
          ),
        )
      yield* Effect.promise(open)
      const gc = forceGc()
      for (let i = 0; i < 50 && lines.length === 0; i++) {
        gc()
        yield* Effect.sleep("20 millis")
      }
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/^pgfx debug: leak: connection pgfx\[\d+\] \(backend pid \d+\) was garbage-collected/)
      expect(lines[0]).toContain("test/debug.test.ts")
      // end the leaked session on the server
      const pid = Number(/backend pid (\d+)/.exec(lines[0]!)![1])
      yield* withAdmin((admin) => admin.fetchVal("SELECT pg_terminate_backend($1)", [pid]))
    }),
  )

  it.live(
    "a pool checkout whose Scope is dropped without closing is reported; the pool's own connections are not",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const lines: Array<string> = []
          // closeTimeout: the leaked checkout is never released, so closing the pool must not wait for it
          const pool = yield* PgPool.make({
            ...tcpOptions({ debug: { trace: false, log: (line) => lines.push(line) } }),
            min: 1,
            max: 2,
            closeTimeout: "1 second",
          })
          yield* pool.fetchVal("SELECT 1")
          // a checkout into a Scope nobody closes, then dropped
          yield* Effect.promise(() =>
            Effect.runPromise(
              Effect.flatMap(Scope.make(), (scope) =>
                Effect.asVoid(
                  Scope.provide(
                    Effect.tap(pool.acquire(), (c) => c.fetchVal("SELECT 1")),
                    scope,
                  ),
                ),
              ),
            ),
          )
          const gc = forceGc()
          for (let i = 0; i < 50 && lines.length === 0; i++) {
            gc()
            yield* Effect.sleep("20 millis")
          }
          expect(lines).toHaveLength(1)
          expect(lines[0]).toMatch(/^pgfx debug: leak: pool checkout of pgfx\[\d+\] was garbage-collected/)
        }),
      ),
  )

  it.live("a connection closed by its Scope is not reported", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      yield* Effect.scoped(
        Effect.flatMap(connect({ debug: { trace: false, log: (line) => lines.push(line) } }), (c) =>
          c.fetchVal("SELECT 1"),
        ),
      )
      const gc = forceGc()
      for (let i = 0; i < 10; i++) {
        gc()
        yield* Effect.sleep("20 millis")
      }
      expect(lines).toEqual([])
    }),
  )

  it("PGFX_DEBUG turns debug mode on; the option wins; off by default", () => {
    const at = (environment: Record<string, string>, debug?: boolean) =>
      PgConfig.resolve({ host: "h", environment, ...(debug === undefined ? {} : { debug }) }).debug
    expect(at({})).toBeUndefined()
    expect(at({ PGFX_DEBUG: "0" })).toBeUndefined()
    expect(at({ PGFX_DEBUG: "1" })).toMatchObject({ trace: true, checks: true, leaks: true, showValues: false })
    expect(at({ PGFX_DEBUG: "values" })).toMatchObject({ showValues: true })
    expect(at({ PGFX_DEBUG: "1" }, false)).toBeUndefined()
    expect(at({}, true)).toMatchObject({ trace: true })
  })
})
