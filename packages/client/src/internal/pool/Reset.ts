/**
 * The pool's reset: what a borrower leaves in a session never reaches the next borrower (see
 * "Resetting pooled connections" in docs/architecture.md).
 *
 * The reset does not guess whether a checkout changed the session (a function called from a plain
 * `SELECT` can change anything): it is sent on every release that follows a request, written at
 * once and never waited for. The session's FIFO puts it ahead of whatever the next borrower sends,
 * so its answer arrives first and costs no round trip of its own.
 *
 * - It is one simple query, `BEGIN; EXECUTE pgfx_reset_<n>; CLOSE ALL; ...; COMMIT` (after a
 *   `ROLLBACK` when the checkout may have left a transaction open): the statements that need no
 *   planning run for less in a simple query than as Bind/Execute pairs, and the one that does,
 *   the advisory unlock with the check below, is a statement prepared once per session that
 *   `EXECUTE` runs (SQL-level and protocol-level prepared statements share one namespace). The
 *   first reset of a session prepares it, with `BEGIN` and the process id, in extended-protocol
 *   messages ending in a Sync, then sends the rest as the simple query. Behind a proxy that may
 *   move the session to another server connection, or with `namedStatements: false`, the unlock
 *   is written into the simple query instead. Measured in docs/benchmarks.md ("Pool reset cost").
 * - If any statement fails (or the prepared one is gone), the rest of the query, `COMMIT`
 *   included, does not run and the server stays in the failed transaction block, so requests
 *   already pipelined behind the reset fail without running; the reset's handler closes the
 *   session at the error.
 * - pgfx's own prepared statements (the statement cache) survive: no `DISCARD ALL`, no
 *   `DEALLOCATE ALL`. SQL-level prepared statements are deallocated by name (a `DO` block over
 *   `pg_prepared_statements WHERE from_sql`) when the session saw a `PREPARE` command complete;
 *   otherwise (scope `"full"`) the reset checks that none exists — one made inside a function
 *   (`EXECUTE 'PREPARE ...'`) makes the check fail, which closes the session like any failure.
 *
 * @internal
 */
import * as Backend from "@pgfx/protocol/Backend"
import * as Frontend from "@pgfx/protocol/Frontend"
import type { Writer } from "@pgfx/protocol/Writer"
import { PgConnectionError, PgProtocolError, type PgQueryError, PgServerError } from "../../PgError.ts"
import type { ConnectionCore } from "../connection/Core.ts"
import type { Completion } from "../wire/Handlers.ts"
import type { Handler, Session } from "../wire/Session.ts"

/**
 * How much a pool's reset undoes (the pool option `sessionReset`):
 *
 * - `"full"`: everything a session can hold; see {@link undone}.
 * - `"noPreparedScan"`: the same, except that SQL-level prepared statements are deallocated only
 *   when a `PREPARE` command was seen completing: one made inside a function stays.
 * - `"transactionOnly"`: only a transaction left open or failed is rolled back.
 */
export type ResetScope = "full" | "noPreparedScan" | "transactionOnly"

/**
 * Deallocates the SQL-level prepared statements (`PREPARE`), leaving the protocol-level ones.
 * Parsed each time it is used, not prepared: PL/pgSQL compiles a `DO` block on every run anyway,
 * and one more prepared statement would be one more row for every check to read.
 */
const deallocateSqlPrepared =
  "DO $pgfx$DECLARE s text; BEGIN FOR s IN SELECT name FROM pg_catalog.pg_prepared_statements WHERE from_sql" +
  " LOOP EXECUTE pg_catalog.format('DEALLOCATE %I', s); END LOOP; END$pgfx$"

const unlock = "SELECT pg_catalog.pg_advisory_unlock_all()"

/**
 * The advisory unlock, failing (division by zero, 22012) when a SQL-level prepared statement is
 * left: the cheapest sound way to find one that no command tag showed. Its cost grows with the
 * number of prepared statements in the session, the statement cache's included.
 */
const unlockChecked = `${unlock}, 1 / (SELECT pg_catalog.count(*) = 0 FROM pg_catalog.pg_prepared_statements WHERE from_sql)::int4`

