/**
 * `PgClient`: the service an application provides once. It owns a {@link PgPool.PgPool} and
 * offers asyncpg's pool shortcuts (`execute`, `executeMany`, `fetch`, `fetchMany`, `fetchRow`,
 * `fetchVal`: each checks a connection out for one call), `cursor` (a Stream holding one checkout
 * while it runs), `prepare` and `openCursor` (on a checkout held for the current Scope),
 * `acquire` (a connection for the current scope), `transaction`, and the pool's controls, both as
 * methods of the service and as accessor functions:
 *
 * @example
 * ```ts
 * import { Effect, Option, Schema } from "effect"
 * import * as PgClient from "@pgfx/client/PgClient"
 *
 * const program = Effect.gen(function* () {
 *   yield* PgClient.execute("CREATE TABLE IF NOT EXISTS hits (at timestamptz)")
 *   yield* PgClient.execute("INSERT INTO hits VALUES (now())", [])
 *   const n = yield* PgClient.fetchVal("SELECT count(*) FROM hits", [], { schema: Schema.BigInt }) // Option<bigint>
 *   console.log(`${Option.getOrElse(n, () => 0n)} hits`)
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
 * **Notifications.** `listen(channel)` / `subscribe(channel)` read LISTEN/NOTIFY channels through
 * ONE dedicated listener connection per client (a `PgListener`, opened on the first
 * subscription, outside the pool's `max`), which reconnects after a drop and puts a
 * `PgListener.Reconnected` marker into each stream; `notify` sends through the pool (inside a
 * transaction, on its connection: delivered at commit).
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
import { Config, Context, Effect, Layer, type Schedule, type Scope, Stream } from "effect"
import { dual } from "effect/Function"
import * as ClientConfig from "./internal/pool/ClientConfig.ts"
import * as Route from "./internal/pool/Route.ts"
import * as RowSchema from "./internal/query/RowSchema.ts"
import { isRetryable } from "./internal/query/Transaction.ts"
import type { PgConnectionOptions } from "./PgConfig.ts"
import type * as PgConfig from "./PgConfig.ts"
import type { Fetch, FetchRow, FetchVal, PgConnection } from "./PgConnection.ts"
import { PgInterfaceError, type PgQueryError, type PgTransactionError } from "./PgError.ts"
import * as PgPool from "./PgPool.ts"
import type { CursorOptions, PgCursor } from "./PgCursor.ts"
import * as PgListener from "./PgListener.ts"
import type { BufferOptions } from "./PgNotifications.ts"
import type { PgRecord } from "./PgRecord.ts"
import { type Fragment, normalize } from "./PgSql.ts"
import type { PgStatement } from "./PgStatement.ts"
import * as PgTransaction from "./PgTransaction.ts"

export type { PgClientConfig } from "./internal/pool/ClientConfig.ts"

/** Every failure a shortcut can produce: the query's, or acquiring's. @since 0.1.0 */
export type PgClientError = PgQueryError | PgPool.PgPoolError

/**
 * Options of a client: the pool's (see `PgPool.PgPoolOptions`, which include every connection
 * option) and its listener's.
 * @since 0.1.0
 */
export interface PgClientOptions<R = never> extends PgPool.PgPoolOptions<R> {
  /**
   * Options of the client's notification listener (reconnect schedule, health check). It
   * connects with the connection options the client was created with (not a later
   * `setConnectArgs`, nor the pool's `connect` factory).
   */
  readonly listener?: PgListener.PgListenerOptions | undefined
}

/**
 * What the {@link PgClient} service offers.
 * @since 0.1.0
 */
