/**
 * The replication pieces without a server: the CopyBoth reply machine and the START_REPLICATION
 * handler fed the bytes captured from a real walsender, the stream's queue (backpressure, status
 * updates, keepalive replies) on a fake socket, and the change decoder over captured pgoutput.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Backend from "@pgfx/protocol/Backend"
import * as BackendEncoder from "@pgfx/protocol/BackendEncoder"
import { Reader } from "@pgfx/protocol/Reader"
import * as Replication from "@pgfx/protocol/Replication"
import { builtins } from "@pgfx/types/CodecRegistry"
import { Effect, Fiber } from "effect"
import { readFileSync } from "node:fs"
import type * as net from "node:net"
import { fileURLToPath } from "node:url"
import { PgProtocolError } from "@pgfx/client/PgError"
import type { Change } from "@pgfx/client/PgReplication"
import { unchanged } from "@pgfx/client/PgReplication"
import { SimpleReplies } from "@pgfx/client/internal/wire/Replies"
import { ChangeDecoder } from "@pgfx/client/internal/replication/ReplicationDecoder"
import { StreamingHandler } from "@pgfx/client/internal/replication/ReplicationSession"
import { Attempt, Progress } from "@pgfx/client/internal/replication/ReplicationStream"
import { Session } from "@pgfx/client/internal/wire/Session"
import { FakeSocket } from "./support/FakeSocket.ts"

const goldenDir = new URL("../../protocol/test/golden/replication/", import.meta.url)
const copyBoth = JSON.parse(readFileSync(fileURLToPath(new URL("copy-both.json", goldenDir)), "utf8")) as {
  steps: ReadonlyArray<{ server: string }>
}
const pgoutput = JSON.parse(readFileSync(fileURLToPath(new URL("pgoutput.json", goldenDir)), "utf8")) as {
  scenarios: ReadonlyArray<{ name: string; messages: ReadonlyArray<{ hex: string }> }>
}
const server = new Uint8Array(Buffer.from(copyBoth.steps[0]!.server, "hex"))

/** The type bytes of the captured server messages. */
const types = (): Array<number> => {
  const r = new Reader()
  r.push(server)
  const out: Array<number> = []
  while (r.next()) out.push(r.type)
  return out
}

const T = Backend.Type

