/**
 * COPY ... TO STDOUT as a Stream of chunks (one CopyData body each, i.e. one row for text and
 * csv), with backpressure: the handler pushes chunks synchronously into a buffer; above
 * {@link HIGH_WATER} bytes the connection's socket stops being read (`ReadGate`) until the
 * consumer takes them. The server then blocks on its send buffer, so a slow consumer slows the
 * COPY down instead of filling memory.
 *
 * Ending the stream early (the consumer stops, fails or is interrupted) cancels the statement
 * in flight: buffered and later chunks are dropped, reading resumes, and the stream's scope
 * closes once the cycle has ended, so the connection is usable again.
 *
 * @internal
 */
import * as Frontend from "@pgfx/protocol/Frontend"
import { Cause, Effect, Exit, Fiber, Stream } from "effect"
import type { QueryOptions } from "../Options.ts"
import type { PgQueryError } from "../../PgError.ts"
import type { ConnectionCore } from "../connection/Core.ts"
import type { Progress } from "./CopyIn.ts"
import { CopyOutHandler } from "./CopyHandlers.ts"
import { observe } from "../observe/Instrument.ts"

/** Bytes buffered before reading pauses. */
const HIGH_WATER = 1 << 20

/** The buffer between the socket's data callback and the stream's pull. */
class ChunkBuffer {
  readonly conn: ConnectionCore
  chunks: Array<Uint8Array> = []
  size = 0
  blocked = false
  discarding = false
  /** The cycle's outcome, once it ended. */
  exit: Exit.Exit<string, PgQueryError> | undefined = undefined
  waiter: (() => void) | undefined = undefined
  bytes = 0
  rows = 0
  readonly onProgress: ((p: Progress) => void) | undefined

  constructor(conn: ConnectionCore, onProgress: ((p: Progress) => void) | undefined) {
    this.conn = conn
    this.onProgress = onProgress
  }

  push(chunk: Uint8Array): void {
    if (this.discarding) return
    this.chunks.push(chunk)
    this.size += chunk.length
    if (this.size > HIGH_WATER && !this.blocked) {
      this.blocked = true
      this.conn.readGate.block(this)
    }
    this.notify()
  }

  finish(exit: Exit.Exit<string, PgQueryError>): void {
    this.exit = exit
    this.unblock()
    this.notify()
  }

  /** Drops buffered and later chunks and resumes reading (the consumer is gone). */
  discard(): void {
    this.discarding = true
    this.chunks = []
    this.size = 0
    this.unblock()
  }

  private unblock(): void {
    if (!this.blocked) return
    this.blocked = false
    this.conn.readGate.unblock(this)
  }

  private notify(): void {
    const w = this.waiter
    this.waiter = undefined
    w?.()
  }

  /** Everything buffered so far (non-empty), or the end of the stream. */
  readonly pull: Effect.Effect<readonly [Uint8Array, ...Array<Uint8Array>], PgQueryError | Cause.Done> = Effect.suspend(
    () => this.take(),
  )

  private take(): Effect.Effect<readonly [Uint8Array, ...Array<Uint8Array>], PgQueryError | Cause.Done> {
    if (this.chunks.length > 0) {
      const batch = this.chunks as unknown as readonly [Uint8Array, ...Array<Uint8Array>]
      this.bytes += this.size
      this.rows += batch.length
      this.chunks = []
      this.size = 0
      this.unblock()
      this.onProgress?.({ bytes: this.bytes, rows: this.rows })
      return Effect.succeed(batch)
    }
    const exit = this.exit
    if (exit !== undefined) return Exit.isSuccess(exit) ? Cause.done() : Effect.failCause(exit.cause)
    return Effect.flatMap(
      Effect.callback<void>((resume) => {
        this.waiter = () => resume(Effect.void)
        return Effect.sync(() => {
          this.waiter = undefined
        })
      }),
      () => this.take(),
    )
  }
}

/**
 * The output of `sql` (a COPY ... TO STDOUT) as a Stream; `onStatus` receives the status
 * ("COPY n") when the copy completes.
 */
export const copyOutStream = (
  conn: ConnectionCore,
  sql: string,
  onProgress: ((p: Progress) => void) | undefined,
  onStatus: ((status: string) => void) | undefined,
  options: QueryOptions | undefined,
): Stream.Stream<Uint8Array, PgQueryError> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const level = yield* Effect.withFiber((f) => Effect.succeed(conn.gate.levelOf(f, conn, undefined)))
      const buffer = new ChunkBuffer(conn, onProgress)
      const request = conn.request<string>(
        (w) => Frontend.query(w, sql),
        (c) => new CopyOutHandler(conn.session, sql, (chunk) => buffer.push(chunk)).attach(c, conn.gate),
        level,
      )
      const timed = conn.withTimeout(observe(conn, sql, undefined, undefined, request), options).pipe(
        Effect.onExit((exit) =>
          Effect.sync(() => {
            if (Exit.isSuccess(exit)) onStatus?.(exit.value)
            buffer.finish(exit)
          }),
        ),
      )
      const fiber = yield* Effect.forkScoped(timed)
      yield* Effect.addFinalizer(() =>
        Effect.suspend(() => {
          if (buffer.exit !== undefined) return Effect.void
          buffer.discard()
          return Fiber.interrupt(fiber)
        }),
      )
      return Stream.fromPull(Effect.succeed(buffer.pull))
    }),
  )
