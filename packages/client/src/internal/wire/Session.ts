/**
 * The session core: one socket, the incremental reader, and a FIFO of request handlers.
 *
 * Hot path rule: everything here is synchronous TypeScript. Each socket chunk is framed by the
 * protocol `Reader`; asynchronous messages (ParameterStatus, NoticeResponse,
 * NotificationResponse) are handled here; every other message goes to the handler at the head
 * of the queue, which returns true once it has consumed its ReadyForQuery (or its terminal
 * message). Requests are written in the order they are queued, so responses arrive in queue
 * order: that is what makes pipelining safe.
 *
 * When the socket dies or the server breaks the protocol, every queued handler is failed with
 * the same error and the session is closed for good.
 *
 * @internal
 */
import * as Backend from "@pgfx/protocol/Backend"
import * as BackendEncoder from "@pgfx/protocol/BackendEncoder"
import * as Frontend from "@pgfx/protocol/Frontend"
import { InvalidMessageLength, MessageTooLarge, Reader } from "@pgfx/protocol/Reader"
import type * as net from "node:net"
import { PgConnectionError, type PgLimitError, PgProtocolError, PgServerError } from "../../PgError.ts"
import { ReplyLimits } from "./Limits.ts"
import type { SessionDebug } from "../observe/Debug.ts"
import { unexpected } from "./Replies.ts"
import { noteTag } from "./CommandTags.ts"

/** A request in flight: it receives the messages of its own cycle. */
export interface Handler {
  /** Handles one message; returns true when the request's cycle is over. */
  onMessage(type: number, buf: Uint8Array, view: DataView, start: number, end: number): boolean
  /** The session died before the cycle ended. */
  onFailure(error: PgConnectionError | PgProtocolError): void
  /**
   * The request's bytes, given as it is queued: the replies an extended-query request may get
   * follow from its frontend messages (internal/wire/Replies.ts).
   */
  sent?(request: Uint8Array): void
  /**
   * The reply went over a result limit (internal/wire/Limits.ts): fail the request with `error` when
   * its cycle ends. Later rows and COPY chunks of the reply are not delivered. Handlers without it
   * (startup, the pool's reset) are not limited.
   */
  onLimit?(error: PgLimitError): void
  /** True when result limits do not apply although the handler has {@link onLimit}. */
  readonly unlimited?: boolean
}

/** Limits a session applies to what the server sends (see internal/wire/Limits.ts). */
export interface SessionLimits {
  readonly maxMessageSize?: number | undefined
  readonly maxResultRows?: number | undefined
  readonly maxResultBytes?: number | undefined
}

/** A notification delivered by LISTEN/NOTIFY. */
export interface Notification {
  readonly processId: number
  readonly channel: string
  readonly payload: string
}

/** What can end a session. */
export type SessionError = PgConnectionError | PgProtocolError

/** `error` for a request the server never read (the connection was already closed, or it was held back). */
export const unsent = (error: SessionError | undefined): SessionError =>
  error === undefined
    ? new PgConnectionError({ reason: "Closed", message: "the connection is closed", sent: false })
    : error instanceof PgConnectionError
      ? new PgConnectionError({ reason: error.reason, message: error.message, cause: error.cause, sent: false })
      : error

/**
 * Refuses a setting under which values the server sends as text could not be read exactly:
 * dates and timestamps are read in the ISO DateStyle only (other styles print ambiguous day/month
 * orders and time zone abbreviations), and all text is UTF-8. The session is then closed with a
 * PgProtocolError naming the setting (pgJDBC does the same for DateStyle). Every IntervalStyle
 * and TimeZone is read.
 */
const checkTextSetting = (name: string, value: string): void => {
  if (name === "DateStyle" ? !value.startsWith("ISO") : name === "client_encoding" && value.toUpperCase() !== "UTF8") {
    throw new Backend.ProtocolViolation({
      message: `the server's ${name} changed to "${value}": pgfx reads values only with ${
        name === "DateStyle" ? "DateStyle ISO (any day order)" : "client_encoding UTF8"
      }, so the connection is closed`,
    })
  }
}