describe("the CopyBoth reply machine", () => {
  it("accepts the captured START_REPLICATION cycle only when made for it", () => {
    const replies = new SimpleReplies(true)
    const seq = types()
    expect(seq[0]).toBe(T.CopyBothResponse)
    const ends = seq.map((t) => replies.accept(t))
    expect(ends.slice(0, -1).every((e) => !e)).toBe(true)
    expect(ends[ends.length - 1]).toBe(true)
    expect(() => new SimpleReplies().accept(T.CopyBothResponse)).toThrow(/CopyBothResponse/)
  })

  it("refuses rows, an empty query or ReadyForQuery while streaming", () => {
    for (const t of [T.RowDescription, T.DataRow, T.EmptyQueryResponse, T.ReadyForQuery, T.CopyBothResponse]) {
      const r = new SimpleReplies(true)
      r.accept(T.CopyBothResponse)
      expect(() => r.accept(t)).toThrow(Backend.ProtocolViolation)
    }
    const r = new SimpleReplies(true)
    r.accept(T.CopyBothResponse)
    r.accept(T.CopyDone)
    r.accept(T.CopyData)
    expect(() => r.accept(T.CopyDone)).toThrow(/after the server's CopyDone/)
  })
})

describe("the START_REPLICATION handler on a session", () => {
  it("hands every CopyData to the consumer and ends on ReadyForQuery", () => {
    const socket = new FakeSocket()
    const session = new Session(socket as unknown as net.Socket)
    const seen: Array<string> = []
    let ended: unknown = "not yet"
    session.send(
      new StreamingHandler("START_REPLICATION", {
        started: () => seen.push("started"),
        data: (buf, view, start, end) => seen.push(Replication.decodeCopyData(buf, view, start, end)._tag),
        ended: (e) => {
          ended = e
        },
      }),
      new Uint8Array(0),
    )
    socket.emit("data", Buffer.from(server))
    expect(seen[0]).toBe("started")
    expect(seen.filter((s) => s === "XLogData")).toHaveLength(4)
    expect(seen.filter((s) => s === "PrimaryKeepalive").length).toBeGreaterThan(1)
    expect(ended).toBeUndefined()
    expect(session.closed).toBe(false)
  })

  it("a message out of place poisons the session and ends the stream with a PgProtocolError", () => {
    const socket = new FakeSocket()
    const session = new Session(socket as unknown as net.Socket)
    let ended: unknown = "not yet"
    session.send(
      new StreamingHandler("START_REPLICATION", { started: () => {}, data: () => {}, ended: (e) => (ended = e) }),
      new Uint8Array(0),
    )
    socket.emit("data", Buffer.from(BackendEncoder.toBytes({ _tag: "CopyBothResponse", format: 0, columnFormats: [] })))
    socket.emit("data", Buffer.from(BackendEncoder.toBytes({ _tag: "DataRow", fields: [] })))
    expect(ended).toBeInstanceOf(PgProtocolError)
    expect(session.closed).toBe(true)
    expect(socket.destroyed).toBe(true)
  })
})

const copyData = (payload: Uint8Array): Buffer =>
  Buffer.from(BackendEncoder.toBytes({ _tag: "CopyData", data: payload }))

const xlogData = (walStart: bigint, body: Uint8Array): Buffer => {
  const b = new Uint8Array(25 + body.length)
  const v = new DataView(b.buffer)
  b[0] = 0x77
  v.setBigUint64(1, walStart)
  v.setBigUint64(9, walStart)
  b.set(body, 25)
  return copyData(b)
}

const keepalive = (walEnd: bigint, reply: boolean): Buffer => {
  const b = new Uint8Array(18)
  const v = new DataView(b.buffer)
  b[0] = 0x6b
  v.setBigUint64(1, walEnd)
  b[17] = reply ? 1 : 0
  return copyData(b)
}

/** The flush position of the last Standby status update written to `socket`. */
const lastFlush = (socket: FakeSocket): bigint | undefined => {
  const w = socket.writes[socket.writes.length - 1]
  if (w === undefined || w[0] !== 0x64 || w[5] !== 0x72) return undefined
  return Replication.decodeStandbyStatus(w, new DataView(w.buffer, w.byteOffset, w.byteLength), 5, w.length).flush
}

const streaming = (bufferBytes: number) =>
  Effect.gen(function* () {
    const socket = new FakeSocket()
    const session = new Session(socket as unknown as net.Socket)
    const progress = new Progress()
    const decoder = new ChangeDecoder({
      registry: () => builtins,
      unknownOids: () => [],
      ack: (lsn) => Effect.sync(() => progress.ack(lsn)),
      emitted: (lsn) => {
        if (lsn > progress.emittedEnd) progress.emittedEnd = lsn
      },
    })
    const attempt = new Attempt(session, progress, decoder, bufferBytes)
    const started = yield* Effect.forkChild(attempt.start("START_REPLICATION"))
    while (session.pending === 0) yield* Effect.yieldNow
    socket.emit("data", Buffer.from(BackendEncoder.toBytes({ _tag: "CopyBothResponse", format: 0, columnFormats: [] })))
    yield* Fiber.join(started)
    return { socket, attempt, progress }
  })

describe("the stream's queue", () => {
  it.effect("pauses the socket above the buffer size and resumes below half of it", () =>
    Effect.gen(function* () {
      const { socket, attempt } = yield* streaming(1000)
      const body = new Uint8Array(300).fill(0x45)
      for (let i = 0; i < 3; i++) socket.emit("data", xlogData(BigInt(i + 1), body))
      expect(socket.paused).toBe(false)
      socket.emit("data", xlogData(4n, body))
      expect(attempt.queued).toBe(1200)
      expect(socket.paused).toBe(true)
      attempt.next()
      expect(socket.paused).toBe(true)
      attempt.next()
      attempt.next()
      expect(socket.paused).toBe(false)
    }),
  )

  it.effect("a batch lingers at most the given time for more bytes, and stops waiting once they came", () =>
    Effect.gen(function* () {
      const { socket, attempt } = yield* streaming(1 << 20)
      const body = new Uint8Array(100)
      socket.emit("data", xlogData(1n, body))
      const started = Date.now()
      yield* attempt.linger(1000, 30)
      expect(Date.now() - started).toBeGreaterThanOrEqual(25)
      const waiting = yield* Effect.forkChild(attempt.linger(1000, 60_000))
      yield* Effect.yieldNow
      for (let i = 2; i < 12; i++) socket.emit("data", xlogData(BigInt(i), body))
      yield* Fiber.join(waiting)
      expect(attempt.queued).toBe(1100)
    }),
  )

  it.effect("answers a keepalive that asks for a reply at once, with the acknowledged position", () =>
    Effect.gen(function* () {
      const { socket, attempt, progress } = yield* streaming(1 << 20)
      // Something delivered and not acknowledged: the keepalive's position is not confirmed.
      progress.emittedEnd = 500n
      progress.ack(100n)
      socket.emit("data", keepalive(900n, false))
      expect(lastFlush(socket)).toBeUndefined()
      socket.emit("data", keepalive(900n, true))
      expect(lastFlush(socket)).toBe(100n)
      // Everything acknowledged and nothing held: the slot may move to the keepalive's position.
      progress.ack(500n)
      attempt.sendStatus()
      expect(lastFlush(socket)).toBe(900n)
    }),
  )

  it.effect("ends with the session's error when the connection drops", () =>
    Effect.gen(function* () {
      const { socket, attempt } = yield* streaming(1 << 20)
      socket.emit("close")
      yield* attempt.waitForData
      expect(attempt.ended?.error).toMatchObject({ _tag: "PgConnectionError" })
    }),
  )
})

const decodeScenario = (name: string): Array<Change> => {
  const decoder = new ChangeDecoder({
    registry: () => builtins,
    unknownOids: () => [],
    ack: () => Effect.void,
    emitted: () => {},
  })
  const out: Array<Change> = []
  for (const m of pgoutput.scenarios.find((s) => s.name === name)!.messages) {
    expect(decoder.feed(new Uint8Array(Buffer.from(m.hex, "hex")), out)).toBeUndefined()
  }
  expect(decoder.busy).toBe(false)
  return out
}

describe("the change decoder over captured pgoutput", () => {
  it("holds a streamed transaction until its commit and drops an aborted one", () => {
    const events = decodeScenario("v2-streaming")
    expect(events.map((e) => e._tag)).toEqual([
      "Begin",
      ...Array.from({ length: 600 }, () => "Insert"),
      "Message",
      "Commit",
      "Message",
    ])
    const first = events[1]!
    expect(first._tag === "Insert" && first.row).toEqual({ id: 1, pad: "x".repeat(20) })
    const begin = events[0]!
    const commit = events[602]!
    if (begin._tag !== "Begin" || commit._tag !== "Commit") throw new Error("no transaction")
    expect(begin.xid).toBe(commit.xid)
    expect(commit.endLsn).toBeGreaterThan(commit.commitLsn)
    const end = events[603]!
    expect(end._tag === "Message" && !end.transactional && end.ack !== undefined).toBe(true)
  })

  it("decodes values with the registry and marks unchanged TOAST", () => {
    for (const name of ["v1-text"]) {
      const events = decodeScenario(name)
      const insert = events.find((e) => e._tag === "Insert")!
      if (insert._tag !== "Insert") throw new Error("no insert")
      expect(insert.relation.name).toBe("golden_items")
      expect(insert.row.id).toBe(1)
      expect(insert.row.tags).toEqual(["a", null, "c"])
      const update = events.find((e) => e._tag === "Update")!
      expect(update._tag === "Update" && update.row.body).toBe(unchanged)
      const truncate = events.find((e) => e._tag === "Truncate")!
      expect(truncate._tag === "Truncate" && truncate.relations.map((r) => r.name).sort()).toEqual([
        "golden_full",
        "golden_items",
      ])
      const commits = events.filter((e) => e._tag === "Commit")
      expect(commits.map((c) => c._tag === "Commit" && c.origin)).toContain("golden_origin")
    }
  })

  it("a binary value without a binary codec is a PgDecodeError naming the column", () => {
    expect(() => decodeScenario("v2-binary")).toThrow(/column "mood".*binary: false/)
  })

  it("asks for unknown column types before consuming a Relation", () => {
    const decoder = new ChangeDecoder({
      registry: () => builtins,
      unknownOids: (oids) => oids.filter((o) => o >= 16384),
      ack: () => Effect.void,
      emitted: () => {},
    })
    const out: Array<Change> = []
    const messages = pgoutput.scenarios.find((s) => s.name === "v1-text")!.messages
    let needs: ReadonlyArray<number> | undefined
    for (const m of messages) {
      needs = decoder.feed(new Uint8Array(Buffer.from(m.hex, "hex")), out)
      if (needs !== undefined) break
    }
    expect(needs?.length).toBe(2)
    expect(decoder.relations.size).toBe(0)
  })
})
