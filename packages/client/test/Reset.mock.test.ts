/**
 * The pool's reset on the wire, against a scripted server: it is written with the release and the
 * next borrower's query follows it without waiting for its answer (no round trip); the first reset
 * of a session prepares the unlock, later ones are one simple query that `EXECUTE`s it; a checkout
 * that sent nothing sends no reset; a proxy's process id makes every later reset write the unlock
 * into its query; a reset the server refuses closes the connection, and what was pipelined behind
 * it fails typed.
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

/** The first statement of every reset: `BEGIN`, parsed with it. */
const isBegin = (m: ClientMessage) => m._tag === "Parse" && m.name === "" && m.sql === "BEGIN"

/**
 * The messages of one reset, from `BEGIN` to the simple query that ends it, each checked by `check` as it arrives (and
 * recorded in `seen`); `count` of them.
 */
const resetSteps = (seen: Array<ClientMessage>, count: number, check: (m: ClientMessage, i: number) => boolean) =>
  Array.from({ length: count }, (_, i) =>
    MockBackend.expectMatch(`reset message ${i}`, (m) => {
      seen.push(m)
      return check(m, i)
    }),
  )

/** A statement's answer: ParseComplete (when parsed here), BindComplete, rows, CommandComplete. */
const executed = (parsed: boolean, rows: ReadonlyArray<BackendMessage> = []): Array<BackendMessage> => [
  ...(parsed ? [{ _tag: "ParseComplete" } as const] : []),
  { _tag: "BindComplete" },
  ...rows,
  { _tag: "CommandComplete", tag: "OK" },
]

const done = (tag: string): BackendMessage => ({ _tag: "CommandComplete", tag })

/** The answer to the simple query of a reset: `BEGIN` (unless `begun`), the unlock's row, the rest, ReadyForQuery. */
const answerRest = (begun: boolean): Array<BackendMessage> => [
  ...(begun ? [] : [done("BEGIN")]),
  { _tag: "RowDescription", fields: [] },
  { _tag: "DataRow", fields: [new TextEncoder().encode("t"), new TextEncoder().encode("1")] },
  done("SELECT 1"),
  ...Array.from({ length: REST }, () => done("OK")),
  { _tag: "ReadyForQuery", status: "I" },
]

/** The server's answer to a reset: the first (`pid`: the process id it reports), or a later one. */
const replies = (kind: "first" | "later", pid = "4242"): Array<BackendMessage> =>
  kind === "first"
    ? [
        ...executed(true),
        ...executed(true, [{ _tag: "DataRow", fields: [new TextEncoder().encode(pid)] }]),
        ...Array.from({ length: NAMED }).flatMap((): Array<BackendMessage> => [
          { _tag: "CloseComplete" },
          { _tag: "ParseComplete" },
        ]),
        { _tag: "ReadyForQuery", status: "T" },
        ...answerRest(true),
      ]
    : answerRest(false)

/** Named statements of the reset (see internal/Reset.ts): the unlock, with and without the check. */
const NAMED = 2
/** Statements after the unlock: the undoing ones and `COMMIT`. */
const REST = 7
/** BEGIN (3), the process id (3), Close + Parse per named statement, Sync, the simple query. */
const FIRST = 6 + 2 * NAMED + 1 + 1

/** The simple query of a reset: `unlock` (how the unlock is run) between `start` and the rest, then `COMMIT`. */
const isRest = (m: ClientMessage, start: string, unlock: (part: string) => boolean) => {
  if (m._tag !== "Query" || !m.sql.startsWith(start) || !m.sql.endsWith("; COMMIT")) return false
  return unlock(m.sql.slice(start.length).split("; ")[0]!)
}
const executesNamed = (part: string) => part === "EXECUTE pgfx_reset_1"

const poolOn = (mock: MockBackend.MockBackend) =>
  PgPool.make({ host: mock.host, port: mock.port, user: "u", database: "d", sslMode: "disable", min: 0, max: 1 })

