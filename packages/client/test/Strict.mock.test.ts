/**
 * Never another query's rows, against a fake server that misbehaves on purpose: each anomaly a
 * real server will not produce (an extra ReadyForQuery, an extra complete result, a DataRow
 * before RowDescription, CommandComplete after ErrorResponse, a negative field length) poisons
 * the connection, for named and unnamed statements, pipelined or not; and a tagged run through a
 * pool, where each query returns its own tag and ~2 % of the replies carry an anomaly, returns no
 * wrong result.
 */
import { describe, expect, it } from "@effect/vitest"
import * as PgPool from "@pgfx/client/PgPool"
import type { BackendMessage, FieldDescription } from "@pgfx/protocol/Backend"
import * as BackendEncoder from "@pgfx/protocol/BackendEncoder"
import type { ClientMessage } from "@pgfx/protocol/FrontendDecoder"
import * as MockBackend from "@pgfx/testing/MockBackend"
import { Effect, Exit, Option } from "effect"
import { eventually } from "../../../test/support/wait.ts"
import { connectTo } from "./support/MockServer.ts"

const SQL = "SELECT $1::int4 AS tag"

const tagField: FieldDescription = {
  name: "tag",
  tableOid: 0,
  columnAttribute: 0,
  typeOid: 23,
  typeSize: 4,
  typeModifier: -1,
  format: 1,
}

const int4 = (n: number): Uint8Array => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setInt32(0, n)
  return b
}

const ready: BackendMessage = { _tag: "ReadyForQuery", status: "I" }
const row = (value: Uint8Array | null): BackendMessage => ({ _tag: "DataRow", fields: [value] })
const complete: BackendMessage = { _tag: "CommandComplete", tag: "SELECT 1" }
const serverError: BackendMessage = {
  _tag: "ErrorResponse",
  fields: [
    ["S", "ERROR"],
    ["V", "ERROR"],
    ["C", "22012"],
    ["M", "division by zero"],
  ],
}

/** The anomalies; each is injected at one point of a reply (see {@link FakeServer}). */
type Anomaly = "extraReady" | "extraResult" | "rowBeforeDescription" | "errorThenComplete" | "negativeLength"

const anomalies: ReadonlyArray<Anomaly> = [
  "extraReady",
  "extraResult",
  "rowBeforeDescription",
  "errorThenComplete",
  "negativeLength",
]

/**
 * A fake server answering the extended protocol message by message: Describe of a statement says
 * one int4 column `tag`; Execute returns one row echoing the Bind's parameter (so each query
 * returns its own tag). `inject(kind)` says, per message, which anomaly to add there.
 */
class FakeServer {
  /** Parameter bytes of the last Bind (the unnamed portal). */
  private param: Uint8Array | null = null
  readonly inject: (at: "describe" | "execute" | "sync") => Anomaly | undefined

  constructor(inject: (at: "describe" | "execute" | "sync") => Anomaly | undefined) {
    this.inject = inject
  }

  readonly reply = (m: ClientMessage): ReadonlyArray<BackendMessage> => {
    switch (m._tag) {
      case "Parse":
        return [{ _tag: "ParseComplete" }]
      case "Describe": {
        const before = this.inject("describe") === "rowBeforeDescription" ? [row(int4(-1))] : []
        const description: BackendMessage = { _tag: "RowDescription", fields: [tagField] }
        return m.kind === "S"
          ? [{ _tag: "ParameterDescription", typeOids: [23] }, ...before, description]
          : [...before, description]
      }
      case "Bind":
        this.param = m.values[0] ?? null
        return [{ _tag: "BindComplete" }]
      case "Execute":
        switch (this.inject("execute")) {
          case "errorThenComplete":
            return [serverError, complete]
          case "negativeLength":
            return [negativeLengthRow, complete]
          default:
            return [row(this.param), complete]
        }
      case "Sync":
        switch (this.inject("sync")) {
          case "extraReady":
            return [ready, ready]
          case "extraResult":
            return [ready, { _tag: "RowDescription", fields: [tagField] }, row(int4(-1)), complete]
          default:
            return [ready]
        }
      case "Close":
        return [{ _tag: "CloseComplete" }]
      case "Query":
        return [{ _tag: "CommandComplete", tag: "RESET" }, ready]
      default:
        return []
    }
  }
}

/** A DataRow message whose only field has length -2 (raw: the encoder only writes -1 for NULL). */
const negativeLengthRow: BackendMessage = { _tag: "DataRow", fields: [null] }
const NEGATIVE_ROW_BYTES = ((): Uint8Array => {
  const bytes = BackendEncoder.toBytes(negativeLengthRow)
  // 'D', length (4), field count (2), field length (4): -1 -> -2.
  new DataView(bytes.buffer, bytes.byteOffset).setInt32(7, -2)
  return bytes
})()

