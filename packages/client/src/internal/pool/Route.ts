/**
 * Where an operation runs: the one answer every entry point that is given a pool or a client (or
 * runs with `PgClient` in context) uses.
 *
 * 1. The innermost active transaction level (or savepoint) the fiber carries (`PgTransaction`)
 *    whose connection was checked out from that pool;
 * 2. else `PgCurrentConnection`, when it was checked out from that pool;
 * 3. else a checkout for the length of the operation: {@link withConnection} for one Effect,
 *    {@link scoped} for the current Scope, {@link stream} for a Stream's own scope.
 *
 * A connection given explicitly is used as it is. Entry points never call the pool's `acquire`
 * or `withConnection` themselves (test/routing.test.ts lists where the source may).
 *
 * @example
 * ```ts
 * const copy = (target: Route.Target) => Route.withConnection(target, (conn) => conn.execute("..."))
 * ```
 * @internal
 */
import { Context, Effect, type Scope, Stream } from "effect"
import { type PgConnection, PgCurrentConnection, type PgPool, PgTransaction } from "../Handles.ts"
import type { PgPoolError } from "../../PgError.ts"
import type { AcquireOptions } from "../Options.ts"

/** The part of a pool the answer needs: whether a handle was checked out from it. */
export interface Owner {
  owns(conn: PgConnection): boolean
}

/** What an entry point may be given: a connection, a pool, or a client (anything with a pool). */
export type Target = PgConnection | PgPool | { readonly pool: PgPool }

const isPool = (target: Target): target is PgPool => "owns" in target && "acquire" in target

/** The pool behind `target`, or undefined when `target` is a connection. */
export const poolOf = (target: Target): PgPool | undefined =>
  isPool(target) ? target : "pool" in target && isPool(target.pool) ? target.pool : undefined

/**
 * The connection `context` pins to `pool`: the innermost active transaction level on one of its
 * connections, else `PgCurrentConnection` when it is one of them; undefined otherwise.
 */
export const pinned = (pool: Owner, context: Context.Context<never>): PgConnection | undefined => {
  for (let level = Context.getOrUndefined(context, PgTransaction); level !== undefined; level = level.outer) {
    if (level.isActive && pool.owns(level.connection)) return level.connection
  }
  const current = Context.getOrUndefined(context, PgCurrentConnection)
  return current !== undefined && pool.owns(current) ? current : undefined
}

/** Runs `f` where the operation runs (see the module header), for the length of `f`. */
export const withConnection = <A, E, R>(
  target: Target,
  f: (conn: PgConnection) => Effect.Effect<A, E, R>,
  options?: AcquireOptions,
): Effect.Effect<A, E | PgPoolError, R> => {
  const pool = poolOf(target)
  if (pool === undefined) return Effect.suspend(() => f(target as PgConnection))
  return Effect.withFiber((fiber) => {
    const current = pinned(pool, fiber.context)
    return current !== undefined ? f(current) : pool.withConnection(f, options)
  })
}

/** The connection the operation runs on, checked out for the current Scope when there is none. */
export const scoped = (
  target: Target,
  options?: AcquireOptions,
): Effect.Effect<PgConnection, PgPoolError, Scope.Scope> => {
  const pool = poolOf(target)
  if (pool === undefined) return Effect.succeed(target as PgConnection)
  return Effect.withFiber((fiber): Effect.Effect<PgConnection, PgPoolError, Scope.Scope> => {
    const current = pinned(pool, fiber.context)
    return current !== undefined ? Effect.succeed(current) : pool.acquire(options)
  })
}

/**
 * A Stream on the connection the operation runs on; a checkout is made when the Stream starts
 * and held in the Stream's own scope (released however it ends).
 */
export const stream = <A, E, R>(
  target: Target,
  f: (conn: PgConnection) => Stream.Stream<A, E, R>,
  options?: AcquireOptions,
): Stream.Stream<A, E | PgPoolError, R> => Stream.unwrap(Effect.map(scoped(target, options), f))
