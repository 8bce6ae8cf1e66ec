/**
 * The query cycles of COPY statements (sent as a simple Query). Like every handler they receive
 * only their own messages and end on ReadyForQuery; a server error is remembered and reported
 * then, so the session stays in sync.
 *
 * - {@link CopyOutHandler}: COPY ... TO STDOUT; each CopyData body is copied and handed to
 *   `onData` synchronously (the consumer applies backpressure by pausing the socket).
 * - {@link CopyInHandler}: COPY ... FROM STDIN; tells the pump when the server is ready for data,
 *   and when the server ended the copy early (an error: later CopyData is dropped by the server).
 *
 * @internal
 */
import * as Backend from "@pgfx/protocol/Backend"
import * as Frontend from "@pgfx/protocol/Frontend"
import { type PgLimitError, type PgQueryError } from "../../PgError.ts"
import { type Completion, firstError } from "../wire/Handlers.ts"
import { SimpleReplies } from "../wire/Replies.ts"
import type { Handler, Session, SessionError } from "../wire/Session.ts"

abstract class CopyHandler implements Handler {
  error: PgQueryError | undefined = undefined
  status = ""
  settled = false
  /** Set by {@link attach} when the request is sent. */
  completion: Completion<string> | undefined = undefined
  readonly sql: string
  readonly session: Session
  readonly replies = new SimpleReplies()

  constructor(session: Session, sql: string) {
    this.session = session
    this.sql = sql
  }

  /** Called when the cycle ends, before the completion (releases the gate's exclusivity). */
  private release: (() => void) | undefined = undefined

  /**
   * Binds the handler to its request's completion (it is made before the request is admitted)
   * and, since this runs in the same synchronous step as the write, makes the request the last
   * one written until its cycle ends: pipelined requests behind a COPY would land in its data.
   */
  attach(completion: Completion<string>, gate: { exclusive: boolean }): this {
    this.completion = completion
    gate.exclusive = true
    this.release = () => {
      gate.exclusive = false
    }
    return this
  }

  abstract onCopyMessage(type: number, buf: Uint8Array, start: number, end: number): void

  onMessage(type: number, buf: Uint8Array, view: DataView, start: number, end: number): boolean {
    this.replies.accept(type)
    switch (type) {
      case Backend.Type.CommandComplete: {
        const msg = Backend.decode(type, buf, view, start, end)
        if (msg._tag === "CommandComplete") this.status = msg.tag
        return false
      }
      case Backend.Type.ErrorResponse: {
        this.error = firstError(this.error, buf, view, start, end, this.sql)
        this.onCopyMessage(type, buf, start, end)
        return false
      }
      case Backend.Type.ReadyForQuery:
        this.onCopyMessage(type, buf, start, end)
        this.settle(undefined)
        return true
      default:
        // CopyInResponse, CopyOutResponse, CopyData, CopyDone, RowDescription, DataRow, EmptyQueryResponse.
        this.onCopyMessage(type, buf, start, end)
        return false
    }
  }

  onFailure(error: SessionError): void {
    this.settle(error)
  }

  onLimit(error: PgLimitError): void {
    if (this.error === undefined) this.error = error
  }

  settle(failure: PgQueryError | undefined): void {
    if (this.settled) return
    this.settled = true
    this.release?.()
    const error = failure ?? this.error
    if (error !== undefined) this.completion?.fail(error)
    else this.completion?.succeed(this.status)
  }

  /** A COPY FROM STDIN where none was expected: refuse it so the cycle ends. */
  refuseCopyIn(): void {
    this.session.write(Frontend.build((w) => Frontend.copyFail(w, "pgfx: this COPY expected to send data out")))
  }
}

/** COPY ... TO STDOUT: every CopyData body goes to `onData` (a fresh copy the callee owns). */
export class CopyOutHandler extends CopyHandler {
  readonly onData: (chunk: Uint8Array) => void

  constructor(session: Session, sql: string, onData: (chunk: Uint8Array) => void) {
    super(session, sql)
    this.onData = onData
  }

  onCopyMessage(type: number, buf: Uint8Array, start: number, end: number): void {
    if (type === Backend.Type.CopyData) this.onData(buf.slice(start, end))
    else if (type === Backend.Type.CopyInResponse) this.refuseCopyIn()
  }
}

/** COPY ... FROM STDIN: the pump writes CopyData once {@link ready}; see the module comment. */
export class CopyInHandler extends CopyHandler {
  /** The server sent CopyInResponse and waits for data. */
  ready = false
  /** The server ended the copy (error, CommandComplete or ReadyForQuery): stop sending. */
  ended = false
  /** Set to fail the copy as soon as the server asks for data (interrupted before that). */
  abortMessage: string | undefined = undefined
  /** Wakes whoever waits (for readiness, or for the socket to drain). */
  wake: (() => void) | undefined = undefined

  onCopyMessage(type: number): void {
    if (type === Backend.Type.CopyInResponse) {
      if (this.ready) return
      this.ready = true
      if (this.abortMessage !== undefined) this.fail(this.abortMessage)
    } else if (type === Backend.Type.ErrorResponse || type === Backend.Type.ReadyForQuery) {
      this.ended = true
    } else if (type === Backend.Type.CopyOutResponse) {
      // Not ours to read: the rows are dropped and the cycle ends normally.
    }
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  override onFailure(error: SessionError): void {
    this.ended = true
    super.onFailure(error)
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  /** Aborts the copy with CopyFail (the server answers with an error and ReadyForQuery). */
  fail(message: string): void {
    if (!this.ready) {
      this.abortMessage = message
      return
    }
    if (this.ended) return
    this.ended = true
    this.session.write(Frontend.build((w) => Frontend.copyFail(w, message)))
  }

  /** Ends the data with CopyDone. */
  done(): void {
    if (this.ended) return
    this.session.write(Frontend.build((w) => Frontend.copyDone(w)))
  }
}
