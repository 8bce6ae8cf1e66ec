/**
 * The shapes of the public handles — `PgConnection` with its event methods and callbacks,
 * `PgStatement`, `PgCursor`, transactions, `PgPool` — and the `PgTransaction` and
 * `PgCurrentConnection` services. They name each other, so they live in one module; it imports
 * no other part of the client but the leaves (options, event values, errors, records), so every
 * internal module can name them. The public modules re-export them.
 */
import type { CodecRegistry } from "@pgfx/types/CodecRegistry"
import type { TypeCodecOptions } from "@pgfx/types/SchemaCodec"
import { Context, type Effect, type LogLevel, type Option, type Scope, type Stream } from "effect"
import type {
  PgConfigError,
  PgConnectionError,
  PgInterfaceError,
  PgPoolError,
  PgProtocolError,
  PgQueryError,
  PgSchemaError,
  PgTransactionError,
} from "../PgError.ts"
import type { PgColumn, PgRecord } from "../PgRecord.ts"
import type { PgConnectionOptions } from "../config/Options.ts"
import type { Fragment } from "../PgSql.ts"
import type * as ServerVersion from "../ServerVersion.ts"
import type { LoggedQuery, PgNotice, PgNotification, QueryLoggerCallback, QueryLoggerOptions } from "./Events.ts"
import type {
  BufferOptions,
  CloseOptions,
  CursorOptions,
  ExplainOptions,
  FetchValOptions,
  Isolation,
  QueryOptions,
  RowSchemaOptions,
  ShortcutOptions,
  AcquireOptions,
  TransactionOptions,
  ValueSchemaOptions,
} from "./Options.ts"

/**
 * One statement's outcome: its rows (empty when it returns none) and the server's command tag.
 *
 * @example
 * ```ts
 * // conn.fetchResult("UPDATE t SET x = 1") succeeds with
 * // { command: "UPDATE 3", rows: [], columns: [] }
 * ```
 * @since 0.1.0
 */
export interface PgResult {
  /** The CommandComplete tag (`"SELECT 2"`, `"INSERT 0 1"`, `"CALL"`); "" if the statement was empty. */
  readonly command: string
  readonly rows: Array<PgRecord>
  /** The result columns (empty when the statement returns no rows). */
  readonly columns: ReadonlyArray<PgColumn>
}

/**
 * `fetch`: all rows of a query, as `PgRecord`s or, with `{ schema }`, decoded through the Schema
 * (a row that does not decode fails the call with `PgSchemaError` naming the row and column).
 * `E` is the errors of where it runs, `R` what it needs, `X` more options it takes (a pool's
 * `acquireTimeout`).
 *
 * @example
 * ```ts
 * const User = Schema.Struct({ id: Schema.Number, name: Schema.String })
 * const users = yield* conn.fetch("SELECT id, name FROM users WHERE active = $1", [true], { schema: User })
 * // users: Array<{ readonly id: number; readonly name: string }>
 * const same = yield* conn.fetch(sql`SELECT id, name FROM users WHERE active = ${true}`, { schema: User })
 * ```
 * @since 0.1.0
 */
export interface Fetch<E, R = never, X = unknown> {
  <A>(
    sql: string,
    args: ReadonlyArray<unknown> | undefined,
    options: RowSchemaOptions<A> & X,
  ): Effect.Effect<Array<A>, E | PgSchemaError, R>
  <A>(query: Fragment, options: RowSchemaOptions<A> & X): Effect.Effect<Array<A>, E | PgSchemaError, R>
  (sql: string, args?: ReadonlyArray<unknown>, options?: QueryOptions & X): Effect.Effect<Array<PgRecord>, E, R>
  (query: Fragment, options?: QueryOptions & X): Effect.Effect<Array<PgRecord>, E, R>
}

/**
 * `fetchRow`: the first row of a query, `None` when there is none; with `{ schema }` decoded
 * through the Schema.
 * @since 0.1.0
 */
export interface FetchRow<E, R = never, X = unknown> {
  <A>(
    sql: string,
    args: ReadonlyArray<unknown> | undefined,
    options: RowSchemaOptions<A> & X,
  ): Effect.Effect<Option.Option<A>, E | PgSchemaError, R>
  <A>(query: Fragment, options: RowSchemaOptions<A> & X): Effect.Effect<Option.Option<A>, E | PgSchemaError, R>
  (sql: string, args?: ReadonlyArray<unknown>, options?: QueryOptions & X): Effect.Effect<Option.Option<PgRecord>, E, R>
  (query: Fragment, options?: QueryOptions & X): Effect.Effect<Option.Option<PgRecord>, E, R>
}