/**
 * What a session can hold beyond a transaction, undone, in order: cursors, LISTEN, the session
 * user and role, every setting (back to the connection's startup values), temporary objects,
 * sequence state (`currval`, `lastval`), session advisory locks.
 */
export const undone: ReadonlyArray<string> = [
  "CLOSE ALL",
  "UNLISTEN *",
  "SET SESSION AUTHORIZATION DEFAULT",
  "RESET ALL",
  "DISCARD TEMP",
  "DISCARD SEQUENCES",
  unlock,
]

/** Statements prepared once per session, by index: `pgfx_reset_<index>`. */
const named: ReadonlyArray<string> = [unlock, unlockChecked]
const UNLOCK = 0
const UNLOCK_CHECKED = 1
const nameOf = (index: number) => `pgfx_reset_${index}`

/** What follows the unlock: the statements that need no planning, then `COMMIT`. */
const rest: ReadonlyArray<string> = [...undone.slice(0, -1), "COMMIT"]

/** What one reset sends. */
interface Shape {
  /** A transaction may be open: `ROLLBACK` first. */
  readonly rollback: boolean
  /** Only the rollback (scope `"transactionOnly"`). */
  readonly rollbackOnly: boolean
  /** Deallocate the SQL-level prepared statements (a `PREPARE` was seen, or `PgPool.fullReset`). */
  readonly deallocate: boolean
  /** Fail when a SQL-level prepared statement is left (scope `"full"`, when not deallocating). */
  readonly check: boolean
  /** The named statements are used: prepared in this message run first when `prepare`. */
  readonly named: boolean
  readonly prepare: boolean
}

const bindExecute = (w: Writer, statement: string) => {
  Frontend.bind(w, "", statement, [], [], [])
  Frontend.execute(w, "")
}

const unnamed = (w: Writer, sql: string) => {
  Frontend.parse(w, "", sql)
  bindExecute(w, "")
}

/** The statements a reset completes before its unlock: ROLLBACK, BEGIN, the process id, the deallocation. */
const leading = (shape: Shape): number =>
  (shape.rollback ? 2 : 1) + (shape.prepare ? 1 : 0) + (shape.deallocate ? 1 : 0)

/** The statements a reset completes, each answered by a CommandComplete. */
const statementCount = (shape: Shape): number =>
  shape.rollbackOnly ? (shape.rollback ? 1 : 0) : leading(shape) + 1 + rest.length

/** The ReadyForQuery cycles of a reset: a preparing one has two. */
const cycleCount = (shape: Shape): number => (shape.prepare && !shape.rollbackOnly ? 2 : 1)

/**
 * Writes a reset's messages. Usually one simple query:
 * `[ROLLBACK;] BEGIN; [DO ...;] EXECUTE pgfx_reset_<n>; CLOSE ALL; ...; COMMIT` (`EXECUTE` runs
 * the protocol-level prepared statement: the two share one namespace). A preparing reset first
 * sends `BEGIN`, the process id and the Parse messages as extended-protocol messages with a Sync
 * of their own, then the simple query without `BEGIN`; with unnamed statements the unlock is
 * written into the simple query.
 */
const write = (w: Writer, shape: Shape): void => {
  if (shape.rollbackOnly) {
    if (shape.rollback) unnamed(w, "ROLLBACK")
    Frontend.sync(w)
    return
  }
  const list: Array<string> = []
  if (shape.prepare) {
    if (shape.rollback) unnamed(w, "ROLLBACK")
    unnamed(w, "BEGIN")
    // A proxy that answered the startup itself (PgBouncer) gives a process id of its own: the
    // session may then move to another server connection, where the names do not exist.
    unnamed(w, "SELECT pg_catalog.pg_backend_pid()")
    // Once per session. Close first: the name may still exist (e.g. after a `DEALLOCATE` of
    // another statement, which makes the session prepare them again).
    for (let i = 0; i < named.length; i++) {
      Frontend.close(w, "S", nameOf(i))
      Frontend.parse(w, nameOf(i), named[i]!)
    }
    Frontend.sync(w)
  } else {
    if (shape.rollback) list.push("ROLLBACK")
    list.push("BEGIN")
  }
  if (shape.deallocate) list.push(deallocateSqlPrepared)
  const select = shape.check ? UNLOCK_CHECKED : UNLOCK
  list.push(shape.named ? `EXECUTE ${nameOf(select)}` : named[select]!, ...rest)
  Frontend.query(w, list.join("; "))
}

