/**
 * `PgPool`: a pool of PostgreSQL connections with asyncpg's options and semantics, as a scoped
 * resource (the pool closes gracefully when its scope closes).
 *
 * - `acquire` is scoped: the connection goes back to the pool when the scope closes, whatever
 *   happens (success, failure, interruption, defect). Waiters are served first come, first served;
 *   interrupting a waiting acquire leaks nothing.
 * - Each checkout hands out a guarded handle: once released, any use of it (or of an Effect
 *   obtained from it) fails with `PgInterfaceError`, asyncpg's InterfaceError.
 * - The shortcuts (`execute`, `fetch`, ...) check a connection out for one call, except inside a
 *   transaction on one of the pool's connections (`PgClient.transaction`, or a pinned
 *   `PgCurrentConnection`): there they run on its connection, so they commit and roll back
 *   with it.
 * - Every release resets the session (see {@link resetSql} and the `sessionReset` option): what a
 *   borrower changed, even inside a function, never reaches the next one. The reset is written
 *   with the release and answered before the next borrower's first query, so it costs no round
 *   trip; the statement cache survives.
 * - Connections closed by the server while idle (restart, `pg_terminate_backend`, idle timeouts)
 *   leave the pool at once and are replaced on demand; a connection that breaks while checked
 *   out frees its slot at once.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as PgPool from "@pgfx/client/PgPool"
 *
 * const program = Effect.gen(function* () {
 *   const pool = yield* PgPool.make({ url: "postgres://app@localhost/app", min: 2, max: 10 })
 *   const n = yield* pool.fetchVal("SELECT count(*) FROM users")
 *   yield* Effect.scoped(
 *     Effect.gen(function* () {
 *       const conn = yield* pool.acquire
 *       yield* conn.execute("UPDATE users SET seen = now() WHERE id = $1", [1])
 *     }),
 *   )
 *   console.log(n, pool.stats)
 * }).pipe(Effect.scoped)
 * ```
 * @since 0.1.0
 */
import { Cause, Data, Duration, Effect, Exit, type Option, Redacted, Scope } from "effect"
import { Connection } from "./internal/Connection.ts"
import { leaseOf, unguard, usable } from "./internal/Lease.ts"
import { causeOf, type Member, PoolCore, type PoolSettings } from "./internal/Pool.ts"
import * as FastQuery from "./internal/FastQuery.ts"
import * as Reset from "./internal/Reset.ts"
import * as Route from "./internal/Route.ts"
import * as PgConfig from "./PgConfig.ts"
import type { PgConnectionOptions } from "./PgConfig.ts"
import * as PgConnection from "./PgConnection.ts"
import { type PgConnectError, PgInterfaceError, type PgQueryError, type PgTimeoutError } from "./PgError.ts"
import type { PgRecord } from "./PgRecord.ts"
import { type Fragment, normalize } from "./PgSql.ts"

/**
 * The `init` or `setup` hook failed; `cause` is what it failed with. (A failing `reset` never
 * fails anyone: the connection is closed instead of reused, and a warning is logged.)
 * @since 0.1.0
 */
export class PgPoolHookError extends Data.TaggedError("PgPoolHookError")<{
  readonly hook: "init" | "setup"
  readonly message: string
  readonly cause: unknown
}> {}

/**
 * Every failure acquiring from a pool can produce: connecting (`PgConnectError`), invalid
 * settings (`PgConfigError`), a failing hook (`PgPoolHookError`), the acquire timeout
 * (`PgTimeoutError`), a closed pool (`PgInterfaceError`).
 * @since 0.1.0
 */
export type PgPoolError = PgConnectError | PgConfig.PgConfigError | PgPoolHookError | PgInterfaceError | PgTimeoutError

/**
 * Pool options: asyncpg's pool options plus every connection option (`url`, `host`, ...).
 * @since 0.1.0
 */