export class Session {
  readonly socket: net.Socket
  readonly reader: Reader
  readonly parameters = new Map<string, string>()
  processId = 0
  secretKey: Uint8Array = new Uint8Array(0)
  /** Negotiated protocol minor version (0 or 2). */
  protocolMinor = 0
  transactionStatus: Backend.TransactionStatus = "I"
  closed = false
  closeError: SessionError | undefined = undefined
  /** A FATAL error the server sent outside any request, kept to explain the close. */
  fatal: PgServerError | undefined = undefined
  /**
   * Set when a `PREPARE` command completed: the session holds a SQL-level prepared statement,
   * which a pool's reset deallocates (see Reset.ts). The reset clears it.
   */
  sqlPrepared = false
  /**
   * Whether the pool's reset statements are prepared on the server under their names (Reset.ts);
   * cleared by a `DEALLOCATE` or `DISCARD ALL` command, so the next reset prepares them again.
   */
  resetPrepared = false
  /** Whether a request was sent since the last reset: a pool's reset is skipped otherwise. */
  sentSinceReset = true
  /**
   * Requests abandoned by an interruption (pipelined ones, internal/wire/Interrupt.ts) whose replies
   * have not come yet: a pool does not hand such a connection to the next borrower.
   */
  abandoned = 0
  /** Statements executed on this session (CommandComplete or PortalSuspended); a pool's `maxQueries` counts these. */
  commandCount = 0
  /** Bytes read from the socket so far (an interruption's grace asks whether the server still sends). */
  bytesReceived = 0
  /** Debug mode's trace and checks (internal/observe/Debug.ts); undefined (the usual case) costs one check per message. */
  debug: SessionDebug | undefined = undefined

  readonly noticeListeners = new Set<(fields: ReadonlyArray<readonly [string, string]>) => void>()
  readonly notificationListeners = new Set<(n: Notification) => void>()
  readonly closeListeners = new Set<(error: SessionError | undefined) => void>()
  /** Called whenever a request's cycle has ended and the next one (if any) became current. */
  readonly advanceListeners = new Set<() => void>()

  /** Nesting depth of {@link hold}; while above 0, the bytes of new requests are held back. */
  private holds = 0
  /** Held-back requests, in queue order (always the tail of the queue). */
  private held: Array<{ readonly handler: Handler; readonly bytes: Uint8Array }> = []
  private queue: Array<Handler> = []
  private head = 0

  /** The result limits and what the reply in progress used of them (internal/wire/Limits.ts). */
  private readonly limits: ReplyLimits
  /** Whether `maxResultRows` or `maxResultBytes` is set: only then are rows counted. */
  private readonly limited: boolean

  constructor(socket: net.Socket, limits: SessionLimits = {}) {
    this.socket = socket
    const { maxMessageSize, maxResultRows, maxResultBytes } = limits
    this.reader = new Reader(maxMessageSize === undefined ? {} : { maxMessageSize })
    this.limits = new ReplyLimits(maxResultRows, maxResultBytes)
    this.limited = maxResultRows !== undefined || maxResultBytes !== undefined
    socket.on("data", (chunk: Buffer) => this.onData(chunk))
    socket.on("error", (err) =>
      this.destroy(
        new PgConnectionError({ reason: "SocketError", message: `socket error: ${err.message}`, cause: err }),
      ),
    )
    socket.on("close", () =>
      this.destroy(
        this.fatal !== undefined
          ? new PgConnectionError({
              reason: "ClosedByServer",
              message: `connection closed by the server: ${this.fatal.code} ${this.fatal.message}`,
              cause: this.fatal,
            })
          : new PgConnectionError({ reason: "ClosedByServer", message: "connection closed by the server" }),
      ),
    )
  }

  /** The number of requests queued or in flight. */
  get pending(): number {
    return this.queue.length - this.head
  }

  /** The request currently receiving messages, if any. */
  get current(): Handler | undefined {
    return this.queue[this.head]
  }

  /**
   * Queues `handler` and writes its bytes. A closed session fails the handler at once.
   * `unhurried`: nobody waits for this request's answer (the pool's reset), so when it is sent
   * while a chunk is dispatched it may wait for the end of the tick (see {@link flushAfterChunk}).
   */
  send(handler: Handler, bytes: Uint8Array, unhurried = false): void {
    if (!this.admit(handler, bytes)) return
    this.queue.push(handler)
    if (this.holds > 0) this.held.push({ handler, bytes })
    else this.out(bytes, !unhurried)
  }

