/**
 * What a request lost with its connection may have done: the one place that turns a connection
 * failure under a request into either "not committed" (`PgConnectionError`, safe to retry) or
 * "unknown" (`PgCommitUnknownError`, never retried).
 *
 * The decision uses what the client knows about the protocol and the session, never the SQL:
 *
 * - a request the server never read (`sent: false`: never written, or written after the server
 *   had ended the session) did nothing;
 * - a request that executes nothing (Parse/Describe, Close: `PrepareHandler`, `SyncHandler`)
 *   cannot commit;
 * - a request of a transaction level (pgfx's `transaction`, `scoped`, `make`) other than the
 *   top-level COMMIT cannot commit: losing the connection rolls the transaction back;
 * - the top-level COMMIT of a level may have committed;
 * - any other request (SQL sent outside a level) may have committed unless it started in a
 *   failed transaction block ("E"): outside a transaction block its own implicit COMMIT runs
 *   with it, and inside a block begun with SQL it may itself be a COMMIT. Its starting status is
 *   the one of the last ReadyForQuery when nothing else was queued before it; otherwise it is
 *   not known, and counted as "may have committed".
 *
 * @internal
 */
import type * as Backend from "@pgfx/protocol/Backend"
import { PgCommitUnknownError, PgConnectionError, type PgQueryError } from "../../PgError.ts"
import type { Level } from "./Gate.ts"
import { PrepareHandler, SyncHandler } from "./Handlers.ts"
import type { Handler, Session } from "./Session.ts"

/** What a request can do to the transaction it runs in. */
export type Role =
  /** The top-level COMMIT of a transaction level. */
  | "commit"
  /** It cannot commit: another request of a transaction level, or one that executes nothing. */
  | "noCommit"
  /** SQL executed outside any level. */
  | "sql"

/** The role of `handler`, admitted while `owner` owned the connection. */
export const roleOf = (handler: Handler, owner: Level | undefined): Role =>
  handler instanceof PrepareHandler || handler instanceof SyncHandler
    ? "noCommit"
    : owner === undefined
      ? "sql"
      : owner.committing
        ? "commit"
        : "noCommit"

/**
 * The transaction status the request about to be sent on `session` will start in, when known:
 * the last ReadyForQuery's, if nothing is queued before it.
 */
export const startStatus = (session: Session): Backend.TransactionStatus | undefined =>
  session.pending === 0 ? session.transactionStatus : undefined

/** The failure the caller of a request sees when `error` ended it. */
export const lost = (error: PgQueryError, role: Role, status: Backend.TransactionStatus | undefined): PgQueryError => {
  if (!(error instanceof PgConnectionError) || error.sent === false) return error
  if (role === "noCommit" || (role === "sql" && status === "E")) return error
  return new PgCommitUnknownError({
    message:
      role === "commit"
        ? `the connection was lost after COMMIT was sent and before the server answered: the transaction may or may not have been committed (${error.message})`
        : `the connection was lost after the statement was sent and before the server answered: it may or may not have been committed (${error.message})`,
    cause: error,
  })
}
