/**
 * `PgCurrentConnection`: the connection the current fiber is pinned to, carried in Context.
 *
 * A transaction (or anything else that must run several statements on one session) provides it
 * around its body; every pgfx entry point given the pool or a `PgClient` (`PgClient.fetch` and
 * friends, the pool's shortcuts, `PgCopy`, `PgQuery`, the `@pgfx/sql` adapter) then runs on that
 * connection instead of checking one out of the pool, so code written against `PgClient` joins
 * the surrounding transaction without being passed a connection. An open `PgTransaction` level
 * on one of the pool's connections comes first (see {@link find}).
 *
 * Only a connection that was checked out from the same pool is used, so a transaction on one
 * database never captures queries meant for another.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as PgClient from "@pgfx/client/PgClient"
 * import * as PgCurrentConnection from "@pgfx/client/PgCurrentConnection"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const conn = yield* PgClient.acquire()
 *     // Both statements run on `conn`:
 *     yield* PgCurrentConnection.provide(conn)(
 *       Effect.all([PgClient.execute("SET LOCAL work_mem = '64MB'"), PgClient.fetch("SELECT 1")]),
 *     )
 *   }),
 * )
 * ```
 * @since 0.1.0
 */
import { Effect, Option } from "effect"
import * as Route from "./internal/pool/Route.ts"
import type { PgConnection } from "./PgConnection.ts"
import { PgCurrentConnection } from "./internal/Handles.ts"
export { PgCurrentConnection } from "./internal/Handles.ts"

/**
 * Runs an effect with `conn` as the current connection.
 * @since 0.1.0
 */
export const provide =
  (conn: PgConnection) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, Exclude<R, PgCurrentConnection>> =>
    Effect.provideService(effect, PgCurrentConnection, conn)

/**
 * The connection an operation on `pool` (or on a `PgClient`'s pool) runs on from the current
 * fiber, when the fiber is pinned to one: its innermost open transaction or savepoint on one of
 * the pool's connections, else the current connection when the pool owns it. `None` means the
 * operation checks a connection out. Every pgfx entry point decides with this same rule.
 *
 * @example
 * ```ts
 * const inTransaction = yield* Effect.map(PgCurrentConnection.find(client.pool), Option.isSome)
 * ```
 * @since 0.1.0
 */
export const find = (pool: { owns(conn: PgConnection): boolean }): Effect.Effect<Option.Option<PgConnection>> =>
  Effect.withFiber((fiber) => Effect.succeed(Option.fromUndefinedOr(Route.pinned(pool, fiber.context))))
