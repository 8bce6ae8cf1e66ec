/**
 * `PgClient`: the service an application provides once. It owns a {@link PgPool.PgPool} and
 * offers asyncpg's pool shortcuts (`execute`, `fetch`, `fetchRow`, `fetchVal`: each checks a
 * connection out for one statement), `reserve` (a connection for the current scope) and the
 * pool's controls, both as methods of the service and as accessor functions:
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as PgClient from "@pgfx/client/PgClient"
 *
 * const program = Effect.gen(function* () {
 *   yield* PgClient.execute("CREATE TABLE IF NOT EXISTS hits (at timestamptz)")
 *   yield* PgClient.execute("INSERT INTO hits VALUES (now())", [])
 *   const n = yield* PgClient.fetchVal("SELECT count(*) FROM hits")
 *   console.log(`${n} hits`)
 * })
 *
 * // libpq's variables (DATABASE_URL or PGHOST, PGUSER, ...) through Effect's Config:
 * Effect.runPromise(program.pipe(Effect.provide(PgClient.layerConfig())))
 * // or explicit options:
 * Effect.runPromise(program.pipe(Effect.provide(PgClient.layer({ url: "postgres://app@localhost/app", max: 20 }))))
 * ```
 *
 * **Transactions.** `transaction(effect, options)` checks a connection out, runs `effect` in a
 * transaction on it (`PgTransaction.transaction`) and releases it. The transaction's connection
 * is carried in Context: every shortcut called inside it (from the same fiber or fibers it forks)
 * runs on that connection, and a nested `transaction` becomes a savepoint on it. Queries from
 * outside the transaction are not held up by it: they check out other connections.
 * `PgCurrentConnection` (a connection pinned explicitly) is honoured the same way.
 *
 * @example
 * ```ts
 * const transfer = (from: number, to: number, amount: number) =>
 *   PgClient.transaction(
 *     Effect.gen(function* () {
 *       yield* PgClient.execute("UPDATE account SET balance = balance - $1 WHERE id = $2", [amount, from])
 *       yield* PgClient.execute("UPDATE account SET balance = balance + $1 WHERE id = $2", [amount, to])
 *     }),
 *     { isolation: "serializable", retry: Schedule.recurs(3) },
 *   )
 * ```
 *
 * @since 0.1.0
 */
import { Config, Context, Effect, Layer, type Option, type Scope } from "effect"
import * as ClientConfig from "./internal/ClientConfig.ts"
import type { PgConnectionOptions } from "./PgConfig.ts"
import type * as PgConfig from "./PgConfig.ts"
import type { FetchValOptions, PgConnection, QueryOptions } from "./PgConnection.ts"
import { PgCurrentConnection } from "./PgCurrentConnection.ts"
import type { PgQueryError, PgTransactionError } from "./PgError.ts"
import * as PgPool from "./PgPool.ts"
import type { PgRecord } from "./PgRecord.ts"
import * as PgTransaction from "./PgTransaction.ts"

export type { PgClientConfig } from "./internal/ClientConfig.ts"

/** Every failure a shortcut can produce: the query's, or acquiring's. @since 0.1.0 */
export type PgClientError = PgQueryError | PgPool.PgPoolError

/**
 * What the {@link PgClient} service offers.
 * @since 0.1.0
 */
export interface PgClientShape {
  /** The pool behind the client (stats, `expireConnections`, `setConnectArgs`, `close`, ...). */
  readonly pool: PgPool.PgPool
  /** Runs a command on a checked-out connection (or the current one); returns its status tag. */
  execute(sql: string, args?: ReadonlyArray<unknown>, options?: QueryOptions): Effect.Effect<string, PgClientError>
  /** Runs a query on a checked-out connection (or the current one); returns all rows. */
  fetch(
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: QueryOptions,
  ): Effect.Effect<Array<PgRecord>, PgClientError>
  /** Runs a query on a checked-out connection (or the current one); returns the first row. */
  fetchRow(
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: QueryOptions,
  ): Effect.Effect<Option.Option<PgRecord>, PgClientError>
  /** Runs a query on a checked-out connection (or the current one); returns one value. */
  fetchVal(sql: string, args?: ReadonlyArray<unknown>, options?: FetchValOptions): Effect.Effect<unknown, PgClientError>
  /**
   * Runs `effect` in a transaction on a connection checked out for it (commit on success,
   * rollback on failure, defect and interruption), then releases the connection. Inside it, the
   * client's shortcuts run on the transaction's connection; called inside a transaction of this
   * client, it becomes a savepoint on the same connection. See `PgTransaction.transaction` for
   * the options and errors.
   *
   * `retry` re-runs the whole transaction on the SAME checked-out connection (a serialization
   * failure or deadlock leaves the connection healthy); a nested call never retries.
   */
  transaction<A, E, R>(
    effect: Effect.Effect<A, E, R>,
    options?: PgTransaction.TransactionOptions,
  ): Effect.Effect<A, E | PgClientError | PgTransactionError, Exclude<R, PgTransaction.PgTransaction>>
  /**
   * A connection checked out for the current scope (see `PgPool.acquire`). Always a fresh
   * checkout, even inside a transaction.
   */
  readonly reserve: Effect.Effect<PgConnection, PgPool.PgPoolError, Scope.Scope>
  /** Runs `f` with a checked-out connection, released when `f` ends. */
  withConnection<A, E, R>(
    f: (conn: PgConnection) => Effect.Effect<A, E, R>,
  ): Effect.Effect<A, E | PgPool.PgPoolError, R>
}

