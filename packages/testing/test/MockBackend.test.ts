import * as net from "node:net"
import { describe, expect, it } from "@effect/vitest"
import * as Backend from "@pgfx/protocol/Backend"
import * as BackendEncoder from "@pgfx/protocol/BackendEncoder"
import * as Frontend from "@pgfx/protocol/Frontend"
import { Reader } from "@pgfx/protocol/Reader"
import type { Writer } from "@pgfx/protocol/Writer"
import * as MockBackend from "@pgfx/testing/MockBackend"
import { Effect, Exit, Scope } from "effect"

/** A raw protocol client over node:net: sends frames, collects decoded backend messages. */
class RawClient {
  readonly socket: net.Socket
  readonly messages: Array<Backend.BackendMessage> = []
  /** Raw bytes not framed (used for the one-byte SSL answer). */
  rawMode = false
  readonly rawBytes: Array<number> = []
  ended = false
  private readonly reader = new Reader()
  private wake: (() => void) | undefined = undefined

  private constructor(socket: net.Socket) {
    this.socket = socket
    socket.on("data", (chunk: Buffer) => {
      let bytes = new Uint8Array(chunk)
      if (this.rawMode && bytes.length > 0) {
        this.rawBytes.push(bytes[0]!)
        this.rawMode = false
        bytes = bytes.subarray(1)
      }
      this.reader.push(bytes)
      while (this.reader.next()) {
        const r = this.reader
        this.messages.push(Backend.decode(r.type, r.buf, r.view, r.start, r.end))
      }
      this.notify()
    })
    socket.on("error", () => undefined)
    socket.on("close", () => {
      this.ended = true
      this.notify()
    })
  }

  static connect(host: string, port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port })
      socket.once("connect", () => resolve(new RawClient(socket)))
      socket.once("error", reject)
    })
  }

  private notify(): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  send(f: (w: Writer) => unknown): void {
    this.socket.write(Frontend.build(f))
  }

  /** Waits until `cond()` holds or the connection ends (then returns false). */
  async waitFor(cond: () => boolean, timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (!cond()) {
      if (this.ended) return false
      if (Date.now() > deadline) throw new Error("timeout")
      await new Promise<void>((resolve) => {
        this.wake = resolve
        setTimeout(resolve, 50)
      })
    }
    return true
  }

  /** Takes the messages up to and including the first ReadyForQuery. */
  async untilReady(): Promise<Array<Backend.BackendMessage>> {
    const ok = await this.waitFor(() => this.messages.some((m) => m._tag === "ReadyForQuery"))
    if (!ok) throw new Error("connection ended before ReadyForQuery")
    const i = this.messages.findIndex((m) => m._tag === "ReadyForQuery")
    return this.messages.splice(0, i + 1)
  }

  closed(): Promise<boolean> {
    return this.waitFor(() => this.ended)
  }

  destroy(): void {
    this.socket.destroy()
  }
}

const connect = (mock: MockBackend.MockBackend) =>
  Effect.acquireRelease(
    Effect.promise(() => RawClient.connect(mock.host, mock.port)),
    (c) => Effect.sync(() => c.destroy()),
  )

const startup = (c: RawClient) => c.send((w) => Frontend.startup(w, { user: "alice", database: "app" }))