/**
 * `fetchVal`: one value (column `column`, default 0) of the first row: `None` when there is no
 * row, `Some(null)` for a NULL; with `{ schema }` the value decoded through the Schema.
 *
 * @example
 * ```ts
 * const n = yield* conn.fetchVal("SELECT count(*) FROM users", [], { schema: Schema.BigInt }) // Option<bigint>
 * const name = yield* conn.fetchVal(sql`SELECT name FROM users WHERE id = ${1}`) // Option<unknown>
 * ```
 * @since 0.1.0
 */
export interface FetchVal<E, R = never, X = unknown> {
  <A>(
    sql: string,
    args: ReadonlyArray<unknown> | undefined,
    options: ValueSchemaOptions<A> & X,
  ): Effect.Effect<Option.Option<A>, E | PgSchemaError, R>
  <A>(query: Fragment, options: ValueSchemaOptions<A> & X): Effect.Effect<Option.Option<A>, E | PgSchemaError, R>
  (
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: FetchValOptions & X,
  ): Effect.Effect<Option.Option<unknown>, E, R>
  (query: Fragment, options?: FetchValOptions & X): Effect.Effect<Option.Option<unknown>, E, R>
}

/**
 * An open PostgreSQL session. Obtain one with {@link make}; every method returns an Effect.
 * @since 0.1.0
 */
