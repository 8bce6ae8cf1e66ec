/**
 * One extended-protocol execution of a cached statement: prepare (or find) the statement, send
 * the request, and recover when the server's copy of the statement is stale.
 *
 * - "cached plan must not change result type" (0A000) and "prepared statement does not exist"
 *   (26000) drop the cache entry. Outside a transaction the server did not run anything, so the
 *   statement is prepared again and the request re-sent once, transparently. Inside a
 *   transaction the server has aborted the transaction: 0A000 becomes a typed
 *   `PgInvalidCachedStatementError`.
 * - With unnamed statements (describe cache) the server re-parses every time and describes the
 *   portal; a changed result shape is decoded with the fresh description and the cache entry is
 *   dropped (see `ExecuteHandler`).
 *
 * @internal
 */
import type * as Backend from "@pgfx/protocol/Backend"
import type { Writer } from "@pgfx/protocol/Writer"
import { Effect } from "effect"
import { PgInvalidCachedStatementError, type PgQueryError, PgServerError } from "../PgError.ts"
import type { Connection } from "./Connection.ts"
import type { Level } from "./Gate.ts"
import type { Completion } from "./Handlers.ts"
import type { Handler } from "./Session.ts"
import type { StatementInfo } from "./Statement.ts"

/** The server's copy of a prepared statement is gone or no longer matches the schema. */
export const isStaleStatement = (error: PgQueryError): error is PgServerError =>
  error instanceof PgServerError &&
  (error.code === "26000" || (error.code === "0A000" && /cached plan/.test(error.message)))

/**
 * Prepares `sql` through the connection's cache and runs the request built by `build`, with the
 * stale-statement recovery described in the module header.
 */
export const executeCached = <A>(
  conn: Connection,
  sql: string,
  build: (w: Writer, info: StatementInfo) => void,
  make: (c: Completion<A>, info: StatementInfo, onStale: () => void) => Handler,
  level?: Level,
): Effect.Effect<A, PgQueryError> => {
  const attempt = (retried: boolean): Effect.Effect<A, PgQueryError> =>
    Effect.flatMap(
      conn.cache.prepare(sql, (b, m) => conn.request(b, m, level)),
      (info) => {
        let status: Backend.TransactionStatus = "I"
        return conn
          .request<A>(
            (w) => build(w, info),
            (c) =>
              make(
                {
                  succeed: c.succeed,
                  fail: (e) => {
                    // The status of this request's own ReadyForQuery (read before anything else runs).
                    status = conn.session.transactionStatus
                    c.fail(e)
                  },
                },
                info,
                () => conn.cache.forget(sql, info),
              ),
            level,
          )
          .pipe(
            Effect.catch((error) => {
              if (!isStaleStatement(error)) return Effect.fail(error)
              conn.cache.forget(sql, info, error.code === "0A000")
              if (status === "I" && !retried) return attempt(true)
              if (error.code !== "0A000") return Effect.fail(error)
              return Effect.fail(
                new PgInvalidCachedStatementError({
                  message:
                    status === "I"
                      ? `the statement is still invalid after preparing it again: ${error.message}`
                      : `a cached statement became invalid after a schema change (${error.message}); roll the transaction back and retry it`,
                  query: sql,
                  cause: error,
                }),
              )
            }),
          )
      },
    )
  return attempt(false)
}
