/**
 * Closing a connection: gracefully (refuse new operations, let running ones and queued requests
 * finish, then send Terminate and close; terminate when the timeout elapses) or at once (fail queued
 * requests, cancel the statement in flight, send Terminate, close).
 *
 * @internal
 */
import { Duration, Effect, Option } from "effect"
import type { CloseOptions } from "../Options.ts"
import { sendCancel } from "./Cancel.ts"
import type { ConnectionCore } from "../connection/Core.ts"

/** The default bound on a graceful close. */
export const DEFAULT_CLOSE_TIMEOUT: Duration.Input = "10 seconds"

/** Closes at once. Never fails. */
export const terminateNow = (conn: ConnectionCore): void => {
  const session = conn.session
  if (session.closed) {
    // Already closing (e.g. Terminate sent, the server has not closed yet): cut it now.
    session.socket.destroy()
    return
  }
  if (session.current !== undefined && session.written > 0) {
    // No statement can follow on this session, so a cancel is safe: it frees the server sooner.
    const ctx = conn.cancelContext
    sendCancel(ctx.target, ctx.tls, session.processId, session.secretKey, ctx.timeoutMs, () => {})
  }
  session.terminate()
}

/** Closes gracefully within `options.timeout` (default 10 seconds), else terminates. */
export const closeGracefully = (conn: ConnectionCore, options: CloseOptions | undefined): Effect.Effect<void> =>
  Effect.suspend(() => {
    const session = conn.session
    if (session.closed) return Effect.void
    conn.closing = true
    const timeout = Option.getOrElse(Duration.fromInput(options?.timeout ?? DEFAULT_CLOSE_TIMEOUT), () =>
      Duration.fromInputUnsafe(DEFAULT_CLOSE_TIMEOUT),
    )
    // Wait until no operation runs and no request is queued, then send Terminate (the socket is
    // closed once it is flushed; the server needs no answer to Terminate).
    const graceful = Effect.callback<void>((resume) => {
      const check = () => {
        if (!session.closed && (session.pending > 0 || conn.active > 0)) return
        session.advanceListeners.delete(check)
        conn.onOperationEnd = undefined
        session.terminate()
        resume(Effect.void)
      }
      session.advanceListeners.add(check)
      conn.onOperationEnd = check
      check()
      return Effect.sync(() => {
        session.advanceListeners.delete(check)
        conn.onOperationEnd = undefined
      })
    })
    return graceful.pipe(
      Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.sync(() => terminateNow(conn)) }),
    )
  })
