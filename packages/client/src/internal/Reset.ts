/**
 * The pool's reset: what a borrower leaves in a session never reaches the next borrower (see
 * "Resetting pooled connections" in docs/architecture.md).
 *
 * The reset does not guess whether a checkout changed the session (a function called from a plain
 * `SELECT` can change anything): it is sent on every release, as one simple query written at once
 * and never waited for. The session's FIFO puts it ahead of whatever the next borrower sends, so
 * its answer arrives first and costs no round trip of its own.
 *
 * - It runs inside `BEGIN ... COMMIT` (after a `ROLLBACK` when the checkout may have left a
 *   transaction open). If any of its statements fails, the server skips the rest of it and stays
 *   in the failed transaction, so requests already pipelined behind it fail without running; the
 *   reset's handler then closes the session before their replies are read.
 * - pgfx's own prepared statements (the statement cache) survive: no `DISCARD ALL`, no
 *   `DEALLOCATE ALL`. SQL-level prepared statements are deallocated by name (a `DO` block over
 *   `pg_prepared_statements WHERE from_sql`) when the session saw a `PREPARE` command complete.
 *   Looking for them on every release (to catch an `EXECUTE 'PREPARE ...'` inside a function)
 *   would cost more server time than the rest of the reset; see docs/reliability.md.
 *
 * @internal
 */
import * as Backend from "@pgfx/protocol/Backend"
import * as Frontend from "@pgfx/protocol/Frontend"
import { PgConnectionError, PgProtocolError, PgServerError } from "../PgError.ts"
import type { Handler, Session } from "./Session.ts"

/**
 * What a session can hold beyond a transaction, undone: cursors, LISTEN, session advisory locks,
 * the session user and role, every setting (back to the connection's startup values), temporary
 * objects, sequence state (`currval`, `lastval`).
 */
export const resetStatements =
  "CLOSE ALL;\nUNLISTEN *;\nSET SESSION AUTHORIZATION DEFAULT;\nRESET ALL;\nDISCARD TEMP;\nDISCARD SEQUENCES;\n" +
  "SELECT pg_catalog.pg_advisory_unlock_all()"

/** Deallocates the SQL-level prepared statements (`PREPARE`), leaving the protocol-level ones. */
export const deallocateSqlPrepared =
  "DO $pgfx$DECLARE s text; BEGIN FOR s IN SELECT name FROM pg_catalog.pg_prepared_statements WHERE from_sql" +
  " LOOP EXECUTE pg_catalog.format('DEALLOCATE %I', s); END LOOP; END$pgfx$"

const frame = (rollback: boolean, deallocate: boolean): Uint8Array => {
  const body = `${deallocate ? `${deallocateSqlPrepared};\n` : ""}${resetStatements}`
  return Frontend.build((w) => Frontend.query(w, `${rollback ? "ROLLBACK;\n" : ""}BEGIN;\n${body};\nCOMMIT`))
}

/** The four variants, built once: [rollback][deallocate]. */
const frames: ReadonlyArray<ReadonlyArray<Uint8Array>> = [
  [frame(false, false), frame(false, true)],
  [frame(true, false), frame(true, true)],
]

/** The tag of a completed `PREPARE` command, NUL-terminated. */
const prepareTag = new TextEncoder().encode("PREPARE\0")

/**
 * Whether the CommandComplete body in `buf[start, end)` is `PREPARE`: the session then holds a
 * SQL-level prepared statement the reset must deallocate. A few byte comparisons, no allocation.
 */
export const isPrepareTag = (buf: Uint8Array, start: number, end: number): boolean => {
  if (end - start !== prepareTag.length || buf[start] !== 0x50) return false
  for (let i = 1; i < prepareTag.length; i++) if (buf[start + i] !== prepareTag[i]) return false
  return true
}

/**
 * Writes the reset to `session` now, without waiting for it. Everything queued after it runs on a
 * reset session, or fails without running if the reset failed (the session is then closed).
 */
export const sendReset = (session: Session): void => {
  if (session.closed) return
  // With requests still in flight, their final transaction status is not known yet. (While a
  // chunk is dispatched, the current request may be the one whose completion released us.)
  const rollback = session.transactionStatus !== "I" || session.pending > (session.isDispatching ? 1 : 0)
  const deallocate = session.sqlPrepared
  session.sqlPrepared = false
  session.send(new ResetHandler(session), frames[rollback ? 1 : 0]![deallocate ? 1 : 0]!)
  // The reset answers before anything sent after it, and either ends idle or closes the session.
  session.transactionStatus = "I"
}

/** Reads the reset's replies; closes the session if it did not end idle and without error. */
class ResetHandler implements Handler {
  private readonly session: Session
  private error: PgServerError | undefined = undefined

  constructor(session: Session) {
    this.session = session
  }

  onMessage(type: number, buf: Uint8Array, view: DataView, start: number, end: number): boolean {
    switch (type) {
      case Backend.Type.CommandComplete:
        // The reset's statements are not the borrower's: `maxQueries` counts the borrowers'.
        this.session.commandCount--
        return false
      case Backend.Type.RowDescription:
      case Backend.Type.DataRow:
      case Backend.Type.EmptyQueryResponse:
        return false
      case Backend.Type.ErrorResponse: {
        const msg = Backend.decode(type, buf, view, start, end)
        if (msg._tag === "ErrorResponse") this.error ??= PgServerError.fromFields(msg.fields)
        return false
      }
      case Backend.Type.ReadyForQuery:
        if (this.error !== undefined || this.session.transactionStatus !== "I") this.fail()
        return true
      default:
        this.session.destroy(
          new PgProtocolError({
            message: `unexpected message '${String.fromCharCode(type)}' in reply to the pool's reset`,
          }),
        )
        return true
    }
  }

  onFailure(): void {
    // The session died: whatever the borrower left went with it.
  }

  private fail(): void {
    const error = this.error
    this.session.destroy(
      new PgConnectionError({
        reason: "Closed",
        message:
          error === undefined
            ? "the connection was closed: the pool's reset did not end outside a transaction"
            : `the connection was closed: the pool's reset failed (${error.code} ${error.message}); requests sent after it did not run`,
        cause: error,
        // The reset runs in a transaction block: once it failed, the server refused what followed.
        ...(error === undefined ? {} : { sent: false }),
      }),
    )
  }
}