export interface PgClientShape {
  /** The pool behind the client (stats, `expireConnections`, `setConnectArgs`, `close`, ...). */
  readonly pool: PgPool.PgPool
  /** Runs a command on a checked-out connection (or the current one); returns its status tag. */
  execute(
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: PgPool.ShortcutOptions,
  ): Effect.Effect<string, PgClientError>
  /** `execute` with a `sql` fragment (`PgSql`). */
  execute(query: Fragment, options?: PgPool.ShortcutOptions): Effect.Effect<string, PgClientError>
  /**
   * Runs a query on a checked-out connection (or the current one); returns all rows, decoded
   * through `{ schema }` when given (see `PgConnection.Fetch`).
   */
  readonly fetch: Fetch<PgClientError, never, PgPool.AcquireOptions>
  /** Runs a query on a checked-out connection (or the current one); returns the first row, if any. */
  readonly fetchRow: FetchRow<PgClientError, never, PgPool.AcquireOptions>
  /**
   * Runs a query on a checked-out connection (or the current one); returns one value of the
   * first row: `None` without a row, `Some(null)` for a NULL.
   */
  readonly fetchVal: FetchVal<PgClientError, never, PgPool.AcquireOptions>
  /**
   * Runs `sql` once per argument set on a checked-out connection (or the current one), all sets
   * pipelined in one round trip and atomic (see `PgConnection.executeMany`).
   */
  executeMany(
    sql: string | Fragment,
    argsList: ReadonlyArray<ReadonlyArray<unknown>>,
    options?: PgPool.ShortcutOptions,
  ): Effect.Effect<void, PgClientError>
  /** Like `executeMany`, returning each argument set's rows (e.g. `INSERT ... RETURNING`). */
  fetchMany(
    sql: string | Fragment,
    argsList: ReadonlyArray<ReadonlyArray<unknown>>,
    options?: PgPool.ShortcutOptions,
  ): Effect.Effect<Array<Array<PgRecord>>, PgClientError>
  /**
   * The rows of `sql` as a Stream read `prefetch` at a time through a cursor. Outside a
   * transaction the Stream checks one connection out when it starts and holds it until it ends
   * (the cursor runs in an implicit transaction meanwhile, see `PgCursor`); inside one it reads
   * on the transaction's connection.
   */
  cursor(
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: CursorOptions & PgPool.AcquireOptions,
  ): Stream.Stream<PgRecord, PgClientError>
  /** `cursor` with a `sql` fragment (`PgSql`). */
  cursor(query: Fragment, options?: CursorOptions & PgPool.AcquireOptions): Stream.Stream<PgRecord, PgClientError>
  /**
   * An explicit cursor (`fetch`, `fetchRow`, `forward`) for the current Scope, on a connection
   * checked out for that Scope (or the current transaction's connection).
   */
  openCursor(
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: PgPool.ShortcutOptions,
  ): Effect.Effect<PgCursor, PgClientError, Scope.Scope>
  /** `openCursor` with a `sql` fragment (`PgSql`). */
  openCursor(query: Fragment, options?: PgPool.ShortcutOptions): Effect.Effect<PgCursor, PgClientError, Scope.Scope>
  /**
   * A prepared statement for the current Scope, on a connection checked out for that Scope (or
   * the current transaction's connection). The statement (and the checkout) end with the Scope;
   * using it afterwards fails with `PgInterfaceError`. `sql` may be a fragment without parameters.
   */
  prepare(
    sql: string | Fragment,
    options?: PgPool.ShortcutOptions,
  ): Effect.Effect<PgStatement, PgClientError, Scope.Scope>
  /**
   * Runs `effect` in a transaction on a connection checked out for it (commit on success,
   * rollback on failure, defect and interruption), then releases the connection. Inside it, the
   * client's shortcuts run on the transaction's connection; called inside a transaction of this
   * client, it becomes a savepoint on the same connection. See `PgTransaction.transaction` for
   * the options and errors.
   *
   * `retry` re-runs the whole transaction, each attempt on its own checkout (so a connection
   * lost before COMMIT is retried on a live one), never after `PgCommitUnknownError`; a nested
   * call never retries.
   */
  transaction<A, E, R>(
    effect: Effect.Effect<A, E, R>,
    options?: TransactionOptions,
  ): Effect.Effect<A, E | PgClientError | PgTransactionError, Exclude<R, PgTransaction.PgTransaction>>
  /**
   * The notifications of `channel` as a Stream, read through the client's one shared listener
   * connection; a `PgListener.Reconnected` marker follows each reconnection (notifications may
   * have been missed). See `PgListener.PgListenerShape.listen` for the errors.
   */
  listen(channel: string, options?: BufferOptions): Stream.Stream<PgListener.ListenEvent, PgListener.PgListenerError>
  /** Like `listen`, as a scoped Effect that completes once the LISTEN is confirmed. */
  subscribe(
    channel: string,
    options?: BufferOptions,
  ): Effect.Effect<
    Stream.Stream<PgListener.ListenEvent, PgListener.PgListenerError>,
    PgListener.PgListenerError,
    Scope.Scope
  >
  /**
   * Sends a notification (`SELECT pg_notify($1, $2)`: channel names and payloads of every kind are sent as parameters, never spliced into SQL)
   * through the pool, or on the current transaction's connection (delivered when it commits).
   */
  notify(channel: string, payload?: string): Effect.Effect<void, PgClientError>
  /** The client's listener (its `channels`, `serverPid`); nothing is opened before a subscription. */
  readonly listener: PgListener.PgListenerShape | undefined
  /**
   * A connection checked out for the current scope (see `PgPool.acquire`). Always a fresh
   * checkout, even inside a transaction.
   */
  acquire(options?: PgPool.AcquireOptions): Effect.Effect<PgConnection, PgPool.PgPoolError, Scope.Scope>
  /** Runs `f` with a checked-out connection, released when `f` ends. */
  withConnection<A, E, R>(
    f: (conn: PgConnection) => Effect.Effect<A, E, R>,
    options?: PgPool.AcquireOptions,
  ): Effect.Effect<A, E | PgPool.PgPoolError, R>
}

