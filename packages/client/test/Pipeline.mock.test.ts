/**
 * What goes on the wire, checked against a scripted server: concurrent requests are pipelined
 * (or sent one at a time with `pipelining: false`), and `executeMany` sends one Bind/Execute
 * pair per argument set followed by a single Sync.
 */
import { describe, expect, it } from "@effect/vitest"
import * as MockBackend from "@pgfx/testing/MockBackend"
import { Effect, Fiber } from "effect"
import { waitUntil } from "../../../test/support/wait.ts"
import { connectTo } from "./support/MockServer.ts"

const answer = (tag: string) =>
  MockBackend.sendAll([
    { _tag: "CommandComplete", tag },
    { _tag: "ReadyForQuery", status: "I" },
  ])

/** Two concurrent simple queries; the server answers the first only after a pause. */
const twoQueries = (pipelining: boolean) =>
  Effect.gen(function* () {
    const mock = yield* MockBackend.make([
      MockBackend.acceptUnauthenticatedConnection(),
      MockBackend.expect({ _tag: "Query", sql: "SELECT 1" }),
      MockBackend.wait(300),
      answer("SELECT 1"),
      MockBackend.expect({ _tag: "Query", sql: "SELECT 2" }),
      answer("SELECT 2"),
    ])
    const conn = yield* connectTo(mock, { pipelining })
    const queries = Effect.map(mock.received(), (received) => received.filter((m) => m._tag === "Query").length)
    const first = yield* Effect.forkChild(conn.execute("SELECT 1"))
    yield* waitUntil(
      "the server has the first query",
      Effect.map(queries, (n) => n === 1),
    )
    const second = yield* Effect.forkChild(conn.execute("SELECT 2"))
    // The server holds the first answer for 300 ms. Pipelined, the second query arrives meanwhile;
    // not pipelined, it must not arrive before that answer: look 150 ms into the pause.
    if (pipelining)
      yield* waitUntil(
        "the server has the second query",
        Effect.map(queries, (n) => n === 2),
      )
    else yield* Effect.sleep("150 millis")
    const sentBeforeAnswer = yield* queries
    expect(yield* Fiber.join(first)).toBe("SELECT 1")
    expect(yield* Fiber.join(second)).toBe("SELECT 2")
    yield* mock.result
    return sentBeforeAnswer
  })

describe("pipelining", () => {
  it.live("concurrent requests are written without waiting for earlier answers", () =>
    Effect.gen(function* () {
      expect(yield* twoQueries(true)).toBe(2)
    }),
  )

  it.live("pipelining: false writes the next request only after the previous one's ReadyForQuery", () =>
    Effect.gen(function* () {
      expect(yield* twoQueries(false)).toBe(1)
    }),
  )

  it.live("executeMany sends Bind/Execute per argument set and a single Sync", () =>
    Effect.gen(function* () {
      const sql = "INSERT INTO t VALUES ($1)"
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection(),
        MockBackend.expectMatch("Close", (m) => m._tag === "Close" && m.kind === "S" && m.name.startsWith("pgfx_")),
        MockBackend.expectMatch("Parse", (m) => m._tag === "Parse" && m.sql === sql && m.name.startsWith("pgfx_")),
        MockBackend.expectMatch(
          "Describe",
          (m) => m._tag === "Describe" && m.kind === "S" && m.name.startsWith("pgfx_"),
        ),
        MockBackend.expectTag("Sync"),
        MockBackend.sendAll([
          { _tag: "CloseComplete" },
          { _tag: "ParseComplete" },
          { _tag: "ParameterDescription", typeOids: [23] },
          { _tag: "NoData" },
          { _tag: "ReadyForQuery", status: "I" },
        ]),
        ...[1, 2, 3].flatMap(() => [MockBackend.expectTag("Bind"), MockBackend.expectTag("Execute")]),
        MockBackend.expectTag("Sync"),
        MockBackend.sendAll([
          ...[1, 2, 3].flatMap(() => [
            { _tag: "BindComplete" } as const,
            { _tag: "CommandComplete", tag: "INSERT 0 1" } as const,
          ]),
          { _tag: "ReadyForQuery", status: "I" },
        ]),
      ])
      const conn = yield* connectTo(mock)
      yield* conn.executeMany(sql, [[1], [2], [3]])
      yield* mock.result
    }),
  )
})
