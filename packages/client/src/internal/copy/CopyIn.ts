/**
 * COPY ... FROM STDIN: the statement is sent as a request of its own (admitted like any other,
 * inside the caller's transaction when there is one), and once the server asks for data a pump
 * writes CopyData frames straight to the socket.
 *
 * - Bounded memory: when `socket.write` returns false the pump waits for 'drain' before
 *   producing more, so a fast producer never buffers more than one batch beyond the socket's
 *   high-water mark.
 * - The server may end the copy early (a constraint violation, a bad line): its ErrorResponse
 *   and ReadyForQuery end the cycle, the pump stops, and the copy fails with the server's error
 *   (later CopyData would be dropped by the server anyway).
 * - A failing producer (or interruption) sends CopyFail: the server rolls the COPY back and ends
 *   the cycle, so nothing is half-committed and the connection stays usable. Interrupted before
 *   the server asked for data (e.g. waiting for a lock), the statement is cancelled instead.
 *
 * @internal
 */
import * as Frontend from "@pgfx/protocol/Frontend"
import { Writer } from "@pgfx/protocol/Writer"
import { Cause, Effect, Exit, Fiber, Option, Stream } from "effect"
import type { PgQueryError } from "../../PgError.ts"
import type { ConnectionCore } from "../connection/Core.ts"
import { CopyInHandler } from "./CopyHandlers.ts"
import { observe } from "../observe/Instrument.ts"

/** Progress of a copy so far (reported once per batch, never per row). */
export interface Progress {
  readonly bytes: number
  /** Rows sent or received, when known (records, and COPY TO: one CopyData per row). */
  readonly rows: number | undefined
}

/** Where the producer writes; see the module comment. */
export class CopyOutput {
  readonly conn: ConnectionCore
  readonly handler: CopyInHandler
  bytes = 0
  rows = 0
  readonly onProgress: ((p: Progress) => void) | undefined
  readonly countRows: boolean

  constructor(
    conn: ConnectionCore,
    handler: CopyInHandler,
    onProgress: ((p: Progress) => void) | undefined,
    countRows: boolean,
  ) {
    this.conn = conn
    this.handler = handler
    this.onProgress = onProgress
    this.countRows = countRows
  }

  /** True once the server ended the copy (stop producing). */
  get ended(): boolean {
    return this.handler.ended
  }

  /**
   * Writes framed CopyData bytes (`payload` bytes of data in them) and waits while the socket's
   * buffer is full. Does nothing once the server ended the copy.
   */
  send(frames: Uint8Array, payload: number, rows: number): Effect.Effect<void> {
    const handler = this.handler
    if (handler.ended) return Effect.void
    this.bytes += payload
    this.rows += rows
    if (this.onProgress !== undefined) {
      this.onProgress({ bytes: this.bytes, rows: this.countRows ? this.rows : undefined })
    }
    if (this.conn.session.write(frames) || handler.ended) return Effect.void
    const socket = this.conn.session.socket
    return Effect.callback<void>((resume) => {
      const wake = () => {
        socket.off("drain", wake)
        socket.off("close", wake)
        handler.wake = undefined
        resume(Effect.void)
      }
      socket.on("drain", wake)
      socket.on("close", wake)
      handler.wake = wake
      return Effect.sync(() => {
        socket.off("drain", wake)
        socket.off("close", wake)
        if (handler.wake === wake) handler.wake = undefined
      })
    })
  }

  /** Frames a batch of raw chunks (copied: the caller may reuse its buffers) and sends it. */
  sendChunks(chunks: ReadonlyArray<Uint8Array>): Effect.Effect<void> {
    let size = 0
    for (const c of chunks) size += c.length + 5
    const w = new Writer(size)
    for (const c of chunks) if (c.length > 0) Frontend.copyData(w, c)
    return this.send(w.finish(), size - 5 * chunks.length, 0)
  }
}

/** How long an aborted COPY FROM may take to end on CopyFail alone before it is cancelled. */
const COPY_FAIL_GRACE = "250 millis"

