/**
 * Connecting and interrupting against scripted servers, for the situations a real server does
 * not produce on demand: SSL negotiation answers, a server without in_hot_standby (pre-14), an
 * authentication request the client refuses, a statement that finishes just before its cancel,
 * and a cancel that is never confirmed.
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import { describe, expect, it } from "@effect/vitest"
import type { BackendMessage } from "@pgfx/protocol/Backend"
import type { ClientMessage } from "@pgfx/protocol/FrontendDecoder"
import * as MockBackend from "@pgfx/testing/MockBackend"
import { Effect } from "effect"
import { failureOf } from "../../../test/support/failure.ts"
import { connectTo } from "./support/MockServer.ts"

const ready = (status: "I" | "T" | "E" = "I"): BackendMessage => ({ _tag: "ReadyForQuery", status })
const text = (s: string) => new TextEncoder().encode(s)
const rows = (value: string): ReadonlyArray<BackendMessage> => [
  {
    _tag: "RowDescription",
    fields: [{ name: "v", tableOid: 0, columnAttribute: 0, typeOid: 25, typeSize: -1, typeModifier: -1, format: 0 }],
  },
  { _tag: "DataRow", fields: [text(value)] },
  { _tag: "CommandComplete", tag: "SELECT 1" },
  ready(),
]
const sslAnswer = (bytes: ReadonlyArray<number>) => [
  MockBackend.expectTag("SSLRequest"),
  MockBackend.sendRaw(new Uint8Array(bytes)),
]

describe("SSL negotiation", () => {
  it.live("sslmode=require and a server without TLS: a typed Tls error", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make(sslAnswer([0x4e]))
      const error = failureOf(yield* Effect.exit(connectTo(mock, { sslMode: "require" })))
      expect(error._tag === "PgConnectionError" && error.reason).toBe("Tls")
    }),
  )

  it.live("sslmode=prefer and a server without TLS: continues in clear on the same connection", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([...sslAnswer([0x4e]), MockBackend.acceptUnauthenticatedConnection()])
      const conn = yield* connectTo(mock, { sslMode: "prefer" })
      expect(conn.serverPid).toBe(4242)
      yield* mock.result
    }),
  )

  it.live("sslmode=prefer does not retry when the session was in clear anyway", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.makeMany([
        [
          ...sslAnswer([0x4e]),
          MockBackend.expectTag("StartupMessage"),
          MockBackend.send({
            _tag: "ErrorResponse",
            fields: [
              ["S", "FATAL"],
              ["C", "28P01"],
              ["M", "password authentication failed"],
            ],
          }),
          MockBackend.closeConnection,
        ],
        [MockBackend.expectTag("StartupMessage")],
      ])
      const error = failureOf(yield* Effect.exit(connectTo(mock, { sslMode: "prefer" })))
      expect(error._tag === "PgServerError" && error.code).toBe("28P01")
      expect(yield* mock.received(1)).toEqual([])
    }),
  )

  it.live("bytes after the 'S' answer are refused (they would be unencrypted)", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make(sslAnswer([0x53, 0x45, 0, 0, 0, 4]))
      const error = failureOf(yield* Effect.exit(connectTo(mock, { sslMode: "require" })))
      expect(error._tag).toBe("PgProtocolError")
    }),
  )
})

describe("target_session_attrs on servers that do not report in_hot_standby (PostgreSQL < 14)", () => {
  it.live("read-write asks SHOW transaction_read_only and refuses a read-only server", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection({ server_version: "13.9" }),
        MockBackend.expect({ _tag: "Query", sql: "SHOW transaction_read_only" }),
        MockBackend.sendAll(rows("on")),
        MockBackend.expectTag("Terminate"),
      ])
      const error = failureOf(yield* Effect.exit(connectTo(mock, { targetSessionAttrs: "read-write" })))
      expect(error._tag === "PgConnectionError" && error.reason).toBe("TargetSessionAttrs")
      yield* mock.result
    }),
  )

  it.live("primary asks pg_is_in_recovery() and accepts a primary", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection({ server_version: "13.9" }),
        MockBackend.expect({ _tag: "Query", sql: "SELECT pg_catalog.pg_is_in_recovery()" }),
        MockBackend.sendAll(rows("f")),
      ])
      const conn = yield* connectTo(mock, { targetSessionAttrs: "primary" })
      expect(conn.isClosed).toBe(false)
      yield* mock.result
    }),
  )
})

describe("authentication the client refuses", () => {
  const refuse = (request: BackendMessage, extra: PgConnection.PgConnectionOptions) =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([MockBackend.expectTag("StartupMessage"), MockBackend.send(request)])
      return failureOf(yield* Effect.exit(connectTo(mock, { password: "pw", ...extra })))
    })

  it.live("channel_binding=require refuses trust, cleartext, MD5 and SCRAM without TLS", () =>
    Effect.gen(function* () {
      for (const request of [
        { _tag: "AuthenticationOk" },
        { _tag: "AuthenticationCleartextPassword" },
        { _tag: "AuthenticationMD5Password", salt: new Uint8Array([1, 2, 3, 4]) },
        { _tag: "AuthenticationSASL", mechanisms: ["SCRAM-SHA-256"] },
      ] as const) {
        const error = yield* refuse(request, { channelBinding: "require" })
        expect(error._tag).toBe("PgAuthenticationError")
        expect(error.message).not.toContain("pw")
      }
    }),
  )

  it.live("require_auth with negation: !md5 refuses MD5, !none refuses trust", () =>
    Effect.gen(function* () {
      const md5 = yield* refuse(
        { _tag: "AuthenticationMD5Password", salt: new Uint8Array([1, 2, 3, 4]) },
        { requireAuth: "!md5" },
      )
      expect(md5._tag).toBe("PgAuthenticationError")
      const trust = yield* refuse({ _tag: "AuthenticationOk" }, { requireAuth: "!none" })
      expect(trust._tag).toBe("PgAuthenticationError")
    }),
  )

  it.live("require_auth=!md5 still answers a cleartext request; none accepts trust", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.expectTag("StartupMessage"),
        MockBackend.send({ _tag: "AuthenticationCleartextPassword" }),
        MockBackend.expectTag("AuthenticationResponse"),
        MockBackend.acceptUnauthenticatedConnection().slice(1),
      ])
      yield* connectTo(mock, { password: "pw", requireAuth: "!md5" })
      yield* mock.result
      const trusting = yield* MockBackend.make([MockBackend.acceptUnauthenticatedConnection()])
      yield* connectTo(trusting, { requireAuth: "none" })
    }),
  )

  it.live("a password Effect is evaluated per connection attempt; its failure is typed", () =>
    Effect.gen(function* () {
      let calls = 0
      const token = Effect.sync(() => `token-${++calls}`)
      const seen: Array<string> = []
      for (let i = 0; i < 2; i++) {
        const mock = yield* MockBackend.make([
          MockBackend.expectTag("StartupMessage"),
          MockBackend.send({ _tag: "AuthenticationCleartextPassword" }),
          MockBackend.expectTag("AuthenticationResponse"),
          MockBackend.acceptUnauthenticatedConnection().slice(1),
        ])
        yield* Effect.scoped(connectTo(mock, { password: token }))
        const received = yield* mock.received()
        const response = received.find((m) => m._tag === "AuthenticationResponse")
        if (response?._tag === "AuthenticationResponse") seen.push(new TextDecoder().decode(response.body))
      }
      expect(seen).toEqual(["token-1\0", "token-2\0"])
      const mock = yield* MockBackend.make([])
      const error = failureOf(yield* Effect.exit(connectTo(mock, { password: Effect.fail("vault down") })))
      expect(error._tag).toBe("PgAuthenticationError")
    }),
  )

  it.live("min_protocol_version=3.2 refuses a server that negotiates 3.0", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.expectTag("StartupMessage"),
        MockBackend.send({ _tag: "NegotiateProtocolVersion", newestMinor: 0, unrecognized: [] }),
        MockBackend.acceptUnauthenticatedConnection().slice(1),
        MockBackend.expectTag("Terminate"),
      ])
      const error = failureOf(yield* Effect.exit(connectTo(mock, { minProtocolVersion: "3.2" })))
      expect(error._tag).toBe("PgConnectionError")
      expect(error.message).toContain("min_protocol_version")
    }),
  )
})

describe("protocol negotiation behind poolers", () => {
  const v30 = 3 << 16
  const v32 = (3 << 16) | 2
  // What PgBouncer 1.18 answers to a 3.2 StartupMessage.
  const badHeader = [
    MockBackend.expectStartup({}, v32),
    MockBackend.send({
      _tag: "ErrorResponse",
      fields: [
        ["S", "FATAL"],
        ["C", "08P01"],
        ["M", "bad packet header: '0000005400030002'"],
      ],
    }),
    MockBackend.closeConnection,
  ]
  const accept30 = [MockBackend.expectStartup({}, v30), ...MockBackend.acceptUnauthenticatedConnection().slice(1)]

  it.live("asks for protocol 3.0 by default (as libpq 18 does)", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make(accept30)
      const conn = yield* connectTo(mock)
      expect(conn.protocolVersion).toBe("3.0")
      yield* mock.result
    }),
  )

  it.live("a 3.2 startup rejected outright is sent again as 3.0 on a new connection", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.makeMany([badHeader, accept30])
      const conn = yield* connectTo(mock, { protocolVersion: "3.2" })
      expect(conn.protocolVersion).toBe("3.0")
      yield* mock.result
    }),
  )

  it.live("a connection closed without an answer to 3.2 is retried as 3.0 too", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.makeMany([
        [MockBackend.expectStartup({}, v32), MockBackend.closeConnection],
        accept30,
      ])
      const conn = yield* connectTo(mock, { protocolVersion: "3.2" })
      expect(conn.protocolVersion).toBe("3.0")
    }),
  )

  it.live("min_protocol_version=3.2 forbids the retry: the server's error is returned", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.makeMany([badHeader, accept30])
      const error = failureOf(yield* Effect.exit(connectTo(mock, { minProtocolVersion: "3.2" })))
      expect(error._tag === "PgServerError" && error.code).toBe("08P01")
      expect(yield* mock.received(1)).toEqual([])
    }),
  )

  it.live("a direct TLS handshake the server does not answer is tried again with an SSLRequest", () =>
    Effect.gen(function* () {
      // A server (or pooler) that does not speak direct TLS drops the ClientHello.
      const mock = yield* MockBackend.makeMany([[MockBackend.closeConnection], sslAnswer([0x4e])])
      const error = failureOf(yield* Effect.exit(connectTo(mock, { sslMode: "require", sslNegotiation: "direct" })))
      // The second try negotiated with an SSLRequest; still TLS only, so "no TLS" is an error.
      expect((yield* mock.received(1)).map((m) => m._tag)).toEqual(["SSLRequest"])
      expect(error._tag === "PgConnectionError" && error.reason).toBe("Tls")
      expect(error.message).toContain("does not support TLS")
    }),
  )

  it.live("an error about the user (class 28) is not retried: the request was understood", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.makeMany([
        [
          MockBackend.expectStartup({}, v32),
          MockBackend.send({
            _tag: "ErrorResponse",
            fields: [
              ["S", "FATAL"],
              ["C", "28000"],
              ["M", "no pg_hba.conf entry"],
            ],
          }),
          MockBackend.closeConnection,
        ],
        accept30,
      ])
      const error = failureOf(yield* Effect.exit(connectTo(mock, { protocolVersion: "3.2" })))
      expect(error._tag === "PgServerError" && error.code).toBe("28000")
      expect(yield* mock.received(1)).toEqual([])
    }),
  )

  it.live("a failure after authentication (pgpool-II relaying PostgreSQL 18's long cancel key) is retried as 3.0", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.makeMany([
        [
          MockBackend.expectStartup({}, v32),
          MockBackend.sendAll([
            { _tag: "AuthenticationOk" },
            {
              _tag: "ErrorResponse",
              fields: [
                ["S", "ERROR"],
                ["C", "XX000"],
                ["M", "authentication failed"],
                ["D", "invalid messages length(40) for BackendKeyData"],
              ],
            },
          ]),
          MockBackend.closeConnection,
        ],
        accept30,
      ])
      const conn = yield* connectTo(mock, { protocolVersion: "3.2" })
      expect(conn.protocolVersion).toBe("3.0")
    }),
  )
})

describe("interrupting a statement", () => {
  const secretKey = new Uint8Array([9, 8, 7, 6])
  const isCancel = (m: ClientMessage) => m._tag === "CancelRequest" && m.processId === 4242

  it.live("a statement that finished before its cancel arrived still aborts its transaction", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.makeMany([
        [
          MockBackend.acceptUnauthenticatedConnection({}, { secretKey }),
          MockBackend.expect({ _tag: "Query", sql: "BEGIN" }),
          MockBackend.sendAll([{ _tag: "CommandComplete", tag: "BEGIN" }, ready("T")]),
          MockBackend.expect({ _tag: "Query", sql: "INSERT INTO t VALUES (1)" }),
          // The statement completes normally, before the cancel is processed.
          MockBackend.wait(100),
          MockBackend.sendAll([{ _tag: "CommandComplete", tag: "INSERT 0 1" }, ready("T")]),
          // Then the client aborts the transaction, and only then runs the next statement.
          MockBackend.expectMatch(
            "the transaction-aborting statement",
            (m) => m._tag === "Query" && m.sql.includes("RAISE EXCEPTION"),
          ),
          MockBackend.sendAll([
            {
              _tag: "ErrorResponse",
              fields: [
                ["S", "ERROR"],
                ["C", "57014"],
                ["M", "interrupted"],
              ],
            },
            ready("E"),
          ]),
          MockBackend.expect({ _tag: "Query", sql: "COMMIT" }),
          MockBackend.sendAll([{ _tag: "CommandComplete", tag: "ROLLBACK" }, ready("I")]),
        ],
        [MockBackend.expectMatch("CancelRequest", isCancel), MockBackend.wait(200), MockBackend.closeConnection],
      ])
      const conn = yield* connectTo(mock)
      yield* conn.execute("BEGIN")
      const error = failureOf(
        yield* Effect.exit(conn.execute("INSERT INTO t VALUES (1)", undefined, { timeout: "20 millis" })),
      )
      expect(error._tag).toBe("PgTimeoutError")
      expect(conn.transactionStatus).toBe("failed")
      expect(yield* conn.execute("COMMIT")).toBe("ROLLBACK")
      yield* mock.result
    }),
  )

  it.live("later requests wait until the cancel is confirmed", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.makeMany([
        [
          MockBackend.acceptUnauthenticatedConnection({}, { secretKey }),
          MockBackend.expect({ _tag: "Query", sql: "SELECT slow()" }),
          MockBackend.wait(50),
          MockBackend.sendAll([
            {
              _tag: "ErrorResponse",
              fields: [
                ["S", "ERROR"],
                ["C", "57014"],
                ["M", "canceled"],
              ],
            },
            ready(),
          ]),
          MockBackend.expect({ _tag: "Query", sql: "SELECT next()" }),
          MockBackend.sendAll([{ _tag: "CommandComplete", tag: "SELECT 0" }, ready()]),
        ],
        [MockBackend.expectMatch("CancelRequest", isCancel), MockBackend.wait(300), MockBackend.closeConnection],
      ])
      const conn = yield* connectTo(mock)
      const started = Date.now()
      const error = failureOf(yield* Effect.exit(conn.execute("SELECT slow()", undefined, { timeout: "10 millis" })))
      expect(error._tag).toBe("PgTimeoutError")
      yield* conn.execute("SELECT next()")
      // "SELECT next()" could only be sent once the cancel connection was closed by the server.
      expect(Date.now() - started).toBeGreaterThanOrEqual(280)
      yield* mock.result
    }),
  )

  it.live("a delivered cancel that did not stop the statement is sent again", () =>
    Effect.gen(function* () {
      const ignoredCancel = [MockBackend.expectMatch("CancelRequest", isCancel), MockBackend.closeConnection]
      const mock = yield* MockBackend.makeMany([
        [
          MockBackend.acceptUnauthenticatedConnection({}, { secretKey }),
          MockBackend.expect({ _tag: "Query", sql: "SELECT slow()" }),
          // The statement ignores the first cancels (as if they arrived before it started).
          MockBackend.wait(700),
          MockBackend.sendAll([
            {
              _tag: "ErrorResponse",
              fields: [
                ["S", "ERROR"],
                ["C", "57014"],
                ["M", "canceled"],
              ],
            },
            ready(),
          ]),
          MockBackend.expect({ _tag: "Query", sql: "SELECT next()" }),
          MockBackend.sendAll([{ _tag: "CommandComplete", tag: "SELECT 0" }, ready()]),
        ],
        ...Array.from({ length: 8 }, () => ignoredCancel),
      ])
      const conn = yield* connectTo(mock)
      const error = failureOf(yield* Effect.exit(conn.execute("SELECT slow()", undefined, { timeout: "10 millis" })))
      expect(error._tag).toBe("PgTimeoutError")
      yield* conn.execute("SELECT next()")
      let cancels = 0
      for (let i = 1; i <= 8; i++) if ((yield* mock.received(i)).some(isCancel)) cancels++
      expect(cancels).toBeGreaterThanOrEqual(2)
    }),
  )

  it.live("a cancel that is never confirmed closes the connection instead of risking a later statement", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.makeMany([
        [MockBackend.acceptUnauthenticatedConnection({}, { secretKey }), MockBackend.expectTag("Query")],
        [MockBackend.expectMatch("CancelRequest", isCancel)],
      ])
      const conn = yield* connectTo(mock, { cancelTimeout: "200 millis" })
      const started = Date.now()
      const error = failureOf(yield* Effect.exit(conn.execute("SELECT forever()", undefined, { timeout: "20 millis" })))
      expect(error._tag).toBe("PgTimeoutError")
      expect(Date.now() - started).toBeLessThan(3000)
      expect(conn.isClosed).toBe(true)
      expect(failureOf(yield* Effect.exit(conn.execute("SELECT 1")))._tag).toBe("PgConnectionError")
    }),
  )
})