export interface PgConnection extends PgConnectionEvents {
  /**
   * Runs a command and returns its status tag (e.g. `"INSERT 0 3"`). With no arguments the simple
   * protocol is used and `sql` may hold several statements; the tag is the last one's.
   */
  execute(sql: string, args?: ReadonlyArray<unknown>, options?: QueryOptions): Effect.Effect<string, PgQueryError>
  /** {@link execute} with a `sql` fragment (`PgSql`): its text and parameters. */
  execute(query: Fragment, options?: QueryOptions): Effect.Effect<string, PgQueryError>
  /** Runs a query and returns all its rows (typed with `{ schema }`, see {@link Fetch}). */
  readonly fetch: Fetch<PgQueryError>
  /**
   * Runs one statement (extended protocol, like {@link fetch}) and returns its rows together with
   * its command tag, e.g. to read an affected-row count.
   */
  fetchResult(sql: string, args?: ReadonlyArray<unknown>, options?: QueryOptions): Effect.Effect<PgResult, PgQueryError>
  /**
   * Runs `sql` with the simple query protocol: no parameters, several statements allowed, and one
   * {@link PgResult} per statement, in order. Whether a statement returns rows is what the server
   * says. Values travel in text format and are decoded with the connection's codecs; a type the
   * connection has not looked up yet (a user type first seen here) comes back as the server's text.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import type { PgConnection } from "@pgfx/client/PgConnection"
   *
   * const both = (conn: PgConnection) =>
   *   Effect.map(conn.simpleQuery("-- two statements\nSELECT 1 AS a; SELECT 2 AS b"), (results) =>
   *     results.map((r) => r.rows[0]?.toObject()),
   *   ) // [{ a: 1 }, { b: 2 }]
   * ```
   */
  simpleQuery(sql: string, options?: QueryOptions): Effect.Effect<Array<PgResult>, PgQueryError>
  /** Runs a query and returns its first row, if any (see {@link FetchRow}). */
  readonly fetchRow: FetchRow<PgQueryError>
  /** Runs a query and returns one value of its first row, if any (see {@link FetchVal}). */
  readonly fetchVal: FetchVal<PgQueryError>
  /**
   * Runs `sql` once per argument set, all sets pipelined in one batch (Bind/Execute per set, one
   * Sync): one round trip, and atomic — a failure in any set rolls back all of them. An empty
   * list does nothing. `sql` may be a fragment without parameters (`sql.id` for a table name):
   * the argument sets are the parameters.
   */
  executeMany(
    sql: string | Fragment,
    argsList: ReadonlyArray<ReadonlyArray<unknown>>,
    options?: QueryOptions,
  ): Effect.Effect<void, PgQueryError>
  /** Like {@link executeMany}, returning each argument set's rows (e.g. `INSERT ... RETURNING`). */
  fetchMany(
    sql: string | Fragment,
    argsList: ReadonlyArray<ReadonlyArray<unknown>>,
    options?: QueryOptions,
  ): Effect.Effect<Array<Array<PgRecord>>, PgQueryError>
  /**
   * Prepares a statement on this connection, closed when the Scope closes. See `PgStatement`.
   * `sql` may be a fragment without parameters (see `PgSql.statementText`).
   */
  prepare(sql: string | Fragment, options?: QueryOptions): Effect.Effect<PgStatement, PgQueryError, Scope.Scope>
  /**
   * The rows of `sql` as a Stream fetched `prefetch` (default 50) at a time through a cursor.
   * Outside a transaction it holds the connection in an implicit transaction until the Stream
   * ends. See `PgCursor`.
   */
  cursor(sql: string, args?: ReadonlyArray<unknown>, options?: CursorOptions): Stream.Stream<PgRecord, PgQueryError>
  /** {@link cursor} with a `sql` fragment (`PgSql`). */
  cursor(query: Fragment, options?: CursorOptions): Stream.Stream<PgRecord, PgQueryError>
  /** An explicit cursor (`fetch`, `fetchRow`, `forward`), closed when the Scope closes. See `PgCursor`. */
  openCursor(
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: QueryOptions,
  ): Effect.Effect<PgCursor, PgQueryError, Scope.Scope>
  /** {@link openCursor} with a `sql` fragment (`PgSql`). */
  openCursor(query: Fragment, options?: QueryOptions): Effect.Effect<PgCursor, PgQueryError, Scope.Scope>
  /**
   * Runs `effect` in a transaction on this connection (a savepoint when already in one): commit
   * on success, rollback on failure, defect and interruption. While it runs, other fibers'
   * queries on this connection wait. See `PgTransaction.transaction`.
   */
  transaction<A, E, R>(
    effect: Effect.Effect<A, E, R>,
    options?: TransactionOptions,
  ): Effect.Effect<A, E | PgQueryError | PgTransactionError, Exclude<R, PgTransaction>>
  /** The server's version, parsed from `server_version`. */
  readonly serverVersion: ServerVersion.ServerVersion
  /** The backend process id (what `pg_backend_pid()` returns). */
  readonly serverPid: number
  /** The current value of every ParameterStatus the server reported (server_version, TimeZone, ...). */
  readonly settings: ReadonlyMap<string, string>
  /** True once the connection is closed, by us or by the server. */
  readonly isClosed: boolean
  /** True while a transaction block is open (including a failed one). */
  readonly isInTransaction: boolean
  /** The transaction status of the last ReadyForQuery: idle, in transaction, or failed. */
  readonly transactionStatus: "idle" | "transaction" | "failed"
  /** The protocol version in use: "3.0" or "3.2". */
  readonly protocolVersion: "3.0" | "3.2"
  /**
   * The codec registry this connection uses now: the configured one (`codecs` option) plus the
   * custom codecs set on this connection. Types looked up from `pg_catalog` are not included.
   */
  readonly codecs: CodecRegistry
  /**
   * Uses a custom codec for `typeName` on this connection (asyncpg's `set_type_codec`): `schema`
   * is an Effect Schema between the type's wire representation (`format`: `"text"` string,
   * `"binary"` bytes, or `"tuple"` — see `@pgfx/types/SchemaCodec`) and your value. Arrays of
   * the type and composites containing it use it too. The statement cache is dropped.
   *
   * Errors: `PgInterfaceError` when the type does not exist or the format does not fit it
   * (e.g. `"tuple"` for an enum).
   *
   * @example
   * ```ts
   * yield* conn.setTypeCodec("numeric", { format: "text", schema: Schema.NumberFromString })
   * yield* conn.fetchVal("SELECT 1.5::numeric") // Some(1.5)
   * ```
   */
  setTypeCodec<A>(typeName: string, options: TypeCodecOptions<A>): Effect.Effect<void, PgQueryError>
  /** Restores the default codec of `typeName` (asyncpg's `reset_type_codec`). */
  resetTypeCodec(
    typeName: string,
    options?: { readonly schemaName?: string | undefined },
  ): Effect.Effect<void, PgQueryError>
  /**
   * Exchanges `typeName` with a built-in codec (asyncpg's `set_builtin_type_codec`): `"hstore"`
   * for the hstore extension, or any built-in type name for a wire-compatible type
   * (`setBuiltinTypeCodec("money", "int8")` gives the amount in minor units). `format: "text"`
   * restricts it to the text format.
   *
   * Errors: `PgInterfaceError` for an unknown type or codec name.
   */
  setBuiltinTypeCodec(
    typeName: string,
    codecName: string,
    options?: { readonly schemaName?: string | undefined; readonly format?: "text" | "binary" | undefined },
  ): Effect.Effect<void, PgQueryError>
  /**
   * Forgets the types this connection looked up in `pg_catalog` and its prepared statements, so
   * they are looked up again (asyncpg's `reload_schema_state`). Call it after DDL that changes
   * types in use (`ALTER TYPE`); otherwise a changed composite fails with `PgOutdatedSchemaError`.
   */
  reloadSchemaState(): Effect.Effect<void>
  /**
   * Closes gracefully: new operations are refused, running ones and queued requests finish, then
   * Terminate is sent and the socket closed. Past `timeout` (default 10 seconds) the connection
   * is terminated as by {@link terminate}. Never fails.
   *
   * @example
   * ```ts
   * yield* conn.close({ timeout: "2 seconds" })
   * ```
   */
  close(options?: CloseOptions): Effect.Effect<void>
  /**
   * Closes at once: queued requests fail with `PgConnectionError` (reason `Closed`), the
   * statement in flight is cancelled, Terminate is sent and the socket closed. Never fails.
   */
  terminate(): Effect.Effect<void>
}