export interface PgPoolOptions extends PgConnectionOptions {
  /** Connections opened when the pool starts (default 10, or `max` when that is smaller; asyncpg's `min_size`). */
  readonly min?: number | undefined
  /** Most connections open at once (default 10, asyncpg's `max_size`). */
  readonly max?: number | undefined
  /**
   * A connection is closed and replaced once it has run this many statements (default 50 000).
   * Counted per completed statement; checked when the connection is released.
   */
  readonly maxQueries?: number | undefined
  /** Idle connections are closed after this long unused (default 300 seconds; 0 disables). */
  readonly maxInactiveLifetime?: Duration.Input | undefined
  /**
   * Bound on one acquire: waiting for a free connection, connecting, `init` and `setup` (default:
   * none; a new connection is still bounded by `connectTimeout`). Fails with `PgTimeoutError`.
   */
  readonly acquireTimeout?: Duration.Input | undefined
  /** Bound on the `reset` hook run on release; past it the connection is closed (default 30 seconds). */
  readonly releaseTimeout?: Duration.Input | undefined
  /**
   * Bound on the graceful close the pool's scope runs; past it every connection is closed at
   * once, checked out or not (default: none, the close waits for every checkout to end).
   */
  readonly closeTimeout?: Duration.Input | undefined
  /**
   * Runs once on each new connection, before it is first used (e.g. to register codecs). A
   * failure closes the connection and fails the acquire with `PgPoolHookError`. The session is
   * reset after it, so what it changes in the session (SET, temporary tables) is not kept: put
   * per-connection settings in `serverSettings`, which every reset returns to.
   */
  readonly init?: ((conn: PgConnection.PgConnection) => Effect.Effect<unknown, unknown>) | undefined
  /**
   * Runs on each acquire, with the handle the caller gets (e.g. to SET per-checkout settings,
   * which the reset on release undoes). A failure releases the connection and fails the acquire
   * with `PgPoolHookError`.
   */
  readonly setup?: ((conn: PgConnection.PgConnection) => Effect.Effect<unknown, unknown>) | undefined
  /**
   * Runs on every release, before the pool's own reset (which always runs), and is waited for
   * (bounded by `releaseTimeout`). A failure closes the connection instead of reusing it.
   */
  readonly reset?: ((conn: PgConnection.PgConnection) => Effect.Effect<unknown, unknown>) | undefined
  /**
   * What the pool's own reset on release undoes (default `"full"`; `init` is followed by the same
   * reset):
   *
   * - `"full"`: everything a borrower can leave in a session ({@link resetSql}): an open or failed
   *   transaction, cursors, LISTEN, session advisory locks, the session user and role, every
   *   setting, temporary objects, sequence state, SQL-level prepared statements. A SQL-level
   *   prepared statement made without a `PREPARE` command the pool saw (inside a function:
   *   `EXECUTE 'PREPARE ...'`) is found by reading `pg_prepared_statements` on every release, a
   *   cost that grows with the number of prepared statements in the session (the statement
   *   cache's included); finding one closes the connection instead of reusing it, and the next
   *   borrower's first request pipelined behind it fails with a `PgConnectionError` that is safe
   *   to retry.
   * - `"noPreparedScan"`: the same without reading `pg_prepared_statements`: a SQL-level prepared
   *   statement is deallocated only when the pool saw a `PREPARE` command complete, so one made
   *   inside a function reaches the next borrower. For apps that never prepare inside functions.
   * - `"transactionOnly"`: only a transaction left open or failed is rolled back; settings, the
   *   role and session user, advisory locks, LISTEN, cursors WITH HOLD, temporary tables,
   *   sequence state and SQL-level prepared statements all reach the next borrower, and what
   *   `init` changes is kept. Nothing at all is sent when the transaction ended. For apps that
   *   promise to leave no session state behind and want the cheapest release.
   *
   * @example
   * ```ts
   * import * as PgPool from "@pgfx/client/PgPool"
   *
   * // This app never runs PREPARE inside a function: skip the per-release scan for them.
   * const pool = PgPool.make({ url: "postgres://app@localhost/app", sessionReset: "noPreparedScan" })
   * ```
   */
  readonly sessionReset?: "full" | "noPreparedScan" | "transactionOnly" | undefined
  /**
   * Opens a connection instead of `PgConnection.connect` (e.g. to fetch a fresh password). It
   * receives the pool's current connection options and must return a connection made by
   * `PgConnection.connect`.
   */
  readonly connect?:
    ((options: PgConnectionOptions) => Effect.Effect<PgConnection.PgConnection, PgPoolError>) | undefined
  /** The pool's name in metrics (attribute `pool`, default "default"). */
  readonly name?: string | undefined
}

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
   */
  readonly acquire: Effect.Effect<PgConnection.PgConnection, PgPoolError, Scope.Scope>
  /** Runs `f` with a checked-out connection and releases it when `f` ends, however it ends. */
  withConnection<A, E, R>(
    f: (conn: PgConnection.PgConnection) => Effect.Effect<A, E, R>,
  ): Effect.Effect<A, E | PgPoolError, R>
  /** `execute` on a connection checked out for this call. */
  execute(
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: PgConnection.QueryOptions,
  ): Effect.Effect<string, PgQueryError | PgPoolError>
  /** `execute` with a `sql` fragment (`PgSql`). */
  execute(query: Fragment, options?: PgConnection.QueryOptions): Effect.Effect<string, PgQueryError | PgPoolError>
  /** `fetch` on a connection checked out for this call. */
  fetch(
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: PgConnection.QueryOptions,
  ): Effect.Effect<Array<PgRecord>, PgQueryError | PgPoolError>
  /** `fetch` with a `sql` fragment (`PgSql`). */
  fetch(
    query: Fragment,
    options?: PgConnection.QueryOptions,
  ): Effect.Effect<Array<PgRecord>, PgQueryError | PgPoolError>
  /** `fetchRow` on a connection checked out for this call. */
  fetchRow(
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: PgConnection.QueryOptions,
  ): Effect.Effect<Option.Option<PgRecord>, PgQueryError | PgPoolError>
  /** `fetchRow` with a `sql` fragment (`PgSql`). */
  fetchRow(
    query: Fragment,
    options?: PgConnection.QueryOptions,
  ): Effect.Effect<Option.Option<PgRecord>, PgQueryError | PgPoolError>
  /** `fetchVal` on a connection checked out for this call. */
  fetchVal(
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: PgConnection.FetchValOptions,
  ): Effect.Effect<unknown, PgQueryError | PgPoolError>
  /** `fetchVal` with a `sql` fragment (`PgSql`). */
  fetchVal(query: Fragment, options?: PgConnection.FetchValOptions): Effect.Effect<unknown, PgQueryError | PgPoolError>
  /**
   * `executeMany` on a connection checked out for this call: every argument set pipelined in one
   * round trip, atomic (see `PgConnection.executeMany`).
   */
  executeMany(
    sql: string,
    argsList: ReadonlyArray<ReadonlyArray<unknown>>,
    options?: PgConnection.QueryOptions,
  ): Effect.Effect<void, PgQueryError | PgPoolError>
  /** `fetchMany` on a connection checked out for this call: each argument set's rows. */
  fetchMany(
    sql: string,
    argsList: ReadonlyArray<ReadonlyArray<unknown>>,
    options?: PgConnection.QueryOptions,
  ): Effect.Effect<Array<Array<PgRecord>>, PgQueryError | PgPoolError>
  /** Replaces every current connection: idle ones now, checked-out ones when released. */
  readonly expireConnections: Effect.Effect<void>
  /**
   * New connection options for connections opened from now on (existing ones stay until they
   * expire; see `expireConnections`). Fails with `PgConfigError` when they are invalid.
   */
  setConnectArgs(options: PgConnectionOptions | string): Effect.Effect<void, PgConfig.PgConfigError>
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
  owns(conn: PgConnection.PgConnection): boolean
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
 * What the pool's reset undoes on every release (after rolling back a transaction left open),
 * besides deallocating SQL-level prepared statements: cursors, LISTEN, session advisory locks,
 * the session user and role, every setting (back to the connection's startup values, which
 * include `serverSettings`), temporary objects, sequence state.
 * @since 0.1.0
 */
