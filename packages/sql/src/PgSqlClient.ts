/**
 * `effect/sql`'s `SqlClient` backed by pgfx: switch from `@effect/sql-pg` and keep `SqlSchema`,
 * `SqlResolver`, `SqlModel` and `Migrator` working.
 *
 * - **Statements** run through the `PgClient`'s pool shortcuts (a connection checked out for one
 *   statement; pgfx's statement cache, binary codecs and pipelining apply). `sql.unsafe` text
 *   without parameters uses the simple protocol, so it may hold several statements.
 * - **Transactions** (`sql.withTransaction`) check out one connection for their whole length;
 *   nesting becomes savepoints (`SAVEPOINT effect_sql_<n>`, `RELEASE` / `ROLLBACK TO`). A COMMIT
 *   that the server turns into ROLLBACK (the transaction was aborted) fails. Inside, pgfx's own
 *   APIs (`PgClient` shortcuts, `PgQuery`) run on the transaction's connection too
 *   (`PgCurrentConnection`), so both APIs can be mixed in one transaction.
 * - **Streams** (`statement.stream`) read through a pgfx cursor (`PgCursor`), 50 rows at a time
 *   by default, on a checked-out connection (or the transaction's).
 * - **Errors** are `SqlError`s whose reason follows the SQLSTATE: 08 `ConnectionError`, 28
 *   `AuthenticationError`, 42501 `AuthorizationError`, other 42 `SqlSyntaxError`, 23505
 *   `UniqueViolation` (with the constraint), other 23 `ConstraintError`, 40P01
 *   `DeadlockError`, 40001 `SerializationError`, 55P03 `LockTimeoutError`, 57014 and pgfx's
 *   own timeouts `StatementTimeoutError`; pool and socket failures are `ConnectionError`. The
 *   pgfx error is the reason's `cause`.
 *
 * Values are pgfx's (see docs/types.md): `int8` is a `bigint`, `numeric` a string,
 * `timestamptz` a `PgTimestamp`, and so on.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SqlClient } from "effect/sql/SqlClient"
 * import * as PgSqlClient from "@pgfx/sql/PgSqlClient"
 *
 * const program = Effect.gen(function* () {
 *   const sql = yield* SqlClient
 *   yield* sql`INSERT INTO people ${sql.insert({ name: "ada" })}`
 *   return yield* sql`SELECT * FROM people WHERE name = ${"ada"}`
 * })
 * Effect.runPromise(program.pipe(Effect.provide(PgSqlClient.layer({ url: "postgres://app@localhost/app" }))))
 * ```
 * @since 0.1.0
 */
import * as PgClient from "@pgfx/client/PgClient"
import type { PgConnection } from "@pgfx/client/PgConnection"
import * as PgCurrentConnection from "@pgfx/client/PgCurrentConnection"
import type { PgPoolOptions } from "@pgfx/client/PgPool"
import { type Config, Context, Effect, Layer, Option, type Scope, Stream } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import * as Client from "effect/sql/SqlClient"
import type { Connection } from "effect/sql/SqlConnection"
import { SqlError, UnknownError } from "effect/sql/SqlError"
import * as Statement from "effect/sql/Statement"
import { toSqlError } from "./internal/Errors.ts"

