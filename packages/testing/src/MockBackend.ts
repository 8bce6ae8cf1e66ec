/**
 * A scripted fake PostgreSQL server on a loopback port, for protocol situations a real server
 * will not produce on demand (a frame split across writes, an unexpected message, a connection
 * dropped mid-query, an odd authentication request).
 *
 * A script is a list of steps run in order against one client connection, in the manner of
 * pgx's pgmock: {@link expect} a frontend message, {@link send} backend messages or raw bytes,
 * {@link wait}, {@link closeConnection}, or {@link respond} to every later message with a function
 * (a fake server with behaviour, e.g. under load). {@link acceptUnauthenticatedConnection} is the
 * usual first step. The client's bytes are decoded with `@pgfx/protocol/FrontendDecoder` (untyped
 * startup frames first, typed messages after the StartupMessage) and backend messages are
 * encoded with `@pgfx/protocol/BackendEncoder`.
 *
 * When to use: unit tests of a client against exact server behaviour. Use `TempCluster` for the
 * real thing.
 *
 * Details:
 * - `make(script)` serves one connection; `makeMany([a, b])` gives the first accepted connection
 *   script `a`, the second `b` (for example a query connection and its CancelRequest). Scripts
 *   run concurrently, each as soon as its connection is accepted. `serve(f)` runs `f(i)` on the
 *   i-th connection, for any number of connections (e.g. behind a pool that reconnects).
 * - `result` succeeds when every script has run to its end and fails with
 *   {@link MockBackendError} at the first mismatch (an unexpected message, a client that closes
 *   early, undecodable bytes, a connection beyond the scripts). A failing connection is destroyed
 *   so the client does not wait forever.
 * - After its last step a connection stays open; what the client sends is still recorded in
 *   `received` but not checked.
 * - Closing the scope destroys every connection and closes the listener.
 *
 * Gotchas: {@link wait} uses real time (a `setTimeout`), not Effect's `Clock`, because the peer is
 * a real socket; a test using `TestClock` still sees it elapse.
 *
 * @since 0.1.0
 */
import * as net from "node:net"
import type { BackendMessage } from "@pgfx/protocol/Backend"
import * as BackendEncoder from "@pgfx/protocol/BackendEncoder"
import { type ClientMessage, FrontendReader } from "@pgfx/protocol/FrontendDecoder"
import { Data, Deferred, Effect, Option, type Scope } from "effect"

/** A script mismatch, a socket failure, or a listener that could not start. @since 0.1.0 */
export class MockBackendError extends Data.TaggedError("MockBackendError")<{
  readonly message: string
  /** Index of the connection (in accept order) whose script failed. */
  readonly connection?: number
  /** Index of the failing step in the flattened script. */
  readonly step?: number
}> {}

/** One step of a script. Build steps with the constructors of this module. @since 0.1.0 */
export type Step =
  | {
      readonly _tag: "Expect"
      readonly description: string
      readonly match: (message: ClientMessage) => boolean
    }
  | { readonly _tag: "Send"; readonly description: string; readonly bytes: Uint8Array }
  | { readonly _tag: "Wait"; readonly millis: number }
  | { readonly _tag: "CloseConnection"; readonly reset: boolean }
  | { readonly _tag: "Respond"; readonly reply: Responder }

/**
 * What a {@link respond} step answers to one client message: backend messages, or raw bytes
 * (possibly none).
 * @since 0.1.0
 */
export type Responder = (message: ClientMessage) => ReadonlyArray<BackendMessage> | Uint8Array

/** A script: steps, or groups of steps (as returned by {@link acceptUnauthenticatedConnection}). @since 0.1.0 */
export type Script = ReadonlyArray<Step | ReadonlyArray<Step>>

/** A running mock server. @since 0.1.0 */
export interface MockBackend {
  readonly host: string
  readonly port: number
  /** Succeeds when every script has completed; fails with the first mismatch. */
  readonly result: Effect.Effect<void, MockBackendError>
  /** What connection `connection` (accept order, default 0) has sent so far. */
  readonly received: (connection?: number) => Effect.Effect<ReadonlyArray<ClientMessage>>
}

