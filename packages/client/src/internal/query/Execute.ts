/**
 * One extended-protocol execution of a prepared statement: get the statement's description
 * (from the connection's cache, or an explicitly prepared statement), send the request, and
 * recover when the server's copy of the statement is stale.
 *
 * - "cached plan must not change result type" (0A000) drops the statement's description;
 *   "prepared statement does not exist" (26000) keeps it (the statement's name holds a digest of
 *   its SQL, so the name stays right) and tells the cache that this connection's server
 *   connection may change between transactions (a transaction-pooling proxy). Outside a
 *   transaction the server ran nothing, so the request is re-sent once, transparently, with the
 *   statement closed and parsed again in the same batch (one Sync: a pooler keeps it on one server
 *   connection). Inside a transaction the server has aborted the transaction: the caller gets a
 *   typed `PgInvalidCachedStatementError` that names the pooler and the option to use (unless the
 *   caller can restart a transaction it owns).
 * - Once a connection has met a missing statement, or found that a proxy answers for the server
 *   ({@link checkProxy}, asked the first time a cached statement runs inside a transaction),
 *   executions inside a transaction re-create their statement in their own batch: behind a
 *   transaction-pooling proxy, each transaction may run on a server connection that never saw it.
 * - With unnamed statements (describe cache) the server re-parses every time and describes the
 *   portal; a changed result shape is decoded with the fresh description and the cached
 *   description is dropped (see `ExecuteHandler`).
 *
 * @internal
 */
import type * as Backend from "@pgfx/protocol/Backend"
import * as Frontend from "@pgfx/protocol/Frontend"
import type { Writer } from "@pgfx/protocol/Writer"
import { Effect } from "effect"
import { PgInvalidCachedStatementError, type PgQueryError, PgServerError } from "../../PgError.ts"
import type { ConnectionCore } from "../connection/Core.ts"
import type { Level } from "../wire/Gate.ts"
import type { Completion } from "../wire/Handlers.ts"
import type { Handler } from "../wire/Session.ts"
import { ScalarHandler } from "../wire/SessionAttrs.ts"
import { reparsed, type StatementInfo } from "../wire/Statement.ts"

/** The server's copy of a prepared statement is gone or no longer matches the schema. */
export const isStaleStatement = (error: PgQueryError): error is PgServerError =>
  error instanceof PgServerError &&
  (error.code === "26000" || (error.code === "0A000" && /cached plan/.test(error.message)))

/**
 * What a caller sees when a stale statement cannot be retried transparently: the server's own
 * error, or for 0A000 a typed `PgInvalidCachedStatementError`.
 */
const staleFailure = (error: PgServerError, sql: string, retried: boolean): PgQueryError =>
  new PgInvalidCachedStatementError({
    message:
      error.code === "26000"
        ? `${error.message}, inside a transaction: the server connection running this transaction never ` +
          "prepared it, which happens behind a transaction-pooling proxy (PgBouncer with pool_mode=transaction, " +
          "or similar). The transaction was aborted; roll it back and retry it (this connection now re-prepares " +
          "statements inside transactions), or connect with namedStatements: false (or statementCacheSize: 0)"
        : retried
          ? `the statement is still invalid after preparing it again: ${error.message}`
          : `a cached statement became invalid after a schema change (${error.message}); roll the transaction back and retry it`,
    query: sql,
    cause: error,
  })

/**
 * Whether an execution written now runs inside a transaction block: a transaction level owns
 * the connection, or the last ReadyForQuery said so (a transaction begun with plain SQL).
 */
export const inTransactionBlock = (conn: ConnectionCore): boolean =>
  conn.gate.owner !== undefined || conn.session.transactionStatus !== "I"

/**
 * What a failed execution of `info` leads to, dropping stale descriptions on the way: "retry"
 * (the statement is stale and the server ran nothing: prepare again and re-send, only once and
 * outside a transaction), "restart" (stale inside a transaction the caller can restart), or the
 * error to report. `status` is the transaction status of the failed request's ReadyForQuery.
 * Shared by {@link executeWith} and the fast path (internal/query/FastQuery.ts).
 */
export const afterFailure = (
  conn: ConnectionCore,
  source: StatementSource,
  info: StatementInfo,
  error: PgQueryError,
  status: Backend.TransactionStatus,
  retried: boolean,
  canRestart: boolean,
): "retry" | "restart" | PgQueryError => {
  if (!isStaleStatement(error)) {
    // A kept description of the unnamed statement may be what the server now refuses
    // (e.g. parameter types after DDL): describe it afresh next time.
    if (info.name === "" && error instanceof PgServerError) source.forget(info, undefined)
    return error
  }
  if (error.code === "26000") conn.cache.serverMayChange = true
  else source.forget(info, error)
  if (!retried && status === "I") return "retry"
  if (!retried && canRestart) return "restart"
  return staleFailure(error, source.sql, retried)
}