/** Waits until the server asks for data or ends the cycle. */
const waitReady = (handler: CopyInHandler, finished: () => boolean): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const check = () => {
      if (handler.ready || handler.ended || finished()) {
        handler.wake = undefined
        resume(Effect.void)
        return true
      }
      return false
    }
    if (check()) return
    handler.wake = () => {
      if (!check()) handler.wake = waker
    }
    const waker = handler.wake
    return Effect.sync(() => {
      handler.wake = undefined
    })
  })

const messageOf = (cause: Cause.Cause<unknown>): string => {
  if (Cause.hasInterruptsOnly(cause)) return "pgfx: the COPY was interrupted"
  const error = Cause.squash(cause)
  const text = error instanceof Error ? error.message : String(error)
  return `pgfx: ${text}`.slice(0, 1000)
}

/**
 * Runs `sql` (a COPY ... FROM STDIN) and feeds it with `produce`. Succeeds with the status
 * ("COPY n"); fails with the server's error, or with the producer's own failure (after CopyFail).
 */
export const copyIn = <E>(
  conn: ConnectionCore,
  sql: string,
  produce: (out: CopyOutput) => Effect.Effect<void, E>,
  onProgress: ((p: Progress) => void) | undefined,
  countRows: boolean,
): Effect.Effect<string, PgQueryError | E> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function* () {
      const level = yield* Effect.withFiber((f) => Effect.succeed(conn.gate.levelOf(f, conn, undefined)))
      const handler = new CopyInHandler(conn.session, sql)
      let finished = false
      const request = observe(
        conn,
        sql,
        undefined,
        undefined,
        conn.request<string>(
          (w) => Frontend.query(w, sql),
          (c) => handler.attach(c, conn.gate),
          level,
        ),
      ).pipe(
        Effect.onExit(() =>
          Effect.sync(() => {
            finished = true
            const wake = handler.wake
            handler.wake = undefined
            wake?.()
          }),
        ),
      )
      const fiber = yield* Effect.forkChild(Effect.interruptible(request))
      const out = new CopyOutput(conn, handler, onProgress, countRows)
      const ready = yield* Effect.exit(restore(waitReady(handler, () => finished)))
      if (Exit.isFailure(ready)) {
        // Interrupted before the server asked for data: cancel the statement (and refuse the
        // copy should the server ask for data meanwhile).
        handler.fail("pgfx: the COPY was interrupted")
        yield* Fiber.interrupt(fiber)
        return yield* Effect.failCause(ready.cause)
      }
      if (!handler.ready || handler.ended) return yield* Fiber.join(fiber)
      const pumped = yield* Effect.exit(restore(Effect.suspend(() => produce(out))))
      if (Exit.isSuccess(pumped)) {
        handler.done()
        return yield* restore(Fiber.join(fiber)).pipe(Effect.onInterrupt(() => Fiber.interrupt(fiber)))
      }
      // The producer failed or was interrupted: abort the copy and wait for the cycle to end.
      const serverEnded = handler.ended
      handler.fail(messageOf(pumped.cause))
      // CopyFail is read only after the data already in the socket buffers; a slow server (a
      // trigger, a lock per row) could take long to get there. Then cancel the statement too:
      // the server drops the CopyData that follows its error.
      const early = yield* Effect.timeoutOption(Fiber.await(fiber), COPY_FAIL_GRACE)
      if (Option.isNone(early)) yield* Fiber.interrupt(fiber)
      const result = yield* Fiber.await(fiber)
      // A server error that ended the copy first is the real cause.
      if (serverEnded && Exit.isFailure(result) && !Cause.hasInterruptsOnly(pumped.cause)) {
        return yield* Effect.failCause(result.cause)
      }
      return yield* Effect.failCause(pumped.cause)
    }),
  )

/** The raw-bytes producer: a Stream of chunks, framed a batch at a time. */
export const produceChunks =
  <E>(source: Stream.Stream<Uint8Array, E>) =>
  (out: CopyOutput): Effect.Effect<void, E> =>
    Stream.runForEachArray(source, (chunks) => (out.ended ? serverEnded : out.sendChunks(chunks)))

/** Stops a producer once the server ended the copy (the server's error is reported instead). */
export const serverEnded: Effect.Effect<never> = Effect.die("pgfx: the server ended the COPY")