/**
 * Options of {@link PgClientShape.transaction}: the transaction's (`PgTransaction`) and the
 * checkout's (`acquireTimeout`).
 * @since 0.1.0
 */
export interface TransactionOptions extends PgTransaction.TransactionOptions, PgPool.AcquireOptions {}

/**
 * The client service (key `"@pgfx/client/PgClient"`).
 * @since 0.1.0
 */
export class PgClient extends Context.Service<PgClient, PgClientShape>()("@pgfx/client/PgClient") {}

/**
 * The service over an existing pool. Notifications need a listener: pass one (e.g.
 * `PgListener.make(options)` in the same scope as the pool); without it `listen` and `subscribe`
 * fail with `PgInterfaceError`. {@link make} and the layers create both.
 * @since 0.1.0
 */
export const fromPool = (pool: PgPool.PgPool, listener?: PgListener.PgListenerShape): PgClientShape => ({
  pool,
  // The pool's shortcuts run on the fiber's transaction (or current connection) themselves.
  execute: (
    query: string | Fragment,
    argsOrOptions?: ReadonlyArray<unknown> | PgPool.ShortcutOptions,
    opts?: PgPool.ShortcutOptions,
  ) => pool.execute(...normalize(query, argsOrOptions, opts)),
  fetch: pool.fetch,
  fetchRow: pool.fetchRow,
  fetchVal: pool.fetchVal,
  executeMany: (sql, argsList, options) => pool.executeMany(sql, argsList, options),
  fetchMany: (sql, argsList, options) => pool.fetchMany(sql, argsList, options),
  cursor: (
    query: string | Fragment,
    argsOrOptions?: ReadonlyArray<unknown> | (CursorOptions & PgPool.AcquireOptions),
    maybeOptions?: CursorOptions & PgPool.AcquireOptions,
  ) => {
    const [sql, args, options] = normalize(query, argsOrOptions, maybeOptions)
    return Route.stream(pool, (conn) => conn.cursor(sql, args, options), options)
  },
  openCursor: (
    query: string | Fragment,
    argsOrOptions?: ReadonlyArray<unknown> | PgPool.ShortcutOptions,
    maybeOptions?: PgPool.ShortcutOptions,
  ) => {
    const [sql, args, options] = normalize(query, argsOrOptions, maybeOptions)
    return Effect.flatMap(Route.scoped(pool, options), (conn) => conn.openCursor(sql, args, options))
  },
  prepare: (sql, options) => Effect.flatMap(Route.scoped(pool, options), (conn) => conn.prepare(sql, options)),
  transaction: <A, E, R>(effect: Effect.Effect<A, E, R>, options?: TransactionOptions) => {
    const inner = Route.withConnection(pool, (conn) => PgTransaction.transaction(conn, effect, options), options)
    const retry = options?.retry
    if (retry === undefined) return inner
    return Effect.withFiber((fiber) => {
      // Nested (a savepoint): the enclosing transaction's own retry applies.
      if (Route.pinned(pool, fiber.context) !== undefined) return inner
      // Each attempt on its own checkout, so a lost connection is retried on a live one.
      const once = Route.withConnection(
        pool,
        (conn) => PgTransaction.transaction(conn, effect, { ...options, retry: undefined }),
        options,
      )
      return Effect.retry(once, {
        schedule: retry as Schedule.Schedule<unknown, E | PgClientError | PgTransactionError>,
        while: isRetryable,
      })
    })
  },
  listen: (channel, options) =>
    listener === undefined ? Stream.fail(noListener()) : listener.listen(channel, options),
  subscribe: (channel, options) =>
    listener === undefined ? Effect.fail(noListener()) : listener.subscribe(channel, options),
  notify: (channel, payload) => Route.withConnection(pool, (conn) => conn.notify(channel, payload)),
  listener,
  acquire: (options) => pool.acquire(options),
  withConnection: (f, options) => pool.withConnection(f, options),
})