/**
 * An open portal into the results of a query (asyncpg's Cursor). Non-scrollable: it only moves
 * forward. Errors: `PgInterfaceError` for a non-positive count or a closed cursor, and
 * `PgQueryError` from the server.
 * @since 0.1.0
 */
export interface PgCursor {
  /** The next `n` rows (fewer at the end; none once exhausted). */
  fetch(n: number, options?: QueryOptions): Effect.Effect<Array<PgRecord>, PgQueryError>
  /** The next row, if any. */
  fetchRow(options?: QueryOptions): Effect.Effect<Option.Option<PgRecord>, PgQueryError>
  /** Skips the next `n` rows; returns how many were actually skipped (fewer at the end). */
  forward(n: number, options?: QueryOptions): Effect.Effect<number, PgQueryError>
  /** The result columns. */
  readonly columns: ReadonlyArray<PgColumn>
}

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
  /** Runs the statement; returns all rows, decoded through `{ schema }` when given (see `Fetch`). */
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
 * One transaction or savepoint: the value of the {@link PgTransaction} service.
 * @since 0.1.0
 */
export interface TransactionLevel {
  /** The connection the transaction runs on. */
  readonly connection: PgConnection
  /** 0 for the transaction itself, n for the n-th nested savepoint. */
  readonly depth: number
  /** The savepoint's name; undefined for the top-level transaction. */
  readonly savepoint: string | undefined
  readonly isolation: Isolation | undefined
  readonly readOnly: boolean
  readonly deferrable: boolean
  /** The transaction context the fiber was in when this level began (possibly another connection's). */
  readonly outer: TransactionLevel | undefined
  /** False once committed, rolled back or failed. */
  readonly isActive: boolean
}

/** The life of a manual {@link Transaction}. @since 0.1.0 */
export type TransactionState = "new" | "started" | "committed" | "rolledBack" | "failed"

/**
 * asyncpg's manual transaction: `start`, then exactly one of `commit` / `rollback`. Illegal moves
 * fail with `PgTransactionError` (`AlreadyStarted`, `NotStarted`, `AlreadyCommitted`,
 * `AlreadyRolledBack`, `Failed`, `NestedOpen` when committing over a nested transaction that is
 * still open). Started inside another transaction, it is a savepoint.
 *
 * Once started, the transaction belongs to the fiber that started it: that fiber's queries (and
 * those of fibers it forks afterwards) go into it; other fibers' queries wait until it ends.
 * Prefer {@link transaction}, which cannot leak an open transaction.
 *
 * @since 0.1.0
 */
export interface Transaction {
  readonly state: TransactionState
  readonly start: Effect.Effect<void, PgQueryError | PgTransactionError>
  readonly commit: Effect.Effect<void, PgQueryError | PgTransactionError>
  readonly rollback: Effect.Effect<void, PgQueryError | PgTransactionError>
}

