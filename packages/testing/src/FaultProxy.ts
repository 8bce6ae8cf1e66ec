/**
 * A loopback TCP proxy that injects network faults between a client and a PostgreSQL server:
 * stall one or both directions of a connection, black-hole everything (connections are accepted
 * and never answered, new ones included), cut a connection after N bytes, or right after a
 * chosen frontend message. It frames the client's messages (startup phase included), so a test
 * can cut "right after the client's COMMIT" or count what was sent. Plus {@link suspendProcess}:
 * SIGSTOP a server backend for a scope (a backend that stops answering while the postmaster and
 * other sessions still work).
 *
 * Data is read as it arrives and held in the proxy while a direction is stalled (the sender's
 * socket never blocks); {@link FaultProxy.heal} forwards what was held, in order, and connects
 * the connections the black hole accepted. A cut destroys both sides at once: bytes forwarded
 * just before it may or may not be read by the server (as with a real failure).
 *
 * Loopback and TLS: the proxy frames messages only while they are in clear; after an accepted
 * SSLRequest it forwards the TLS bytes unparsed. Tests that inspect messages use
 * `sslMode: "disable"`.
 *
 * **Example** (Cut the connection right after the client sends COMMIT)
 *
 * ```ts
 * import { Effect } from "effect"
 * import * as FaultProxy from "@pgfx/testing/FaultProxy"
 *
 * const program = Effect.gen(function* () {
 *   const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: 5432 })
 *   proxy.onConnection((c) => c.cutAfterMessage((m) => FaultProxy.sqlOf(m) === "COMMIT"))
 *   // connect a client to proxy.host:proxy.port with sslMode "disable" ...
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 */
import * as net from "node:net"
import { Effect, type Scope } from "effect"

/** A direction of a proxied connection. @since 0.1.0 */
export type Direction = "toServer" | "toClient"

/** One message the client sent, framed by the proxy. @since 0.1.0 */
export interface FrontendMessage {
  /**
   * The type byte as a character (`Q`, `P`, `B`, `E`, `S`, `X`, ...), or `""` for a message of
   * the startup phase, which has none (StartupMessage, SSLRequest, CancelRequest).
   */
  readonly type: string
  /** The whole message, type byte and length included. */
  readonly bytes: Uint8Array
  /** Offset just past this message in the client's byte stream. */
  readonly end: number
}

/** The SQL text of a Query (`Q`) or Parse (`P`) message, else undefined. @since 0.1.0 */
export const sqlOf = (message: FrontendMessage): string | undefined => {
  const b = message.bytes
  let at: number
  if (message.type === "Q") at = 5
  else if (message.type === "P") {
    // Parse: statement name (C string), then the query.
    at = b.indexOf(0, 5) + 1
    if (at === 0) return undefined
  } else return undefined
  const zero = b.indexOf(0, at)
  return Buffer.from(b.buffer, b.byteOffset + at, (zero < 0 ? b.length : zero) - at).toString("utf8")
}

/** One proxied client connection. @since 0.1.0 */
export interface ProxyConnection {
  /** 1-based, in accept order. */
  readonly id: number
  /** Every message received from the client so far, in order (whether forwarded or not). */
  readonly messages: ReadonlyArray<FrontendMessage>
  /** Bytes received from each side so far. */
  readonly received: Readonly<Record<Direction, number>>
  /** Bytes forwarded in each direction so far. */
  readonly forwarded: Readonly<Record<Direction, number>>
  /** Whether the connection has ended (either side, or a cut). */
  readonly closed: boolean
  /** Stops forwarding one direction, or both (default); bytes are held until {@link resume}. */
  stall(direction?: Direction | "both"): void
  /** Forwards again (held bytes first). */
  resume(): void
  /**
   * Cuts the connection once `bytes` more bytes, counted from what the proxy has received in
   * `direction` so far (on a new connection: from its first byte), have been forwarded.
   */
  cutAfterBytes(bytes: number, direction: Direction): void
  /** Cuts the connection right after forwarding the first client message `match` accepts. */
  cutAfterMessage(match: (message: FrontendMessage) => boolean): void
  /** Cuts the connection now: both sockets are destroyed. */
  cut(): void
}