/**
 * The client service (key `"@pgfx/client/PgClient"`).
 * @since 0.1.0
 */
export class PgClient extends Context.Service<PgClient, PgClientShape>()("@pgfx/client/PgClient") {}

/**
 * The service over an existing pool.
 * @since 0.1.0
 */
export const fromPool = (pool: PgPool.PgPool): PgClientShape => {
  /**
   * The connection the fiber is pinned to on this pool: the innermost active transaction on one
   * of its connections, else `PgCurrentConnection` when it is one of them.
   */
  const currentIn = (context: Context.Context<never>): PgConnection | undefined => {
    for (
      let level = Context.getOrUndefined(context, PgTransaction.PgTransaction);
      level !== undefined;
      level = level.outer
    ) {
      if (level.isActive && pool.owns(level.connection)) return level.connection
    }
    const current = Context.getOrUndefined(context, PgCurrentConnection)
    return current !== undefined && pool.owns(current) ? current : undefined
  }
  /** Runs on the current connection when there is one, else on a pooled one. */
  const route = <A, E>(
    onCurrent: (conn: PgConnection) => Effect.Effect<A, E>,
    onPool: Effect.Effect<A, E>,
  ): Effect.Effect<A, E> =>
    Effect.withFiber((fiber) => {
      const current = currentIn(fiber.context)
      return current !== undefined ? onCurrent(current) : onPool
    })
  return {
    pool,
    execute: (sql, args, options) => route((c) => c.execute(sql, args, options), pool.execute(sql, args, options)),
    fetch: (sql, args, options) => route((c) => c.fetch(sql, args, options), pool.fetch(sql, args, options)),
    fetchRow: (sql, args, options) => route((c) => c.fetchRow(sql, args, options), pool.fetchRow(sql, args, options)),
    fetchVal: (sql, args, options) => route((c) => c.fetchVal(sql, args, options), pool.fetchVal(sql, args, options)),
    transaction: <A, E, R>(effect: Effect.Effect<A, E, R>, options?: PgTransaction.TransactionOptions) =>
      Effect.withFiber((fiber) => {
        const current = currentIn(fiber.context)
        if (current !== undefined) return PgTransaction.transaction(current, effect, options)
        return pool.withConnection((conn) => PgTransaction.transaction(conn, effect, options))
      }),
    reserve: pool.acquire,
    withConnection: (f) => pool.withConnection(f),
  }
}

/**
 * A client with its own pool for the current scope (see `PgPool.make` for the options).
 * @since 0.1.0
 */
export const make = (
  options: PgPool.PgPoolOptions | string = {},
): Effect.Effect<PgClientShape, PgPool.PgPoolError, Scope.Scope> => Effect.map(PgPool.make(options), fromPool)

/**
 * The client as a Layer: the pool opens when the layer is built (its `min` connections) and
 * closes gracefully when the layer is released.
 *
 * Errors: `PgPool.PgPoolError` (invalid options, or opening the first `min` connections failed).
 * @since 0.1.0
 */
export const layer = (options: PgPool.PgPoolOptions | string = {}): Layer.Layer<PgClient, PgPool.PgPoolError> =>
  Layer.effect(PgClient, make(options))

/**
 * The client as a Layer configured through Effect's `Config`. By default it reads libpq's
 * variables from the current `ConfigProvider` (the environment unless you provide another):
 * `DATABASE_URL` (used alone when set), else `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`,
 * `PGDATABASE`, `PGAPPNAME`, `PGCONNECT_TIMEOUT`. Pass your own `Config`s to read other keys;
 * `options` carries what does not come from configuration (hooks, `name`, ...) and wins over it.
 *
 * Errors: `Config.ConfigError` for unreadable or invalid values, and `PgPool.PgPoolError`.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * PgClient.layerConfig({ url: Config.Redacted("APP_DB_URL"), max: Config.Int("APP_DB_POOL_MAX") })
 * ```
 * @since 0.1.0
 */