/** Frames by shape, built on first use (a handful of shapes ever occur). */
const frames = new Map<number, Uint8Array>()

const frameOf = (shape: Shape): Uint8Array => {
  const key =
    (shape.rollback ? 1 : 0) |
    (shape.rollbackOnly ? 2 : 0) |
    (shape.deallocate ? 4 : 0) |
    (shape.check ? 8 : 0) |
    (shape.named ? 16 : 0) |
    (shape.prepare ? 32 : 0)
  let frame = frames.get(key)
  if (frame === undefined) {
    frame = Frontend.build((w) => write(w, shape))
    frames.set(key, frame)
  }
  return frame
}

/** The shape of the next reset of `conn`'s session. */
const shapeOf = (conn: ConnectionCore, scope: ResetScope, deallocate: boolean): Shape => {
  const session = conn.session
  // With requests still in flight, their final transaction status is not known yet. (While a
  // chunk is dispatched, the current request may be the one whose completion released us.)
  const inFlight = session.pending > (session.isDispatching ? 1 : 0)
  // A request in flight may yet complete a PREPARE or a DEALLOCATE whose tag is not read yet.
  const dealloc = deallocate || (scope !== "transactionOnly" && (session.sqlPrepared || inFlight))
  const named = conn.config.namedStatements && !conn.cache.serverMayChange
  return {
    rollback: inFlight || session.transactionStatus !== "I",
    rollbackOnly: scope === "transactionOnly" && !deallocate,
    deallocate: dealloc,
    check: scope === "full" && !dealloc,
    named,
    prepare: named && (inFlight || !session.resetPrepared),
  }
}

/**
 * Writes the pool's reset to `conn`'s session now, without waiting for it. Everything queued after
 * it runs on a reset session, or fails without running if the reset failed (the session is then
 * closed). Nothing is sent when nothing was sent since the last reset: the session cannot have
 * changed.
 */
export const sendReset = (conn: ConnectionCore, scope: ResetScope): void => {
  const session = conn.session
  if (session.closed || !session.sentSinceReset) return
  const shape = shapeOf(conn, scope, false)
  if (shape.rollbackOnly && !shape.rollback) return
  // Unhurried: nobody waits for its answer; the next borrower's query is queued behind it.
  session.send(new ResetHandler(conn, shape, undefined), frameOf(shape), true)
}

/**
 * The full reset (every SQL-level prepared statement deallocated) as a request of the connection,
 * answered to `completion` (`PgPool.fullReset`): `write` is called first, when the request is
 * admitted, then `handler`.
 */
export const fullReset = (conn: ConnectionCore) => {
  let shape: Shape | undefined
  return {
    write: (w: Writer): void => {
      shape = shapeOf(conn, "full", true)
      w.bytes(frameOf(shape))
    },
    handler: (completion: Completion<void>): Handler => new ResetHandler(conn, shape!, completion),
  }
}

/** Reads the reset's replies; closes the session if it did not end idle and without error. */
class ResetHandler implements Handler {
  private readonly conn: ConnectionCore
  private readonly session: Session
  private readonly shape: Shape
  private readonly completion: Completion<void> | undefined
  private error: PgServerError | undefined = undefined
  /** Statements completed so far: says which one an error belongs to. */
  private completed = 0
  /** Statements the reset runs: a ReadyForQuery before they all completed, without an error, is not its own. */
  private readonly statements: number
  /** ReadyForQuery messages still to come. */
  private cycles: number

  constructor(conn: ConnectionCore, shape: Shape, completion: Completion<void> | undefined) {
    this.conn = conn
    this.session = conn.session
    this.shape = shape
    this.completion = completion
    this.statements = statementCount(shape)
    this.cycles = cycleCount(shape)
  }