  /**
   * The first steps of {@link send} and {@link sendNext}: false (and `handler` failed, nothing
   * sent) when the session is closed; otherwise the request is marked sent and traced.
   */
  private admit(handler: Handler, bytes: Uint8Array): boolean {
    if (this.closed) {
      handler.onFailure(unsent(this.closeError))
      return false
    }
    this.sentSinceReset = true
    handler.sent?.(bytes)
    if (this.debug !== undefined) this.debug.frontend(bytes)
    return true
  }

  /** True while {@link onData} hands messages to handlers. */
  private dispatching = false

  /**
   * True while a chunk of the server's messages is being handed to handlers: code running now may
   * be the completion of the current request, which is then still counted in {@link pending}.
   */
  get isDispatching(): boolean {
    return this.dispatching
  }
  /** The bytes of requests not written yet, one entry per request, in queue order. */
  private readonly outbox: Array<Uint8Array> = []
  private outboxBytes = 0
  /** Whether the outbox holds a request someone waits for (anything not sent `unhurried`). */
  private outboxAwaited = false
  /** Whether {@link flushAtTickEnd} is scheduled. */
  private flushScheduled = false

  /**
   * Queues a request's bytes: everything sent in one tick goes out in one write system call.
   * While a chunk is being dispatched (callers resumed by their responses send their next query
   * at once) the queue is written when the chunk is done (see {@link flushAfterChunk}); otherwise
   * at the end of the tick (`process.nextTick`, which runs once the microtask queue is drained),
   * which also catches callers resumed through promises — one `runPromise` per call — who send
   * their next query a few microtasks after the chunk. A serial round trip waits for nothing:
   * the end of the tick comes before the event loop polls again. Our own queue rather than
   * `socket.cork()`: a single request takes Node's direct write path, not the buffered one
   * (which allocates per write).
   */
  private out(bytes: Uint8Array, awaited = true): void {
    this.outbox.push(bytes)
    this.outboxBytes += bytes.length
    if (awaited) this.outboxAwaited = true
    if (this.dispatching || this.flushScheduled) return
    this.flushScheduled = true
    process.nextTick(this.flushAtTickEnd)
  }

  /**
   * After a chunk: what its handlers sent is written now when someone waits for it. When the
   * chunk sent only unhurried requests (the pool's reset, written as the borrower released the
   * connection), they wait for the promise jobs the chunk started, so that a caller resumed
   * through a promise shares the write with its next query (one system call, and one wake-up of
   * the server, per query through `PgClient`). A tick scheduled from inside the chunk would run
   * before those jobs (Node runs the tick queue first), so it is scheduled from a promise job.
   */
  private flushAfterChunk(): void {
    if (this.outbox.length === 0) return
    if (this.outboxAwaited) return this.flush()
    if (this.flushScheduled) return
    this.flushScheduled = true
    queueMicrotask(this.flushAtTickEndLater)
  }

  private readonly flushAtTickEndLater = (): void => {
    process.nextTick(this.flushAtTickEnd)
  }

  private readonly flushAtTickEnd = (): void => {
    this.flushScheduled = false
    this.flush()
  }

  private flush(): void {
    const outbox = this.outbox
    const n = outbox.length
    if (n === 0) return
    const size = this.outboxBytes
    this.outboxBytes = 0
    this.outboxAwaited = false
    if (!this.closed) {
      // socket.write never calls back into the session synchronously, so the array can be reused.
      if (n === 1) this.socket.write(outbox[0]!)
      else if (size <= 65536) this.socket.write(Buffer.concat(outbox, size))
      else {
        this.socket.cork()
        for (const bytes of outbox) this.socket.write(bytes)
        this.socket.uncork()
      }
    }
    outbox.length = 0
  }

  /**
   * The number of queued requests whose bytes have been written (the current one included),
   * counting those waiting in the write queue for the end of the chunk or tick: they reach the
   * socket before anything that can follow them (a cancel request, Terminate, COPY data).
   */
  get written(): number {
    return this.pending - this.held.length
  }

  /**
   * Removes a request whose bytes are still held back, as if it had never been sent. Returns
   * false when its bytes are already on the wire (or it is not queued).
   */
  withdraw(handler: Handler): boolean {
    const i = this.held.findIndex((h) => h.handler === handler)
    if (i < 0) return false
    this.held.splice(i, 1)
    const at = this.queue.indexOf(handler, this.head)
    if (at >= 0) this.queue.splice(at, 1)
    if (at === this.head) for (const l of this.advanceListeners) l()
    return true
  }