describe("MockBackend", () => {
  it.live("serves a scripted conversation and records what the client sent", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection({ server_version: "17.2" }, { processId: 7 }),
        MockBackend.expect({ _tag: "Query", sql: "SELECT 1" }),
        MockBackend.sendAll([
          {
            _tag: "RowDescription",
            fields: [
              {
                name: "?column?",
                tableOid: 0,
                columnAttribute: 0,
                typeOid: 23,
                typeSize: 4,
                typeModifier: -1,
                format: 0,
              },
            ],
          },
          { _tag: "DataRow", fields: [new TextEncoder().encode("1")] },
          { _tag: "CommandComplete", tag: "SELECT 1" },
          { _tag: "ReadyForQuery", status: "I" },
        ]),
        MockBackend.expectTag("Terminate"),
      ])
      expect(mock.host).toBe("127.0.0.1")
      expect(mock.port).toBeGreaterThan(0)
      const c = yield* connect(mock)
      startup(c)
      const hello = yield* Effect.promise(() => c.untilReady())
      expect(hello[0]).toEqual({ _tag: "AuthenticationOk" })
      expect(hello).toContainEqual({ _tag: "ParameterStatus", name: "server_version", value: "17.2" })
      expect(hello).toContainEqual({ _tag: "ParameterStatus", name: "client_encoding", value: "UTF8" })
      expect(hello.find((m) => m._tag === "BackendKeyData")).toMatchObject({ processId: 7 })
      c.send((w) => Frontend.query(w, "SELECT 1"))
      const rows = yield* Effect.promise(() => c.untilReady())
      expect(rows.map((m) => m._tag)).toEqual(["RowDescription", "DataRow", "CommandComplete", "ReadyForQuery"])
      c.send((w) => Frontend.terminate(w))
      yield* mock.result
      const received = yield* mock.received(0)
      expect(received.map((m) => m._tag)).toEqual(["StartupMessage", "Query", "Terminate"])
      expect(received[0]).toEqual({
        _tag: "StartupMessage",
        version: Frontend.PROTOCOL_3_0,
        parameters: { user: "alice", database: "app" },
      })
    }),
  )

  it.live("a mismatch fails result with a description and drops the connection", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection(),
        MockBackend.expect({ _tag: "Query", sql: "SELECT 1" }),
      ])
      const c = yield* connect(mock)
      startup(c)
      yield* Effect.promise(() => c.untilReady())
      c.send((w) => Frontend.query(w, "SELECT 2"))
      const error = yield* Effect.flip(mock.result)
      expect(error._tag).toBe("MockBackendError")
      expect(error.connection).toBe(0)
      expect(error.step).toBe(2)
      expect(error.message).toContain('expected {"_tag":"Query","sql":"SELECT 1"}')
      expect(error.message).toContain('got {"_tag":"Query","sql":"SELECT 2"}')
      expect(yield* Effect.promise(() => c.closed())).toBe(true)
    }),
  )

  it.live("a client that closes early fails result", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection(),
        MockBackend.expectTag("Query"),
      ])
      const c = yield* connect(mock)
      startup(c)
      yield* Effect.promise(() => c.untilReady())
      c.destroy()
      const error = yield* Effect.flip(mock.result)
      expect(error.message).toContain("client closed the connection")
    }),
  )

  it.live("undecodable client bytes fail result", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([MockBackend.expectTag("StartupMessage")])
      const c = yield* connect(mock)
      c.socket.write(new Uint8Array([0, 0, 0, 3, 0, 0, 0, 0]))
      const error = yield* Effect.flip(mock.result)
      expect(error.message).toContain("undecodable client bytes")
      expect(error.message).toContain("InvalidMessageLength")
    }),
  )

  it.live("SSLRequest answered with one raw byte, then startup with expectStartup", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([
        MockBackend.expectTag("SSLRequest"),
        MockBackend.sendRaw(BackendEncoder.ENCRYPTION_REFUSED),
        MockBackend.expectStartup({ user: "alice" }, Frontend.PROTOCOL_3_0),
        MockBackend.send({ _tag: "AuthenticationCleartextPassword" }),
        MockBackend.expectMatch(
          "the password 'pw'",
          (m) => m._tag === "AuthenticationResponse" && new TextDecoder().decode(m.body) === "pw\0",
        ),
        MockBackend.sendAll([{ _tag: "AuthenticationOk" }, { _tag: "ReadyForQuery", status: "I" }]),
      ])
      const c = yield* connect(mock)
      c.rawMode = true
      c.send((w) => Frontend.sslRequest(w))
      yield* Effect.promise(() => c.waitFor(() => c.rawBytes.length === 1))
      expect(c.rawBytes).toEqual([0x4e])
      startup(c)
      yield* Effect.promise(() => c.waitFor(() => c.messages.length === 1))
      expect(c.messages.shift()).toEqual({ _tag: "AuthenticationCleartextPassword" })
      c.send((w) => Frontend.password(w, "pw"))
      expect(yield* Effect.promise(() => c.untilReady())).toEqual([
        { _tag: "AuthenticationOk" },
        { _tag: "ReadyForQuery", status: "I" },
      ])
      yield* mock.result
    }),
  )

  // it.effect runs with TestClock: `wait` still elapses because it uses real time.
  it.effect("raw split frames with waits, then a server-side close", () =>
    Effect.gen(function* () {
      const frame = BackendEncoder.toBytes(
        { _tag: "CommandComplete", tag: "SELECT 0" },
        { _tag: "ReadyForQuery", status: "T" },
      )
      const mock = yield* MockBackend.make([
        MockBackend.acceptUnauthenticatedConnection(),
        MockBackend.expectTag("Query"),
        MockBackend.sendRaw(frame.subarray(0, 3)),
        MockBackend.wait(20),
        MockBackend.send(frame.subarray(3, 9)),
        MockBackend.wait(20),
        MockBackend.sendRaw(frame.subarray(9)),
        MockBackend.closeConnection,
      ])
      const c = yield* connect(mock)
      startup(c)
      yield* Effect.promise(() => c.untilReady())
      c.send((w) => Frontend.query(w, "SELECT"))
      expect(yield* Effect.promise(() => c.untilReady())).toEqual([
        { _tag: "CommandComplete", tag: "SELECT 0" },
        { _tag: "ReadyForQuery", status: "T" },
      ])
      expect(yield* Effect.promise(() => c.closed())).toBe(true)
      yield* mock.result
    }),
  )

  it.live("makeMany: a query connection and its CancelRequest", () =>
    Effect.gen(function* () {
      const key = new Uint8Array(32).fill(5)
      const mock = yield* MockBackend.makeMany([
        [
          MockBackend.acceptUnauthenticatedConnection({}, { processId: 99, secretKey: key }),
          MockBackend.expect({ _tag: "Query", sql: "SELECT pg_sleep(10)" }),
          MockBackend.wait(50),
          MockBackend.sendAll([
            {
              _tag: "ErrorResponse",
              fields: [
                ["S", "ERROR"],
                ["C", "57014"],
                ["M", "canceling statement due to user request"],
              ],
            },
            { _tag: "ReadyForQuery", status: "I" },
          ]),
        ],
        [MockBackend.expect({ _tag: "CancelRequest", processId: 99, secretKey: key }), MockBackend.closeConnection],
      ])
      const c = yield* connect(mock)
      c.send((w) => Frontend.startup(w, { user: "u" }, Frontend.PROTOCOL_3_2))
      const hello = yield* Effect.promise(() => c.untilReady())
      expect(hello.find((m) => m._tag === "BackendKeyData")).toEqual({
        _tag: "BackendKeyData",
        processId: 99,
        secretKey: key,
      })
      c.send((w) => Frontend.query(w, "SELECT pg_sleep(10)"))
      const cancel = yield* connect(mock)
      cancel.send((w) => Frontend.cancelRequest(w, 99, key))
      expect(yield* Effect.promise(() => cancel.closed())).toBe(true)
      const answer = yield* Effect.promise(() => c.untilReady())
      expect(answer[0]?._tag).toBe("ErrorResponse")
      yield* mock.result
      expect((yield* mock.received(1)).map((m) => m._tag)).toEqual(["CancelRequest"])
    }),
  )

  it.live("a connection beyond the scripts fails result", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([MockBackend.expectTag("StartupMessage"), MockBackend.wait(200)])
      yield* connect(mock)
      yield* connect(mock)
      const error = yield* Effect.flip(mock.result)
      expect(error.message).toContain("unexpected connection 1")
      expect(error.connection).toBe(1)
    }),
  )

  it.live("a reset aborts the connection", () =>
    Effect.gen(function* () {
      const mock = yield* MockBackend.make([MockBackend.expectTag("StartupMessage"), MockBackend.resetConnection])
      const c = yield* connect(mock)
      startup(c)
      expect(yield* Effect.promise(() => c.closed())).toBe(true)
      yield* mock.result
    }),
  )

  it.live("closing the scope closes the listener and open connections", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const mock = yield* MockBackend.make([MockBackend.expectTag("StartupMessage")]).pipe(Scope.provide(scope))
      const c = yield* Effect.promise(() => RawClient.connect(mock.host, mock.port))
      yield* Scope.close(scope, Exit.void)
      expect(yield* Effect.promise(() => c.closed())).toBe(true)
      const refused = yield* Effect.promise(() =>
        RawClient.connect(mock.host, mock.port).then(
          (x) => {
            x.destroy()
            return false
          },
          () => true,
        ),
      )
      expect(refused).toBe(true)
    }),
  )

  it("equals compares messages structurally", () => {
    expect(MockBackend.equals({ a: [1, new Uint8Array([2])] }, { a: [1, new Uint8Array([2])] })).toBe(true)
    expect(MockBackend.equals({ a: new Uint8Array([2]) }, { a: new Uint8Array([3]) })).toBe(false)
    expect(MockBackend.equals({ a: 1 }, { a: 1, b: undefined })).toBe(false)
    expect(MockBackend.equals([1], { 0: 1 })).toBe(false)
    expect(MockBackend.show({ b: new Uint8Array([1, 255]) })).toBe('{"b":"0x01ff"}')
  })
})