// ---------------------------------------------------------------------------------------------
// Step constructors
// ---------------------------------------------------------------------------------------------

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex")

/** A readable rendering of a message for mismatch reports (byte arrays as hex). @since 0.1.0 */
export const show = (m: unknown): string =>
  JSON.stringify(m, (_k, v: unknown) => (v instanceof Uint8Array ? `0x${hex(v)}` : v)) ?? String(m)

/** Structural equality over messages: primitives, arrays, byte arrays and plain objects. @since 0.1.0 */
export const equals = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return false
    return a.every((x, i) => equals(x, b[i]))
  }
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length) return false
  const ra = a as Record<string, unknown>
  const rb = b as Record<string, unknown>
  return ka.every((k) => Object.hasOwn(rb, k) && equals(ra[k], rb[k]))
}

/**
 * Expects the next client message to equal `message` exactly.
 *
 * @example
 * ```ts
 * MockBackend.expect({ _tag: "Query", sql: "SELECT 1" })
 * ```
 * @since 0.1.0
 */
export const expect = (message: ClientMessage): Step => ({
  _tag: "Expect",
  description: show(message),
  match: (m) => equals(m, message),
})

/** Expects the next client message to have tag `tag`, whatever its contents. @since 0.1.0 */
export const expectTag = (tag: ClientMessage["_tag"]): Step => ({
  _tag: "Expect",
  description: `any ${tag}`,
  match: (m) => m._tag === tag,
})

/** Expects the next client message to satisfy `predicate`. @since 0.1.0 */
export const expectMatch = (description: string, predicate: (message: ClientMessage) => boolean): Step => ({
  _tag: "Expect",
  description,
  match: predicate,
})

/**
 * Expects a StartupMessage carrying at least the given parameters (others are allowed), and
 * protocol `version` when given.
 * @since 0.1.0
 */
export const expectStartup = (parameters: Readonly<Record<string, string>> = {}, version?: number): Step => ({
  _tag: "Expect",
  description: `StartupMessage with ${show(parameters)}${version === undefined ? "" : ` version ${version}`}`,
  match: (m) =>
    m._tag === "StartupMessage" &&
    (version === undefined || m.version === version) &&
    Object.entries(parameters).every(([k, v]) => m.parameters[k] === v),
})

/** Sends one backend message, or raw bytes when given a `Uint8Array`. @since 0.1.0 */
export const send = (message: BackendMessage | Uint8Array): Step =>
  message instanceof Uint8Array
    ? sendRaw(message)
    : { _tag: "Send", description: message._tag, bytes: BackendEncoder.toBytes(message) }

/** Sends several backend messages in one write. @since 0.1.0 */
export const sendAll = (messages: ReadonlyArray<BackendMessage>): Step => ({
  _tag: "Send",
  description: messages.map((m) => m._tag).join(", "),
  bytes: BackendEncoder.toBytes(...messages),
})

/**
 * Sends raw bytes as they are: a partial frame, a bad length, the one-byte SSL answer.
 * @since 0.1.0
 */
export const sendRaw = (bytes: Uint8Array): Step => ({
  _tag: "Send",
  description: `${bytes.length} raw bytes`,
  bytes: bytes.slice(),
})

/** Pauses the script for `millis` milliseconds of real time. @since 0.1.0 */
export const wait = (millis: number): Step => ({ _tag: "Wait", millis })

/** Ends the connection gracefully (FIN) from the server side. @since 0.1.0 */
export const closeConnection: Step = { _tag: "CloseConnection", reset: false }

/** Aborts the connection (TCP RST) from the server side. @since 0.1.0 */
export const resetConnection: Step = { _tag: "CloseConnection", reset: true }

/**
 * Answers every later client message with `reply(message)`, in order, until the client closes
 * the connection (which ends the step successfully). Must be the last step.
 *
 * @example
 * ```ts
 * MockBackend.respond((m) =>
 *   m._tag === "Sync" ? [{ _tag: "ReadyForQuery", status: "I" }] : m._tag === "Parse" ? [{ _tag: "ParseComplete" }] : [],
 * )
 * ```
 * @since 0.1.0
 */
