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
 * Inside a transaction (anything that provides {@link PgCurrentConnection}) the shortcuts run on
 * the transaction's connection instead of checking one out.
 *
 * @since 0.1.0
 */
import { Config, Context, Effect, Layer, type Option, type Scope } from "effect"
import * as ClientConfig from "./internal/ClientConfig.ts"
import type { PgConnectionOptions } from "./PgConfig.ts"
import type * as PgConfig from "./PgConfig.ts"
import type { FetchValOptions, PgConnection, QueryOptions } from "./PgConnection.ts"
import { PgCurrentConnection } from "./PgCurrentConnection.ts"
import type { PgQueryError } from "./PgError.ts"
import * as PgPool from "./PgPool.ts"
import type { PgRecord } from "./PgRecord.ts"
import { type Fragment, normalize } from "./PgSql.ts"

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
  /** `execute` with a `sql` fragment (`PgSql`). */
  execute(query: Fragment, options?: QueryOptions): Effect.Effect<string, PgClientError>
  /** Runs a query on a checked-out connection (or the current one); returns all rows. */
  fetch(
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: QueryOptions,
  ): Effect.Effect<Array<PgRecord>, PgClientError>
  /** `fetch` with a `sql` fragment (`PgSql`). */
  fetch(query: Fragment, options?: QueryOptions): Effect.Effect<Array<PgRecord>, PgClientError>
  /** Runs a query on a checked-out connection (or the current one); returns the first row. */
  fetchRow(
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: QueryOptions,
  ): Effect.Effect<Option.Option<PgRecord>, PgClientError>
  /** `fetchRow` with a `sql` fragment (`PgSql`). */
  fetchRow(query: Fragment, options?: QueryOptions): Effect.Effect<Option.Option<PgRecord>, PgClientError>
  /** Runs a query on a checked-out connection (or the current one); returns one value. */
  fetchVal(sql: string, args?: ReadonlyArray<unknown>, options?: FetchValOptions): Effect.Effect<unknown, PgClientError>
  /** `fetchVal` with a `sql` fragment (`PgSql`). */
  fetchVal(query: Fragment, options?: FetchValOptions): Effect.Effect<unknown, PgClientError>
  /** A connection checked out for the current scope (see `PgPool.acquire`). */
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
  /** Runs on the current connection when it belongs to this pool, else on a pooled one. */
  const route = <A>(
    onCurrent: (conn: PgConnection) => Effect.Effect<A, PgClientError>,
    onPool: Effect.Effect<A, PgClientError>,
  ): Effect.Effect<A, PgClientError> =>
    Effect.withFiber((fiber) => {
      const current = Context.getOrUndefined(fiber.context, PgCurrentConnection)
      return current !== undefined && pool.owns(current) ? onCurrent(current) : onPool
    })
  return {
    pool,
    execute: (query: string | Fragment, argsOrOptions?: ReadonlyArray<unknown> | QueryOptions, opts?: QueryOptions) => {
      const [sql, args, options] = normalize(query, argsOrOptions, opts)
      return route((c) => c.execute(sql, args, options), pool.execute(sql, args, options))
    },
    fetch: (query: string | Fragment, argsOrOptions?: ReadonlyArray<unknown> | QueryOptions, opts?: QueryOptions) => {
      const [sql, args, options] = normalize(query, argsOrOptions, opts)
      return route((c) => c.fetch(sql, args, options), pool.fetch(sql, args, options))
    },
    fetchRow: (
      query: string | Fragment,
      argsOrOptions?: ReadonlyArray<unknown> | QueryOptions,
      opts?: QueryOptions,
    ) => {
      const [sql, args, options] = normalize(query, argsOrOptions, opts)
      return route((c) => c.fetchRow(sql, args, options), pool.fetchRow(sql, args, options))
    },
    fetchVal: (
      query: string | Fragment,
      argsOrOptions?: ReadonlyArray<unknown> | FetchValOptions,
      opts?: FetchValOptions,
    ) => {
      const [sql, args, options] = normalize(query, argsOrOptions, opts)
      return route((c) => c.fetchVal(sql, args, options), pool.fetchVal(sql, args, options))
    },
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
  sql: string | Fragment,
  args?: ReadonlyArray<unknown> | QueryOptions,
  options?: QueryOptions,
): Effect.Effect<string, PgClientError, PgClient> => PgClient.use((c) => c.execute(...normalize(sql, args, options)))

/**
 * `fetch` through the provided {@link PgClient}.
 * @since 0.1.0
 */
export const fetch = (
  sql: string | Fragment,
  args?: ReadonlyArray<unknown> | QueryOptions,
  options?: QueryOptions,
): Effect.Effect<Array<PgRecord>, PgClientError, PgClient> =>
  PgClient.use((c) => c.fetch(...normalize(sql, args, options)))

/**
 * `fetchRow` through the provided {@link PgClient}.
 * @since 0.1.0
 */
export const fetchRow = (
  sql: string | Fragment,
  args?: ReadonlyArray<unknown> | QueryOptions,
  options?: QueryOptions,
): Effect.Effect<Option.Option<PgRecord>, PgClientError, PgClient> =>
  PgClient.use((c) => c.fetchRow(...normalize(sql, args, options)))

/**
 * `fetchVal` through the provided {@link PgClient}.
 * @since 0.1.0
 */
export const fetchVal = (
  sql: string | Fragment,
  args?: ReadonlyArray<unknown> | FetchValOptions,
  options?: FetchValOptions,
): Effect.Effect<unknown, PgClientError, PgClient> => PgClient.use((c) => c.fetchVal(...normalize(sql, args, options)))

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