describe("the pool's reset", () => {
  it.live("is written with the release; the next borrower's query follows before it is answered", () =>
    Effect.gen(function* () {
      const first: Array<ClientMessage> = []
      const later: Array<ClientMessage> = []
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection(),
        MockBackend.expect({ _tag: "Query", sql: "SELECT 1" }),
        answer("SELECT 1"),
        // The first reset prepares its statements (and asks for the server's process id).
        resetSteps(first, FIRST, (m, i) =>
          i === 0
            ? isBegin(m)
            : i === FIRST - 1
              ? isRest(m, "", executesNamed)
              : i === FIRST - 2
                ? m._tag === "Sync"
                : i >= 6 && i < 6 + 2 * NAMED
                  ? m._tag === (i % 2 === 0 ? "Close" : "Parse") && m.name === `pgfx_reset_${(i - 6) >> 1}`
                  : true,
        ),
        // The server has not answered the reset yet, and the next query is already here.
        MockBackend.expect({ _tag: "Query", sql: "SELECT 2" }),
        MockBackend.sendAll(replies("first")),
        answer("SELECT 2"),
        // Later resets are one simple query that executes the prepared unlock.
        resetSteps(later, 1, (m) => isRest(m, "BEGIN; ", executesNamed)),
        MockBackend.expect({ _tag: "Query", sql: "SELECT 3" }),
        MockBackend.sendAll(replies("later")),
        answer("SELECT 3"),
      ])
      const pool = yield* poolOn(mock)
      expect(yield* pool.execute("SELECT 1")).toBe("SELECT 1")
      expect(yield* pool.execute("SELECT 2")).toBe("SELECT 2")
      expect(yield* pool.execute("SELECT 3")).toBe("SELECT 3")
      yield* mock.result
    }),
  )

  it.live("a checkout that sent nothing sends no reset", () =>
    Effect.gen(function* () {
      const seen: Array<ClientMessage> = []
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection(),
        MockBackend.expect({ _tag: "Query", sql: "SELECT 1" }),
        answer("SELECT 1"),
        resetSteps(seen, FIRST, (m, i) => i !== 0 || isBegin(m)),
        MockBackend.sendAll(replies("first")),
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

  it.live("behind a proxy (another process id), later resets use no named statement", () =>
    Effect.gen(function* () {
      const first: Array<ClientMessage> = []
      const later: Array<ClientMessage> = []
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection(),
        MockBackend.expect({ _tag: "Query", sql: "SELECT 1" }),
        answer("SELECT 1"),
        resetSteps(first, FIRST, (m, i) => i !== 0 || isBegin(m)),
        // The server behind the proxy is not the process BackendKeyData named.
        MockBackend.sendAll(replies("first", "777")),
        MockBackend.expect({ _tag: "Query", sql: "SELECT 2" }),
        answer("SELECT 2"),
        // The unlock is written into the simple query: nothing named is used.
        resetSteps(later, 1, (m) =>
          isRest(m, "BEGIN; ", (part) => part.startsWith("SELECT pg_catalog.pg_advisory_unlock_all()")),
        ),
        MockBackend.sendAll(replies("later")),
        MockBackend.expect({ _tag: "Query", sql: "SELECT 3" }),
        answer("SELECT 3"),
      ])
      const pool = yield* poolOn(mock)
      expect(yield* pool.execute("SELECT 1")).toBe("SELECT 1")
      expect(yield* pool.execute("SELECT 2")).toBe("SELECT 2")
      expect(yield* pool.execute("SELECT 3")).toBe("SELECT 3")
      yield* mock.result
    }),
  )

  it.live("a refused reset closes the connection; the query pipelined behind it fails typed", () =>
    Effect.gen(function* () {
      const seen: Array<ClientMessage> = []
      const mock = yield* MockBackend.makeMany([
        [
          MockBackend.acceptUnauthenticatedConnection(),
          MockBackend.expect({ _tag: "Query", sql: "SELECT 1" }),
          answer("SELECT 1"),
          resetSteps(seen, FIRST, (m, i) => i !== 0 || isBegin(m)),
          MockBackend.expect({ _tag: "Query", sql: "SELECT 2" }),
          MockBackend.sendAll([
            { _tag: "ParseComplete" },
            { _tag: "BindComplete" },
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
      const exit = yield* Effect.exit(pool.execute("SELECT 2"))
      expect(exit).toMatchObject({ _tag: "Failure" })
      const error = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
      expect(error).toMatchObject({ _tag: "Fail", error: { _tag: "PgConnectionError", reason: "Closed", sent: false } })
      expect(String((error as { error: { message: string } }).error.message)).toContain("the pool's reset failed")
      // The pool replaced the connection.
      expect(yield* pool.execute("SELECT 3")).toBe("SELECT 3")
      yield* mock.result
    }),
  )
})