/** Receives notifications of one channel (asyncpg's listener signature). @since 0.1.0 */
export type NotificationCallback = (
  connection: PgConnection,
  processId: number,
  channel: string,
  payload: string,
) => void

/** Receives server log messages. @since 0.1.0 */
export type LogCallback = (connection: PgConnection, notice: PgNotice) => void

/**
 * Called once when the connection closes, for any reason: `close`, a server-side termination,
 * a network failure or a protocol error. `reason` says which.
 * @since 0.1.0
 */
export type TerminationCallback = (connection: PgConnection, reason: PgConnectionError | PgProtocolError) => void

/**
 * Options of a {@link PgConnectionEvents.queryLog} stream: the query logger's, plus its buffer.
 *
 * - `bufferSize`: how many logged queries wait for the consumer (default 1024).
 * - `strategy` when the buffer is full: `"sliding"` (default) drops the oldest, so a consumer
 *   that falls behind sees the latest queries; `"dropping"` drops the newest. A query never
 *   waits for its log's consumer, so there is no `"suspend"`.
 *
 * @since 0.1.0
 */
export interface QueryLogOptions extends QueryLoggerOptions {
  readonly bufferSize?: number | undefined
  readonly strategy?: "sliding" | "dropping" | undefined
}

/**
 * How connections log server notices through Effect's logger, read when a connection is opened:
 *
 * - `"Debug"` (the default): every notice at Debug, below Effect's default minimum level (Info),
 *   so a program prints nothing unless it asks (`References.MinimumLogLevel`). `DROP TABLE IF EXISTS`' "does not exist, skipping" is news to
 *   nobody.
 * - another level (`"Info"`, `"Warn"`, ...): every notice at that level.
 * - `"BySeverity"`: the level matching the notice's severity (`WARNING` → Warn, `NOTICE`/`INFO`
 *   → Info, `LOG`/`DEBUG` → Debug).
 * - `"None"`: not logged (streams and log listeners still get every notice).
 *
 * @example
 * ```ts
 * // notices as warnings and infos again, for this connection
 * PgConnection.make(options).pipe(Effect.provideService(PgNotifications.NoticeLogLevel, "BySeverity"))
 * ```
 * @since 0.1.0
 */
export const NoticeLogLevel: Context.Reference<NoticeLogLevel> = Context.Reference<NoticeLogLevel>(
  "@pgfx/client/PgNotifications/NoticeLogLevel",
  { defaultValue: () => "Debug" },
)

/** The values of {@link NoticeLogLevel}. @since 0.1.0 */
export type NoticeLogLevel = LogLevel.Severity | "BySeverity" | "None"

/**
 * The notification, notice, termination and query-logging methods of a `PgConnection`.
 * @since 0.1.0
 */
