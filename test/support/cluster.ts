/**
 * Access to the integration run's PostgreSQL server from test files.
 *
 * ```ts
 * import { testCluster } from "./support/cluster.ts"
 *
 * const pg = testCluster()
 * // pg.host, pg.port, pg.socketDir, pg.user, pg.database, pg.version, pg.users.scram, pg.tls ...
 * ```
 */
import { inject } from "vitest"
import type { PgfxTestContext, PgfxTestTls, PgfxTestUser } from "./context.ts"

export type { PgfxAuthMethod, PgfxClientCert, PgfxTestContext, PgfxTestTls, PgfxTestUser } from "./context.ts"

/** The server started by `test/globalSetup.ts` (or described by `PGFX_TEST_URL`). */
export const testCluster = (): PgfxTestContext => {
  const context = inject("pgfx")
  if (context === undefined) {
    throw new Error(
      'no "pgfx" context: run integration tests through the "integration" vitest project (test/globalSetup.ts)',
    )
  }
  return context
}

/**
 * The role for an auth method. Throws (loudly, never skips silently) when the
 * server is external and the roles were not declared ready.
 */
export const authUser = (kind: keyof PgfxTestContext["users"]): PgfxTestUser => {
  const context = testCluster()
  if (!context.usersReady) {
    throw new Error(
      `auth test roles are not set up on the external server ${context.url}; create them as described in ` +
        "test/globalSetup.ts and set PGFX_TEST_USERS_READY=1",
    )
  }
  return context.users[kind]
}

/** TLS material of the shared cluster; throws when the cluster has none. */
export const testTls = (): PgfxTestTls => {
  const tls = testCluster().tls
  if (tls === null) throw new Error("the test cluster has no TLS (openssl missing, or an external server)")
  return tls
}
