/**
 * The reply state machines (internal/Replies.ts), checked against an independent model of what a
 * server may answer: for each request shape, every valid reply is enumerated (rows, errors at
 * every step, COPY, authentication rounds); then, in every state reached by a valid prefix, every
 * backend message type is fed, and the machine must accept it exactly when some valid reply
 * continues that way. Nothing is hand-picked: the anomalies of the issue (an extra ReadyForQuery,
 * an extra result, a DataRow before RowDescription, CommandComplete after ErrorResponse) are
 * among the generated cases, in every state.
 *
 * Then the same cases through a real Session (with a fake socket) and the real handlers: every
 * rejected message poisons the session, the request in flight and the one queued behind it
 * fail with PgProtocolError, the socket is destroyed, and no request ever completes with rows.
 */
import { describe, expect, it } from "@effect/vitest"
import type * as Backend from "@pgfx/protocol/Backend"
import { ProtocolViolation } from "@pgfx/protocol/Backend"
import * as BackendEncoder from "@pgfx/protocol/BackendEncoder"
import * as Frontend from "@pgfx/protocol/Frontend"
import { Writer } from "@pgfx/protocol/Writer"
import * as CodecRegistry from "@pgfx/types/CodecRegistry"
import type * as net from "node:net"
import { PgProtocolError, type PgQueryError } from "../src/PgError.ts"
import { BatchHandler } from "../src/internal/query/Batch.ts"
import { CopyOutHandler } from "../src/internal/copy/CopyHandlers.ts"
import { ExecuteHandler, PrepareHandler, SimpleQueryHandler, SyncHandler } from "../src/internal/wire/Handlers.ts"
import { ExtendedReplies, SimpleReplies, StartupReplies } from "../src/internal/wire/Replies.ts"
import { type Handler, Session } from "../src/internal/wire/Session.ts"
import { makeStatementInfo } from "../src/internal/wire/Statement.ts"
import { FakeSocket } from "./support/FakeSocket.ts"

// ---------------------------------------------------------------------------------------------
// The model: every valid reply of each request shape, as strings of backend type characters.
// ---------------------------------------------------------------------------------------------

/** Frontend messages of an extended request: P, B, DS / DP (Describe statement / portal), E, C, H, S. */
type Op = "P" | "B" | "DS" | "DP" | "E" | "C" | "H" | "S"

const rows = (k: number): string => "D".repeat(k)

/**
 * Every valid reply to `ops` from index `i` with at most `bound` rows per Execute; `described`:
 * how the next Execute's portal was described.
 */
function* extended(ops: ReadonlyArray<Op>, bound: number, i = 0, described: "?" | "T" | "n" = "?"): Generator<string> {
  const op = ops[i]!
  if (op === "S") {
    yield "Z"
    yield "EZ" // e.g. the implicit commit at Sync fails
    return
  }
  if (op === "H") return yield* extended(ops, bound, i + 1, described)
  yield "EZ" // an error here: the server skips to Sync
  const then = (prefix: string, d: "?" | "T" | "n" = "?") => {
    const out: Array<string> = []
    for (const rest of extended(ops, bound, i + 1, d)) out.push(prefix + rest)
    return out
  }
  switch (op) {
    case "P":
      return yield* then("1")
    case "B":
      return yield* then("2")
    case "C":
      return yield* then("3")
    case "DS":
      yield "tEZ"
      yield* then("tT")
      return yield* then("tn")
    case "DP":
      yield* then("T", "T")
      return yield* then("n", "n")
    case "E":
      if (described !== "n") {
        for (let k = 0; k <= bound; k++) {
          yield* then(rows(k) + "C")
          yield* then(rows(k) + "s")
          if (k > 0) yield rows(k) + "EZ"
        }
      } else yield* then("C")
      if (described !== "T") yield* then("I")
  }
}

/** Every valid reply to a simple Query with at most `bound` statements, rows and CopyData each. */
const simple = (bound: number): Array<string> => {
  const ok = ["C", "GC"]
  const failing = ["E", "GE"]
  for (let k = 0; k <= bound; k++) {
    ok.push(`T${rows(k)}C`, `H${"d".repeat(k)}cC`)
    failing.push(`T${rows(k)}E`, `H${"d".repeat(k)}E`, `H${"d".repeat(k)}cE`)
  }
  const out = ["IZ"]
  const statements = (before: string, n: number): void => {
    for (const f of failing) out.push(before + f + "Z")
    for (const a of ok) {
      out.push(before + a + "Z")
      if (n > 1) statements(before + a, n - 1)
    }
  }
  statements("", bound)
  return out
}

