/**
 * Helpers for the pool suites: pool options for the shared cluster, typed-failure extraction,
 * polling, and a peek at a pooled connection's session (whitebox: what the pool's reset saw).
 */
import { Connection } from "@pgfx/client/internal/connection/Connection"
import { unguard } from "@pgfx/client/internal/pool/Lease"
import type * as PgConnection from "@pgfx/client/PgConnection"
import type * as PgPool from "@pgfx/client/PgPool"
import { Effect } from "effect"
import { tcpOptions } from "./connect.ts"
export { failureOf } from "./failure.ts"

/** Pool options for the shared cluster (small sizes; tests override what they exercise). */
export const poolOptions = (overrides: PgPool.PgPoolOptions = {}): PgPool.PgPoolOptions => ({
  ...tcpOptions(),
  min: 0,
  max: 4,
  ...overrides,
})

/** The typed failure of an exit; throws when it succeeded or died. */

/** Polls `check` every 10 ms until it holds; fails the test after `timeoutMs`. */
export const eventually = (what: string, check: () => boolean, timeoutMs = 10_000): Effect.Effect<void> =>
  Effect.gen(function* () {
    const deadline = Date.now() + timeoutMs
    while (!check()) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`timed out waiting until ${what}`))
      yield* Effect.sleep("10 millis")
    }
  })

/** Statements the session behind a (pooled) connection has completed so far. */
export const commandCount = (conn: PgConnection.PgConnection): number => {
  const raw = unguard(conn)
  if (!(raw instanceof Connection)) throw new Error("not a pgfx connection")
  return raw.session.commandCount
}

/** The session behind a (pooled) connection. */
export const sessionOf = (conn: PgConnection.PgConnection) => {
  const raw = unguard(conn)
  if (!(raw instanceof Connection)) throw new Error("not a pgfx connection")
  return raw.session
}