/**
 * Asks the server for `pg_backend_pid()` once per connection: a process id other than the one
 * BackendKeyData gave means a proxy answered the startup with keys of its own (PgBouncer does),
 * so the server connection may change between transactions and statements inside transactions
 * are re-created in their own batch from now on (see the module header). A plain `SELECT` of a
 * function, harmless inside the caller's transaction; one round trip per connection, and only
 * for connections that run cached statements inside transactions.
 */
const checkProxy = (conn: ConnectionCore, level: Level | undefined): Effect.Effect<void, PgQueryError> =>
  Effect.map(
    conn.request<string | null>(
      (w) => Frontend.query(w, "SELECT pg_catalog.pg_backend_pid()"),
      (c) => new ScalarHandler((value, error) => (error === undefined ? c.succeed(value) : c.fail(error))),
      level,
    ),
    (pid) => {
      conn.cache.proxyChecked = true
      if (pid !== null && pid !== String(conn.session.processId)) conn.cache.serverMayChange = true
    },
  )

/** Where a statement's description comes from. */
export interface StatementSource {
  readonly sql: string
  /** The current description, preparing the statement when needed (as or inside `level`). */
  readonly prepare: (level: Level | undefined) => Effect.Effect<StatementInfo, PgQueryError>
  /** The description `info` is stale: forget it (`error`: the server's reason, if it refused). */
  readonly forget: (info: StatementInfo, error: PgServerError | undefined) => void
}

/** Statements from the connection's LRU cache, keyed by SQL text. */
export const cacheSource = (conn: ConnectionCore, sql: string): StatementSource => ({
  sql,
  prepare: (level) => conn.cache.prepare(sql, (b, m) => conn.request(b, m, level)),
  // No Close: the next preparation of the same SQL (same name) replaces the server's copy.
  forget: (info) => conn.cache.forget(sql, info, false),
})

/**
 * Runs the request built by `build` for `source`'s statement, with the stale-statement recovery
 * described in the module header. `restart`, when given, rolls back and restarts a transaction
 * the caller owns (nothing else ran in it), so the request can be retried inside it too.
 */
export const executeWith = <A>(
  conn: ConnectionCore,
  source: StatementSource,
  build: (w: Writer, info: StatementInfo) => void,
  make: (c: Completion<A>, info: StatementInfo, onStale: () => void) => Handler,
  level?: Level,
  restart?: Effect.Effect<void, PgQueryError>,
): Effect.Effect<A, PgQueryError> => {
  const attempt = (retried: boolean): Effect.Effect<A, PgQueryError> =>
    Effect.flatMap(source.prepare(level), (info) =>
      !conn.cache.proxyChecked && info.name !== "" && inTransactionBlock(conn)
        ? Effect.andThen(checkProxy(conn, level), send(info, retried))
        : send(info, retried),
    )
  const send = (info: StatementInfo, retried: boolean): Effect.Effect<A, PgQueryError> => {
    let status: Backend.TransactionStatus = "I"
    return conn
      .request<A>(
        // A retry, or a transaction that may run on a server connection that never saw the
        // statement: Close + Parse in the same batch (decided when the request is written).
        (w) => build(w, retried || (conn.cache.serverMayChange && inTransactionBlock(conn)) ? reparsed(info) : info),
        (c) =>
          make(
            {
              succeed: (a) => c.succeed(a),
              fail: (e) => {
                // The status of this request's own ReadyForQuery (read before anything else runs).
                status = conn.session.transactionStatus
                c.fail(e)
              },
            },
            info,
            () => source.forget(info, undefined),
          ),
        level,
      )
      .pipe(
        Effect.catch((error) => {
          const next = afterFailure(conn, source, info, error, status, retried, restart !== undefined)
          if (next === "retry") return attempt(true)
          // "restart" only comes back when the caller gave `restart`.
          if (next === "restart") return Effect.andThen(restart ?? Effect.void, attempt(true))
          return Effect.fail(next)
        }),
      )
  }
  // Suspended: the cache lookup (and a new statement's name) belong to each run of the Effect,
  // not to its construction, so the same query Effect can run again (repeat, retry).
  return Effect.suspend(() => attempt(false))
}

/** {@link executeWith} for SQL through the connection's statement cache. */
export const executeCached = <A>(
  conn: ConnectionCore,
  sql: string,
  build: (w: Writer, info: StatementInfo) => void,
  make: (c: Completion<A>, info: StatementInfo, onStale: () => void) => Handler,
  level?: Level,
): Effect.Effect<A, PgQueryError> => executeWith(conn, cacheSource(conn, sql), build, make, level)
