/**
 * `effect/sql`'s `SqlClient` backed by pgfx, and a drop-in for `@effect/sql-pg`: the layers also
 * provide `@effect/sql-pg`'s `PgClient` service ({@link SqlPgClient}: `json`, `listen`, `notify`),
 * so `SqlSchema`, `SqlResolver`, `SqlModel`, `Migrator` and libraries written for `@effect/sql-pg`
 * (drizzle-orm's Effect driver) keep working after swapping one Layer (docs/migrating.md).
 *
 * - **Statements** run through the `PgClient`'s pool shortcuts (a connection checked out for one
 *   statement; pgfx's statement cache, binary codecs and pipelining apply). Each form returns
 *   what `@effect/sql-pg` returns: `raw` gives `{ command, rowCount, oid, rows, fields }`;
 *   `unprepared` text without parameters uses the simple protocol, so it may hold several
 *   statements (the rows are the last one's, whichever statements the server says return rows).
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
 * `timestamptz` a `PgTimestamp`, and so on; `valueTypes: "effect-sql-pg"` gives
 * `@effect/sql-pg`'s (lossy: timestamps as `Date`).
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
import type { PgConnection, PgResult } from "@pgfx/client/PgConnection"
import * as PgCurrentConnection from "@pgfx/client/PgCurrentConnection"
import type { PgPoolError, PgPoolOptions } from "@pgfx/client/PgPool"
import * as CompatCodecs from "@pgfx/types/CompatCodecs"
import { PgJson } from "@pgfx/types/PgJson"
import { type Config, Context, Effect, Layer, Option, type Queue, type Scope, Stream } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import * as Client from "effect/sql/SqlClient"
import type { Connection } from "effect/sql/SqlConnection"
import { SqlError, UnknownError } from "effect/sql/SqlError"
import * as Statement from "effect/sql/Statement"
import { toSqlError } from "./internal/Errors.ts"
import { listen, type Notification, notify } from "./internal/Notify.ts"

export type { Notification } from "./internal/Notify.ts"
export type { RawField, RawResult } from "./internal/RawResult.ts"
import { rawResult } from "./internal/RawResult.ts"

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
  /**
   * Whether `sql.json(value)` and result transforms also rename the keys inside JSON values
   * (default true, as `@effect/sql-pg`).
   */
  readonly transformJson?: boolean | undefined
  /**
   * The JavaScript types of values. `"pgfx"` (default): exact (`PgTimestamp`, `PgDate`, ...; see
   * docs/types.md). `"effect-sql-pg"`: **lossy**, the types `@effect/sql-pg` returns (timestamps
   * as `Date` truncated to the millisecond, dates as strings; see `@pgfx/types/CompatCodecs`), for
   * migrating step by step. Ignored when the pool options give their own `codecs`.
   */
  readonly valueTypes?: "pgfx" | "effect-sql-pg" | undefined
}

/**
 * The type id of `@effect/sql-pg`'s `PgClient` (the same string, so values are interchangeable).
 * @since 0.1.0
 */
export const TypeId: TypeId = "~@effect/sql-pg/PgClient"

/** The type of {@link TypeId}. @since 0.1.0 */
export type TypeId = "~@effect/sql-pg/PgClient"

/**
 * The `SqlClient` of this adapter, shaped like `@effect/sql-pg`'s `PgClient` service (the same
 * members, so a value of `@effect/sql-pg`'s type is one of this type and `Effect.provide` of a
 * pgfx layer satisfies code that asks for `@effect/sql-pg`'s tag): the `SqlClient` plus `json`,
 * `listen` and `notify`. pgfx-only features (COPY, cursors, typed queries, the pool's controls)
 * are on pgfx's `PgClient` service, which the same layers provide over the same pool.
 * @since 0.1.0
 */
export interface PgSqlClient extends Client.Base {
  readonly [TypeId]: TypeId
  /** The options the client was made with (pgfx's pool and adapter options). */
  readonly config: unknown
  /**
   * A `jsonb` parameter: `sql\`INSERT INTO t (doc) VALUES (${sql.json({ a: 1 })})\``; `null` and
   * `undefined` are SQL NULL.
   */
  readonly json: (value: unknown) => Statement.Fragment
  /**
   * LISTENs on `channel` for the current scope; the queue receives its notifications once the
   * LISTEN is confirmed (through pgfx's listener: one shared connection, re-listened after a
   * reconnect). A failure of the listener fails the queue with a `SqlError`.
   */
  readonly listen: (channel: string) => Effect.Effect<Queue.Dequeue<Notification, SqlError>, SqlError, Scope.Scope>
  /** `pg_notify(channel, payload)` (on the transaction's connection inside `withTransaction`). */
  readonly notify: (channel: string, payload: string) => Effect.Effect<void, SqlError>
}

