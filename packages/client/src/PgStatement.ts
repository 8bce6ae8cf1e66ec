/**
 * Prepared statements: `prepare(conn, sql)` (or `conn.prepare(sql)`) parses and describes a
 * statement once on the server and returns a {@link PgStatement} bound to its connection, to run
 * again and again with different arguments. The statement is closed when its Scope closes.
 *
 * Queries run with `conn.fetch(sql, ...)` are prepared too, through the connection's LRU
 * statement cache (`statementCacheSize`, `maxCachedStatementLifetime`,
 * `maxCacheableStatementSize`); `prepare` is for explicit control and for statement metadata
 * (`getParameters`, `getAttributes`, `explain`).
 *
 * **Schema changes.** When DDL changes a statement's result type, PostgreSQL refuses the old plan
 * ("cached plan must not change result type"). Outside a transaction pgfx prepares the statement
 * again and re-runs the call transparently; inside a transaction the server has already aborted
 * it, and the call fails with `PgInvalidCachedStatementError`.
 *
 * **Poolers.** With `namedStatements: false` (PgBouncer in transaction or statement mode), no
 * named statement is created: a `PgStatement` keeps its description and re-sends Parse for the
 * unnamed statement with each execution.
 *
 * @example
 * ```ts
 * const stmt = yield* conn.prepare("SELECT 2 ^ $1")
 * yield* stmt.fetchVal([10]) // Some(1024)
 * yield* stmt.fetchVal([20]) // Some(1048576)
 * yield* stmt.getParameters() // [{ oid: 701, name: "float8", kind: "scalar", schema: "pg_catalog" }]
 * ```
 * @since 0.1.0
 */
import { Effect, type Scope } from "effect"
import { usableCore } from "./internal/connection/Internals.ts"
import { PreparedStatement } from "./internal/query/Prepared.ts"
import type { PgConnection, QueryOptions } from "./PgConnection.ts"
import type { PgQueryError } from "./PgError.ts"
import { type PgStatement } from "./internal/Handles.ts"
export type { ExplainOptions } from "./internal/Options.ts"
export type { PgAttribute, PgStatement, PgType, PgTypeKind } from "./internal/Handles.ts"

/**
 * Prepares `sql` on `conn`. The statement is closed when the Scope closes.
 *
 * Errors: `PgServerError` when the SQL does not parse or refers to unknown objects; the
 * connection's other `PgQueryError`s.
 * @since 0.1.0
 */
export const prepare = (
  conn: PgConnection,
  sql: string,
  options?: QueryOptions,
): Effect.Effect<PgStatement, PgQueryError, Scope.Scope> =>
  Effect.flatMap(usableCore(conn, "prepare"), (c) => PreparedStatement.make(c, sql, options))