export const layerConfig = (
  config: Config.Wrap<ClientConfig.PgClientConfig> = ClientConfig.envConfig,
  options: PgPool.PgPoolOptions = {},
): Layer.Layer<PgClient, PgPool.PgPoolError | Config.ConfigError> =>
  Layer.effect(
    PgClient,
    Effect.flatMap(unwrapConfig(config), (values) => make(ClientConfig.toOptions(values, options))),
  )

const unwrapConfig = (
  config: Config.Wrap<ClientConfig.PgClientConfig>,
): Effect.Effect<ClientConfig.PgClientConfig, Config.ConfigError> => Config.unwrap(config)

// -------------------------------------------------------------------------------------------------
// accessors

/**
 * `execute` through the provided {@link PgClient}.
 * @since 0.1.0
 */
export const execute = (
  sql: string,
  args?: ReadonlyArray<unknown>,
  options?: QueryOptions,
): Effect.Effect<string, PgClientError, PgClient> => PgClient.use((c) => c.execute(sql, args, options))

/**
 * `fetch` through the provided {@link PgClient}.
 * @since 0.1.0
 */
export const fetch = (
  sql: string,
  args?: ReadonlyArray<unknown>,
  options?: QueryOptions,
): Effect.Effect<Array<PgRecord>, PgClientError, PgClient> => PgClient.use((c) => c.fetch(sql, args, options))

/**
 * `fetchRow` through the provided {@link PgClient}.
 * @since 0.1.0
 */
export const fetchRow = (
  sql: string,
  args?: ReadonlyArray<unknown>,
  options?: QueryOptions,
): Effect.Effect<Option.Option<PgRecord>, PgClientError, PgClient> =>
  PgClient.use((c) => c.fetchRow(sql, args, options))

/**
 * `fetchVal` through the provided {@link PgClient}.
 * @since 0.1.0
 */
export const fetchVal = (
  sql: string,
  args?: ReadonlyArray<unknown>,
  options?: FetchValOptions,
): Effect.Effect<unknown, PgClientError, PgClient> => PgClient.use((c) => c.fetchVal(sql, args, options))

/**
 * Runs `effect` in a transaction through the provided {@link PgClient}: the client's shortcuts
 * inside it run on the transaction's connection; nested, it is a savepoint. See
 * {@link PgClientShape.transaction}.
 *
 * Errors: the effect's own, {@link PgClientError} (acquiring, BEGIN, COMMIT) and
 * `PgTransactionError` (see `PgTransaction.transaction`).
 *
 * @example
 * ```ts
 * const id = yield* PgClient.transaction(
 *   Effect.gen(function* () {
 *     const id = yield* PgClient.fetchVal("INSERT INTO orders (item) VALUES ($1) RETURNING id", ["book"])
 *     yield* PgClient.execute("UPDATE stock SET n = n - 1 WHERE item = $1", ["book"])
 *     return id
 *   }),
 *   { isolation: "repeatable_read" },
 * )
 * ```
 * @since 0.1.0
 */
export const transaction = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  options?: PgTransaction.TransactionOptions,
): Effect.Effect<A, E | PgClientError | PgTransactionError, Exclude<R, PgTransaction.PgTransaction> | PgClient> =>
  PgClient.use((c) => c.transaction(effect, options))

/**
 * A connection checked out for the current scope.
 * @since 0.1.0
 */
export const reserve: Effect.Effect<PgConnection, PgPool.PgPoolError, PgClient | Scope.Scope> = PgClient.use(
  (c) => c.reserve,
)

/**
 * Runs `f` with a checked-out connection, released when `f` ends.
 * @since 0.1.0
 */
export const withConnection = <A, E, R>(
  f: (conn: PgConnection) => Effect.Effect<A, E, R>,
): Effect.Effect<A, E | PgPool.PgPoolError, R | PgClient> => PgClient.use((c) => c.withConnection(f))

/**
 * The pool's counts.
 * @since 0.1.0
 */
export const stats: Effect.Effect<PgPool.PgPoolStats, never, PgClient> = PgClient.useSync((c) => c.pool.stats)

/**
 * Replaces every current connection of the pool (idle ones now, checked-out ones on release).
 * @since 0.1.0
 */
export const expireConnections: Effect.Effect<void, never, PgClient> = PgClient.use((c) => c.pool.expireConnections)

/**
 * New connection options for connections the pool opens from now on.
 * @since 0.1.0
 */
export const setConnectArgs = (
  options: PgConnectionOptions | string,
): Effect.Effect<void, PgConfig.PgConfigError, PgClient> => PgClient.use((c) => c.pool.setConnectArgs(options))
