/**
 * Interrupting a request (timeout, fiber interruption, scope close) without ever touching another
 * statement.
 *
 * The guarantee: a CancelRequest only ever reaches the statement it was sent for. PostgreSQL
 * delivers a cancel as a signal to the backend: if it arrives while the backend runs a statement,
 * that statement fails with 57014; if it arrives while the backend waits for the next command,
 * it is discarded. The danger is a cancel that is still on its way when the next statement
 * starts. So:
 *
 * 1. A request whose bytes are still held back (never written) is simply withdrawn.
 * 2. A request is cancelled only while it is the one in flight and no later request has been
 *    written behind it. If later requests are already on the wire (pipelining), no cancel is
 *    sent. A request interrupted while queued behind another is cancelled once it becomes the
 *    one in flight (if nothing was written behind it). Outside a transaction block, such a
 *    request (queued behind another, or with others behind it) is abandoned: the interruption
 *    completes at once and its reply is drained and discarded when it comes. Inside a block the
 *    interruption waits for it (within the grace, below), because the caller must not go on
 *    (e.g. commit) before the statement has ended.
 * 3. From the moment the cancel is sent, new requests are held back (`Session.hold`), and they
 *    are released only when both (a) the server confirmed the cancel (it closes the cancel
 *    connection after signalling the backend) and (b) the cancelled cycle has ended
 *    (ReadyForQuery). A signal that has been sent is handled before the backend reads its next
 *    command, so it can no longer reach a later statement.
 *    A delivered cancel can still miss: if the signal arrives before the backend has read the
 *    statement, the backend discards it. While the statement keeps running, the cancel is sent
 *    again (after 100 ms, doubling up to 2 s); later requests stay held back meanwhile, so the
 *    repeats can only reach this statement.
 * 4. When the cancel cannot be confirmed (timeout, reset after it was written, or it could not
 *    be sent while the statement still runs), the session is closed: the statement cannot be
 *    stopped safely, and an unconfirmed cancel might still arrive later.
 * 5. Inside a transaction block, an interrupted statement always leaves the transaction failed:
 *    when the statement completed before the cancel reached it, a statement that raises
 *    `query_canceled` is queued right behind it (before any held-back request), so the caller
 *    who saw an interruption can never commit its effects by accident.
 *
 * 6. **The bound.** An interruption completes within the grace (`cancelTimeout`, default 1 s)
 *    whatever the server or the network does (a stopped backend, a stalled socket, a black
 *    hole): when the statement has not ended, or the cancel has not been confirmed, by then, the
 *    session is closed (pgx's CancelRequestContextWatcherHandler does the same). Only while
 *    the server is still sending (draining a large result) is the grace renewed, a bounded
 *    number of times. Closing fails
 *    every queued request and frees a pool's slot; the cancel request itself goes on in the
 *    background, bounded by the connect timeout, to free the server.
 *
 * The interruption completes once the cycle has ended, so the session is in sync and usable.
 *
 * @internal
 */
import * as Frontend from "@pgfx/protocol/Frontend"
import { PgConnectionError } from "../../PgError.ts"
import { type CancelOutcome, type CancelTarget, type CancelTls, sendCancel } from "./Cancel.ts"
import { SimpleQueryHandler } from "./Handlers.ts"
import type { Handler, Session } from "./Session.ts"

/** The state of one request, shared by its completion and its interruption. */
export class RequestState {
  settled = false
  /** Called when the request's cycle has ended (set by the interruption). */
  onSettled: (() => void) | undefined = undefined
  /** Called first when the cycle ends, while the request is still at the head of the queue. */
  onCycleEnd: (() => void) | undefined = undefined
  /** A cancel request for it has been sent and its outcome is not known yet. */
  cancelling = false
  /** The grace timer of its interruption has been started. */
  bounded = false

  settle(): void {
    if (this.settled) return
    this.settled = true
    this.onCycleEnd?.()
    this.onSettled?.()
  }
}

/** Where and how a cancel request is sent for a session. */
export interface CancelContext {
  readonly session: Session
  readonly target: CancelTarget
  readonly tls: CancelTls | undefined
  /** Bound on the cancel request's own connection. */
  readonly timeoutMs: number
  /** Bound on an interruption: past it, the session is closed (see the module header, 6). */
  readonly graceMs: number
}

/** Delay before asking again when a delivered cancel did not stop the statement, doubling up to the max. */
const FIRST_RETRY_MS = 100
const MAX_RETRY_MS = 2000

const ABORT_TRANSACTION =
  "DO $pgfx$ BEGIN RAISE EXCEPTION USING ERRCODE = 'query_canceled', " +
  "MESSAGE = 'pgfx: a statement of this transaction was interrupted; the transaction is aborted'; END $pgfx$"

/**
 * Starts interrupting `handler`; `done` is called once its cycle has ended (at once when it
 * never was sent or is already settled).
 */