  sent(): void {
    const session = this.session
    if (!this.shape.rollbackOnly) {
      session.sqlPrepared = false
      if (this.shape.named) session.resetPrepared = true
    }
    session.sentSinceReset = false
    // The reset answers before anything sent after it, and either ends idle or closes the session.
    session.transactionStatus = "I"
  }

  onMessage(type: number, buf: Uint8Array, view: DataView, start: number, end: number): boolean {
    switch (type) {
      case Backend.Type.CommandComplete:
        // The reset's statements are not the borrower's: `maxQueries` counts the borrowers'.
        this.session.commandCount--
        this.completed++
        return false
      case Backend.Type.DataRow:
        // The first row of a preparing reset is the server's process id (see `write`).
        if (this.shape.prepare && this.completed === (this.shape.rollback ? 2 : 1))
          this.checkProcessId(buf, view, start)
        return false
      case Backend.Type.RowDescription:
      case Backend.Type.ParseComplete:
      case Backend.Type.BindComplete:
      case Backend.Type.CloseComplete:
        return false
      case Backend.Type.ErrorResponse: {
        const msg = Backend.decode(type, buf, view, start, end)
        if (msg._tag === "ErrorResponse") this.error = PgServerError.fromFields(msg.fields)
        // At once: after an error in its extended-protocol part, the server skips the reset's
        // simple query, and the next ReadyForQuery would answer a later request's Sync.
        this.fail()
        return true
      }
      case Backend.Type.ReadyForQuery:
        // A preparing reset's first cycle ends inside its transaction block.
        if (--this.cycles > 0) {
          if (this.completed !== leading(this.shape) - (this.shape.deallocate ? 1 : 0)) return this.unexpected(type)
          if (this.session.transactionStatus !== "T") this.fail()
          // The reset ends idle or closes the session (see `sent`), whoever reads the status now.
          else this.session.transactionStatus = "I"
          return this.session.closed
        }
        if (this.completed !== this.statements) return this.unexpected(type)
        if (this.session.transactionStatus !== "I") this.fail()
        else this.completion?.succeed()
        return true
      default:
        return this.unexpected(type)
    }
  }

  private unexpected(type: number): true {
    this.session.destroy(
      new PgProtocolError({
        message: `unexpected message '${String.fromCharCode(type)}' in reply to the pool's reset`,
      }),
    )
    return true
  }

  onFailure(error: PgConnectionError | PgProtocolError): void {
    // The session died: whatever the borrower left went with it.
    this.completion?.fail(error)
  }

  /** A DataRow of one text column: the backend's process id, compared with BackendKeyData's. */
  private checkProcessId(buf: Uint8Array, view: DataView, start: number): void {
    const length = view.getInt32(start + 2)
    const pid = length < 0 ? "" : new TextDecoder().decode(buf.subarray(start + 6, start + 6 + length))
    if (pid !== String(this.session.processId)) this.conn.cache.serverMayChange = true
  }

  /** Whether the error is the check's: a SQL-level prepared statement no command tag showed. */
  private isCheckFailure(error: PgServerError): boolean {
    if (!this.shape.check || error.code !== "22012") return false
    return this.completed === leading(this.shape)
  }

  private fail(): void {
    const error = this.error
    const message =
      error === undefined
        ? "the connection was closed: the pool's reset did not end outside a transaction"
        : this.isCheckFailure(error)
          ? "the connection was closed instead of reset: the session held a SQL-level prepared statement made " +
            "without a PREPARE command (e.g. inside a function); requests sent after the reset did not run"
          : `the connection was closed: the pool's reset failed (${error.code} ${error.message}); requests sent after it did not run`
    const closed = new PgConnectionError({
      reason: "Closed",
      message,
      cause: error,
      // The reset runs in a transaction block: once it failed, the server refused what followed.
      ...(error === undefined ? {} : { sent: false }),
    })
    this.session.destroy(closed)
    this.completion?.fail(error ?? (closed as PgQueryError))
  }
}