const noListener = () =>
  new PgInterfaceError({
    message: "this client has no notification listener (create it with PgClient.make or a layer)",
  })

/**
 * A client with its own pool and its own notification listener for the current scope (see
 * `PgPool.make` for the options). The listener opens its connection on the first subscription.
 * @since 0.1.0
 */
export const make = <R = never>(
  options: PgClientOptions<R> | string = {},
): Effect.Effect<PgClientShape, PgPool.PgPoolError, Scope.Scope | R> =>
  Effect.gen(function* () {
    const { listener: listenerOptions, ...poolOptions }: PgClientOptions<R> =
      typeof options === "string" ? { url: options } : options
    const pool = yield* PgPool.make(poolOptions)
    // Closed before the pool (finalizers run in reverse): its streams end first.
    const listener = yield* PgListener.make(PgPool.splitOptions(poolOptions), listenerOptions)
    return fromPool(pool, listener)
  })

/**
 * The client as a Layer: the pool opens when the layer is built (its `min` connections) and
 * closes gracefully when the layer is released.
 *
 * Errors: `PgPool.PgPoolError` (invalid options, or opening the first `min` connections failed).
 * @since 0.1.0
 */
export const layer = <R = never>(
  options: PgClientOptions<R> | string = {},
): Layer.Layer<PgClient, PgPool.PgPoolError, R> => Layer.effect(PgClient, make(options))

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
export const layerConfig = <R = never>(
  config: Config.Wrap<ClientConfig.PgClientConfig> = ClientConfig.envConfig,
  options: PgClientOptions<R> = {},
): Layer.Layer<PgClient, PgPool.PgPoolError | Config.ConfigError, R> =>
  Layer.effect(
    PgClient,
    Effect.flatMap(unwrapConfig(config), (values) =>
      make({ ...ClientConfig.toOptions(values, options), listener: options.listener }),
    ),
  )

const unwrapConfig = (
  config: Config.Wrap<ClientConfig.PgClientConfig>,
): Effect.Effect<ClientConfig.PgClientConfig, Config.ConfigError> => Config.unwrap(config)

// -------------------------------------------------------------------------------------------------
// accessors

/**
 * A query accessor: exactly the forms the service method takes — `(sql, args?, options?)` or
 * `(fragment, options?)` — run through the provided {@link PgClient}. Options never go where the
 * arguments go.
 *
 * @example
 * ```ts
 * PgClient.fetch("SELECT * FROM t WHERE id = $1", [1], { timeout: "1 second" })
 * PgClient.fetch(sql`SELECT * FROM t WHERE id = ${1}`, { timeout: "1 second" })
 * ```
 * @since 0.1.0
 */
export interface QueryAccessor<A, O> {
  (sql: string, args?: ReadonlyArray<unknown>, options?: O): Effect.Effect<A, PgClientError, PgClient>
  (query: Fragment, options?: O): Effect.Effect<A, PgClientError, PgClient>
}

/**
 * `execute` through the provided {@link PgClient}.
 * @since 0.1.0
 */
export const execute: QueryAccessor<string, PgPool.ShortcutOptions> = (
  sql: string | Fragment,
  args?: ReadonlyArray<unknown> | PgPool.ShortcutOptions,
  options?: PgPool.ShortcutOptions,
) => PgClient.use((c) => c.execute(...normalize(sql, args, options)))

/**
 * `fetch` through the provided {@link PgClient}: all rows, decoded through `{ schema }` when
 * given.
 *
 * @example
 * ```ts
 * const User = Schema.Struct({ id: Schema.Number, name: Schema.String })
 * const users = yield* PgClient.fetch(sql`SELECT id, name FROM users WHERE id > ${10}`, { schema: User })
 * ```
 * @since 0.1.0
 */