/**
 * The service `@effect/sql-pg`'s `PgClient` tag names (`"@effect/sql-pg/PgClient"`): code and
 * libraries that `yield* PgClient` from `@effect/sql-pg` (such as drizzle-orm's Effect Postgres
 * driver) find this adapter there when its layers are provided. Effect identifies a service by
 * its key string, so `@effect/sql-pg` need not be installed to provide it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as PgSqlClient from "@pgfx/sql/PgSqlClient"
 *
 * const program = Effect.gen(function* () {
 *   const sql = yield* PgSqlClient.SqlPgClient // the same service as @effect/sql-pg's PgClient
 *   yield* sql`INSERT INTO events (doc) VALUES (${sql.json({ kind: "signup" })})`
 *   yield* sql.notify("events", "signup")
 * })
 * Effect.runPromise(program.pipe(Effect.provide(PgSqlClient.layer({ url: "postgres://app@localhost/app" }))))
 * ```
 * @since 0.1.0
 */
export const SqlPgClient = Context.Service<PgSqlClient>("@effect/sql-pg/PgClient")

/** What the pgfx `Connection` adapters have in common: their statements and their pgfx connection. */
interface Runner {
  readonly fetch: (sql: string, params: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<PgRecordLike>, unknown>
  readonly execute: (sql: string, params: ReadonlyArray<unknown>) => Effect.Effect<string, unknown>
  readonly stream: (sql: string, params: ReadonlyArray<unknown>) => Stream.Stream<PgRecordLike, unknown>
  /** One statement's rows and command tag (extended protocol). */
  readonly result: (sql: string, params: ReadonlyArray<unknown>) => Effect.Effect<PgResult, unknown>
  /** The simple query protocol: each statement's rows and command tag. */
  readonly simple: (sql: string) => Effect.Effect<ReadonlyArray<PgResult>, unknown>
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

/** The rows of the last statement of a simple query (the server says which statements have rows). */
const lastRows = (results: ReadonlyArray<PgResult>): ReadonlyArray<PgRecordLike> =>
  results.length === 0 ? [] : results[results.length - 1]!.rows

/**
 * Statements run with the extended protocol; `unprepared` text without parameters runs with the
 * simple protocol (several statements allowed; the rows are the last statement's).
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
    return Effect.mapError(Effect.map(this.runner.result(sql, params), rawResult), (e) => toSqlError(e, "executeRaw"))
  }
  executeValues(sql: string, params: ReadonlyArray<unknown>) {
    return Effect.map(this.rows(sql, params, "executeValues"), (rows) => rows.map((r) => r.values))
  }
  executeValuesUnprepared(sql: string, params: ReadonlyArray<unknown>) {
    if (params.length > 0) return this.executeValues(sql, params)
    return Effect.map(this.simple(sql, "executeValuesUnprepared"), (rows) => rows.map((r) => r.values))
  }
  executeUnprepared(sql: string, params: ReadonlyArray<unknown>, transformRows: TransformRows) {
    if (params.length > 0) return this.execute(sql, params, transformRows)
    const rows = Effect.map(this.simple(sql, "executeUnprepared"), toObjects)
    return transformRows === undefined ? rows : Effect.map(rows, transformRows)
  }
  private simple(sql: string, operation: string) {
    return Effect.mapError(Effect.map(this.runner.simple(sql), lastRows), (e) => toSqlError(e, operation))
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

const connectionRunner = (conn: PgConnection, prefetch: number): Runner => ({
  fetch: (sql, params) => conn.fetch(sql, params),
  execute: (sql, params) => conn.execute(sql, params),
  stream: (sql, params) => conn.cursor(sql, params, { prefetch }),
  result: (sql, params) => conn.fetchResult(sql, params),
  simple: (sql) => conn.simpleQuery(sql),
})

/** The fiber's pgfx transaction connection on the client's pool, else a checkout for `f`. */
const onConnection = <A, E>(
  client: PgClient.PgClientShape,
  f: (conn: PgConnection) => Effect.Effect<A, E>,
): Effect.Effect<A, E | PgPoolError> =>
  Effect.flatMap(PgCurrentConnection.find(client.pool), (pinned) =>
    Option.isSome(pinned) ? f(pinned.value) : client.withConnection(f),
  )

const poolRunner = (client: PgClient.PgClientShape, prefetch: number): Runner => ({
  fetch: (sql, params) => client.fetch(sql, params),
  execute: (sql, params) => client.execute(sql, params),
  stream: (sql, params) => client.cursor(sql, params, { prefetch }),
  result: (sql, params) => onConnection(client, (conn) => conn.fetchResult(sql, params)),
  simple: (sql) => onConnection(client, (conn) => conn.simpleQuery(sql)),
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

/** `sql.json(value)`: a `jsonb` parameter. */
interface JsonCustom extends Statement.Custom<"PgJson", unknown> {}
const JsonCustom = Statement.custom<JsonCustom>("PgJson")

/**
 * The `effect/sql` PostgreSQL compiler: `$n` placeholders, double-quoted identifiers,
 * `UPDATE ... FROM (values ...)` for `sql.updateValues`, and `sql.json` values as `$n::jsonb`
 * (their keys renamed by `transform` too unless `transformJson` is false).
 * @since 0.1.0
 */
export const makeCompiler = (transform?: (name: string) => string, transformJson = true): Statement.Compiler => {
  const transformValue = transformJson && transform ? Statement.defaultTransforms(transform).value : undefined
  return Statement.makeCompiler<JsonCustom>({
    dialect: "pg",
    placeholder: (i) => `$${i}`,
    onIdentifier: transform
      ? (value, withoutTransform) => (withoutTransform ? escape(value) : escape(transform(value)))
      : escape,
    onRecordUpdate: (placeholders, valueAlias, valueColumns, values, returning) => [
      `(values ${placeholders}) AS ${valueAlias}${valueColumns}${returning ? ` RETURNING ${returning[0]}` : ""}`,
      returning ? values.flat().concat(returning[1]) : values.flat(),
    ],
    onCustom: (custom, placeholder, withoutTransform) => {
      const value = withoutTransform || transformValue === undefined ? custom.paramA : transformValue(custom.paramA)
      // The value itself, which the jsonb codec serializes; a string is a JSON string here (a
      // plain string parameter is JSON text in this adapter); null is NULL.
      return [
        `${placeholder(undefined)}::jsonb`,
        [typeof value === "string" ? PgJson.raw(JSON.stringify(value)) : (value ?? null)],
      ]
    },
  })
}

const escape = Statement.defaultEscape('"')

/**
 * A `SqlClient` over an existing pgfx client (its pool), shaped like `@effect/sql-pg`'s `PgClient`.
 * @since 0.1.0
 */
export const fromClient = (
  client: PgClient.PgClientShape,
  options: PgPoolOptions & PgSqlClientOptions = {},
): Effect.Effect<Client.SqlClient & PgSqlClient, never, Reactivity.Reactivity> => {
  const prefetch = options.streamPrefetch ?? 50
  const pooled = new PgfxConnection(poolRunner(client, prefetch), undefined)
  const transformRows = options.transformResultNames
    ? Statement.defaultTransforms(options.transformResultNames, options.transformJson ?? true).array
    : undefined
  return Effect.map(
    Client.make({
      driver: "pgfx",
      acquirer: Effect.succeed(pooled),
      // The pooled adapter is one shared object: statements need no Scope to borrow it.
      borrower: (f) => f(pooled),
      transactionAcquirer: Effect.mapError(
        Effect.map(client.acquire(), (conn) => new PgfxConnection(connectionRunner(conn, prefetch), conn)),
        (e) => toSqlError(e, "acquire"),
      ),
      compiler: makeCompiler(options.transformQueryNames, options.transformJson ?? true),
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
      const extra: Omit<PgSqlClient, keyof Client.Base> = {
        [TypeId]: TypeId,
        config: options,
        json: (value) => Statement.fragment([JsonCustom(value)]),
        listen: (channel) => listen(client, channel),
        notify: (channel, payload) => notify(client, channel, payload),
      }
      return Object.assign(sql, extra, {
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
 * Pool options with the codecs `valueTypes` asks for; in both, a string for a `json` / `jsonb`
 * parameter is the document's text, as `@effect/sql-pg` takes it.
 */
const withValueTypes = <O extends PgPoolOptions & PgSqlClientOptions>(options: O): O =>
  options.codecs !== undefined
    ? options
    : {
        ...options,
        codecs: CompatCodecs.jsonStringsAsText(
          options.valueTypes === "effect-sql-pg" ? CompatCodecs.effectSqlPg() : undefined,
        ),
      }

/** The services a layer provides: effect/sql's, @effect/sql-pg's and pgfx's. */
const services = (client: PgClient.PgClientShape, sql: Client.SqlClient & PgSqlClient) =>
  Context.make(PgClient.PgClient, client).pipe(Context.add(Client.SqlClient, sql), Context.add(SqlPgClient, sql))

/**
 * A `SqlClient` with its own pgfx pool for the current scope.
 * @since 0.1.0
 */
export const make = (
  options: PgPoolOptions & PgSqlClientOptions,
): Effect.Effect<Client.SqlClient & PgSqlClient, SqlError, Scope.Scope | Reactivity.Reactivity> =>
  Effect.flatMap(
    Effect.mapError(PgClient.make(withValueTypes(options)), (e) => toSqlError(e, "connect")),
    (client) => fromClient(client, options),
  )

/**
 * Provides `SqlClient`, `@effect/sql-pg`'s `PgClient` service ({@link SqlPgClient}, the same
 * object) and pgfx's `PgClient` (the same pool) from pool options: the one-Layer switch from
 * `@effect/sql-pg` (see docs/migrating.md).
 *
 * Errors: `SqlError` with reason `ConnectionError` / `AuthenticationError` when the pool's first
 * connections cannot be opened.
 *
 * @example
 * ```ts
 * import * as PgSqlClient from "@pgfx/sql/PgSqlClient"
 *
 * // was: PgClient.layer({ url: Redacted.make("postgres://app@localhost/app") }) from @effect/sql-pg
 * const SqlLive = PgSqlClient.layer({ url: "postgres://app@localhost/app", max: 10 })
 * ```
 * @since 0.1.0
 */
export const layer = (
  options: PgPoolOptions & PgSqlClientOptions = {},
): Layer.Layer<Client.SqlClient | PgSqlClient | PgClient.PgClient, SqlError> =>
  Layer.effectContext(
    Effect.gen(function* () {
      const client = yield* Effect.mapError(PgClient.make(withValueTypes(options)), (e) => toSqlError(e, "connect"))
      return services(client, yield* fromClient(client, options))
    }),
  ).pipe(Layer.provide(Reactivity.layer))

/**
 * Provides `SqlClient` and {@link SqlPgClient} over the `PgClient` already provided (one pool for
 * both APIs). `valueTypes` does not apply (the pool's codecs are already chosen).
 * @since 0.1.0
 */
export const layerFromClient = (
  options: PgSqlClientOptions = {},
): Layer.Layer<Client.SqlClient | PgSqlClient, never, PgClient.PgClient> =>
  Layer.effectContext(
    PgClient.PgClient.use((c) =>
      Effect.map(fromClient(c, options), (sql) =>
        Context.make(Client.SqlClient, sql as Client.SqlClient).pipe(Context.add(SqlPgClient, sql)),
      ),
    ),
  ).pipe(Layer.provide(Reactivity.layer))

/**
 * Provides `SqlClient`, {@link SqlPgClient} and `PgClient` configured through Effect's `Config`:
 * by default libpq's variables (`DATABASE_URL`, or `PGHOST`, `PGUSER`, ...) from the current
 * `ConfigProvider`, as `PgClient.layerConfig` reads them.
 *
 * Errors: `Config.ConfigError`, and `SqlError` when the pool's first connections cannot be opened.
 * @since 0.1.0
 */
export const layerConfig = (
  config?: Config.Wrap<PgClient.PgClientConfig>,
  options: PgPoolOptions & PgSqlClientOptions = {},
): Layer.Layer<Client.SqlClient | PgSqlClient | PgClient.PgClient, SqlError | Config.ConfigError> =>
  Layer.effectContext(
    Effect.gen(function* () {
      const built = yield* Effect.mapError(Layer.build(PgClient.layerConfig(config, withValueTypes(options))), (e) =>
        e._tag === "ConfigError" ? e : toSqlError(e, "connect"),
      )
      const client = Context.get(built, PgClient.PgClient)
      return services(client, yield* fromClient(client, options))
    }),
  ).pipe(Layer.provide(Reactivity.layer))
