/**
 * `PgConnection`: one PostgreSQL session as a scoped resource.
 *
 * `PgConnection.make(options)` connects (TCP or unix socket), authenticates (trust, password,
 * MD5, SCRAM-SHA-256) and returns a connection whose queries are Effects; closing the scope sends
 * Terminate. Queries issued concurrently from several fibers are pipelined on the socket, each
 * in its own Sync cycle, so one failure never fails its neighbours.
 *
 * Queries with arguments (or any `fetch*`) use the extended protocol with binary results for
 * every type that has a codec; their statements are prepared once and kept in a per-connection
 * LRU cache. `execute(sql)` with no arguments uses the simple protocol and may hold several
 * statements.
 *
 * Also methods of a connection: transactions (`transaction`, see `PgTransaction`; while one runs
 * it owns the connection and other fibers' queries wait), prepared statements (`prepare`, see
 * `PgStatement`), cursors (`cursor`, `openCursor`, see `PgCursor`) and pipelined batches
 * (`executeMany`, `fetchMany`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as PgConnection from "@pgfx/client/PgConnection"
 *
 * const program = Effect.gen(function*() {
 *   const conn = yield* PgConnection.make({ url: "postgres://postgres@localhost/postgres" })
 *   yield* conn.execute("CREATE TEMP TABLE t (id int, name text)")
 *   yield* conn.execute("INSERT INTO t VALUES ($1, $2)", [1, "one"])
 *   const rows = yield* conn.fetch("SELECT * FROM t")
 *   console.log(rows.map((r) => r.toObject()))
 * }).pipe(Effect.scoped)
 * ```
 * @since 0.1.0
 */
import { builtins, type CodecRegistry } from "@pgfx/types/CodecRegistry"
import type { TypeCodecOptions } from "@pgfx/types/SchemaCodec"
import { type Duration, Effect, type Option, type Schema, type Scope, type Stream } from "effect"
import { Connection } from "./internal/connection/Connection.ts"
import { callSite, watchLeak } from "./internal/observe/Debug.ts"
import { establish } from "./internal/wire/Establish.ts"
import { observeConnect } from "./internal/observe/Instrument.ts"
import { guard, Lease } from "./internal/pool/Lease.ts"
import type { PgConnectionOptions } from "./PgConfig.ts"
import * as PgConfig from "./PgConfig.ts"
import type { PgConnectError, PgQueryError, PgTransactionError } from "./PgError.ts"
import type { PgConnectionEvents } from "./PgNotifications.ts"
import type { PgColumn, PgRecord } from "./PgRecord.ts"
import type { PgSchemaError } from "./PgSchema.ts"
import type { Fragment } from "./PgSql.ts"
import type { CursorOptions, PgCursor } from "./PgCursor.ts"
import type { PgStatement } from "./PgStatement.ts"
import type { PgTransaction, TransactionOptions } from "./PgTransaction.ts"
import type * as ServerVersion from "./ServerVersion.ts"

export type { PgConnectionOptions } from "./PgConfig.ts"

/** Options of a single query call. @since 0.1.0 */
export interface QueryOptions {
  /**
   * Fails the call with `PgTimeoutError` (after cancelling the statement) past this duration
   * (default: the connection's `commandTimeout`, if any). Time spent waiting for a transaction
   * of another fiber to release the connection counts.
   */
  readonly timeout?: Duration.Input | undefined
}

/** Options of `close`. @since 0.1.0 */
export interface CloseOptions {
  /**
   * How long to wait for running operations and queued requests to finish before terminating at
   * once (default 10 seconds).
   */
  readonly timeout?: Duration.Input | undefined
}

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

/** Options of `fetchVal`. @since 0.1.0 */
export interface FetchValOptions extends QueryOptions {
  /** The 0-based column to return (default 0). */
  readonly column?: number | undefined
}

/**
 * Options of a typed `fetch` / `fetchRow`: `schema` decodes each row (once per row, after the
 * wire codecs), usually a `Schema.Struct` keyed by column name; the call's rows are its type.
 * @since 0.1.0
 */
export interface RowSchemaOptions<A> extends QueryOptions {
  readonly schema: Schema.Decoder<A>
}

/**
 * Options of a typed `fetchVal`: `schema` decodes the value (a NULL is given to it as `null`).
 * @since 0.1.0
 */
export interface ValueSchemaOptions<A> extends FetchValOptions {
  readonly schema: Schema.Decoder<A>
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
 * Opens a connection as a scoped resource: closing the scope sends Terminate and closes the
 * socket.
 *
 * Errors: `PgConnectionError` (cannot reach the server, connect timeout), `PgServerError` (the
 * server refused: wrong password is SQLSTATE 28P01 `invalid_password`, unknown database 3D000),
 * `PgAuthenticationError` (the client refused the server's method, or SCRAM verification
 * failed), `PgProtocolError`, and `PgConfigError` for invalid settings.
 *
 * @since 0.1.0
 */
export const make = (
  options: PgConnectionOptions | string = {},
): Effect.Effect<PgConnection, PgConnectError | PgConfig.PgConfigError, Scope.Scope> =>
  Effect.acquireRelease(connect(options), (conn) => conn.close())

/**
 * Opens a connection that you must close yourself with `close`. Prefer {@link make}.
 * @since 0.1.0
 */
export const connect = (
  options: PgConnectionOptions | string = {},
): Effect.Effect<PgConnection, PgConnectError | PgConfig.PgConfigError> => {
  const opts: PgConnectionOptions = typeof options === "string" ? { url: options } : options
  const opened = callSite(opts)
  return Effect.gen(function* () {
    const config = yield* Effect.try({
      try: () => PgConfig.resolve(opts),
      catch: (e) =>
        e instanceof PgConfig.PgConfigError
          ? e
          : new PgConfig.PgConfigError({ source: "options", key: "", message: String(e) }),
    })
    const established = yield* observeConnect(config, establish(config))
    const connection = new Connection(
      established.session,
      established.config,
      opts.codecs ?? builtins,
      established.cancelTls,
    )
    connection.attachEvents(yield* Effect.context<never>())
    const debug = established.session.debug
    if (debug === undefined || !debug.settings.leaks) return connection
    // Debug mode: the caller gets a view of the connection, reported if collected while open.
    const session = established.session
    const handle = guard<PgConnection>(connection, new Lease("", undefined))
    const what = `connection pgfx[${debug.id}] (backend pid ${session.processId})`
    watchLeak(handle, what, () => !session.closed, debug.settings, opened)
    return handle
  })
}