export const resetSql: string = Reset.undone.join(";\n")

/**
 * Resets a session now and waits for it: rolls back an open transaction, then runs
 * {@link resetSql} and deallocates every SQL-level prepared statement (`PREPARE`, also one made
 * inside a function); pgfx's own prepared statements (its statement cache) are kept. It is the
 * pool's own reset, sent as a request of the connection: a pool resets on every release by itself,
 * without a round trip; use this on a connection of your own, or as a pool's `reset` hook to
 * deallocate a function's `PREPARE` instead of closing the connection. A failure (the server
 * refused the reset) also closes the connection.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as PgConnection from "@pgfx/client/PgConnection"
 * import * as PgPool from "@pgfx/client/PgPool"
 *
 * const program = Effect.gen(function* () {
 *   const conn = yield* PgConnection.make({ url: "postgres://app@localhost/app" })
 *   yield* conn.execute("SET work_mem = '64MB'")
 *   yield* PgPool.fullReset(conn) // work_mem is back to its default
 * })
 * ```
 * @since 0.1.0
 */
export const fullReset = (conn: PgConnection.PgConnection): Effect.Effect<void, PgQueryError> =>
  Effect.flatMap(usable(conn, "reset"), () => {
    const target = unguard(conn)
    if (!(target instanceof Connection)) {
      return Effect.fail(new PgInterfaceError({ message: "fullReset needs a connection made by PgConnection.connect" }))
    }
    const request = Reset.fullReset(target)
    return target.request(request.write, request.handler)
  })

