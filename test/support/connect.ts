/**
 * Connection helpers for integration suites: options for the shared test cluster, and a scoped
 * connection with them.
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import type { PgConnectionOptions } from "@pgfx/client/PgConfig"
import { Effect } from "effect"
import { testCluster } from "./cluster.ts"

/** Options that reach the shared cluster over TCP as its superuser, plus overrides. */
export const tcpOptions = (overrides: PgConnectionOptions = {}): PgConnectionOptions => {
  const pg = testCluster()
  return { host: pg.host, port: pg.port, user: pg.user, database: pg.database, ...overrides }
}

/** Options that reach the shared cluster over its unix socket directory. */
export const unixOptions = (overrides: PgConnectionOptions = {}): PgConnectionOptions => {
  const pg = testCluster()
  if (pg.socketDir === null) throw new Error("the test server has no unix socket directory (external server)")
  return { host: pg.socketDir, port: pg.port, user: pg.user, database: pg.database, ...overrides }
}

/** A scoped superuser connection to the shared cluster. */
export const connect = (overrides: PgConnectionOptions = {}) => PgConnection.make(tcpOptions(overrides))

/** Runs `f` with a fresh connection, outside the caller's connections (e.g. to observe the server). */
export const withAdmin = <A, E>(f: (conn: PgConnection.PgConnection) => Effect.Effect<A, E>) =>
  Effect.scoped(Effect.flatMap(connect({ applicationName: "pgfx-test-admin" }), f))