export const interruptRequest = (
  context: CancelContext,
  handler: Handler,
  state: RequestState,
  done: () => void,
): void => {
  if (state.settled) return done()
  const session = context.session
  if (session.withdraw(handler)) {
    state.settled = true
    return done()
  }
  if (session.transactionStatus === "I" && (session.current !== handler || session.written > 1)) {
    // Pipelined outside a transaction block: abandon it (its reply is discarded when it comes);
    // it is still cancelled if it becomes the only request in flight.
    session.abandoned++
    const previous = state.onSettled
    state.onSettled = () => {
      session.abandoned--
      previous?.()
    }
    tryCancel(context, handler, state)
    return done()
  }
  let finished = false
  state.onSettled = () => {
    finished = true
    done()
  }
  bound(context, state, () => !finished || state.cancelling)
  tryCancel(context, handler, state)
}

/** How many more graces an interruption gets while the server is still sending. */
const MAX_EXTENSIONS = 9

/**
 * Closes the session unless `waiting()` is over within the grace: the one rule that bounds
 * every interruption, whatever the server or the network does. A connection that is still
 * delivering bytes (the rest of a large result or COPY sent before the cancel took effect: a
 * backend blocked writing to the socket only sees the cancel once we have read what it was
 * writing) is alive, so it gets another grace, at most {@link MAX_EXTENSIONS} times; one that
 * delivers nothing for a whole grace (a stopped backend, a stalled or black-holed network) is
 * closed.
 */
const bound = (context: CancelContext, state: RequestState, waiting: () => boolean): void => {
  if (state.bounded) return
  state.bounded = true
  const session = context.session
  let seen = session.bytesReceived
  let extensions = 0
  const check = () => {
    if (session.closed || !waiting()) return
    if (session.bytesReceived !== seen && extensions < MAX_EXTENSIONS) {
      seen = session.bytesReceived
      extensions++
      setTimeout(check, context.graceMs).unref()
      return
    }
    session.destroy(
      new PgConnectionError({
        reason: "Closed",
        message: `the connection was closed because an interrupted statement did not end within ${context.graceMs} ms (cancelTimeout)`,
      }),
    )
  }
  setTimeout(check, context.graceMs).unref()
}

const tryCancel = (context: CancelContext, handler: Handler, state: RequestState): void => {
  const session = context.session
  if (state.settled || session.closed) return
  if (session.current !== handler) {
    // Queued behind another request: cancel it when it is the one in flight.
    const listener = () => {
      if (state.settled || session.closed || session.current === handler) {
        session.advanceListeners.delete(listener)
        tryCancel(context, handler, state)
      }
    }
    session.advanceListeners.add(listener)
    return
  }
  // Later requests are already on the wire: a cancel could reach one of them. Let it finish.
  if (session.written > 1) return

  session.hold()
  // An abandoned request has no caller waiting, but later requests are held back from now on.
  bound(context, state, () => !state.settled || state.cancelling)
  /** The outcome of the latest cancel request; undefined while one is on its way. */
  let outcome: CancelOutcome | undefined
  let ended = false
  let retry: ReturnType<typeof setTimeout> | undefined
  let retryDelay = FIRST_RETRY_MS
  const settleHold = () => {
    if (outcome === undefined || !ended) return
    if (outcome === "unknown") {
      session.destroy(
        new PgConnectionError({
          reason: "Closed",
          message: "the connection was closed because a cancel request could not be confirmed",
        }),
      )
    }
    session.release()
  }
  const cancel = () => {
    retry = undefined
    if (session.closed) return
    outcome = undefined
    state.cancelling = true
    sendCancel(context.target, context.tls, session.processId, session.secretKey, context.timeoutMs, (result) => {
      outcome = result
      state.cancelling = false
      if (result !== "delivered" && !ended) {
        // The statement keeps running and cannot be stopped safely: give up the session.
        session.destroy(
          new PgConnectionError({
            reason: "Closed",
            message:
              result === "not-sent"
                ? "the connection was closed because the running statement could not be cancelled"
                : "the connection was closed because a cancel request could not be confirmed",
          }),
        )
      } else if (!ended && !session.closed) {
        // Delivered, yet the statement still runs: the signal may have reached the backend before
        // it read the statement (and been discarded). Later statements are still held back, so
        // asking again can only reach this one.
        retry = setTimeout(cancel, retryDelay)
        retryDelay = Math.min(retryDelay * 2, MAX_RETRY_MS)
      }
      settleHold()
    })
  }
  state.onCycleEnd = () => {
    ended = true
    if (retry !== undefined) {
      clearTimeout(retry)
      retry = undefined
    }
    if (session.transactionStatus === "T" && !session.closed) {
      // The statement finished before the cancel reached it, inside a transaction block: abort
      // the transaction, and complete the interruption once that is done (so the connection's
      // transaction status is already "failed" when the caller looks).
      const interrupted = state.onSettled
      state.onSettled = undefined
      const after = () => interrupted?.()
      session.sendNext(
        new SimpleQueryHandler(session, { succeed: after, fail: after }, ABORT_TRANSACTION),
        Frontend.build((w) => Frontend.query(w, ABORT_TRANSACTION)),
      )
    }
    settleHold()
  }
  cancel()
}
