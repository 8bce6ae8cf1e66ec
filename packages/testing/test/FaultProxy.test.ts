/**
 * FaultProxy against a plain recording TCP server (no PostgreSQL needed): message framing,
 * stall and resume, cuts after N bytes or after a chosen message, black hole and heal.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Frontend from "@pgfx/protocol/Frontend"
import { Effect } from "effect"
import * as net from "node:net"
import * as FaultProxy from "../src/FaultProxy.ts"

/** A server that records what it receives and echoes `pong` per chunk; closed with the scope. */
const recorder = Effect.acquireRelease(
  Effect.callback<{ port: number; received: Array<Buffer>; server: net.Server; closed: { n: number } }>((resume) => {
    const received: Array<Buffer> = []
    const closed = { n: 0 }
    const server = net.createServer((socket) => {
      socket.on("data", (chunk: Buffer) => {
        received.push(chunk)
        socket.write("pong")
      })
      socket.on("error", () => {})
      socket.on("close", () => closed.n++)
    })
    server.listen(0, "127.0.0.1", () => {
      resume(Effect.succeed({ port: (server.address() as net.AddressInfo).port, received, server, closed }))
    })
  }),
  ({ server }) =>
    Effect.callback<void>((resume) => {
      server.close(() => resume(Effect.void))
    }),
)

/** A client socket to the proxy that collects what it receives. */
const client = (proxy: FaultProxy.FaultProxy) =>
  Effect.acquireRelease(
    Effect.callback<{ socket: net.Socket; received: Array<Buffer>; closed: { value: boolean } }>((resume) => {
      const received: Array<Buffer> = []
      const closed = { value: false }
      const socket = net.connect({ host: proxy.host, port: proxy.port }, () =>
        resume(Effect.succeed({ socket, received, closed })),
      )
      socket.on("data", (chunk: Buffer) => received.push(chunk))
      socket.on("error", () => {})
      socket.on("close", () => (closed.value = true))
    }),
    ({ socket }) => Effect.sync(() => socket.destroy()),
  )

const until = (what: string, check: () => boolean) =>
  Effect.gen(function* () {
    const deadline = Date.now() + 5000
    while (!check()) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`timed out waiting until ${what}`))
      yield* Effect.sleep("5 millis")
    }
  })

const startup = Frontend.build((w) => {
  const at = w.reserveLength()
  w.int32(196608)
  w.cstring("user").cstring("u").byte(0)
  w.patchLength(at)
})
const query = (sql: string) => Frontend.build((w) => Frontend.query(w, sql))

describe("FaultProxy", () => {
  it.live("forwards both ways and frames the client's messages, startup included", () =>
    Effect.gen(function* () {
      const server = yield* recorder
      const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: server.port })
      const c = yield* client(proxy)
      c.socket.write(Buffer.concat([startup, query("SELECT 1")]))
      yield* until("the server got both messages", () => Buffer.concat(server.received).length === startup.length + 14)
      yield* until("the client got an answer", () => c.received.length > 0)
      const messages = proxy.connections[0]!.messages
      expect(messages.map((m) => m.type)).toEqual(["", "Q"])
      expect(FaultProxy.sqlOf(messages[1]!)).toBe("SELECT 1")
      expect(messages[1]!.end).toBe(startup.length + 14)
    }),
  )

  it.live("stall holds the bytes of a direction until resume", () =>
    Effect.gen(function* () {
      const server = yield* recorder
      const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: server.port })
      const c = yield* client(proxy)
      c.socket.write(startup)
      yield* until("forwarded", () => server.received.length === 1)
      proxy.stall("toServer")
      c.socket.write(query("SELECT 2"))
      // The proxy has the query (it frames what it holds), and the server has not.
      yield* until("the proxy holds the query", () => proxy.connections[0]!.messages.length === 2)
      expect(server.received.length).toBe(1)
      proxy.heal()
      yield* until("delivered after heal", () => server.received.length === 2)
    }),
  )

  it.live("cutAfterBytes forwards exactly N bytes, then cuts both sides", () =>
    Effect.gen(function* () {
      const server = yield* recorder
      const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: server.port })
      proxy.onConnection((c) => c.cutAfterBytes(startup.length + 3, "toServer"))
      const c = yield* client(proxy)
      c.socket.write(startup)
      yield* until("startup forwarded", () => server.received.length === 1)
      c.socket.write(query("SELECT 3"))
      yield* until("the client sees the cut", () => c.closed.value)
      yield* until("the server sees the cut", () => server.closed.n === 1)
      expect(Buffer.concat(server.received).length).toBe(startup.length + 3)
    }),
  )

  it.live("cutAfterMessage forwards the chosen message whole, then cuts", () =>
    Effect.gen(function* () {
      const server = yield* recorder
      const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: server.port })
      proxy.onConnection((c) => c.cutAfterMessage((m) => FaultProxy.sqlOf(m) === "COMMIT"))
      const c = yield* client(proxy)
      c.socket.write(Buffer.concat([startup, query("COMMIT"), query("SELECT 4")]))
      yield* until("the client sees the cut", () => c.closed.value)
      yield* until("the server sees the cut", () => server.closed.n === 1)
      expect(Buffer.concat(server.received).length).toBe(startup.length + query("COMMIT").length)
    }),
  )

  it.live("a black hole accepts connections and answers nothing; heal connects and delivers them", () =>
    Effect.gen(function* () {
      const server = yield* recorder
      const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: server.port })
      proxy.blackHole()
      const c = yield* client(proxy)
      c.socket.write(startup)
      yield* until("the proxy holds the startup", () => proxy.connections[0]?.messages.length === 1)
      expect(server.received.length).toBe(0)
      expect(c.received.length).toBe(0)
      proxy.heal()
      yield* until("delivered", () => server.received.length === 1)
      yield* until("answered", () => c.received.length === 1)
    }),
  )
})
