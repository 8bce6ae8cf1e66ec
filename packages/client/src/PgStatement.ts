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
import { Effect, type Option, type Scope, type Stream } from "effect"
import type { Connection } from "./internal/connection/Connection.ts"
import { usable } from "./internal/pool/Lease.ts"
import { PreparedStatement } from "./internal/query/Prepared.ts"
import type {
  FetchValOptions,
  PgConnection,
  QueryOptions,
  RowSchemaOptions,
  ValueSchemaOptions,
} from "./PgConnection.ts"
import type { CursorOptions, PgCursor } from "./PgCursor.ts"
import type { PgQueryError, PgTransactionError } from "./PgError.ts"
import type { PgColumn, PgRecord } from "./PgRecord.ts"
import type { PgSchemaError } from "./PgSchema.ts"

/** How a type is built (asyncpg's `Type.kind`). @since 0.1.0 */
export type PgTypeKind = "scalar" | "array" | "composite" | "range" | "multirange"

/** A PostgreSQL type (asyncpg's `Type`). @since 0.1.0 */
export interface PgType {
  readonly oid: number
  /** The type name in `pg_type` (`int4`, `_text`, ...). */
  readonly name: string
  readonly kind: PgTypeKind
  /** The schema the type lives in (`pg_catalog`, `public`, ...). */
  readonly schema: string
}

/** A result column (asyncpg's `Attribute`). @since 0.1.0 */
export interface PgAttribute {
  readonly name: string
  readonly type: PgType
}

/** Options of `explain`. @since 0.1.0 */
export interface ExplainOptions extends QueryOptions {
  /**
   * Runs the statement (`EXPLAIN ANALYZE`) to add actual run times. It runs inside a
   * transaction (a savepoint when one is open) that is always rolled back.
   */
  readonly analyze?: boolean | undefined
}

/**
 * A statement prepared on one connection (asyncpg's PreparedStatement). Every query method takes
 * the statement's arguments as an array and an optional `{ timeout }`.
 *
 * Errors: `PgQueryError` (as for the connection's own query methods); `PgInterfaceError` once the
 * statement is closed.
 * @since 0.1.0
 */
export interface PgStatement {
  /** Runs the statement; returns its status tag (e.g. `"INSERT 0 1"`). */
  execute(args?: ReadonlyArray<unknown>, options?: QueryOptions): Effect.Effect<string, PgQueryError>
  /** Runs the statement; returns all rows, decoded through `{ schema }` when given (see `PgConnection.Fetch`). */
  fetch<A>(
    args: ReadonlyArray<unknown> | undefined,
    options: RowSchemaOptions<A>,
  ): Effect.Effect<Array<A>, PgQueryError | PgSchemaError>
  fetch(args?: ReadonlyArray<unknown>, options?: QueryOptions): Effect.Effect<Array<PgRecord>, PgQueryError>
  /** Runs the statement; returns the first row, if any (decoded through `{ schema }` when given). */
  fetchRow<A>(
    args: ReadonlyArray<unknown> | undefined,
    options: RowSchemaOptions<A>,
  ): Effect.Effect<Option.Option<A>, PgQueryError | PgSchemaError>
  fetchRow(args?: ReadonlyArray<unknown>, options?: QueryOptions): Effect.Effect<Option.Option<PgRecord>, PgQueryError>
  /**
   * Runs the statement; returns one value of the first row: `None` without rows, `Some(null)` for
   * a NULL (decoded through `{ schema }` when given).
   */
  fetchVal<A>(
    args: ReadonlyArray<unknown> | undefined,
    options: ValueSchemaOptions<A>,
  ): Effect.Effect<Option.Option<A>, PgQueryError | PgSchemaError>
  fetchVal(
    args?: ReadonlyArray<unknown>,
    options?: FetchValOptions,
  ): Effect.Effect<Option.Option<unknown>, PgQueryError>
  /** Runs the statement for every argument set in one pipelined, atomic batch. */
  executeMany(
    argsList: ReadonlyArray<ReadonlyArray<unknown>>,
    options?: QueryOptions,
  ): Effect.Effect<void, PgQueryError>
  /** Like `executeMany`, returning each set's rows (e.g. `RETURNING`). */
  fetchMany(
    argsList: ReadonlyArray<ReadonlyArray<unknown>>,
    options?: QueryOptions,
  ): Effect.Effect<Array<Array<PgRecord>>, PgQueryError>
  /** The rows as a Stream through a cursor (see `PgCursor`). */
  cursor(args?: ReadonlyArray<unknown>, options?: CursorOptions): Stream.Stream<PgRecord, PgQueryError>
  /** An explicit cursor, closed with the Scope (see `PgCursor`). */
  openCursor(args?: ReadonlyArray<unknown>, options?: QueryOptions): Effect.Effect<PgCursor, PgQueryError, Scope.Scope>
  /** The parameter types, names looked up in `pg_type` (once per connection). */
  getParameters(): Effect.Effect<ReadonlyArray<PgType>, PgQueryError>
  /** The result columns with their types. */
  getAttributes(): Effect.Effect<ReadonlyArray<PgAttribute>, PgQueryError>
  /** The SQL text. */
  getQuery(): string
  /** The status tag of the last execution; undefined before the first. */
  getStatusMsg(): string | undefined
  /**
   * The plan as parsed JSON (`EXPLAIN (FORMAT JSON, VERBOSE)` with these arguments). With
   * `analyze`, the statement runs inside a transaction that is always rolled back.
   */
  explain(
    args?: ReadonlyArray<unknown>,
    options?: ExplainOptions,
  ): Effect.Effect<unknown, PgQueryError | PgTransactionError>
  /** The result columns' raw metadata. */
  readonly columns: ReadonlyArray<PgColumn>
  /** The parameter type OIDs. */
  readonly parameterTypeOids: ReadonlyArray<number>
  /** Closes the statement now rather than when its Scope closes. */
  readonly close: Effect.Effect<void>
}

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
  Effect.flatMap(usable(conn as Connection, "prepare"), (c) => PreparedStatement.make(c, sql, options))