export const respond = (reply: Responder): Step => ({ _tag: "Respond", reply })

/** Options of {@link acceptUnauthenticatedConnection}. @since 0.1.0 */
export interface AcceptOptions {
  readonly processId?: number
  readonly secretKey?: Uint8Array
}

/** ParameterStatus values sent by {@link acceptUnauthenticatedConnection} unless overridden. @since 0.1.0 */
export const defaultParameters: Readonly<Record<string, string>> = {
  server_version: "18.0",
  server_encoding: "UTF8",
  client_encoding: "UTF8",
  DateStyle: "ISO, MDY",
  IntervalStyle: "postgres",
  integer_datetimes: "on",
  standard_conforming_strings: "on",
  TimeZone: "UTC",
}

/**
 * The usual opening: expects any StartupMessage and answers AuthenticationOk, a ParameterStatus
 * per parameter (`parameters` merged over {@link defaultParameters}), BackendKeyData and
 * ReadyForQuery('I'), in one write.
 * @since 0.1.0
 */
export const acceptUnauthenticatedConnection = (
  parameters: Readonly<Record<string, string>> = {},
  options: AcceptOptions = {},
): ReadonlyArray<Step> => {
  const all = { ...defaultParameters, ...parameters }
  return [
    expectTag("StartupMessage"),
    sendAll([
      { _tag: "AuthenticationOk" },
      ...Object.entries(all).map(([name, value]): BackendMessage => ({ _tag: "ParameterStatus", name, value })),
      {
        _tag: "BackendKeyData",
        processId: options.processId ?? 4242,
        secretKey: options.secretKey ?? new Uint8Array([0, 0, 0x10, 0x92]),
      },
      { _tag: "ReadyForQuery", status: "I" },
    ]),
  ]
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

/** A FIFO with one waiting taker, fed from socket callbacks. */
class Inbox<A> {
  private readonly items: Array<A> = []
  private waiter: ((a: A) => void) | undefined = undefined

  push(a: A): void {
    const w = this.waiter
    if (w !== undefined) {
      this.waiter = undefined
      w(a)
    } else this.items.push(a)
  }

  readonly take: Effect.Effect<A> = Effect.callback<A>((resume) => {
    if (this.items.length > 0) {
      resume(Effect.succeed(this.items.shift()!))
      return
    }
    this.waiter = (a) => resume(Effect.succeed(a))
    return Effect.sync(() => {
      this.waiter = undefined
    })
  })
}

type Event =
  | { readonly _tag: "Message"; readonly message: ClientMessage }
  | { readonly _tag: "Closed" }
  | { readonly _tag: "Failed"; readonly reason: string }

interface Conn {
  readonly index: number
  readonly socket: net.Socket
  readonly events: Inbox<Event>
  readonly received: Array<ClientMessage>
}

const attach = (socket: net.Socket, index: number): Conn => {
  const conn: Conn = { index, socket, events: new Inbox(), received: [] }
  const reader = new FrontendReader()
  let broken = false
  socket.setNoDelay(true)
  socket.on("data", (chunk: Buffer) => {
    if (broken) return
    try {
      reader.push(new Uint8Array(chunk))
      for (let m = reader.next(); m !== undefined; m = reader.next()) {
        conn.received.push(m)
        conn.events.push({ _tag: "Message", message: m })
      }
    } catch (e) {
      broken = true
      conn.events.push({ _tag: "Failed", reason: `undecodable client bytes: ${String(e)}` })
    }
  })
  // A client that closes its socket with replies still unread resets the connection (RST): that is
  // the client closing it (e.g. a poisoned session), not a failure of the socket.
  socket.on("error", (e: NodeJS.ErrnoException) =>
    conn.events.push(
      e.code === "ECONNRESET" ? { _tag: "Closed" } : { _tag: "Failed", reason: `socket error: ${e.message}` },
    ),
  )
  socket.on("close", () => conn.events.push({ _tag: "Closed" }))
  return conn
}

const flatten = (script: Script): Array<Step> => script.flatMap((s) => (Array.isArray(s) ? s : [s as Step]))

const write = (socket: net.Socket, bytes: Uint8Array): Effect.Effect<void, string> =>
  Effect.callback<void, string>((resume) => {
    if (socket.destroyed) {
      resume(Effect.fail("the connection is already closed"))
      return
    }
    socket.write(bytes, (err) => resume(err ? Effect.fail(`write failed: ${err.message}`) : Effect.void))
  })

const sleep = (millis: number): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const t = setTimeout(() => resume(Effect.void), millis)
    return Effect.sync(() => clearTimeout(t))
  })