const optionKeys = [
  "min",
  "max",
  "maxQueries",
  "maxInactiveLifetime",
  "acquireTimeout",
  "releaseTimeout",
  "closeTimeout",
  "init",
  "setup",
  "reset",
  "sessionReset",
  "connect",
  "name",
] as const

/** Splits pool options from connection options. @internal */
export const splitOptions = (options: PgPoolOptions): PgConnectionOptions => {
  const connection: Record<string, unknown> = { ...options }
  for (const key of optionKeys) delete connection[key]
  return connection as PgConnectionOptions
}

const invalid = (key: string, message: string) => new PgConfig.PgConfigError({ source: "options", key, message })

const millis = (key: string, input: Duration.Input | undefined, fallback: number | undefined): number | undefined => {
  if (input === undefined) return fallback
  let ms: number
  try {
    ms = Duration.toMillis(Duration.fromInputUnsafe(input))
  } catch {
    throw invalid(key, `${key} is not a valid duration`)
  }
  if (!(ms >= 0)) throw invalid(key, `${key} must not be negative`)
  return ms
}

const count = (key: string, value: number | undefined, fallback: number, least: number): number => {
  const n = value ?? fallback
  if (!Number.isInteger(n) || n < least) throw invalid(key, `${key} must be an integer >= ${least}`)
  return n
}

