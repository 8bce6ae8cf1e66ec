/**
 * PgConnection against a scripted fake server: protocol edge cases a real PostgreSQL will not
 * produce on demand (garbage bytes, oversized messages, a close mid-query, an unsupported
 * authentication method, a FATAL outside any request).
 */
import * as PgError from "@pgfx/client/PgError"
import { describe, expect, it } from "@effect/vitest"
import * as BackendEncoder from "@pgfx/protocol/BackendEncoder"
import * as MockBackend from "@pgfx/testing/MockBackend"
import { Effect } from "effect"
import { failureOf } from "../../../test/support/failure.ts"
import { sessionOf } from "../../../test/support/pool.ts"
import { eventually } from "../../../test/support/wait.ts"
import { connectTo } from "./support/MockServer.ts"

describe("PgConnection against MockBackend", () => {
  it.live("reads the startup parameters and the backend key", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection({ server_version: "16.4" }, { processId: 777 }),
      ])
      const conn = yield* connectTo(mock)
      expect(conn.serverPid).toBe(777)
      expect(conn.serverVersion.major).toBe(16)
      expect(conn.serverVersion.micro).toBe(4)
      expect(conn.settings.get("TimeZone")).toBe("UTC")
    }),
  )

  it.live("garbage from the server is a PgProtocolError and closes the session", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection(),
        MockBackend.expectTag("Query"),
        // A ReadyForQuery with an invalid transaction status byte.
        MockBackend.sendRaw(new Uint8Array([0x5a, 0, 0, 0, 5, 0x21])),
      ])
      const conn = yield* connectTo(mock)
      const error = failureOf(yield* Effect.exit(conn.execute("SELECT 1")))
      expect(error._tag).toBe("PgProtocolError")
      expect(conn.isClosed).toBe(true)
    }),
  )

  it.live("a message over maxMessageSize is a typed PgProtocolError", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection(),
        MockBackend.expectTag("Query"),
        MockBackend.send({ _tag: "CommandComplete", tag: "x".repeat(2000) }),
      ])
      const conn = yield* connectTo(mock, { maxMessageSize: 1024 })
      const error = failureOf(yield* Effect.exit(conn.execute("SELECT 1")))
      expect(error._tag).toBe("PgProtocolError")
      expect(error.message).toContain("exceeds the limit")
    }),
  )

  it.live("a socket closed mid-query: the statement's outcome is unknown; later queries were never sent", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection(),
        MockBackend.expectTag("Query"),
        MockBackend.send({ _tag: "RowDescription", fields: [] }),
        MockBackend.closeConnection,
      ])
      const conn = yield* connectTo(mock)
      // Outside a transaction block the statement commits by itself: it may have.
      const error = failureOf(yield* Effect.exit(conn.execute("SELECT 1")))
      expect(error._tag).toBe("PgCommitUnknownError")
      expect(error._tag === "PgCommitUnknownError" && error.cause._tag).toBe("PgConnectionError")
      expect(PgError.isSafeToRetry(error)).toBe(false)
      expect(conn.isClosed).toBe(true)
      const after = failureOf(yield* Effect.exit(conn.execute("SELECT 1")))
      expect(after._tag).toBe("PgConnectionError")
      expect(after._tag === "PgConnectionError" && after.sent).toBe(false)
      expect(PgError.isSafeToRetry(after)).toBe(true)
    }),
  )

  it.live("a FATAL sent outside any request explains the close", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection(),
        MockBackend.send({
          _tag: "ErrorResponse",
          fields: [
            ["S", "FATAL"],
            ["V", "FATAL"],
            ["C", "57P01"],
            ["M", "terminating connection due to administrator command"],
          ],
        }),
        MockBackend.closeConnection,
      ])
      const conn = yield* connectTo(mock)
      yield* mock.result
      yield* eventually("the client sees the close", () => conn.isClosed)
      const error = failureOf(yield* Effect.exit(conn.execute("SELECT 1")))
      expect(error._tag).toBe("PgConnectionError")
      expect(error.message).toContain("57P01")
    }),
  )

  it.live("a request written after the server's FATAL (57P01 before work) was never read: safe to retry", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection(),
        MockBackend.send({
          _tag: "ErrorResponse",
          fields: [
            ["S", "FATAL"],
            ["V", "FATAL"],
            ["C", "57P01"],
            ["M", "terminating connection due to administrator command"],
          ],
        }),
        // The request reaches the socket before the close does; the backend has already quit.
        MockBackend.expectTag("Parse"),
        MockBackend.closeConnection,
      ])
      const conn = yield* connectTo(mock)
      yield* eventually("the client has read the FATAL", () => sessionOf(conn).fatal !== undefined)
      const error = failureOf(yield* Effect.exit(conn.execute("INSERT INTO t VALUES ($1)", [1])))
      expect(error._tag === "PgConnectionError" && error.sent).toBe(false)
      expect(PgError.isSafeToRetry(error)).toBe(true)
      expect(PgError.isTransient(error)).toBe(true)
    }),
  )

  it.live("a connection lost under the transaction's COMMIT is PgCommitUnknownError; under its statements, not", () =>
    Effect.gen(function* () {
      const begin = [
        MockBackend.expect({ _tag: "Query", sql: "BEGIN" }),
        MockBackend.sendAll([
          { _tag: "CommandComplete", tag: "BEGIN" },
          { _tag: "ReadyForQuery", status: "T" },
        ]),
      ]
      const mock = yield* MockBackend.makeMany([
        [
          MockBackend.acceptUnauthenticatedConnection(),
          ...begin,
          MockBackend.expect({ _tag: "Query", sql: "UPDATE t SET v = 1" }),
          MockBackend.sendAll([
            { _tag: "CommandComplete", tag: "UPDATE 1" },
            { _tag: "ReadyForQuery", status: "T" },
          ]),
          MockBackend.expect({ _tag: "Query", sql: "COMMIT" }),
          MockBackend.closeConnection,
        ],
        [
          MockBackend.acceptUnauthenticatedConnection(),
          ...begin,
          MockBackend.expect({ _tag: "Query", sql: "UPDATE t SET v = 1" }),
          MockBackend.closeConnection,
        ],
      ])
      const atCommit = yield* connectTo(mock)
      const unknown = failureOf(yield* Effect.exit(atCommit.transaction(atCommit.execute("UPDATE t SET v = 1"))))
      expect(unknown._tag).toBe("PgCommitUnknownError")
      expect(PgError.isSafeToRetry(unknown)).toBe(false)
      const atUpdate = yield* connectTo(mock)
      const lost = failureOf(yield* Effect.exit(atUpdate.transaction(atUpdate.execute("UPDATE t SET v = 1"))))
      expect(lost._tag).toBe("PgConnectionError")
      expect(PgError.isSafeToRetry(lost)).toBe(true)
    }),
  )

  it.live("an unsupported authentication method is a typed PgAuthenticationError", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.expectTag("StartupMessage"),
        MockBackend.send({ _tag: "AuthenticationGSS" }),
      ])
      const error = failureOf(yield* Effect.exit(connectTo(mock)))
      expect(error._tag).toBe("PgAuthenticationError")
      expect(error.message).toContain("GSS")
    }),
  )

  it.live("a server that skips SCRAM's final proof is refused", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.expectTag("StartupMessage"),
        MockBackend.send({ _tag: "AuthenticationSASL", mechanisms: ["SCRAM-SHA-256"] }),
        MockBackend.expectTag("AuthenticationResponse"),
        MockBackend.send({ _tag: "AuthenticationOk" }),
      ])
      const error = failureOf(yield* Effect.exit(connectTo(mock, { password: "pw" })))
      expect(error._tag).toBe("PgAuthenticationError")
    }),
  )

  it.live("frames split into single bytes are reassembled", () =>
    Effect.gen(function* () {
      const bytes = BackendEncoder.toBytes(
        { _tag: "RowDescription", fields: [] },
        { _tag: "CommandComplete", tag: "SELECT 0" },
        { _tag: "ReadyForQuery", status: "I" },
      )
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection(),
        MockBackend.expectTag("Query"),
        ...Array.from(bytes, (b) => [MockBackend.sendRaw(new Uint8Array([b])), MockBackend.wait(1)]).flat(),
      ])
      const conn = yield* connectTo(mock)
      expect(yield* conn.execute("SELECT")).toBe("SELECT 0")
    }),
  )
})