/** Encodes a reply, substituting the raw negative-length row. */
const encode = (messages: ReadonlyArray<BackendMessage>): Uint8Array => {
  const parts = messages.map((m) => (m === negativeLengthRow ? NEGATIVE_ROW_BYTES : BackendEncoder.toBytes(m)))
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

const serverWith = (inject: (at: "describe" | "execute" | "sync") => Anomaly | undefined) => {
  const server = new FakeServer(inject)
  return MockBackend.serve(() => [
    MockBackend.acceptUnauthenticatedConnection(),
    MockBackend.respond((m) => encode(server.reply(m))),
  ])
}

/** Where each anomaly is injected: the first matching point of the n-th query's reply. */
const pointOf = (anomaly: Anomaly): "describe" | "execute" | "sync" =>
  anomaly === "rowBeforeDescription"
    ? "describe"
    : anomaly === "errorThenComplete" || anomaly === "negativeLength"
      ? "execute"
      : "sync"

/** The tag of a typed failure, or a description of anything else. */
const failureTag = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return "success"
  const reason = exit.cause.reasons[0]
  return reason !== undefined && reason._tag === "Fail"
    ? String((reason.error as { _tag?: string })._tag)
    : `not a typed failure: ${String(exit.cause)}`
}

describe("each anomaly poisons the connection", () => {
  for (const anomaly of anomalies) {
    for (const named of [true, false]) {
      for (const pipelined of [false, true]) {
        // DataRow before RowDescription: for a named statement the description comes when it is
        // prepared (Describe 'S'), for the unnamed one with each execution (Describe 'P').
        it.live(
          `${anomaly}, ${named ? "named" : "unnamed"} statement, ${pipelined ? "pipelined" : "one at a time"}`,
          () =>
            Effect.gen(function* () {
              // Query 1 prepares the statement and succeeds, unless the anomaly belongs to the
              // preparation (a named statement is described once, when it is prepared); the
              // anomaly comes with the first reply after that.
              const early = named && anomaly === "rowBeforeDescription"
              let armed = early
              const mock = yield* serverWith((at) => {
                const hit = armed && at === pointOf(anomaly)
                if (hit) armed = false
                return hit ? anomaly : undefined
              })
              const conn = yield* connectTo(mock, { namedStatements: named })
              const first = yield* Effect.exit(Effect.map(conn.fetchVal(SQL, [1]), Option.getOrThrow))
              if (!early) armed = true
              const rest = pipelined
                ? yield* Effect.all(
                    [2, 3, 4].map((n) => Effect.exit(Effect.map(conn.fetchVal(SQL, [n]), Option.getOrThrow))),
                    { concurrency: "unbounded" },
                  )
                : [
                    yield* Effect.exit(Effect.map(conn.fetchVal(SQL, [2]), Option.getOrThrow)),
                    yield* Effect.exit(Effect.map(conn.fetchVal(SQL, [3]), Option.getOrThrow)),
                  ]
              const results = [first, ...rest]
              // Nothing wrong: every query has its own tag or failed with a typed error, and the
              // one that met the anomaly failed with PgProtocolError.
              results.forEach((exit, i) => {
                if (Exit.isSuccess(exit)) expect(exit.value).toBe(i + 1)
                else expect(["PgProtocolError", "PgConnectionError"]).toContain(failureTag(exit))
              })
              expect(results.some((exit) => failureTag(exit) === "PgProtocolError")).toBe(true)
              expect(Exit.isSuccess(first)).toBe(!early)
              // The connection is closed for good: the next call fails at once, typed.
              expect(conn.isClosed).toBe(true)
              const after = yield* Effect.exit(Effect.map(conn.fetchVal(SQL, [9]), Option.getOrThrow))
              expect(Exit.isFailure(after)).toBe(true)
              yield* mock.result
            }),
        )
      }
    }
  }
})

describe("simpleQuery (rows of the simple protocol)", () => {
  it.live("an ErrorResponse followed by CommandComplete in one cycle poisons the connection", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection(),
        MockBackend.expectTag("Query"),
        MockBackend.sendAll([serverError, complete, ready]),
      ])
      const conn = yield* connectTo(mock, { namedStatements: true })
      const exit = yield* Effect.exit(conn.simpleQuery("SELECT 1"))
      expect(failureTag(exit)).toBe("PgProtocolError")
      expect(conn.isClosed).toBe(true)
    }),
  )
})

