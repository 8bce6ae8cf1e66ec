/**
 * The change stream: START_REPLICATION on a replication session, with backpressure,
 * acknowledgements, standby status updates and reconnection.
 *
 * - **Reading** (`Attempt`, one per replication session): the socket callback decodes each
 *   CopyData synchronously. XLogData payloads are copied into a queue; above `bufferBytes`
 *   queued bytes the socket is paused (the walsender then blocks on its send buffer), and it is
 *   resumed when the consumer has taken the queue below half of that. A keepalive that asks for
 *   a reply is answered at once, from the callback.
 * - **Decoding** happens in the consumer's pull, in batches (`ChangeDecoder`); a Relation with
 *   types the registry does not know waits for one lookup on the companion connection.
 * - **Acknowledgement**: `Progress.acked` is the highest LSN the consumer confirmed. Status
 *   updates report it as the flush (and apply) position, every `statusIntervalMs` and when asked;
 *   when everything delivered is acknowledged and nothing is held, the position of the last
 *   keepalive is reported instead, so the slot advances over WAL with nothing for us.
 * - **Reconnection**: a lost connection (or the slot still held by the walsender that just
 *   died) starts a new attempt after the schedule's delay, from the acknowledged LSN: nothing
 *   acknowledged is delivered again; a transaction whose Commit was not acknowledged is.
 *
 * @internal
 */
import * as Frontend from "@pgfx/protocol/Frontend"
import * as Replication from "@pgfx/protocol/Replication"
import { Effect, Schedule, type Scope } from "effect"
import type { ConnectionCore } from "../connection/Core.ts"
import { PgConnectionError, PgDecodeError, PgProtocolError, type PgQueryError } from "../../PgError.ts"
import type { Change } from "./Changes.ts"
import { ChangeDecoder } from "./ReplicationDecoder.ts"
import { StreamingHandler } from "./ReplicationSession.ts"
import type { Session } from "../wire/Session.ts"

/** Acknowledged and delivered positions, shared by the attempts of one stream. */
export class Progress {
  /** The highest LSN the consumer acknowledged. */
  acked = 0n
  /** The end LSN of the last ackable event delivered. */
  emittedEnd = 0n

  ack(lsn: Replication.Lsn): void {
    if (lsn > this.acked) this.acked = lsn
  }
}

/** The START_REPLICATION of one session: the queue between the socket and the consumer. */
export class Attempt {
  readonly session: Session
  readonly progress: Progress
  readonly decoder: ChangeDecoder
  readonly bufferBytes: number
  private payloads: Array<Uint8Array> = []
  private head = 0
  /** Bytes queued and not yet taken. */
  queued = 0
  /** The highest payload LSN received (the write position). */
  received = 0n
  /** The position of the last keepalive (everything before it has been sent to us). */
  serverEnd = 0n
  paused = false
  /** Set when the cycle ended: the server's error or the session's, or undefined for a normal end. */
  ended: { readonly error: PgQueryError | undefined } | undefined = undefined
  private waiter: (() => void) | undefined = undefined
  private onStarted: ((error: PgQueryError | undefined) => void) | undefined = undefined

  constructor(session: Session, progress: Progress, decoder: ChangeDecoder, bufferBytes: number) {
    this.session = session
    this.progress = progress
    this.decoder = decoder
    this.bufferBytes = bufferBytes
  }

  /** Sends START_REPLICATION; succeeds once the server answered CopyBothResponse. */
  start(sql: string): Effect.Effect<void, PgQueryError> {
    return Effect.callback<void, PgQueryError>((resume) => {
      this.onStarted = (error) => resume(error === undefined ? Effect.void : Effect.fail(error))
      const handler = new StreamingHandler(sql, {
        started: () => this.started(undefined),
        data: (buf, view, start, end) => this.onData(buf, view, start, end),
        ended: (error) => this.onEnded(error),
      })
      this.session.send(
        handler,
        Frontend.build((w) => Frontend.query(w, sql)),
      )
    })
  }

  private started(error: PgQueryError | undefined): void {
    const s = this.onStarted
    this.onStarted = undefined
    s?.(error)
  }

  private onEnded(error: PgQueryError | undefined): void {
    this.ended = { error }
    this.resume()
    this.started(
      error ?? new PgConnectionError({ reason: "ClosedByServer", message: "START_REPLICATION ended before streaming" }),
    )
    this.notify()
  }

  private onData(buf: Uint8Array, view: DataView, start: number, end: number): void {
    const m = Replication.decodeCopyData(buf, view, start, end)
    if (m._tag === "XLogData") {
      const payload = buf.slice(m.dataStart, m.dataEnd)
      this.payloads.push(payload)
      this.queued += payload.length
      if (m.walStart > this.received) this.received = m.walStart
      if (this.queued > this.bufferBytes && !this.paused) {
        this.paused = true
        this.session.socket.pause()
      }
      this.notify()
      return
    }
    if (m.walEnd > this.serverEnd) this.serverEnd = m.walEnd
    if (m.replyRequested) this.sendStatus()
  }