export interface PgConnectionEvents {
  /**
   * Calls `callback` for every notification on `channel`, sending LISTEN first if the channel
   * had no listener yet. Completes once the server confirmed the LISTEN.
   *
   * Errors: `PgInterfaceError` for an invalid channel name (empty, longer than 63 bytes, or
   * holding a NUL character); query errors of the LISTEN (e.g. a closed connection).
   *
   * Gotcha: inside a transaction block LISTEN takes effect at commit, as in PostgreSQL.
   *
   * @example
   * ```ts
   * yield* conn.addListener("jobs", (_conn, pid, channel, payload) => console.log(pid, channel, payload))
   * ```
   */
  addListener(channel: string, callback: NotificationCallback): Effect.Effect<void, PgQueryError>
  /** Removes a listener; sends UNLISTEN when it was the channel's last one (nothing on a closed connection). */
  removeListener(channel: string, callback: NotificationCallback): Effect.Effect<void, PgQueryError>
  /**
   * A stream of the notifications on `channel`: LISTEN is sent when the stream starts and
   * UNLISTEN when it ends (if no other listener remains). Fails with the connection's error when
   * the connection closes. Use {@link subscribe} when you need to know that LISTEN is in place.
   *
   * @example
   * ```ts
   * yield* conn.listen("jobs").pipe(Stream.runForEach((n) => Effect.log(n.payload)), Effect.forkScoped)
   * ```
   */
  listen(channel: string, options?: BufferOptions): Stream.Stream<PgNotification, PgQueryError>
  /**
   * Sends LISTEN (unless the channel is already listened to), waits for the server to confirm
   * it, and returns the stream of notifications; closing the scope ends the stream and sends
   * UNLISTEN if no other listener remains.
   */
  subscribe(
    channel: string,
    options?: BufferOptions,
  ): Effect.Effect<Stream.Stream<PgNotification, PgQueryError>, PgQueryError, Scope.Scope>
  /**
   * Sends a notification: `SELECT pg_notify($1, $2)`, so any channel name and payload are safe.
   * Inside a transaction it is delivered at commit.
   *
   * Errors: `PgInterfaceError` for an invalid channel name; `PgServerError` for a payload over
   * 8000 bytes (SQLSTATE 22023).
   */
  notify(channel: string, payload?: string): Effect.Effect<void, PgQueryError>
  /** Calls `callback` for every server log message (NoticeResponse). */
  addLogListener(callback: LogCallback): Effect.Effect<void>
  /** Removes a log listener. */
  removeLogListener(callback: LogCallback): Effect.Effect<void>
  /**
   * A stream of server log messages while it runs; fails with the connection's error when it
   * closes (`PgInterfaceError` for invalid buffer options).
   */
  notices(options?: BufferOptions): Stream.Stream<PgNotice, PgConnectionError | PgProtocolError | PgInterfaceError>
  /**
   * Calls `callback` once when the connection closes, for any reason. Added to an already
   * closed connection, it is called at once.
   */
  addTerminationListener(callback: TerminationCallback): Effect.Effect<void>
  /** Removes a termination listener. */
  removeTerminationListener(callback: TerminationCallback): Effect.Effect<void>
  /**
   * Waits until the connection closes, for any reason (`close`, a server-side termination, a
   * network failure, a protocol error), and succeeds with the reason; at once when it is already
   * closed. Interrupting the wait stops waiting. On a pooled connection the wait fails with
   * `PgInterfaceError` when the connection goes back to the pool.
   *
   * @example
   * ```ts
   * yield* conn.awaitClose().pipe(
   *   Effect.flatMap((reason) => Effect.logWarning(`connection lost: ${reason.message}`)),
   *   Effect.forkScoped,
   * )
   * ```
   */
  awaitClose(): Effect.Effect<PgConnectionError | PgProtocolError, PgInterfaceError>
  /**
   * Calls `callback` after each query call (`execute`, `fetch`, `fetchRow`, `fetchVal`, ...)
   * with its text, arguments, timeout, elapsed time, error, the server address and connection
   * settings (never the password).
   *
   * @example
   * ```ts
   * yield* conn.addQueryLogger((q) => console.log(q.query, Duration.toMillis(q.elapsed)), { redactArgs: true })
   * ```
   */
  addQueryLogger(callback: QueryLoggerCallback, options?: QueryLoggerOptions): Effect.Effect<void>
  /** Removes a query logger. */
  removeQueryLogger(callback: QueryLoggerCallback): Effect.Effect<void>
  /**
   * A stream of what a query logger receives (see {@link addQueryLogger}), while it runs: each
   * query call of this connection after the stream started. Bounded (default 1024 waiting,
   * oldest dropped first: {@link QueryLogOptions}); ends when the connection closes; fails with
   * `PgInterfaceError` when a pooled connection is released or for invalid options.
   *
   * @example
   * ```ts
   * yield* conn.queryLog({ redactArgs: true }).pipe(
   *   Stream.runForEach((q) => Effect.logDebug(`${q.query} took ${Duration.format(q.elapsed)}`)),
   *   Effect.forkScoped,
   * )
   * ```
   */
  queryLog(options?: QueryLogOptions): Stream.Stream<LoggedQuery, PgInterfaceError>
  /**
   * Adds a query logger for the lifetime of the current scope (asyncpg's `query_logger`
   * context manager).
   *
   * @example
   * ```ts
   * const seen: Array<string> = []
   * yield* Effect.scoped(Effect.gen(function* () {
   *   yield* conn.addQueryLoggerScoped((q) => seen.push(q.query))
   *   yield* conn.execute("SELECT 1")
   * }))
   * ```
   */
  addQueryLoggerScoped(
    callback: QueryLoggerCallback,
    options?: QueryLoggerOptions,
  ): Effect.Effect<void, never, Scope.Scope>
}

/**
 * The `PgTransaction` service: the innermost transaction level the current fiber runs in.
 * @since 0.1.0
 */
export class PgTransaction extends Context.Service<PgTransaction, TransactionLevel>()("@pgfx/client/PgTransaction") {}

