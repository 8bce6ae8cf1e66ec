/**
 * The pool's reset on the wire, against a scripted server: it is written with the release and the
 * next borrower's query follows it without waiting for its answer (no round trip); its statements
 * are prepared once per session, then only bound and executed; a checkout that sent nothing sends
 * no reset; a proxy's process id makes every later reset parse its statements; a reset the server
 * refuses closes the connection, and what was pipelined behind it fails typed.
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

/** The server's answer to a reset: the first (`pid`: the process id it reports), a later one, an unnamed one. */
const replies = (kind: "first" | "later" | "unnamed", pid = "4242"): Array<BackendMessage> => [
  ...executed(true),
  ...(kind === "first"
    ? [
        ...executed(true, [{ _tag: "DataRow", fields: [new TextEncoder().encode(pid)] }]),
        ...Array.from({ length: NAMED }).flatMap((): Array<BackendMessage> => [
          { _tag: "CloseComplete" },
          { _tag: "ParseComplete" },
        ]),
      ]
    : []),
  ...executed(kind === "unnamed"),
  ...Array.from({ length: REST }, (): BackendMessage => ({ _tag: "CommandComplete", tag: "OK" })),
  { _tag: "ReadyForQuery", status: "I" },
]

/** Named statements of the reset (see internal/Reset.ts): the unlock, with and without the check. */
const NAMED = 2
/** Statements of the simple query that ends a reset: the undoing ones and `COMMIT`. */
const REST = 7
/** BEGIN (3), the process id (3), Close + Parse per named statement, Bind + Execute of the checked unlock, the query. */
const FIRST = 6 + 2 * NAMED + 2 + 1
/** BEGIN (3), Bind + Execute of the checked unlock, the query. */
const LATER = 3 + 2 + 1
/** BEGIN (3), Parse + Bind + Execute of the checked unlock, the query. */
const UNNAMED = 3 + 3 + 1

/** The simple query that ends a reset: undoes the rest, then commits. */
const isRest = (m: ClientMessage) => m._tag === "Query" && m.sql.startsWith("CLOSE ALL; ") && m.sql.endsWith("; COMMIT")

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
              ? isRest(m)
              : i >= 6 && i < 6 + 2 * NAMED
                ? m._tag === (i % 2 === 0 ? "Close" : "Parse") && m.name === `pgfx_reset_${(i - 6) >> 1}`
                : true,
        ),
        // The server has not answered the reset yet, and the next query is already here.
        MockBackend.expect({ _tag: "Query", sql: "SELECT 2" }),
        MockBackend.sendAll(replies("first")),
        answer("SELECT 2"),
        // Later resets only bind and execute the named statements.
        resetSteps(later, LATER, (m, i) =>
          i === 0
            ? isBegin(m)
            : i === LATER - 1
              ? isRest(m)
              : i >= 3 && i % 2 === 1
                ? m._tag === "Bind" && m.statement.startsWith("pgfx_reset_")
                : i < 3 || m._tag === "Execute",
        ),
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

  it.live("behind a proxy (another process id), later resets parse their statements every time", () =>
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
        resetSteps(later, UNNAMED, (m, i) =>
          i === UNNAMED - 1
            ? isRest(m)
            : i % 3 === 0
              ? m._tag === "Parse" && m.name === ""
              : i % 3 === 1
                ? m._tag === "Bind" && m.statement === ""
                : m._tag === "Execute",
        ),
        MockBackend.sendAll(replies("unnamed")),
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