/** Runs one script on one connection; fails with a description of the first mismatch. */
const runScript = (conn: Conn, steps: ReadonlyArray<Step>): Effect.Effect<void, MockBackendError> =>
  Effect.gen(function* () {
    const fail = (step: number, message: string) =>
      new MockBackendError({
        message: `connection ${conn.index}, step ${step}: ${message}`,
        connection: conn.index,
        step,
      })
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!
      switch (step._tag) {
        case "Expect": {
          const ev = yield* conn.events.take
          if (ev._tag === "Closed") {
            return yield* fail(i, `expected ${step.description}, but the client closed the connection`)
          }
          if (ev._tag === "Failed") return yield* fail(i, `expected ${step.description}, but ${ev.reason}`)
          if (!step.match(ev.message)) {
            return yield* fail(i, `expected ${step.description}, got ${show(ev.message)}`)
          }
          break
        }
        case "Send":
          yield* write(conn.socket, step.bytes).pipe(
            Effect.mapError((reason) => fail(i, `sending ${step.description}: ${reason}`)),
          )
          break
        case "Wait":
          yield* sleep(step.millis)
          break
        case "CloseConnection":
          yield* Effect.sync(() => (step.reset ? conn.socket.resetAndDestroy() : conn.socket.end()))
          break
        case "Respond":
          for (;;) {
            const ev = yield* conn.events.take
            if (ev._tag === "Closed") return
            if (ev._tag === "Failed") return yield* fail(i, ev.reason)
            const reply = step.reply(ev.message)
            const bytes = reply instanceof Uint8Array ? reply : BackendEncoder.toBytes(...reply)
            // The client may have closed the connection on this very message (a poisoned session).
            if (bytes.length > 0 && !conn.socket.destroyed) yield* write(conn.socket, bytes).pipe(Effect.ignore)
          }
      }
    }
  }).pipe(Effect.tapError(() => Effect.sync(() => conn.socket.destroy())))

interface Listener {
  readonly server: net.Server
  readonly sockets: Set<net.Socket>
  /** Accepted connections, with their listeners attached at accept time so no event is lost. */
  readonly accepted: Inbox<Conn>
}

const listen = (host: string): Effect.Effect<Listener, MockBackendError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<Listener, MockBackendError>((resume) => {
      const sockets = new Set<net.Socket>()
      const accepted = new Inbox<Conn>()
      let count = 0
      const server = net.createServer((socket) => {
        sockets.add(socket)
        socket.on("close", () => sockets.delete(socket))
        accepted.push(attach(socket, count++))
      })
      server.once("error", (e) => resume(Effect.fail(new MockBackendError({ message: `listen failed: ${e.message}` }))))
      server.listen(0, host, () => resume(Effect.succeed({ server, sockets, accepted })))
    }),
    ({ server, sockets }) =>
      Effect.callback<void>((resume) => {
        for (const s of sockets) s.destroy()
        server.close(() => resume(Effect.void))
      }),
  )

/** Options of {@link make} and {@link makeMany}. @since 0.1.0 */
export interface MakeOptions {
  /** Loopback address to listen on (default "127.0.0.1"). */
  readonly host?: string
}

/**
 * Starts a mock server whose accepted connections run `scripts` in order (connection 0 runs
 * `scripts[0]`, ...). A connection beyond the scripts is destroyed and fails `result`.
 * Scoped: closing the scope closes every connection and the listener.
 * @since 0.1.0
 */