/** A snapshot of a pool's counts. @since 0.1.0 */
export interface PgPoolStats {
  /** Connections open or being opened (asyncpg's `get_size`). */
  readonly size: number
  /** Connections waiting in the pool (asyncpg's `get_idle_size`). */
  readonly idle: number
  /** Connections checked out. */
  readonly inUse: number
  /** Acquires waiting for a connection. */
  readonly waiting: number
  readonly min: number
  readonly max: number
}

/**
 * A pool of connections. Obtain one with {@link make} (or use `PgClient`, which wraps one).
 * @since 0.1.0
 */
export interface PgPool {
  /**
   * Checks a connection out for the current scope. The handle stops working once released.
   * Errors: {@link PgPoolError}.
   *
   * @example
   * ```ts
   * const conn = yield* pool.acquire({ acquireTimeout: "1 second" })
   * ```
   */
  acquire(options?: AcquireOptions): Effect.Effect<PgConnection, PgPoolError, Scope.Scope>
  /** Runs `f` with a checked-out connection and releases it when `f` ends, however it ends. */
  withConnection<A, E, R>(
    f: (conn: PgConnection) => Effect.Effect<A, E, R>,
    options?: AcquireOptions,
  ): Effect.Effect<A, E | PgPoolError, R>
  /** `execute` on a connection checked out for this call. */
  execute(
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: ShortcutOptions,
  ): Effect.Effect<string, PgQueryError | PgPoolError>
  /** `execute` with a `sql` fragment (`PgSql`). */
  execute(query: Fragment, options?: ShortcutOptions): Effect.Effect<string, PgQueryError | PgPoolError>
  /** `fetch` on a connection checked out for this call (typed with `{ schema }`, see `Fetch`). */
  readonly fetch: Fetch<PgQueryError | PgPoolError, never, AcquireOptions>
  /** `fetchRow` on a connection checked out for this call (see `FetchRow`). */
  readonly fetchRow: FetchRow<PgQueryError | PgPoolError, never, AcquireOptions>
  /** `fetchVal` on a connection checked out for this call (see `FetchVal`). */
  readonly fetchVal: FetchVal<PgQueryError | PgPoolError, never, AcquireOptions>
  /**
   * `executeMany` on a connection checked out for this call: every argument set pipelined in one
   * round trip, atomic (see `PgConnection.executeMany`).
   */
  executeMany(
    sql: string | Fragment,
    argsList: ReadonlyArray<ReadonlyArray<unknown>>,
    options?: ShortcutOptions,
  ): Effect.Effect<void, PgQueryError | PgPoolError>
  /** `fetchMany` on a connection checked out for this call: each argument set's rows. */
  fetchMany(
    sql: string | Fragment,
    argsList: ReadonlyArray<ReadonlyArray<unknown>>,
    options?: ShortcutOptions,
  ): Effect.Effect<Array<Array<PgRecord>>, PgQueryError | PgPoolError>
  /** Replaces every current connection: idle ones now, checked-out ones when released. */
  readonly expireConnections: Effect.Effect<void>
  /**
   * New connection options for connections opened from now on (existing ones stay until they
   * expire; see `expireConnections`). Fails with `PgConfigError` when they are invalid.
   */
  setConnectArgs(options: PgConnectionOptions | string): Effect.Effect<void, PgConfigError>
  /** Connections open or being opened. */
  readonly size: number
  /** Connections waiting in the pool. */
  readonly idle: number
  readonly min: number
  readonly max: number
  /** Acquires waiting for a connection. */
  readonly waiting: number
  /** All counts at once. */
  readonly stats: PgPoolStats
  /** Whether `conn` is a handle checked out from this pool (released or not). */
  owns(conn: PgConnection): boolean
  /** True once `close` or `terminate` started. */
  readonly isClosing: boolean
  /**
   * Graceful close: new acquires fail, idle connections close now, checked-out ones close when
   * released; completes when all are closed. Interrupting it terminates the pool.
   */
  readonly close: Effect.Effect<void>
  /** Closes every connection now, checked out or not. */
  readonly terminate: Effect.Effect<void>
}

/**
 * The pinned connection, when there is one.
 * @since 0.1.0
 */
export class PgCurrentConnection extends Context.Service<PgCurrentConnection, PgConnection>()(
  "@pgfx/client/PgCurrentConnection",
) {}
