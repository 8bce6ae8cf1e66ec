/**
 * `PgCurrentConnection`: the connection the current fiber is pinned to, carried in Context.
 *
 * A transaction (or anything else that must run several statements on one session) provides it
 * around its body; `PgClient`'s shortcuts (`PgClient.fetch` and friends) then run on that
 * connection instead of checking one out of the pool, so code written against `PgClient` joins
 * the surrounding transaction without being passed a connection.
 *
 * The shortcuts only use a connection that was checked out from their own pool, so a
 * transaction on one database never captures queries meant for another.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as PgClient from "@pgfx/client/PgClient"
 * import * as PgCurrentConnection from "@pgfx/client/PgCurrentConnection"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const conn = yield* PgClient.reserve
 *     // Both statements run on `conn`:
 *     yield* PgCurrentConnection.provide(conn)(
 *       Effect.all([PgClient.execute("SET LOCAL work_mem = '64MB'"), PgClient.fetch("SELECT 1")]),
 *     )
 *   }),
 * )
 * ```
 * @since 0.1.0
 */
import { Context, Effect } from "effect"
import type { PgConnection } from "./PgConnection.ts"

/**
 * The pinned connection, when there is one.
 * @since 0.1.0
 */
export class PgCurrentConnection extends Context.Service<PgCurrentConnection, PgConnection>()(
  "@pgfx/client/PgCurrentConnection",
) {}

/**
 * Runs an effect with `conn` as the current connection.
 * @since 0.1.0
 */
export const provide =
  (conn: PgConnection) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, Exclude<R, PgCurrentConnection>> =>
    Effect.provideService(effect, PgCurrentConnection, conn)