  /**
   * Queues `handler` right after the current request, ahead of every held-back request. Only
   * valid while the current request is the only one whose bytes are written.
   */
  sendNext(handler: Handler, bytes: Uint8Array): void {
    if (!this.admit(handler, bytes)) return
    this.queue.splice(this.head + 1, 0, handler)
    if (this.holds > 0) this.held.unshift({ handler, bytes })
    else this.out(bytes)
  }

  /**
   * Holds back the bytes of requests sent from now on (they are still queued in order) until
   * {@link release}: used while a cancel request is in flight, so that a late cancel can only
   * ever reach the statement it was meant for.
   */
  hold(): void {
    this.holds++
  }

  /** Ends one {@link hold}; the last one writes the requests held back meanwhile. */
  release(): void {
    if (this.holds === 0 || --this.holds > 0) return
    const held = this.held
    this.held = []
    if (this.closed) return
    for (const h of held) this.out(h.bytes)
  }

  /**
   * Writes bytes outside any request (e.g. a CopyData chunk of the current request) straight to
   * the socket, after anything queued earlier in this chunk, and returns the socket's
   * backpressure signal (false: wait for 'drain'), which a queued write could not give.
   */
  write(bytes: Uint8Array): boolean {
    if (this.closed) return false
    if (this.debug !== undefined) this.debug.frontend(bytes)
    this.flush()
    return this.socket.write(bytes)
  }

  private onData(chunk: Uint8Array): void {
    this.bytesReceived += chunk.length
    this.dispatching = true
    try {
      this.dispatch(chunk)
    } finally {
      this.dispatching = false
      this.flushAfterChunk()
    }
  }

  private dispatch(chunk: Uint8Array): void {
    const reader = this.reader
    try {
      reader.push(chunk)
      while (reader.next()) {
        const type = reader.type
        if (reader.oversized !== 0) {
          this.onOversized(type)
          if (this.closed) return
          continue
        }
        if (this.debug !== undefined) this.debug.backend(type, reader.buf, reader.view, reader.start, reader.end)
        switch (type) {
          case Backend.Type.DataRow:
          case Backend.Type.CopyData:
            if (this.limited && this.limits.drop(this.queue[this.head], type, reader.end - reader.start)) continue
            break
          case Backend.Type.ParameterStatus:
          case Backend.Type.NoticeResponse:
          case Backend.Type.NotificationResponse: {
            this.onAsync(Backend.decode(type, reader.buf, reader.view, reader.start, reader.end))
            continue
          }
          case Backend.Type.ReadyForQuery: {
            const s = reader.buf[reader.start]
            if (reader.end - reader.start !== 1)
              throw new Backend.ProtocolViolation({ message: "malformed ReadyForQuery" })
            if (s === 0x49) this.transactionStatus = "I"
            else if (s === 0x54) this.transactionStatus = "T"
            else if (s === 0x45) this.transactionStatus = "E"
            else throw new Backend.ProtocolViolation({ message: `invalid transaction status in ReadyForQuery: ${s}` })
            break
          }
          case Backend.Type.CommandComplete: {
            this.commandCount++
            noteTag(this, reader.buf, reader.start, reader.end)
            break
          }
          case Backend.Type.PortalSuspended:
            this.commandCount++
            break
        }
        this.deliver(type, reader.buf, reader.view, reader.start, reader.end)
        if (this.closed) return
      }
    } catch (e) {
      const message =
        e instanceof MessageTooLarge || e instanceof InvalidMessageLength || e instanceof Backend.ProtocolViolation
          ? e.message
          : `unexpected failure while reading: ${e instanceof Error ? e.message : String(e)}`
      this.destroy(new PgProtocolError({ message, cause: e }))
    }
  }