export const fetch: Fetch<PgClientError, PgClient, PgPool.AcquireOptions> = RowSchema.overloaded(
  (query, argsOrOptions, options) =>
    PgClient.use((c) => RowSchema.implOf(c.fetch)(...normalize(query, argsOrOptions, options))),
)

/**
 * `fetchRow` through the provided {@link PgClient}: the first row, if any.
 * @since 0.1.0
 */
export const fetchRow: FetchRow<PgClientError, PgClient, PgPool.AcquireOptions> = RowSchema.overloaded(
  (query, argsOrOptions, options) =>
    PgClient.use((c) => RowSchema.implOf(c.fetchRow)(...normalize(query, argsOrOptions, options))),
)

/**
 * `fetchVal` through the provided {@link PgClient}: one value of the first row, `None` without
 * a row.
 *
 * @example
 * ```ts
 * const count = yield* PgClient.fetchVal("SELECT count(*) FROM users", [], { schema: Schema.BigInt })
 * // Option<bigint>
 * ```
 * @since 0.1.0
 */
export const fetchVal: FetchVal<PgClientError, PgClient, PgPool.AcquireOptions> = RowSchema.overloaded(
  (query, argsOrOptions, options) =>
    PgClient.use((c) => RowSchema.implOf(c.fetchVal)(...normalize(query, argsOrOptions, options))),
)

/**
 * `executeMany` through the provided {@link PgClient}: every argument set pipelined in one round
 * trip, atomic. `sql` may be a fragment without parameters.
 *
 * @example
 * ```ts
 * yield* PgClient.executeMany("INSERT INTO t (id, name) VALUES ($1, $2)", [[1, "a"], [2, "b"]])
 * yield* PgClient.executeMany(sql`INSERT INTO ${sql.id("app", "t")} (id) VALUES ($1)`, [[3], [4]])
 * ```
 * @since 0.1.0
 */
export const executeMany = (
  sql: string | Fragment,
  argsList: ReadonlyArray<ReadonlyArray<unknown>>,
  options?: PgPool.ShortcutOptions,
): Effect.Effect<void, PgClientError, PgClient> => PgClient.use((c) => c.executeMany(sql, argsList, options))

/**
 * `fetchMany` through the provided {@link PgClient}: each argument set's rows.
 * @since 0.1.0
 */
export const fetchMany = (
  sql: string | Fragment,
  argsList: ReadonlyArray<ReadonlyArray<unknown>>,
  options?: PgPool.ShortcutOptions,
): Effect.Effect<Array<Array<PgRecord>>, PgClientError, PgClient> =>
  PgClient.use((c) => c.fetchMany(sql, argsList, options))

/**
 * The rows of `sql` as a Stream through the provided {@link PgClient}, holding one checkout for
 * the Stream's lifetime (see {@link PgClientShape.cursor}).
 *
 * @example
 * ```ts
 * const total = yield* PgClient.cursor(sql`SELECT amount FROM big_table WHERE day = ${day}`, { prefetch: 1000 }).pipe(
 *   Stream.runFold(() => 0, (sum, row) => sum + Number(row.get("amount"))),
 * )
 * ```
 * @since 0.1.0
 */
export const cursor: {
  (
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: CursorOptions & PgPool.AcquireOptions,
  ): Stream.Stream<PgRecord, PgClientError, PgClient>
  (query: Fragment, options?: CursorOptions & PgPool.AcquireOptions): Stream.Stream<PgRecord, PgClientError, PgClient>
} = (
  query: string | Fragment,
  argsOrOptions?: ReadonlyArray<unknown> | (CursorOptions & PgPool.AcquireOptions),
  options?: CursorOptions & PgPool.AcquireOptions,
) => Stream.unwrap(PgClient.useSync((c) => c.cursor(...normalize(query, argsOrOptions, options))))

/**
 * An explicit cursor through the provided {@link PgClient}, for the current Scope.
 * @since 0.1.0
 */
export const openCursor: {
  (
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: PgPool.ShortcutOptions,
  ): Effect.Effect<PgCursor, PgClientError, PgClient | Scope.Scope>
  (query: Fragment, options?: PgPool.ShortcutOptions): Effect.Effect<PgCursor, PgClientError, PgClient | Scope.Scope>
} = (
  query: string | Fragment,
  argsOrOptions?: ReadonlyArray<unknown> | PgPool.ShortcutOptions,
  options?: PgPool.ShortcutOptions,
) => PgClient.use((c) => c.openCursor(...normalize(query, argsOrOptions, options)))

