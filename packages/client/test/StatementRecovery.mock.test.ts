/**
 * What goes on the wire when a pooler runs a batch on a server connection that does not hold a
 * prepared statement (26000 at Bind): outside a transaction, the call is re-sent once as Close +
 * Parse + Bind + Describe portal + Execute in one batch ending in one Sync, under the same
 * digest name; inside one, the failure is typed and names the pooler option.
 */
import { describe, expect, it } from "@effect/vitest"
import type { BackendMessage, FieldDescription } from "@pgfx/protocol/Backend"
import type { ClientMessage } from "@pgfx/protocol/FrontendDecoder"
import * as MockBackend from "@pgfx/testing/MockBackend"
import { Effect, Option } from "effect"
import { failureOf } from "../../../test/support/failure.ts"
import { connectTo } from "./support/MockServer.ts"

const sql = "SELECT $1::int4 AS v"
const field: FieldDescription = {
  name: "v",
  tableOid: 0,
  columnAttribute: 0,
  typeOid: 23,
  typeSize: 4,
  typeModifier: -1,
  format: 0,
}
const int4 = (n: number) => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setInt32(0, n)
  return b
}
const ready = (status: "I" | "T" | "E"): BackendMessage => ({ _tag: "ReadyForQuery", status })
const missing = (name: string): BackendMessage => ({
  _tag: "ErrorResponse",
  fields: [
    ["S", "ERROR"],
    ["C", "26000"],
    ["M", `prepared statement "${name}" does not exist`],
  ],
})
const tags = (ms: ReadonlyArray<ClientMessage>) => ms.map((m) => m._tag)

/** The connection's preparation of `sql` (Close + Parse + Describe + Sync), answered. */
const prepared = (status: "I" | "T") => [
  MockBackend.expectMatch("Close of the digest name", (m) => m._tag === "Close" && /^pgfx_.{22}$/.test(m.name)),
  MockBackend.expectMatch("Parse", (m) => m._tag === "Parse" && m.sql === sql),
  MockBackend.expectTag("Describe"),
  MockBackend.expectTag("Sync"),
  MockBackend.sendAll([
    { _tag: "CloseComplete" },
    { _tag: "ParseComplete" },
    { _tag: "ParameterDescription", typeOids: [23] },
    { _tag: "RowDescription", fields: [field] },
    ready(status),
  ]),
]

describe("a prepared statement missing on the server connection (26000)", () => {
  it.live("outside a transaction: re-sent once with Close + Parse in the same batch", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection(),
        ...prepared("I"),
        MockBackend.expectTag("Bind"),
        MockBackend.expectTag("Execute"),
        MockBackend.expectTag("Sync"),
        MockBackend.sendAll([missing("x"), ready("I")]),
        ...["Close", "Parse", "Bind", "Describe", "Execute", "Sync"].map((t) =>
          MockBackend.expectTag(t as ClientMessage["_tag"]),
        ),
        MockBackend.sendAll([
          { _tag: "CloseComplete" },
          { _tag: "ParseComplete" },
          { _tag: "BindComplete" },
          { _tag: "RowDescription", fields: [field] },
          { _tag: "DataRow", fields: [int4(7)] },
          { _tag: "CommandComplete", tag: "SELECT 1" },
          ready("I"),
        ]),
      ])
      const conn = yield* connectTo(mock)
      expect(Option.getOrThrow(yield* conn.fetchVal(sql, [7]))).toBe(7)
      yield* mock.result
      const sent = yield* mock.received()
      const names = sent.flatMap((m) =>
        m._tag === "Parse" || m._tag === "Bind" ? [m._tag === "Parse" ? m.name : m.statement] : [],
      )
      // One name throughout: the digest of the SQL.
      expect(new Set(names).size).toBe(1)
      expect(tags(sent.slice(-6))).toEqual(["Close", "Parse", "Bind", "Describe", "Execute", "Sync"])
    }),
  )

  it.live("inside a transaction: a typed error naming the pooler option", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection(),
        MockBackend.expect({ _tag: "Query", sql: "BEGIN" }),
        MockBackend.sendAll([{ _tag: "CommandComplete", tag: "BEGIN" }, ready("T")]),
        ...prepared("T"),
        // Asked once, before the first cached statement inside a transaction: the same pid as
        // BackendKeyData (4242), so no proxy.
        MockBackend.expect({ _tag: "Query", sql: "SELECT pg_catalog.pg_backend_pid()" }),
        MockBackend.sendAll([
          { _tag: "RowDescription", fields: [{ ...field, name: "pg_backend_pid" }] },
          { _tag: "DataRow", fields: [new TextEncoder().encode("4242")] },
          { _tag: "CommandComplete", tag: "SELECT 1" },
          ready("T"),
        ]),
        MockBackend.expectTag("Bind"),
        MockBackend.expectTag("Execute"),
        MockBackend.expectTag("Sync"),
        MockBackend.sendAll([missing("x"), ready("E")]),
        MockBackend.expect({ _tag: "Query", sql: "ROLLBACK" }),
        MockBackend.sendAll([{ _tag: "CommandComplete", tag: "ROLLBACK" }, ready("I")]),
      ])
      const conn = yield* connectTo(mock)
      const error = failureOf(
        yield* Effect.exit(conn.transaction(Effect.map(conn.fetchVal(sql, [7]), Option.getOrThrow))),
      )
      expect(error._tag).toBe("PgInvalidCachedStatementError")
      expect(error.message).toContain("namedStatements: false")
      yield* mock.result
    }),
  )
})