const resolveSettings = (options: PgPoolOptions): { settings: PoolSettings; closeTimeoutMs: number | undefined } => {
  const min = count("min", options.min, Math.min(10, options.max ?? 10), 0)
  const max = count("max", options.max, Math.max(10, min), 1)
  if (min > max) throw invalid("min", "min must not exceed max")
  const connect = options.connect ?? PgConnection.connect
  return {
    settings: {
      name: options.name ?? "default",
      min,
      max,
      maxQueries: count("maxQueries", options.maxQueries, 50_000, 1),
      maxInactiveLifetimeMs: millis("maxInactiveLifetime", options.maxInactiveLifetime, 300_000) ?? 0,
      acquireTimeoutMs: millis("acquireTimeout", options.acquireTimeout, undefined),
      releaseTimeoutMs: millis("releaseTimeout", options.releaseTimeout, 30_000) ?? 30_000,
      init: options.init,
      setup: options.setup,
      reset: options.reset,
      sessionReset: sessionResetOf(options.sessionReset),
      connect,
      hookError: (hook, cause) =>
        new PgPoolHookError({ hook, message: `the pool's ${hook} hook failed: ${describe(cause)}`, cause }),
    },
    closeTimeoutMs: millis("closeTimeout", options.closeTimeout, undefined),
  }
}

const sessionResetOf = (scope: PgPoolOptions["sessionReset"]): Reset.ResetScope => {
  if (scope === undefined) return "full"
  if (scope === "full" || scope === "noPreparedScan" || scope === "transactionOnly") return scope
  throw invalid("sessionReset", 'sessionReset must be "full", "noPreparedScan" or "transactionOnly"')
}

const describe = (cause: unknown): string =>
  typeof cause === "object" && cause !== null && "message" in cause ? String(cause.message) : String(cause)

class Pool implements PgPool {
  readonly core: PoolCore
  readonly closeTimeoutMs: number | undefined

  readonly close: Effect.Effect<void>
  readonly terminate: Effect.Effect<void>

  constructor(core: PoolCore, closeTimeoutMs: number | undefined) {
    this.core = core
    this.closeTimeoutMs = closeTimeoutMs
    this.close = Effect.onInterrupt(core.close, () => core.terminate)
    this.terminate = core.terminate
  }

  get size(): number {
    return this.core.size
  }
  get idle(): number {
    return this.core.idle.length
  }
  get min(): number {
    return this.core.settings.min
  }
  get max(): number {
    return this.core.settings.max
  }
  get waiting(): number {
    return this.core.waiting
  }
  owns(conn: PgConnection.PgConnection): boolean {
    return leaseOf(conn)?.owner === this.core
  }
  get isClosing(): boolean {
    return this.core.closing
  }
  get stats(): PgPoolStats {
    const core = this.core
    return {
      size: core.size,
      idle: core.idle.length,
      inUse: core.checkedOut,
      waiting: core.waiting,
      min: core.settings.min,
      max: core.settings.max,
    }
  }

  /** Runs `setup` with the handle; a failure becomes `PgPoolHookError` (interruptions stay). */
  private setup(conn: PgConnection.PgConnection): Effect.Effect<void, PgPoolHookError> {
    const setup = this.core.settings.setup
    if (setup === undefined) return Effect.void
    return Effect.catchCause(Effect.asVoid(Effect.suspend(() => setup(conn))), (cause) =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.interrupt
        : Effect.fail(this.core.settings.hookError("setup", causeOf(cause))),
    )
  }

  readonly acquire: Effect.Effect<PgConnection.PgConnection, PgPoolError, Scope.Scope> = Effect.uninterruptibleMask(
    (restore) =>
      Effect.flatMap(Effect.scope, (scope) =>
        Effect.flatMap(this.core.acquireMember(restore), (member) => {
          const { lease, handle } = this.core.lease(member)
          const keep = Effect.as(Scope.addFinalizer(scope, this.core.release(member, lease)), handle)
          if (this.core.settings.setup === undefined) return keep
          return Effect.flatMap(Effect.exit(restore(this.setup(handle))), (exit) =>
            Exit.isSuccess(exit)
              ? keep
              : Effect.andThen(this.core.release(member, lease), Effect.failCause(exit.cause)),
          )
        }),
      ),
  )