/** The proxy. @since 0.1.0 */
export interface FaultProxy {
  readonly host: string
  readonly port: number
  /** Every connection accepted so far, in order. */
  readonly connections: ReadonlyArray<ProxyConnection>
  /**
   * Runs `f` on each connection accepted from now on, before any byte is forwarded (to arm a
   * cut from its first byte). Replaces the previous callback; `undefined` removes it.
   */
  onConnection(f: ((connection: ProxyConnection) => void) | undefined): void
  /** Stalls every open connection (one direction or both). New connections are not affected. */
  stall(direction?: Direction | "both"): void
  /**
   * A full black hole: every open connection stalls both ways, and new connections are accepted
   * but never connected to the server, until {@link heal}.
   */
  blackHole(): void
  /** Ends every stall and the black hole: held bytes flow, held connections are connected. */
  heal(): void
  /** Cuts every open connection. */
  cutAll(): void
}

const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104

class Connection implements ProxyConnection {
  readonly id: number
  readonly messages: Array<FrontendMessage> = []
  readonly received: Record<Direction, number> = { toServer: 0, toClient: 0 }
  readonly forwarded: Record<Direction, number> = { toServer: 0, toClient: 0 }
  closed = false
  private readonly client: net.Socket
  private upstream: net.Socket | undefined = undefined
  private connected = false
  private readonly target: { readonly host: string; readonly port: number }
  private readonly stalled: Record<Direction, boolean> = { toServer: false, toClient: false }
  private readonly held: Record<Direction, Array<Buffer>> = { toServer: [], toClient: [] }
  /** Absolute stream offsets at which to cut. */
  private readonly cutAt: Record<Direction, number> = { toServer: Infinity, toClient: Infinity }
  private match: ((message: FrontendMessage) => boolean) | undefined = undefined
  /** Framing of the client's stream: pending bytes, and whether messages still lack a type byte. */
  private pending: Buffer = Buffer.alloc(0)
  private startup = true
  /** After an SSLRequest: the server's one-byte answer decides whether the stream turns opaque. */
  private awaitingSslAnswer = false
  private opaque = false

  constructor(id: number, client: net.Socket, target: { readonly host: string; readonly port: number }) {
    this.id = id
    this.client = client
    this.target = target
    client.setNoDelay(true)
    client.on("data", (chunk: Buffer) => this.onData("toServer", chunk))
    client.on("error", () => {})
    client.on("close", () => this.close())
  }

  /** Opens the server side (deferred while the proxy is a black hole). */
  connect(): void {
    if (this.upstream !== undefined || this.closed) return
    const upstream = net.connect({ host: this.target.host, port: this.target.port })
    this.upstream = upstream
    upstream.setNoDelay(true)
    upstream.on("data", (chunk: Buffer) => this.onData("toClient", chunk))
    upstream.on("error", () => {})
    upstream.on("close", () => this.close())
    upstream.once("connect", () => {
      this.connected = true
      this.flush("toServer")
    })
  }

  stall(direction: Direction | "both" = "both"): void {
    if (direction !== "toClient") this.stalled.toServer = true
    if (direction !== "toServer") this.stalled.toClient = true
  }

  resume(): void {
    this.stalled.toServer = false
    this.stalled.toClient = false
    this.flush("toServer")
    this.flush("toClient")
  }

  cutAfterBytes(bytes: number, direction: Direction): void {
    this.cutAt[direction] = Math.min(this.cutAt[direction], this.received[direction] + bytes)
    this.flush(direction)
  }

  cutAfterMessage(match: (message: FrontendMessage) => boolean): void {
    this.match = match
  }

  cut(): void {
    if (this.closed) return
    this.closed = true
    this.client.destroy()
    this.upstream?.destroy()
  }

  private close(): void {
    if (this.closed) return
    // One side ended: pass on what can still be delivered, then end the other side.
    this.flush("toServer")
    this.flush("toClient")
    this.closed = true
    for (const socket of [this.client, this.upstream]) {
      if (socket === undefined) continue
      if (socket.writableLength === 0) socket.destroy()
      else socket.end()
    }
  }

  private onData(direction: Direction, chunk: Buffer): void {
    if (this.closed) return
    this.received[direction] += chunk.length
    if (direction === "toServer") this.frame(chunk)
    else if (this.awaitingSslAnswer && chunk.length > 0) {
      this.awaitingSslAnswer = false
      if (chunk[0] === 0x53 || chunk[0] === 0x47) this.opaque = true
    }
    this.held[direction].push(chunk)
    this.flush(direction)
  }