type TransformRows = (<A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined

/** Options of the adapter (beyond the pool's). @since 0.1.0 */
export interface PgSqlClientOptions {
  /** Maps result column names (e.g. `String.snakeToCamel`). */
  readonly transformResultNames?: ((name: string) => string) | undefined
  /** Maps identifiers written through `sql("name")` / insert and update helpers (e.g. camel to snake). */
  readonly transformQueryNames?: ((name: string) => string) | undefined
  /** Rows fetched per round trip by `stream` (default 50). */
  readonly streamPrefetch?: number | undefined
  /** Extra span attributes. */
  readonly spanAttributes?: Record<string, unknown> | undefined
}

/** What the pgfx `Connection` adapters have in common: their statements and their pgfx connection. */
interface Runner {
  readonly fetch: (sql: string, params: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<PgRecordLike>, unknown>
  readonly execute: (sql: string, params: ReadonlyArray<unknown>) => Effect.Effect<string, unknown>
  readonly stream: (sql: string, params: ReadonlyArray<unknown>) => Stream.Stream<PgRecordLike, unknown>
}

interface PgRecordLike {
  toObject(): Record<string, unknown>
  readonly values: ReadonlyArray<unknown>
}

const toObjects = (rows: ReadonlyArray<PgRecordLike>): Array<Record<string, unknown>> => {
  const out = new Array<Record<string, unknown>>(rows.length)
  for (let i = 0; i < rows.length; i++) out[i] = rows[i]!.toObject()
  return out
}

/**
 * The statement text is sent as written: with no parameters `execute` uses the simple protocol
 * (several statements allowed, no rows), so statements that may return rows go through `fetch`.
 */
class PgfxConnection implements Connection {
  readonly runner: Runner
  /** The dedicated pgfx connection (transactions), if any. */
  readonly pg: PgConnection | undefined
  constructor(runner: Runner, pg: PgConnection | undefined) {
    this.runner = runner
    this.pg = pg
  }

  private rows(sql: string, params: ReadonlyArray<unknown>, operation: string) {
    return Effect.mapError(this.runner.fetch(sql, params), (e) => toSqlError(e, operation))
  }

  execute(sql: string, params: ReadonlyArray<unknown>, transformRows: TransformRows) {
    const rows = Effect.map(this.rows(sql, params, "execute"), toObjects)
    return transformRows === undefined ? rows : Effect.map(rows, transformRows)
  }
  executeRaw(sql: string, params: ReadonlyArray<unknown>) {
    return this.rows(sql, params, "executeRaw")
  }
  executeValues(sql: string, params: ReadonlyArray<unknown>) {
    return Effect.map(this.rows(sql, params, "executeValues"), (rows) => rows.map((r) => r.values))
  }
  executeValuesUnprepared(sql: string, params: ReadonlyArray<unknown>) {
    return this.executeValues(sql, params)
  }
  executeUnprepared(sql: string, params: ReadonlyArray<unknown>, transformRows: TransformRows) {
    if (params.length === 0 && isCommand(sql)) {
      return Effect.mapError(Effect.as(this.runner.execute(sql, params), []), (e) => toSqlError(e, "executeUnprepared"))
    }
    return this.execute(sql, params, transformRows)
  }
  executeStream(sql: string, params: ReadonlyArray<unknown>, transformRows: TransformRows) {
    const rows = Stream.mapError(this.runner.stream(sql, params), (e) => toSqlError(e, "executeStream"))
    return transformRows === undefined
      ? Stream.map(rows, (r) => r.toObject())
      : Stream.mapArray(rows, (chunk) => transformRows(toObjects(chunk)) as unknown as typeof chunk)
  }
  /** Runs a command and returns its status tag (for COMMIT). */
  tag(sql: string): Effect.Effect<string, SqlError> {
    return Effect.mapError(this.runner.execute(sql, []), (e) => toSqlError(e, "commit"))
  }
}

/** Statements that return no rows and may be sent with the simple protocol. */
const isCommand = (sql: string): boolean =>
  !/^\s*(select|with|values|table|show|explain|fetch|returning)\b/i.test(sql) && !/\breturning\b/i.test(sql)

const connectionRunner = (conn: PgConnection, prefetch: number): Runner => ({
  fetch: (sql, params) => conn.fetch(sql, params),
  execute: (sql, params) => conn.execute(sql, params),
  stream: (sql, params) => conn.cursor(sql, params, { prefetch }),
})

const poolRunner = (client: PgClient.PgClientShape, prefetch: number): Runner => ({
  fetch: (sql, params) => client.fetch(sql, params),
  execute: (sql, params) => client.execute(sql, params),
  stream: (sql, params) => client.cursor(sql, params, { prefetch }),
})

/** A failure of the body of {@link savepointOf}, told apart from the savepoint's own. */
class BodyFailure<E> {
  readonly error: E
  constructor(error: E) {
    this.error = error
  }
}

/**
 * `effect` in a savepoint of the fiber's pgfx transaction: the body's failures come back as they
 * are, the savepoint's own (SAVEPOINT, RELEASE) as `SqlError`s.
 */
const savepointOf = <A, E, R>(
  client: PgClient.PgClientShape,
  effect: Effect.Effect<A, E, R>,
): Effect.Effect<A, E | SqlError, R> =>
  Effect.mapError(client.transaction(Effect.mapError(effect, (e) => new BodyFailure(e))), (e): E | SqlError =>
    e instanceof BodyFailure ? (e.error as E) : toSqlError(e, "withTransaction"),
  )

/** PostgreSQL returns `ROLLBACK` for `COMMIT` when the transaction was aborted. */
const commit = (conn: Connection): Effect.Effect<void, SqlError> =>
  Effect.flatMap((conn as PgfxConnection).tag("COMMIT"), (tag) =>
    tag === "ROLLBACK"
      ? Effect.fail(
          new SqlError({
            reason: new UnknownError({
              cause: new Error("COMMIT rolled back an aborted transaction"),
              message: "COMMIT rolled back an aborted transaction",
              operation: "commit",
            }),
          }),
        )
      : Effect.void,
  )

/**
 * The `effect/sql` PostgreSQL compiler: `$n` placeholders, double-quoted identifiers, and
 * `UPDATE ... FROM (values ...)` for `sql.updateValues`.
 * @since 0.1.0
 */
export const makeCompiler = (transform?: (name: string) => string): Statement.Compiler =>
  Statement.makeCompiler({
    dialect: "pg",
    placeholder: (i) => `$${i}`,
    onIdentifier: transform
      ? (value, withoutTransform) => (withoutTransform ? escape(value) : escape(transform(value)))
      : escape,
    onRecordUpdate: (placeholders, valueAlias, valueColumns, values, returning) => [
      `(values ${placeholders}) AS ${valueAlias}${valueColumns}${returning ? ` RETURNING ${returning[0]}` : ""}`,
      returning ? values.flat().concat(returning[1]) : values.flat(),
    ],
    onCustom: () => ["", []],
  })

const escape = Statement.defaultEscape('"')

/**
 * A `SqlClient` over an existing pgfx client (its pool).
 * @since 0.1.0
 */
export const fromClient = (
  client: PgClient.PgClientShape,
  options: PgSqlClientOptions = {},
): Effect.Effect<Client.SqlClient, never, Reactivity.Reactivity> => {
  const prefetch = options.streamPrefetch ?? 50
  const pooled = new PgfxConnection(poolRunner(client, prefetch), undefined)
  const transformRows = options.transformResultNames
    ? Statement.defaultTransforms(options.transformResultNames).array
    : undefined
  return Effect.map(
    Client.make({
      driver: "pgfx",
      acquirer: Effect.succeed(pooled),
      transactionAcquirer: Effect.mapError(
        Effect.map(client.reserve, (conn) => new PgfxConnection(connectionRunner(conn, prefetch), conn)),
        (e) => toSqlError(e, "acquire"),
      ),
      compiler: makeCompiler(options.transformQueryNames),
      commit,
      isTransaction: (conn) => (conn as PgfxConnection).pg?.isInTransaction ?? false,
      releaseSavepoint: (name) => `RELEASE SAVEPOINT ${name}`,
      spanAttributes: [
        ...(options.spanAttributes ? Object.entries(options.spanAttributes) : []),
        ["db.system.name", "postgresql"],
      ],
      transformRows,
    }),
    (sql) => {
      // pgfx code (PgClient shortcuts, PgQuery, PgCopy) inside an effect/sql transaction runs on
      // its connection; inside a pgfx transaction (and no effect/sql one), `withTransaction` is a
      // savepoint of it, so it commits and rolls back with it.
      const withTransaction = sql.withTransaction
      const shareConnection = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
        Effect.flatMap(Effect.serviceOption(sql.transactionService), (current) => {
          const pg = Option.isSome(current) ? (current.value[0] as PgfxConnection).pg : undefined
          return pg === undefined ? effect : PgCurrentConnection.provide(pg)(effect)
        })
      return Object.assign(sql, {
        withTransaction: <R, E, A>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
          Effect.flatMap(Effect.serviceOption(sql.transactionService), (sqlLevel) =>
            Option.isSome(sqlLevel)
              ? withTransaction(shareConnection(effect))
              : Effect.flatMap(PgCurrentConnection.find(client.pool), (pinned) =>
                  Option.isNone(pinned) ? withTransaction(shareConnection(effect)) : savepointOf(client, effect),
                ),
          ),
      })
    },
  )
}

/**
 * A `SqlClient` with its own pgfx pool for the current scope.
 * @since 0.1.0
 */
export const make = (
  options: PgPoolOptions & PgSqlClientOptions,
): Effect.Effect<Client.SqlClient, SqlError, Scope.Scope | Reactivity.Reactivity> =>
  Effect.flatMap(
    Effect.mapError(PgClient.make(options), (e) => toSqlError(e, "connect")),
    (client) => fromClient(client, options),
  )

/**
 * Provides `SqlClient` (and pgfx's `PgClient`, the same pool) from pool options.
 *
 * Errors: `SqlError` with reason `ConnectionError` / `AuthenticationError` when the pool's first
 * connections cannot be opened.
 * @since 0.1.0
 */
export const layer = (
  options: PgPoolOptions & PgSqlClientOptions = {},
): Layer.Layer<Client.SqlClient | PgClient.PgClient, SqlError> =>
  Layer.effectContext(
    Effect.gen(function* () {
      const client = yield* Effect.mapError(PgClient.make(options), (e) => toSqlError(e, "connect"))
      const sql = yield* fromClient(client, options)
      return Context.make(PgClient.PgClient, client).pipe(Context.add(Client.SqlClient, sql))
    }),
  ).pipe(Layer.provide(Reactivity.layer))

/**
 * Provides `SqlClient` over the `PgClient` already provided (one pool for both APIs).
 * @since 0.1.0
 */
export const layerFromClient = (
  options: PgSqlClientOptions = {},
): Layer.Layer<Client.SqlClient, never, PgClient.PgClient> =>
  Layer.effect(
    Client.SqlClient,
    PgClient.PgClient.use((c) => fromClient(c, options)),
  ).pipe(Layer.provide(Reactivity.layer))

/**
 * Provides `SqlClient` and `PgClient` configured through Effect's `Config`: by default libpq's
 * variables (`DATABASE_URL`, or `PGHOST`, `PGUSER`, ...) from the current `ConfigProvider`, as
 * `PgClient.layerConfig` reads them.
 *
 * Errors: `Config.ConfigError`, and `SqlError` when the pool's first connections cannot be opened.
 * @since 0.1.0
 */
export const layerConfig = (
  config?: Config.Wrap<PgClient.PgClientConfig>,
  options: PgPoolOptions & PgSqlClientOptions = {},
): Layer.Layer<Client.SqlClient | PgClient.PgClient, SqlError | Config.ConfigError> =>
  Layer.effectContext(
    Effect.gen(function* () {
      const built = yield* Effect.mapError(Layer.build(PgClient.layerConfig(config, options)), (e) =>
        e._tag === "ConfigError" ? e : toSqlError(e, "connect"),
      )
      const client = Context.get(built, PgClient.PgClient)
      const sql = yield* fromClient(client, options)
      return Context.make(PgClient.PgClient, client).pipe(Context.add(Client.SqlClient, sql))
    }),
  ).pipe(Layer.provide(Reactivity.layer))