  withConnection<A, E, R>(
    f: (conn: PgConnection.PgConnection) => Effect.Effect<A, E, R>,
  ): Effect.Effect<A, E | PgPoolError, R> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(this.core.acquireMember(restore), (member) => {
        const { lease, handle } = this.core.lease(member)
        const body: Effect.Effect<A, E | PgPoolHookError, R> =
          this.core.settings.setup === undefined
            ? Effect.suspend(() => f(handle))
            : Effect.flatMap(this.setup(handle), () => f(handle))
        return Effect.onExit(restore(body), () => this.core.releaseNow(member, lease))
      }),
    )
  }

  /**
   * One query on a connection checked out for it. Without a `setup` hook no handle is made: the
   * query runs on the connection itself, which never escapes this function.
   */
  private run<A>(
    f: (conn: PgConnection.PgConnection) => Effect.Effect<A, PgQueryError>,
  ): Effect.Effect<A, PgQueryError | PgPoolError> {
    if (this.core.settings.setup !== undefined) return this.withConnection(f)
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(this.core.acquireMember(restore), (member: Member) =>
        Effect.onExit(restore(Effect.suspend(() => f(member.conn))), () => this.core.releaseNow(member, undefined)),
      ),
    )
  }

  /**
   * A shortcut: on the connection the fiber is pinned to when there is one (an open transaction
   * on one of this pool's connections, internal/Route.ts), else through the fast path
   * (internal/FastQuery.ts) when `pick` is given and it applies, else {@link run}.
   */
  private call<A>(
    sql: string,
    args: ReadonlyArray<unknown>,
    maxRows: number,
    options: PgConnection.QueryOptions | undefined,
    pick: FastQuery.Pick<A> | undefined,
    f: (conn: PgConnection.PgConnection) => Effect.Effect<A, PgQueryError>,
  ): Effect.Effect<A, PgQueryError | PgPoolError> {
    return Effect.withFiber((fiber) => {
      const current = Route.pinned(this, fiber.context)
      if (current !== undefined) return f(current)
      if (pick === undefined || this.core.settings.setup !== undefined) return this.run(f)
      return FastQuery.poolCall(fiber, this.core, sql, args, maxRows, options, pick, () => this.run(f))
    })
  }

  execute(
    query: string | Fragment,
    argsOrOptions?: ReadonlyArray<unknown> | PgConnection.QueryOptions,
    maybeOptions?: PgConnection.QueryOptions,
  ) {
    const [sql, args, options] = normalize(query, argsOrOptions, maybeOptions)
    // Without arguments `execute` uses the simple protocol (several statements): no fast path.
    const pick = args === undefined || args.length === 0 ? undefined : FastQuery.pickStatus
    return this.call(sql, args ?? [], 0, options, pick, (conn) => conn.execute(sql, args, options))
  }
  fetch(
    query: string | Fragment,
    argsOrOptions?: ReadonlyArray<unknown> | PgConnection.QueryOptions,
    maybeOptions?: PgConnection.QueryOptions,
  ) {
    const [sql, args = [], options] = normalize(query, argsOrOptions, maybeOptions)
    return this.call(sql, args, 0, options, FastQuery.pickRows, (conn) => conn.fetch(sql, args, options))
  }
  fetchRow(
    query: string | Fragment,
    argsOrOptions?: ReadonlyArray<unknown> | PgConnection.QueryOptions,
    maybeOptions?: PgConnection.QueryOptions,
  ) {
    const [sql, args = [], options] = normalize(query, argsOrOptions, maybeOptions)
    return this.call(sql, args, 1, options, FastQuery.pickFirstRow, (conn) => conn.fetchRow(sql, args, options))
  }
  fetchVal(
    query: string | Fragment,
    argsOrOptions?: ReadonlyArray<unknown> | PgConnection.FetchValOptions,
    maybeOptions?: PgConnection.FetchValOptions,
  ) {
    const [sql, args = [], options] = normalize(query, argsOrOptions, maybeOptions)
    const pick = FastQuery.pickValue(options?.column ?? 0)
    return this.call(sql, args, 1, options, pick, (conn) => conn.fetchVal(sql, args, options))
  }
  executeMany(sql: string, argsList: ReadonlyArray<ReadonlyArray<unknown>>, options?: PgConnection.QueryOptions) {
    return this.call(sql, [], 0, options, undefined, (conn) => conn.executeMany(sql, argsList, options))
  }
  fetchMany(sql: string, argsList: ReadonlyArray<ReadonlyArray<unknown>>, options?: PgConnection.QueryOptions) {
    return this.call(sql, [], 0, options, undefined, (conn) => conn.fetchMany(sql, argsList, options))
  }

  readonly expireConnections: Effect.Effect<void> = Effect.sync(() => this.core.expire())

  setConnectArgs(options: PgConnectionOptions | string): Effect.Effect<void, PgConfig.PgConfigError> {
    return Effect.try({
      try: () => {
        const next: PgConnectionOptions = typeof options === "string" ? { url: options } : options
        PgConfig.resolve(next)
        this.core.connectOptions = Redacted.make(next)
      },
      catch: asConfigError,
    })
  }

  /** What the pool's scope runs: a graceful close, bounded by `closeTimeout` when set. */
  readonly shutdown: Effect.Effect<void> = Effect.suspend(() => {
    const ms = this.closeTimeoutMs
    if (ms === undefined) return this.close
    return Effect.timeoutOrElse(Effect.interruptible(this.core.close), {
      duration: ms,
      orElse: () => this.core.terminate,
    })
  })
}