  /** Hands a message to the request in flight, moving to the next request when its cycle ends. */
  private deliver(type: number, buf: Uint8Array, view: DataView, start: number, end: number): void {
    const handler = this.queue[this.head]
    if (handler === undefined) {
      this.onUnsolicited(type, buf, view, start, end)
      return
    }
    if (handler.onMessage(type, buf, view, start, end)) {
      this.queue[this.head] = undefined as unknown as Handler
      this.head++
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head)
        this.head = 0
      }
      this.limits.reset()
      if (this.advanceListeners.size > 0) for (const l of this.advanceListeners) l()
    }
  }

  /**
   * A message over `maxMessageSize`, of which the reader kept only the head: a row or COPY chunk
   * fails its request with `PgLimitError` and is dropped (the session stays in sync); an
   * ErrorResponse or NoticeResponse is read from its head (the field cut off is marked
   * truncated); anything else cannot be skipped and breaks the session.
   */
  private onOversized(type: number): void {
    const reader = this.reader
    const { buf, view, start, end } = reader
    switch (type) {
      case Backend.Type.DataRow:
      case Backend.Type.CopyData:
        if (this.limits.oversized(this.queue[this.head], reader.oversized, reader.maxMessageSize)) return
        break
      case Backend.Type.NoticeResponse:
        this.onAsync({ _tag: "NoticeResponse", fields: Backend.decodeFieldsHead(buf, view, start, end, type) })
        return
      case Backend.Type.ErrorResponse: {
        const fields = Backend.decodeFieldsHead(buf, view, start, end, type)
        const frame = BackendEncoder.toBytes({ _tag: "ErrorResponse", fields })
        this.deliver(type, frame, new DataView(frame.buffer, frame.byteOffset, frame.byteLength), 5, frame.length)
        return
      }
    }
    throw new MessageTooLarge({ messageType: type, size: reader.oversized, limit: reader.maxMessageSize })
  }

  private onUnsolicited(type: number, buf: Uint8Array, view: DataView, start: number, end: number): void {
    // Outside a cycle the server only sends the FATAL error that ends the session.
    if (type === Backend.Type.ErrorResponse) {
      const msg = Backend.decode(type, buf, view, start, end)
      const error = msg._tag === "ErrorResponse" ? PgServerError.fromFields(msg.fields) : undefined
      if (error !== undefined && (error.severity === "FATAL" || error.severity === "PANIC")) {
        this.fatal = error
        return
      }
    }
    unexpected(type, "with no request in flight")
  }

  private onAsync(msg: Backend.BackendMessage): void {
    switch (msg._tag) {
      case "ParameterStatus":
        checkTextSetting(msg.name, msg.value)
        this.parameters.set(msg.name, msg.value)
        return
      case "NoticeResponse":
        for (const l of this.noticeListeners) l(msg.fields)
        return
      case "NotificationResponse":
        for (const l of this.notificationListeners) l(msg)
        return
    }
  }

  /** Fails every queued request and closes the socket. Idempotent. */
  destroy(error?: SessionError, destroySocket = true): void {
    if (this.closed) return
    this.closed = true
    this.closeError = error
    const failed = this.queue.slice(this.head)
    // Requests whose bytes were written (the head of the queue) may have been read by the server,
    // unless it had already ended the session with a FATAL error before they were sent. Those
    // still in the write queue (the last written ones) never reach the socket.
    const written = this.fatal === undefined ? this.written - this.outbox.length : 0
    this.queue = []
    this.head = 0
    this.held = []
    this.outbox.length = 0
    this.outboxBytes = 0
    this.outboxAwaited = false
    if (destroySocket) this.socket.destroy()
    const err = error ?? new PgConnectionError({ reason: "Closed", message: "the connection is closed" })
    for (let i = 0; i < failed.length; i++) failed[i]!.onFailure(i < written ? err : unsent(err))
    for (const l of this.closeListeners) l(error)
    for (const l of this.advanceListeners) l()
  }

  /** Sends Terminate and closes the socket once it is flushed. */
  terminate(): void {
    if (this.closed) return
    const socket = this.socket
    // Requests written earlier in this chunk go out before Terminate (their handlers fail below).
    const wasDispatching = this.dispatching
    this.dispatching = false
    this.flush()
    this.dispatching = wasDispatching
    this.destroy(new PgConnectionError({ reason: "Closed", message: "the connection is closed" }), false)
    if (this.debug !== undefined) this.debug.frontend(Frontend.TERMINATE)
    socket.end(Frontend.TERMINATE)
    setTimeout(() => socket.destroy(), 1000).unref()
  }
}
