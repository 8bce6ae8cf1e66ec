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
import { builtins } from "@pgfx/types/CodecRegistry"
import { type Duration, Effect, type Option, type Scope, type Stream } from "effect"
import { Connection } from "./internal/Connection.ts"
import { establish } from "./internal/Establish.ts"
import type { PgConnectionOptions } from "./PgConfig.ts"
import * as PgConfig from "./PgConfig.ts"
import type { PgConnectError, PgQueryError, PgTransactionError } from "./PgError.ts"
import type { PgRecord } from "./PgRecord.ts"
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

/** Options of `fetchVal`. @since 0.1.0 */
export interface FetchValOptions extends QueryOptions {
  /** The 0-based column to return (default 0). */
  readonly column?: number | undefined
}

/**
 * An open PostgreSQL session. Obtain one with {@link make}; every method returns an Effect.
 * @since 0.1.0
 */
export interface PgConnection {
  /**
   * Runs a command and returns its status tag (e.g. `"INSERT 0 3"`). With no arguments the simple
   * protocol is used and `sql` may hold several statements; the tag is the last one's.
   */
  execute(sql: string, args?: ReadonlyArray<unknown>, options?: QueryOptions): Effect.Effect<string, PgQueryError>
  /** Runs a query and returns all its rows. */
  fetch(
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: QueryOptions,
  ): Effect.Effect<Array<PgRecord>, PgQueryError>
  /** Runs a query and returns its first row, if any. */
  fetchRow(
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: QueryOptions,
  ): Effect.Effect<Option.Option<PgRecord>, PgQueryError>
  /** Runs a query and returns one value of its first row (`null` when there is no row). */
  fetchVal(sql: string, args?: ReadonlyArray<unknown>, options?: FetchValOptions): Effect.Effect<unknown, PgQueryError>
  /**
   * Runs `sql` once per argument set, all sets pipelined in one batch (Bind/Execute per set, one
   * Sync): one round trip, and atomic — a failure in any set rolls back all of them. An empty
   * list does nothing.
   */
  executeMany(
    sql: string,
    argsList: ReadonlyArray<ReadonlyArray<unknown>>,
    options?: QueryOptions,
  ): Effect.Effect<void, PgQueryError>
  /** Like {@link executeMany}, returning each argument set's rows (e.g. `INSERT ... RETURNING`). */
  fetchMany(
    sql: string,
    argsList: ReadonlyArray<ReadonlyArray<unknown>>,
    options?: QueryOptions,
  ): Effect.Effect<Array<Array<PgRecord>>, PgQueryError>
  /** Prepares a statement on this connection, closed when the Scope closes. See `PgStatement`. */
  prepare(sql: string, options?: QueryOptions): Effect.Effect<PgStatement, PgQueryError, Scope.Scope>
  /**
   * The rows of `sql` as a Stream fetched `prefetch` (default 50) at a time through a cursor.
   * Outside a transaction it holds the connection in an implicit transaction until the Stream
   * ends. See `PgCursor`.
   */
  cursor(sql: string, args?: ReadonlyArray<unknown>, options?: CursorOptions): Stream.Stream<PgRecord, PgQueryError>
  /** An explicit cursor (`fetch`, `fetchRow`, `forward`), closed when the Scope closes. See `PgCursor`. */
  openCursor(
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: QueryOptions,
  ): Effect.Effect<PgCursor, PgQueryError, Scope.Scope>
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
  /** Closes gracefully: sends Terminate and closes the socket. */
  readonly close: Effect.Effect<void>
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
  Effect.acquireRelease(connect(options), (conn) => conn.close)

/**
 * Opens a connection that you must close yourself with `close`. Prefer {@link make}.
 * @since 0.1.0
 */
export const connect = (
  options: PgConnectionOptions | string = {},
): Effect.Effect<PgConnection, PgConnectError | PgConfig.PgConfigError> =>
  Effect.gen(function* () {
    const opts: PgConnectionOptions = typeof options === "string" ? { url: options } : options
    const config = yield* Effect.try({
      try: () => PgConfig.resolve(opts),
      catch: (e) =>
        e instanceof PgConfig.PgConfigError
          ? e
          : new PgConfig.PgConfigError({ source: "options", key: "", message: String(e) }),
    })
    const session = yield* establish(config)
    return new Connection(session, config, opts.codecs ?? builtins)
  })