const asConfigError = (e: unknown): PgConfig.PgConfigError =>
  e instanceof PgConfig.PgConfigError
    ? e
    : new PgConfig.PgConfigError({ source: "options", key: "", message: String(e) })

/**
 * Creates a pool for the current scope and opens `min` connections (concurrently; the first
 * failure fails `make`). Closing the scope closes the pool gracefully (see `closeTimeout`).
 *
 * Errors: {@link PgPoolError} — `PgConfigError` for invalid options, and what connecting or
 * `init` fails with while opening the first `min` connections.
 *
 * @example
 * ```ts
 * const program = Effect.gen(function* () {
 *   const pool = yield* PgPool.make({
 *     url: "postgres://app@localhost/app",
 *     min: 2,
 *     max: 20,
 *     acquireTimeout: "5 seconds",
 *     setup: (conn) => conn.execute("SET statement_timeout = '10s'"),
 *   })
 *   yield* pool.withConnection((conn) => conn.execute("UPDATE jobs SET done = true WHERE id = $1", [7]))
 * }).pipe(Effect.scoped)
 * ```
 * @since 0.1.0
 */
export const make = (options: PgPoolOptions | string = {}): Effect.Effect<PgPool, PgPoolError, Scope.Scope> =>
  Effect.gen(function* () {
    const opts: PgPoolOptions = typeof options === "string" ? { url: options } : options
    const connectOptions = splitOptions(opts)
    const { settings, closeTimeoutMs } = yield* Effect.try({
      try: () => {
        PgConfig.resolve(connectOptions)
        return resolveSettings(opts)
      },
      catch: asConfigError,
    })
    const core = new PoolCore(settings, Redacted.make(connectOptions))
    const pool = new Pool(core, closeTimeoutMs)
    yield* Effect.addFinalizer(() => pool.shutdown)
    core.registerMetrics(yield* Effect.context<never>())
    if (settings.maxInactiveLifetimeMs > 0) {
      yield* Effect.forkScoped(Effect.forever(Effect.suspend(() => Effect.sleep(core.sweep()))))
    }
    yield* Effect.forEach(
      Array.from({ length: settings.min }),
      () => Effect.uninterruptibleMask((restore) => core.warm(restore)),
      { concurrency: "unbounded", discard: true },
    )
    return pool as PgPool
  })