export const makeMany = (
  scripts: ReadonlyArray<Script>,
  options: MakeOptions = {},
): Effect.Effect<MockBackend, MockBackendError, Scope.Scope> => start(scripts.map(flatten), options)

/**
 * Starts a mock server that runs `script(i)` on the i-th accepted connection, for any number of
 * connections. Its `result` fails with the first mismatch seen so far, and succeeds otherwise
 * (connections keep being served until the scope closes).
 *
 * @example
 * ```ts
 * const mock = yield* MockBackend.serve(() => [
 *   MockBackend.acceptUnauthenticatedConnection(),
 *   MockBackend.respond((m) => (m._tag === "Query" ? [{ _tag: "EmptyQueryResponse" }, { _tag: "ReadyForQuery", status: "I" }] : [])),
 * ])
 * ```
 * @since 0.1.0
 */
export const serve = (
  script: (connection: number) => Script,
  options: MakeOptions = {},
): Effect.Effect<MockBackend, MockBackendError, Scope.Scope> => start((i) => flatten(script(i)), options)

const start = (
  scripts: ReadonlyArray<ReadonlyArray<Step>> | ((connection: number) => ReadonlyArray<Step>),
  options: MakeOptions,
): Effect.Effect<MockBackend, MockBackendError, Scope.Scope> =>
  Effect.gen(function* () {
    const host = options.host ?? "127.0.0.1"
    const listener = yield* listen(host)
    const done = yield* Deferred.make<void, MockBackendError>()
    const conns: Array<Conn> = []
    const unbounded = typeof scripts === "function"
    const flat = unbounded ? [] : scripts
    const scriptFor = unbounded ? scripts : (i: number) => flat[i]
    let completed = 0
    if (!unbounded && flat.length === 0) yield* Deferred.succeed(done, undefined)

    const serve = (conn: Conn, steps: ReadonlyArray<Step>) =>
      runScript(conn, steps).pipe(
        Effect.matchEffect({
          onFailure: (e) => Deferred.fail(done, e),
          onSuccess: () =>
            Effect.suspend(() => {
              completed++
              return completed === flat.length ? Deferred.succeed(done, undefined) : Effect.succeed(false)
            }),
        }),
      )

    const acceptLoop = Effect.gen(function* () {
      for (let index = 0; ; index++) {
        const conn = yield* listener.accepted.take
        conns.push(conn)
        const steps = scriptFor(index)
        if (steps === undefined) {
          conn.socket.destroy()
          yield* Deferred.fail(
            done,
            new MockBackendError({
              message: `unexpected connection ${index}: only ${flat.length} script(s)`,
              connection: index,
            }),
          )
          continue
        }
        yield* Effect.forkScoped(serve(conn, steps))
      }
    })
    yield* Effect.forkScoped(acceptLoop)

    const address = listener.server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    return {
      host,
      port,
      result: unbounded
        ? Effect.flatMap(
            Deferred.poll(done),
            Option.getOrElse(() => Effect.void),
          )
        : Deferred.await(done),
      received: (connection = 0) => Effect.sync(() => conns[connection]?.received.slice() ?? []),
    }
  })

/**
 * Starts a mock server that runs `script` on the first connection.
 *
 * @example
 * ```ts
 * import * as MockBackend from "@pgfx/testing/MockBackend"
 * const program = Effect.gen(function* () {
 *   const mock = yield* MockBackend.make([
 *     MockBackend.acceptUnauthenticatedConnection(),
 *     MockBackend.expect({ _tag: "Query", sql: "SELECT 1" }),
 *     MockBackend.sendAll([
 *       { _tag: "EmptyQueryResponse" },
 *       { _tag: "ReadyForQuery", status: "I" },
 *     ]),
 *   ])
 *   // connect a client to mock.host:mock.port, run it, then:
 *   yield* mock.result
 * })
 * ```
 * @since 0.1.0
 */
export const make = (
  script: Script,
  options: MakeOptions = {},
): Effect.Effect<MockBackend, MockBackendError, Scope.Scope> => makeMany([script], options)
