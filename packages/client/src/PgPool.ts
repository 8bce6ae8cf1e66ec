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
 * - A server that refuses new connections for a while (full: 53300; starting up: 57P03) does not
 *   fail the callers of a pool that has working connections: they wait for a released one or a
 *   retry after a backoff, and the pool stops opening connections meanwhile. What does not pass
 *   (a bad password, a missing database) fails at once. Connect failures carry `connectAttempts`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as PgPool from "@pgfx/client/PgPool"
 *
 * const program = Effect.gen(function* () {
 *   const pool = yield* PgPool.make({ url: "postgres://app@localhost/app", min: 2, max: 10 })
 *   const n = yield* pool.fetchVal("SELECT count(*) FROM users", [], { schema: Schema.BigInt }) // Option<bigint>
 *   yield* Effect.scoped(
 *     Effect.gen(function* () {
 *       const conn = yield* pool.acquire({ acquireTimeout: "2 seconds" })
 *       yield* conn.execute("UPDATE users SET seen = now() WHERE id = $1", [1])
 *     }),
 *   )
 *   console.log(n, pool.stats)
 * }).pipe(Effect.scoped)
 * ```
 * @since 0.1.0
 */
import { Cause, Context, Duration, Effect, Exit, Redacted, Scope, Clock } from "effect"
import { connectionBehind } from "./internal/connection/Internals.ts"
import { leaseOf, usable } from "./internal/pool/Lease.ts"
import { causeOf, type Member, PoolCore, type PoolSettings, type Restore } from "./internal/pool/Pool.ts"
import * as FastQuery from "./internal/query/FastQuery.ts"
import * as Reset from "./internal/pool/Reset.ts"
import * as Route from "./internal/pool/Route.ts"
import * as RowSchema from "./internal/query/RowSchema.ts"
import * as PgConfig from "./PgConfig.ts"
import type { PgConnectionOptions } from "./PgConfig.ts"
import * as PgConnection from "./PgConnection.ts"
import { PgInterfaceError, type PgPoolError, PgPoolHookError, type PgQueryError } from "./PgError.ts"
import { type Fragment, normalize } from "./PgSql.ts"
import type { AcquireOptions, ShortcutOptions } from "./internal/Options.ts"
import type { PgPool, PgPoolStats } from "./internal/Handles.ts"
export { type PgPoolError, PgPoolHookError } from "./PgError.ts"
export type { PgPool, PgPoolStats } from "./internal/Handles.ts"
export type { ShortcutOptions } from "./internal/Options.ts"
export type { AcquireOptions } from "./internal/Options.ts"

/**
 * Pool options: asyncpg's pool options plus every connection option (`url`, `host`, ...).
 *
 * `R` is what the hooks (`init`, `setup`, `reset`, `connect`) need: the services are taken from
 * the context the pool is made in (`make` requires `R`; `PgClient.layer` passes them on as the
 * Layer's requirements), and every run of a hook is given them.
 *
 * @example
 * ```ts
 * class Tenant extends Context.Service<Tenant, { readonly id: string }>()("app/Tenant") {}
 * const ClientLive = PgClient.layer({
 *   url: "postgres://app@localhost/app",
 *   setup: (conn) =>
 *     Effect.flatMap(Effect.service(Tenant), (tenant) => conn.execute("SELECT set_config('app.tenant', $1, false)", [tenant.id])),
 * }) // Layer<PgClient, PgPoolError, Tenant>
 * ```
 * @since 0.1.0
 */
export interface PgPoolOptions<R = never> extends PgConnectionOptions {
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
   * A connect refused for a reason that passes (53300 too many connections, 57P03 starting up, a
   * refused or reset connection) while the pool has other connections is retried with backoff
   * within it, the caller being served by a released connection if one comes first; the timeout
   * then carries `connectAttempts` and the last refusal as `cause` (docs/reliability.md).
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
  readonly init?: ((conn: PgConnection.PgConnection) => Effect.Effect<unknown, unknown, R>) | undefined
  /**
   * Runs on each acquire, with the handle the caller gets (e.g. to SET per-checkout settings,
   * which the reset on release undoes). A failure releases the connection and fails the acquire
   * with `PgPoolHookError`.
   */
  readonly setup?: ((conn: PgConnection.PgConnection) => Effect.Effect<unknown, unknown, R>) | undefined
  /**
   * Runs on every release, before the pool's own reset (which always runs), and is waited for
   * (bounded by `releaseTimeout`). A failure closes the connection instead of reusing it.
   */
  readonly reset?: ((conn: PgConnection.PgConnection) => Effect.Effect<unknown, unknown, R>) | undefined
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
    ((options: PgConnectionOptions) => Effect.Effect<PgConnection.PgConnection, PgPoolError, R>) | undefined
  /** The pool's name in metrics (attribute `pool`, default "default"). */
  readonly name?: string | undefined
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
    const target = connectionBehind(conn)
    if (target === undefined) {
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
export const splitOptions = <R>(options: PgPoolOptions<R>): PgConnectionOptions => {
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

  /** A member for the caller within the call's `acquireTimeout` (else the pool's). */
  private member(restore: Restore, options: AcquireOptions | undefined): Effect.Effect<Member, PgPoolError> {
    const input = options?.acquireTimeout
    if (input === undefined) return this.core.acquireMember(restore)
    return Effect.flatMap(
      Effect.try({ try: () => millis("acquireTimeout", input, undefined), catch: asConfigError }),
      (ms) => this.core.acquireMember(restore, ms),
    )
  }

  acquire(options?: AcquireOptions): Effect.Effect<PgConnection.PgConnection, PgPoolError, Scope.Scope> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Effect.scope, (scope) =>
        Effect.flatMap(this.member(restore, options), (member) => {
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
  }

  withConnection<A, E, R>(
    f: (conn: PgConnection.PgConnection) => Effect.Effect<A, E, R>,
    options?: AcquireOptions,
  ): Effect.Effect<A, E | PgPoolError, R> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(this.member(restore, options), (member) => {
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
  private run<A, E>(
    f: (conn: PgConnection.PgConnection) => Effect.Effect<A, E>,
    options: AcquireOptions | undefined,
  ): Effect.Effect<A, E | PgPoolError> {
    if (this.core.settings.setup !== undefined) return this.withConnection(f, options)
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(this.member(restore, options), (member: Member) =>
        Effect.onExit(restore(Effect.suspend(() => f(member.conn))), () => this.core.releaseNow(member, undefined)),
      ),
    )
  }

  /**
   * A shortcut: on the connection the fiber is pinned to when there is one (an open transaction
   * on one of this pool's connections, internal/pool/Route.ts), else through the fast path
   * (internal/query/FastQuery.ts) when `pick` is given and it applies, else {@link run}.
   */
  private call<A, P extends FastQuery.PickError = PgInterfaceError>(
    sql: string,
    args: ReadonlyArray<unknown>,
    maxRows: number,
    options: ShortcutOptions | undefined,
    pick: FastQuery.Pick<A, P> | undefined,
    f: (conn: PgConnection.PgConnection) => Effect.Effect<A, PgQueryError | NoInfer<P>>,
  ): Effect.Effect<A, PgQueryError | NoInfer<P> | PgPoolError> {
    return Effect.withFiber((fiber) => {
      const current = Route.pinned(this, fiber.context)
      if (current !== undefined) return f(current)
      if (pick === undefined || this.core.settings.setup !== undefined) return this.run(f, options)
      return FastQuery.poolCall(fiber, this.core, sql, args, maxRows, options, pick, () => this.run(f, options))
    })
  }

  execute(
    query: string | Fragment,
    argsOrOptions?: ReadonlyArray<unknown> | ShortcutOptions,
    maybeOptions?: ShortcutOptions,
  ) {
    const [sql, args, options] = normalize(query, argsOrOptions, maybeOptions)
    // Without arguments `execute` uses the simple protocol (several statements): no fast path.
    const pick = args === undefined || args.length === 0 ? undefined : FastQuery.pickStatus
    return this.call(sql, args ?? [], 0, options, pick, (conn) => conn.execute(sql, args, options))
  }
  readonly fetch: PgConnection.Fetch<PgQueryError | PgPoolError, never, AcquireOptions> = RowSchema.overloaded(
    (query, a, o) => {
      const [sql, args = [], options] = normalize(query, a, o)
      return this.call(sql, args, 0, options, RowSchema.rows(sql, options), (conn) =>
        RowSchema.implOf(conn.fetch)(sql, args, options),
      )
    },
  )
  readonly fetchRow: PgConnection.FetchRow<PgQueryError | PgPoolError, never, AcquireOptions> = RowSchema.overloaded(
    (query, a, o) => {
      const [sql, args = [], options] = normalize(query, a, o)
      return this.call(sql, args, 1, options, RowSchema.firstRow(sql, options), (conn) =>
        RowSchema.implOf(conn.fetchRow)(sql, args, options),
      )
    },
  )
  readonly fetchVal: PgConnection.FetchVal<PgQueryError | PgPoolError, never, AcquireOptions> = RowSchema.overloaded(
    (query, a, o) => {
      const [sql, args = [], options] = normalize(query, a, o)
      return this.call(sql, args, 1, options, RowSchema.value(sql, options), (conn) =>
        RowSchema.implOf(conn.fetchVal)(sql, args, options),
      )
    },
  )
  executeMany(query: string | Fragment, argsList: ReadonlyArray<ReadonlyArray<unknown>>, options?: ShortcutOptions) {
    return this.call("", [], 0, options, undefined, (conn) => conn.executeMany(query, argsList, options))
  }
  fetchMany(query: string | Fragment, argsList: ReadonlyArray<ReadonlyArray<unknown>>, options?: ShortcutOptions) {
    return this.call("", [], 0, options, undefined, (conn) => conn.fetchMany(query, argsList, options))
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

/**
 * The options with hooks that run with the services of `context` (the context the pool is made
 * in): what the hook's own fiber has wins (its span, its transaction, its Scope); `context` fills
 * in the rest.
 */
const provideHooks = <R>(options: PgPoolOptions<R>, context: Context.Context<R>): PgPoolOptions => {
  const provide = <I, A, E>(
    hook: ((input: I) => Effect.Effect<A, E, R>) | undefined,
  ): ((input: I) => Effect.Effect<A, E>) | undefined =>
    hook === undefined
      ? undefined
      : (input) =>
          Effect.updateContext(
            Effect.suspend(() => hook(input)),
            (current: Context.Context<never>) => Context.mergeAll(context, current),
          )
  return {
    ...options,
    init: provide(options.init),
    setup: provide(options.setup),
    reset: provide(options.reset),
    connect: provide(options.connect),
  }
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
export const make = <R = never>(
  options: PgPoolOptions<R> | string = {},
): Effect.Effect<PgPool, PgPoolError, Scope.Scope | R> =>
  Effect.gen(function* () {
    const opts = provideHooks(typeof options === "string" ? { url: options } : options, yield* Effect.context<R>())
    const connectOptions = splitOptions(opts)
    const { settings, closeTimeoutMs } = yield* Effect.try({
      try: () => {
        PgConfig.resolve(connectOptions)
        return resolveSettings(opts)
      },
      catch: asConfigError,
    })
    const core = new PoolCore(settings, Redacted.make(connectOptions), yield* Clock.Clock)
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
