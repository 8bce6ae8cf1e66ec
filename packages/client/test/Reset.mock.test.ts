/**
 * The pool's reset on the wire, against a scripted server: it is written with the release and the
 * next borrower's query follows it without waiting for its answer (no round trip); a checkout that
 * sent nothing sends no reset; a reset the server refuses, or answers with fewer statements than
 * it sent, closes the connection, and what was pipelined behind it fails typed.
 */
import * as PgPool from "@pgfx/client/PgPool"
import { describe, expect, it } from "@effect/vitest"
import type { BackendMessage } from "@pgfx/protocol/Backend"
import type { ClientMessage } from "@pgfx/protocol/FrontendDecoder"
import * as MockBackend from "@pgfx/testing/MockBackend"
import { Effect, Exit } from "effect"

const answer = (tag: string) =>
  MockBackend.sendAll([
    { _tag: "CommandComplete", tag },
    { _tag: "ReadyForQuery", status: "I" },
  ])

const isReset = (m: ClientMessage) =>
  m._tag === "Query" && m.sql.startsWith("BEGIN;") && m.sql.includes("RESET ALL") && m.sql.endsWith("COMMIT")

/** The statements of a reset after a checkout that left no transaction: BEGIN, seven, COMMIT. */
const STATEMENTS = 9

/** The server's answer to a reset: one CommandComplete per statement (`completed` of them). */
const resetAnswer = (completed = STATEMENTS): Array<BackendMessage> => [
  ...Array.from({ length: completed }, (): BackendMessage => ({ _tag: "CommandComplete", tag: "OK" })),
  { _tag: "ReadyForQuery", status: "I" },
]

const poolOn = (mock: MockBackend.MockBackend) =>
  PgPool.make({ host: mock.host, port: mock.port, user: "u", database: "d", sslMode: "disable", min: 0, max: 1 })

/** The first error of a failed exit. */
const failureOf = (exit: Exit.Exit<unknown, unknown>) => (Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined)

describe("the pool's reset", () => {
  it.live("is written with the release; the next borrower's query follows before it is answered", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection(),
        MockBackend.expect({ _tag: "Query", sql: "SELECT 1" }),
        answer("SELECT 1"),
        MockBackend.expectMatch("the reset", isReset),
        // The server has not answered the reset yet, and the next query is already here.
        MockBackend.expect({ _tag: "Query", sql: "SELECT 2" }),
        MockBackend.sendAll(resetAnswer()),
        answer("SELECT 2"),
      ])
      const pool = yield* poolOn(mock)
      expect(yield* pool.execute("SELECT 1")).toBe("SELECT 1")
      expect(yield* pool.execute("SELECT 2")).toBe("SELECT 2")
      yield* mock.result
    }),
  )

  it.live("a checkout that sent nothing sends no reset", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection(),
        MockBackend.expect({ _tag: "Query", sql: "SELECT 1" }),
        answer("SELECT 1"),
        MockBackend.expectMatch("the reset", isReset),
        MockBackend.sendAll(resetAnswer()),
        // Two checkouts that sent nothing, then a query: no reset in between.
        MockBackend.expect({ _tag: "Query", sql: "SELECT 2" }),
        answer("SELECT 2"),
      ])
      const pool = yield* poolOn(mock)
      expect(yield* pool.execute("SELECT 1")).toBe("SELECT 1")
      yield* pool.withConnection(() => Effect.void)
      yield* pool.withConnection(() => Effect.void)
      expect(yield* pool.execute("SELECT 2")).toBe("SELECT 2")
      yield* mock.result
    }),
  )

  it.live("a refused reset closes the connection; the query pipelined behind it fails typed", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.makeMany([
        [
          MockBackend.acceptUnauthenticatedConnection(),
          MockBackend.expect({ _tag: "Query", sql: "SELECT 1" }),
          answer("SELECT 1"),
          MockBackend.expectMatch("the reset", isReset),
          MockBackend.expect({ _tag: "Query", sql: "SELECT 2" }),
          MockBackend.sendAll([
            { _tag: "CommandComplete", tag: "BEGIN" },
            {
              _tag: "ErrorResponse",
              fields: [
                ["S", "ERROR"],
                ["C", "22P02"],
                ["M", "invalid input syntax"],
              ],
            },
            { _tag: "ReadyForQuery", status: "E" },
            {
              _tag: "ErrorResponse",
              fields: [
                ["S", "ERROR"],
                ["C", "25P02"],
                ["M", "transaction is aborted"],
              ],
            },
            { _tag: "ReadyForQuery", status: "E" },
          ]),
        ],
        [
          MockBackend.acceptUnauthenticatedConnection(),
          MockBackend.expect({ _tag: "Query", sql: "SELECT 3" }),
          answer("SELECT 3"),
        ],
      ])
      const pool = yield* poolOn(mock)
      expect(yield* pool.execute("SELECT 1")).toBe("SELECT 1")
      const error = failureOf(yield* Effect.exit(pool.execute("SELECT 2")))
      expect(error).toMatchObject({ _tag: "Fail", error: { _tag: "PgConnectionError", reason: "Closed", sent: false } })
      expect(String((error as { error: { message: string } }).error.message)).toContain("the pool's reset failed")
      // The pool replaced the connection.
      expect(yield* pool.execute("SELECT 3")).toBe("SELECT 3")
      yield* mock.result
    }),
  )

  it.live("a ReadyForQuery before the reset's statements completed poisons the connection", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.makeMany([
        [
          MockBackend.acceptUnauthenticatedConnection(),
          MockBackend.expect({ _tag: "Query", sql: "SELECT 1" }),
          answer("SELECT 1"),
          MockBackend.expectMatch("the reset", isReset),
          MockBackend.expect({ _tag: "Query", sql: "SELECT 2" }),
          MockBackend.sendAll(resetAnswer(STATEMENTS - 1)),
        ],
        [
          MockBackend.acceptUnauthenticatedConnection(),
          MockBackend.expect({ _tag: "Query", sql: "SELECT 3" }),
          answer("SELECT 3"),
        ],
      ])
      const pool = yield* poolOn(mock)
      expect(yield* pool.execute("SELECT 1")).toBe("SELECT 1")
      const error = failureOf(yield* Effect.exit(pool.execute("SELECT 2")))
      expect(error).toMatchObject({ _tag: "Fail", error: { _tag: "PgProtocolError" } })
      expect(yield* pool.execute("SELECT 3")).toBe("SELECT 3")
      yield* mock.result
    }),
  )
})