/** Every valid startup reply with at most `bound` authentication rounds: 'O' is AuthenticationOk, 'R' another request. */
const startup = (bound: number): Array<string> => {
  const out: Array<string> = []
  for (const v of ["", "v"]) {
    for (let rounds = 0; rounds <= bound; rounds++) {
      const auth = "R".repeat(rounds) + "O"
      for (const key of ["", "K"]) {
        const full = v + auth + key + "Z"
        out.push(full)
        // A startup error can come at any point before ReadyForQuery; the server then closes.
        for (let cut = 0; cut < full.length; cut++) out.push(full.slice(0, cut) + "E")
      }
    }
  }
  return out
}

const prefixesOf = (replies: Iterable<string>): Set<string> => {
  const set = new Set<string>()
  for (const r of replies) for (let n = 0; n <= r.length; n++) set.add(r.slice(0, n))
  return set
}

/** Every backend type a machine can be fed (asynchronous messages never reach one), plus an unknown one. */
const ALPHABET = "RK23CdcGHWDIEVvntTsZ!"

/** Rows per result, statements per Query, authentication rounds. */
const BOUND = 2

const code = (c: string): number => (c === "O" ? 0x52 : c.charCodeAt(0))

// ---------------------------------------------------------------------------------------------
// Request shapes
// ---------------------------------------------------------------------------------------------

const request = (ops: ReadonlyArray<Op>): Uint8Array => {
  const w = new Writer()
  for (const op of ops) {
    switch (op) {
      case "P":
        Frontend.parse(w, "", "SELECT $1", [23])
        break
      case "B":
        Frontend.bind(w, "", "", [], [], [])
        break
      case "DS":
        Frontend.describe(w, "S", "s1")
        break
      case "DP":
        Frontend.describe(w, "P", "")
        break
      case "E":
        Frontend.execute(w, "", 0)
        break
      case "C":
        Frontend.close(w, "S", "old")
        break
      case "H":
        Frontend.flush(w)
        break
      case "S":
        Frontend.sync(w)
        break
    }
  }
  return w.finishCopy()
}

const shapes: ReadonlyArray<readonly [string, ReadonlyArray<Op>]> = [
  ["execute, named statement", ["B", "E", "S"]],
  ["execute, unnamed statement", ["P", "B", "DP", "E", "S"]],
  ["prepare", ["P", "DS", "S"]],
  ["prepare after closing evicted statements", ["C", "C", "P", "DS", "S"]],
  ["executeMany, named statement", ["B", "E", "B", "E", "S"]],
  ["executeMany, unnamed statement", ["P", "B", "DP", "E", "B", "E", "S"]],
  ["cursor bind, unnamed statement", ["P", "B", "DP", "S"]],
  ["cursor fetch", ["E", "S"]],
  ["close + sync", ["C", "S"]],
  ["with a Flush", ["B", "H", "E", "S"]],
]

// ---------------------------------------------------------------------------------------------
// Machine against model
// ---------------------------------------------------------------------------------------------

/** Feeds `seq` to a fresh machine; the index of the first rejected message, or -1. */
type Drive = (seq: string) => number

const driveWith =
  (make: () => (type: number, c: string) => boolean): Drive =>
  (seq) => {
    const accept = make()
    for (let i = 0; i < seq.length; i++) {
      try {
        accept(code(seq[i]!), seq[i]!)
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolViolation)
        return i
      }
    }
    return -1
  }

/**
 * For every valid prefix (replies within a bound) and every message type: accepted exactly when
 * the model (one bound further, so that a continuation is never cut off) continues that way.
 */
const checkAgainstModel = (drive: Drive, model: (bound: number) => Iterable<string>): number => {
  const valid = prefixesOf(model(BOUND + 1))
  let cases = 0
  for (const prefix of prefixesOf(model(BOUND))) {
    for (const c of ALPHABET + (valid.has(prefix + "O") ? "O" : "")) {
      const legal = valid.has(prefix + c)
      const rejectedAt = drive(prefix + c)
      expect({ prefix, message: c, rejected: rejectedAt === prefix.length }).toEqual({
        prefix,
        message: c,
        rejected: !legal,
      })
      cases++
    }
  }
  return cases
}

