/**
 * Helpers for the pool suites: pool options for the shared cluster, typed-failure extraction,
 * polling, and a peek at a pooled connection's session (whitebox: what the pool's reset saw).
 */
import { Connection } from "@pgfx/client/internal/connection/Connection"
import { unguard } from "@pgfx/client/internal/pool/Lease"
import type * as PgConnection from "@pgfx/client/PgConnection"
import type * as PgPool from "@pgfx/client/PgPool"
import { tcpOptions } from "./connect.ts"
export { failureOf } from "./failure.ts"
export { eventually } from "./wait.ts"

/** Pool options for the shared cluster (small sizes; tests override what they exercise). */
export const poolOptions = (overrides: PgPool.PgPoolOptions = {}): PgPool.PgPoolOptions => ({
  ...tcpOptions(),
  min: 0,
  max: 4,
  ...overrides,
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