describe("startup", () => {
  const startupWith = (messages: ReadonlyArray<BackendMessage>) =>
    MockBackend.make([MockBackend.expectTag("StartupMessage"), MockBackend.sendAll(messages)])
  const key: BackendMessage = { _tag: "BackendKeyData", processId: 1, secretKey: new Uint8Array(4) }

  it.live("BackendKeyData before authentication, or a second AuthenticationOk, fails the connect", () =>
    Effect.gen(function* () {
      for (const messages of [
        [key, { _tag: "AuthenticationOk" }, ready],
        [{ _tag: "AuthenticationOk" }, { _tag: "AuthenticationOk" }, key, ready],
        [{ _tag: "AuthenticationOk" }, key, key, ready],
        [{ _tag: "AuthenticationOk" }, key, row(int4(1)), ready],
      ] satisfies ReadonlyArray<ReadonlyArray<BackendMessage>>) {
        const mock = yield* startupWith(messages)
        const exit = yield* Effect.exit(Effect.scoped(connectTo(mock, { namedStatements: true })))
        expect(failureTag(exit)).toBe("PgProtocolError")
      }
    }),
  )

  it.live("an extra ReadyForQuery after startup poisons the connection before any query", () =>
    Effect.gen(function* () {
      const mock = yield* startupWith([{ _tag: "AuthenticationOk" }, key, ready, ready])
      const conn = yield* connectTo(mock, { namedStatements: true })
      yield* eventually("the connection is poisoned", () => conn.isClosed)
      expect(failureTag(yield* Effect.exit(Effect.map(conn.fetchVal(SQL, [1]), Option.getOrThrow)))).toBe(
        "PgConnectionError",
      )
    }),
  )
})

describe("a header announcing 1 GiB", () => {
  it.live("memory grows with the bytes received, not the announced length; the query fails typed", () =>
    Effect.gen(function* () {
      // DataRow whose length field announces the default limit (1 GiB), then 256 KiB of it, then
      // the server goes away.
      const header = new Uint8Array([0x44, 0x40, 0x00, 0x00, 0x04])
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection(),
        MockBackend.expectTag("Query"),
        MockBackend.sendRaw(header),
        MockBackend.sendRaw(new Uint8Array(256 * 1024)),
        MockBackend.wait(100),
        MockBackend.closeConnection,
      ])
      const conn = yield* connectTo(mock, { namedStatements: true })
      const before = process.memoryUsage().arrayBuffers
      let peak = before
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().arrayBuffers)
      }, 5)
      const exit = yield* Effect.exit(conn.execute("SELECT 1"))
      clearInterval(sampler)
      peak = Math.max(peak, process.memoryUsage().arrayBuffers)
      // The statement reached the server and the connection was lost before its answer: outside a
      // transaction its outcome is unknown (its implicit commit may have run).
      expect(failureTag(exit)).toBe("PgCommitUnknownError")
      expect(peak - before).toBeLessThan(64 * 1024 * 1024)
      yield* mock.result
    }),
  )
})

/** mulberry32: a seeded PRNG, so a failure reproduces. */
const prng = (seed: number) => (): number => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

describe("tagged run through a pool", () => {
  it.live(
    "10,000 queries from 20 fibers, pool of 4, ~2 % anomalous replies: no wrong result, every failure typed, pool intact",
    () =>
      Effect.gen(function* () {
        const rand = prng(15)
        let injected = 0
        const mock = yield* serverWith((at) => {
          if (rand() >= 0.02 / 3) return undefined
          const choices = anomalies.filter((a) => pointOf(a) === at)
          const anomaly = choices[Math.floor(rand() * choices.length)]
          if (anomaly !== undefined) injected++
          return anomaly
        })
        const pool = yield* PgPool.make({
          host: mock.host,
          port: mock.port,
          user: "u",
          database: "d",
          sslMode: "disable",
          min: 0,
          max: 4,
          namedStatements: false,
        })
        let ok = 0
        let wrong = 0
        const failures = new Map<string, number>()
        const perFiber = 500
        yield* Effect.all(
          Array.from({ length: 20 }, (_, f) =>
            Effect.gen(function* () {
              for (let i = 0; i < perFiber; i++) {
                const tag = f * perFiber + i
                const exit = yield* Effect.exit(Effect.map(pool.fetchVal(SQL, [tag]), Option.getOrThrow))
                if (Exit.isSuccess(exit)) {
                  if (exit.value === tag) ok++
                  else wrong++
                } else {
                  const name = failureTag(exit)
                  failures.set(name, (failures.get(name) ?? 0) + 1)
                }
              }
            }),
          ),
          { concurrency: "unbounded" },
        )
        const failed = [...failures.values()].reduce((a, b) => a + b, 0)
        expect({ wrong, total: ok + failed }).toEqual({ wrong: 0, total: 10_000 })
        expect(injected).toBeGreaterThan(50)
        expect(failed).toBeGreaterThan(0)
        // Every failure is typed: the request that met the anomaly, or one queued behind it.
        for (const name of failures.keys()) expect(["PgProtocolError", "PgConnectionError"]).toContain(name)
        expect(failures.get("PgProtocolError") ?? 0).toBeGreaterThan(0)
        // The pool is intact: new queries work (on fresh connections where needed).
        for (let i = 0; i < 20; i++) {
          const exit = yield* Effect.exit(Effect.map(pool.fetchVal(SQL, [100_000 + i]), Option.getOrThrow))
          if (Exit.isSuccess(exit)) expect(exit.value).toBe(100_000 + i)
        }
        const stats = pool.stats
        expect(stats.size).toBeLessThanOrEqual(4)
        yield* mock.result
      }),
    120_000,
  )
})