describe("reply state machines against a model of the server", { timeout: 60_000 }, () => {
  for (const [name, ops] of shapes) {
    it(`extended: ${name}`, () => {
      const bytes = request(ops)
      const cases = checkAgainstModel(
        driveWith(() => {
          const m = new ExtendedReplies()
          m.start(bytes)
          return (type) => m.accept(type)
        }),
        (bound) => extended(ops, bound),
      )
      expect(cases).toBeGreaterThan(20)
    })
  }

  it("a complete extended reply ends on its ReadyForQuery, and nothing may follow", () => {
    for (const [, ops] of shapes) {
      for (const reply of extended(ops, BOUND)) {
        const m = new ExtendedReplies()
        m.start(request(ops))
        const ends = [...reply].map((c) => m.accept(code(c)))
        expect(ends.indexOf(true)).toBe(reply.length - 1)
        for (const c of ALPHABET) expect(() => m.accept(code(c))).toThrow(ProtocolViolation)
      }
    }
  })

  it("simple Query, COPY in and out included", () => {
    checkAgainstModel(
      driveWith(() => {
        const m = new SimpleReplies()
        return (type) => m.accept(type)
      }),
      simple,
    )
  })

  it("startup and authentication", () => {
    checkAgainstModel(
      driveWith(() => {
        const m = new StartupReplies()
        return (type, c) => m.accept(type, c === "O")
      }),
      startup,
    )
  })

  it("a violation names the message and the state", () => {
    const m = new ExtendedReplies()
    m.start(request(["B", "E", "S"]))
    expect(() => m.accept(0x5a)).toThrow("unexpected ReadyForQuery ('Z') while awaiting the reply to Bind")
    const s = new SimpleReplies()
    s.accept(0x45)
    expect(() => s.accept(0x43)).toThrow(
      "unexpected CommandComplete ('C') after an ErrorResponse, while awaiting ReadyForQuery",
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Through a session and the real handlers
// ---------------------------------------------------------------------------------------------

const int4 = new Uint8Array([0, 0, 0, 7])
const field: Backend.FieldDescription = {
  name: "n",
  tableOid: 0,
  columnAttribute: 0,
  typeOid: 23,
  typeSize: 4,
  typeModifier: -1,
  format: 1,
}

/** A well-formed message of each type (the DataRow fits the statement's one int4 column). */
const sample = (c: string): Uint8Array => {
  const messages: Record<string, Backend.BackendMessage> = {
    O: { _tag: "AuthenticationOk" },
    R: { _tag: "AuthenticationCleartextPassword" },
    K: { _tag: "BackendKeyData", processId: 1, secretKey: new Uint8Array(4) },
    "1": { _tag: "ParseComplete" },
    "2": { _tag: "BindComplete" },
    "3": { _tag: "CloseComplete" },
    C: { _tag: "CommandComplete", tag: "SELECT 1" },
    d: { _tag: "CopyData", data: new Uint8Array([65]) },
    c: { _tag: "CopyDone" },
    G: { _tag: "CopyInResponse", format: 0, columnFormats: [] },
    H: { _tag: "CopyOutResponse", format: 0, columnFormats: [] },
    W: { _tag: "CopyBothResponse", format: 0, columnFormats: [] },
    D: { _tag: "DataRow", fields: [int4] },
    I: { _tag: "EmptyQueryResponse" },
    E: {
      _tag: "ErrorResponse",
      fields: [
        ["S", "ERROR"],
        ["V", "ERROR"],
        ["C", "42000"],
        ["M", "boom"],
      ],
    },
    V: { _tag: "FunctionCallResponse", result: null },
    v: { _tag: "NegotiateProtocolVersion", newestMinor: 0, unrecognized: [] },
    n: { _tag: "NoData" },
    t: { _tag: "ParameterDescription", typeOids: [23] },
    T: { _tag: "RowDescription", fields: [field] },
    s: { _tag: "PortalSuspended" },
    Z: { _tag: "ReadyForQuery", status: "I" },
  }
  if (c === "!") return new Uint8Array([0x21, 0, 0, 0, 4])
  return BackendEncoder.toBytes(messages[c]!)
}

interface Outcome {
  succeeded: unknown
  failed: PgQueryError | undefined
}

const track = (): [Outcome, { succeed: (a: unknown) => void; fail: (e: PgQueryError) => void }] => {
  const o: Outcome = { succeeded: undefined, failed: undefined }
  return [
    o,
    {
      succeed: (a) => {
        o.succeeded = a
      },
      fail: (e) => {
        o.failed = e
      },
    },
  ]
}

const registry = CodecRegistry.builtins
const info = (name: string) => makeStatementInfo(name, "SELECT $1", [23], [field], registry)

type MakeHandler = (session: Session, completion: ReturnType<typeof track>[1]) => Handler

const extendedHandler =
  (ops: ReadonlyArray<Op>): MakeHandler =>
  (_session, c) => {
    const named = ops[0] !== "P"
    if (ops.includes("DS")) return new PrepareHandler(c as never, "SELECT $1")
    if (!ops.includes("E")) return new SyncHandler(c as never, "")
    if (ops.filter((o) => o === "E").length > 1) {
      return new BatchHandler(c as never, info(named ? "s1" : ""), registry, () => {}, true)
    }
    return new ExecuteHandler(c as never, info(named ? "s1" : ""), registry, () => {})
  }

/** Rows a handler's success carries, wherever its shape keeps them. */
const rowsIn = (value: unknown): number => {
  if (value === undefined || value === null || typeof value !== "object") return 0
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + (Array.isArray(v) ? v.length : 0), 0)
  const r = (value as { rows?: ReadonlyArray<unknown> }).rows
  return r?.length ?? 0
}

/**
 * Sends a request (and a second one pipelined behind it), feeds `prefix` then `message`, and
 * checks what a rejected message must do to the session.
 */
const poisonCase = (bytes: Uint8Array, make: MakeHandler, prefix: string, message: string): void => {
  const socket = new FakeSocket()
  const session = new Session(socket as unknown as net.Socket)
  const [first, c1] = track()
  const [second, c2] = track()
  session.send(make(session, c1), bytes)
  session.send(make(session, c2), bytes)
  // (A prefix the model allows may still be refused by a handler for its contents, e.g. rows of
  // an executeMany whose first portal was described with NoData: that poisons the same way.)
  for (const c of prefix) socket.emit("data", Buffer.from(sample(c)))
  socket.emit("data", Buffer.from(sample(message)))
  const what = { prefix, message }
  expect({ ...what, closed: session.closed, destroyed: socket.destroyed }).toEqual({
    ...what,
    closed: true,
    destroyed: true,
  })
  expect(session.closeError).toBeInstanceOf(PgProtocolError)
  for (const o of [first, second]) {
    expect(rowsIn(o.succeeded)).toBe(0)
    expect(o.succeeded).toBeUndefined()
    expect(o.failed).toBeInstanceOf(PgProtocolError)
  }
}

/** Every (valid prefix before its ReadyForQuery, message the model rejects there) pair. */
const rejections = function* (model: (bound: number) => Iterable<string>): Generator<readonly [string, string]> {
  const valid = prefixesOf(model(BOUND + 1))
  for (const prefix of prefixesOf(model(BOUND))) {
    if (prefix.endsWith("Z")) continue
    for (const c of ALPHABET) if (!valid.has(prefix + c)) yield [prefix, c]
  }
}

describe(
  "a rejected message poisons the session: in-flight and pipelined requests fail, no rows",
  { timeout: 60_000 },
  () => {
    for (const [name, ops] of shapes) {
      it(`extended: ${name}`, () => {
        const bytes = request(ops)
        let cases = 0
        for (const [prefix, c] of rejections((bound) => extended(ops, bound))) {
          poisonCase(bytes, extendedHandler(ops), prefix, c)
          cases++
        }
        expect(cases).toBeGreaterThan(20)
      })
    }

    it("simple Query and COPY OUT", () => {
      const query = Frontend.build((w) => Frontend.query(w, "SELECT 1"))
      for (const make of [
        (s: Session, c: ReturnType<typeof track>[1]) => new SimpleQueryHandler(s, c as never, "SELECT 1"),
        (s: Session, c: ReturnType<typeof track>[1]) =>
          new CopyOutHandler(s, "COPY t TO STDOUT", () => {}).attach(c, { exclusive: false }),
      ]) {
        for (const [prefix, c] of rejections(simple)) poisonCase(query, make, prefix, c)
      }
    })

    it("a message with no request in flight (an extra ReadyForQuery, a result) poisons too", () => {
      for (const c of ["Z", "T", "D", "C", "E", "2"]) {
        const socket = new FakeSocket()
        const session = new Session(socket as unknown as net.Socket)
        socket.emit("data", Buffer.from(sample(c)))
        expect(session.closed).toBe(true)
        expect(session.closeError).toBeInstanceOf(PgProtocolError)
        expect(socket.destroyed).toBe(true)
      }
    })

    it("a FATAL error with no request in flight explains the close instead", () => {
      const socket = new FakeSocket()
      const session = new Session(socket as unknown as net.Socket)
      socket.emit(
        "data",
        Buffer.from(
          BackendEncoder.toBytes({
            _tag: "ErrorResponse",
            fields: [
              ["S", "FATAL"],
              ["V", "FATAL"],
              ["C", "57P01"],
              ["M", "terminating connection due to administrator command"],
            ],
          }),
        ),
      )
      expect(session.closed).toBe(false)
      expect(session.fatal?.code).toBe("57P01")
    })

    it("ParameterStatus client_encoding other than UTF8 closes the session", () => {
      const socket = new FakeSocket()
      const session = new Session(socket as unknown as net.Socket)
      const [o, c] = track()
      session.send(new SimpleQueryHandler(session, c as never, "SET client_encoding = 'SQL_ASCII'"), new Uint8Array(0))
      socket.emit(
        "data",
        Buffer.from(BackendEncoder.toBytes({ _tag: "ParameterStatus", name: "client_encoding", value: "SQL_ASCII" })),
      )
      expect(session.closed).toBe(true)
      expect(o.failed).toBeInstanceOf(PgProtocolError)
      expect(o.failed?.message).toContain(`client_encoding changed to "SQL_ASCII"`)
    })
  },
)