  /** Frames the client's messages; arms the message cut. */
  private frame(chunk: Buffer): void {
    if (this.opaque) return
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    let offset = this.received.toServer - this.pending.length
    while (!this.opaque) {
      const p = this.pending
      const head = this.startup ? 0 : 1
      if (p.length < head + 4) return
      const length = p.readInt32BE(head)
      const size = head + length
      if (length < 4 || p.length < size) return
      const bytes = Uint8Array.prototype.slice.call(p, 0, size)
      this.pending = p.subarray(size)
      offset += size
      const message: FrontendMessage = { type: this.startup ? "" : String.fromCharCode(p[0]!), bytes, end: offset }
      if (this.startup && length >= 8) {
        const code = p.readInt32BE(4)
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) this.awaitingSslAnswer = true
        else this.startup = false
      }
      this.messages.push(message)
      if (this.match !== undefined && this.match(message)) {
        this.match = undefined
        this.cutAt.toServer = Math.min(this.cutAt.toServer, offset)
      }
      // After an SSLRequest the rest waits for the server's answer (a TLS stream is not framed).
      if (this.awaitingSslAnswer) {
        this.opaque = this.pending.length > 0
        return
      }
    }
  }

  private flush(direction: Direction): void {
    if (this.closed || this.stalled[direction]) return
    const out = direction === "toServer" ? this.upstream : this.client
    if (out === undefined || (direction === "toServer" && !this.connected)) return
    const queue = this.held[direction]
    while (queue.length > 0) {
      const chunk = queue.shift()!
      const room = this.cutAt[direction] - this.forwarded[direction]
      if (chunk.length >= room) {
        if (room > 0) out.write(chunk.subarray(0, room))
        this.forwarded[direction] += Math.max(room, 0)
        this.cut()
        return
      }
      out.write(chunk)
      this.forwarded[direction] += chunk.length
    }
    if (this.forwarded[direction] >= this.cutAt[direction]) this.cut()
  }
}

/**
 * Starts a proxy on a free loopback port in front of `target`; it is closed (with every
 * connection) when the scope closes.
 *
 * @example
 * ```ts
 * const proxy = yield* FaultProxy.make({ host: cluster.host, port: cluster.port })
 * const conn = yield* PgConnection.make({ host: proxy.host, port: proxy.port, sslMode: "disable" })
 * proxy.stall() // the session's socket stops delivering; new connections still work
 * ```
 * @since 0.1.0
 */
export const make = (target: {
  readonly host: string
  readonly port: number
}): Effect.Effect<FaultProxy, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ proxy: FaultProxy; server: net.Server; all: Array<Connection> }>((resume) => {
      const all: Array<Connection> = []
      let hook: ((connection: ProxyConnection) => void) | undefined
      let blackHole = false
      const server = net.createServer((socket) => {
        const connection = new Connection(all.length + 1, socket, target)
        all.push(connection)
        hook?.(connection)
        if (blackHole) connection.stall()
        else connection.connect()
      })
      const open = () => all.filter((c) => !c.closed)
      server.listen(0, "127.0.0.1", () => {
        const address = server.address() as net.AddressInfo
        const proxy: FaultProxy = {
          host: "127.0.0.1",
          port: address.port,
          connections: all,
          onConnection: (f) => {
            hook = f
          },
          stall: (direction) => {
            for (const c of open()) c.stall(direction)
          },
          blackHole: () => {
            blackHole = true
            for (const c of open()) c.stall()
          },
          heal: () => {
            blackHole = false
            for (const c of open()) {
              c.connect()
              c.resume()
            }
          },
          cutAll: () => {
            for (const c of open()) c.cut()
          },
        }
        resume(Effect.succeed({ proxy, server, all }))
      })
    }),
    ({ server, all }) =>
      Effect.callback<void>((resume) => {
        for (const c of all) c.cut()
        server.close(() => resume(Effect.void))
      }),
  ).pipe(Effect.map(({ proxy }) => proxy))

/**
 * Stops process `pid` with SIGSTOP (e.g. a server backend, from `pg_backend_pid()`) until the
 * scope closes or the returned `resume` runs (SIGCONT). The backend stops answering while the
 * postmaster and other sessions go on. Signalling a server that runs as another user needs root
 * (as the test suite runs in CI); otherwise this dies with EPERM, loudly.
 *
 * @example
 * ```ts
 * const stopped = yield* FaultProxy.suspendProcess(conn.serverPid)
 * // ... the backend is frozen ...
 * yield* stopped.resume
 * ```
 * @since 0.1.0
 */
export const suspendProcess = (
  pid: number,
): Effect.Effect<{ readonly resume: Effect.Effect<void> }, never, Scope.Scope> => {
  let stopped = false
  const cont = () => {
    if (!stopped) return
    stopped = false
    process.kill(pid, "SIGCONT")
  }
  return Effect.acquireRelease(
    Effect.sync(() => {
      process.kill(pid, "SIGSTOP")
      stopped = true
      return { resume: Effect.sync(cont) }
    }),
    () =>
      Effect.sync(() => {
        try {
          cont()
        } catch {
          // The process is gone: nothing left to resume.
        }
      }),
  )
}