  private notify(): void {
    const w = this.waiter
    this.waiter = undefined
    w?.()
  }

  private resume(): void {
    if (!this.paused) return
    this.paused = false
    this.session.socket.resume()
  }

  /** The next payload, or undefined when the queue is empty. */
  next(): Uint8Array | undefined {
    if (this.head === this.payloads.length) return undefined
    const p = this.payloads[this.head]!
    this.payloads[this.head++] = undefined as unknown as Uint8Array
    if (this.head === this.payloads.length) {
      this.payloads = []
      this.head = 0
    }
    this.queued -= p.length
    if (this.paused && this.queued < this.bufferBytes / 2) this.resume()
    return p
  }

  /** Puts back the payload {@link next} just returned. */
  putBack(p: Uint8Array): void {
    if (this.head === 0) this.payloads.unshift(p)
    else this.payloads[--this.head] = p
    this.queued += p.length
  }

  get isEmpty(): boolean {
    return this.head === this.payloads.length
  }

  /** Waits until a payload is queued or the cycle ended. */
  readonly waitForData: Effect.Effect<void> = Effect.callback<void>((resume) => {
    if (!this.isEmpty || this.ended !== undefined) return resume(Effect.void)
    this.waiter = () => resume(Effect.void)
    return Effect.sync(() => {
      this.waiter = undefined
    })
  })

  /**
   * Waits up to `ms` until `bytes` are queued (or the cycle ended), so that a batch is not a
   * single message: the walsender flushes after every message, and a consumer faster than it
   * would otherwise pay a pull per event. Bounded: at most `ms` of extra latency.
   */
  linger(bytes: number, ms: number): Effect.Effect<void> {
    return Effect.callback<void>((resume) => {
      if (this.queued >= bytes || this.ended !== undefined) return resume(Effect.void)
      const check = () => {
        if (this.queued >= bytes || this.ended !== undefined) {
          clearTimeout(timer)
          resume(Effect.void)
        } else this.waiter = check
      }
      const timer = setTimeout(() => {
        if (this.waiter === check) this.waiter = undefined
        resume(Effect.void)
      }, ms)
      this.waiter = check
      return Effect.sync(() => {
        clearTimeout(timer)
        if (this.waiter === check) this.waiter = undefined
      })
    })
  }

  /** The flush position to report: the acknowledged LSN, or the last keepalive's when idle. */
  confirmed(): Replication.Lsn {
    const p = this.progress
    const idle = p.acked >= p.emittedEnd && this.isEmpty && !this.decoder.busy
    return idle && this.serverEnd > p.acked ? this.serverEnd : p.acked
  }

  /** Sends a Standby status update (no-op once the session is closed). */
  sendStatus(): void {
    if (this.session.closed) return
    const flush = this.confirmed()
    const write = this.received > flush ? this.received : flush
    this.session.write(Frontend.build((w) => Replication.standbyStatusUpdate(w, { write, flush, apply: flush })))
  }

  /** Reports the final position, then ends the session (Terminate). */
  close(): void {
    this.sendStatus()
    this.resume()
    this.session.terminate()
  }
}

/** How a pull turns queued payloads into events, looking types up when a Relation needs it. */
export const decodeBatch = (
  attempt: Attempt,
  companion: ConnectionCore,
  maxEvents: number,
): Effect.Effect<Array<Change>, PgQueryError> =>
  Effect.gen(function* () {
    const out: Array<Change> = []
    while (out.length < maxEvents) {
      const payload = attempt.next()
      if (payload === undefined) break
      let needs: ReadonlyArray<number> | undefined
      try {
        needs = attempt.decoder.feed(payload, out)
      } catch (e) {
        if (e instanceof PgDecodeError || e instanceof PgProtocolError) return yield* Effect.fail(e)
        throw e
      }
      if (needs !== undefined) {
        attempt.putBack(payload)
        yield* companion.cache.types.resolve([...needs], (b, m) => companion.request(b, m))
      }
    }
    return out
  })

/** The default reconnection schedule: every second, 30 times in a row at most. */
export const defaultReconnect: Schedule.Schedule<number, unknown> = Schedule.spaced("1 second").pipe(
  Schedule.upTo({ times: 30 }),
)

/** Sends a status update every `ms` while `attempt()` is running (forked into the scope). */
export const statusTicker = (attempt: () => Attempt | undefined, ms: number): Effect.Effect<void, never, Scope.Scope> =>
  Effect.asVoid(
    Effect.forkScoped(
      Effect.repeat(
        Effect.sync(() => attempt()?.sendStatus()),
        Schedule.spaced(ms),
      ),
    ),
  )