/**
 * A prepared statement through the provided {@link PgClient}, on a connection held for the
 * current Scope. `sql` may be a fragment without parameters.
 *
 * @example
 * ```ts
 * Effect.scoped(
 *   Effect.gen(function* () {
 *     const stmt = yield* PgClient.prepare("SELECT name FROM users WHERE id = $1")
 *     for (const id of [1, 2, 3]) console.log(yield* stmt.fetchVal([id]))
 *   }),
 * )
 * ```
 * @since 0.1.0
 */
export const prepare = (
  sql: string | Fragment,
  options?: PgPool.ShortcutOptions,
): Effect.Effect<PgStatement, PgClientError, PgClient | Scope.Scope> => PgClient.use((c) => c.prepare(sql, options))

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
 * // or data-last
 * const done = yield* placeOrder.pipe(PgClient.transaction({ isolation: "serializable" }))
 * ```
 * @since 0.1.0
 */
export const transaction: {
  /** Data-last, for `pipe`: `effect.pipe(PgClient.transaction({ isolation: "serializable" }))`. */
  (
    options?: TransactionOptions,
  ): <A, E, R>(
    effect: Effect.Effect<A, E, R>,
  ) => Effect.Effect<A, E | PgClientError | PgTransactionError, Exclude<R, PgTransaction.PgTransaction> | PgClient>
  <A, E, R>(
    effect: Effect.Effect<A, E, R>,
    options?: TransactionOptions,
  ): Effect.Effect<A, E | PgClientError | PgTransactionError, Exclude<R, PgTransaction.PgTransaction> | PgClient>
} = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R>(effect: Effect.Effect<A, E, R>, options?: TransactionOptions) =>
    PgClient.use((c) => c.transaction(effect, options)),
)

/**
 * The notifications of `channel` through the provided {@link PgClient}'s shared listener
 * connection, with a `PgListener.Reconnected` marker after each reconnection.
 *
 * @example
 * ```ts
 * yield* PgClient.listen("orders").pipe(
 *   Stream.runForEach((event) =>
 *     PgListener.isNotification(event) ? Effect.log(`order ${event.payload}`) : reloadOrders,
 *   ),
 * )
 * ```
 * @since 0.1.0
 */
export const listen = (
  channel: string,
  options?: BufferOptions,
): Stream.Stream<PgListener.ListenEvent, PgListener.PgListenerError, PgClient> =>
  Stream.unwrap(PgClient.useSync((c) => c.listen(channel, options)))

/**
 * Like {@link listen}, as a scoped Effect that completes once the LISTEN is confirmed (so a
 * notification sent afterwards is seen).
 * @since 0.1.0
 */
export const subscribe = (
  channel: string,
  options?: BufferOptions,
): Effect.Effect<
  Stream.Stream<PgListener.ListenEvent, PgListener.PgListenerError>,
  PgListener.PgListenerError,
  PgClient | Scope.Scope
> => PgClient.use((c) => c.subscribe(channel, options))

/**
 * Sends a notification through the provided {@link PgClient} (inside a transaction: at commit).
 * @since 0.1.0
 */
export const notify = (channel: string, payload?: string): Effect.Effect<void, PgClientError, PgClient> =>
  PgClient.use((c) => c.notify(channel, payload))

/**
 * A connection checked out for the current scope (always a fresh checkout, even inside a
 * transaction), within `acquireTimeout` when given.
 *
 * @example
 * ```ts
 * const conn = yield* PgClient.acquire({ acquireTimeout: "1 second" })
 * ```
 * @since 0.1.0
 */
export const acquire = (
  options?: PgPool.AcquireOptions,
): Effect.Effect<PgConnection, PgPool.PgPoolError, PgClient | Scope.Scope> => PgClient.use((c) => c.acquire(options))

/**
 * Runs `f` with a checked-out connection, released when `f` ends.
 * @since 0.1.0
 */
export const withConnection = <A, E, R>(
  f: (conn: PgConnection) => Effect.Effect<A, E, R>,
  options?: PgPool.AcquireOptions,
): Effect.Effect<A, E | PgPool.PgPoolError, R | PgClient> => PgClient.use((c) => c.withConnection(f, options))

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
