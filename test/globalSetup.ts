/**
 * Vitest global setup for the integration project: ONE PostgreSQL server for the
 * whole run, shared by every suite through `inject("pgfx")`
 * (see `test/support/cluster.ts`).
 *
 * - Default: a TempCluster (embedded PostgreSQL, or the system install with
 *   `PGFX_TEST_PG=system`, or `PGFX_PG_BINDIR`), deleted at the end of the run.
 * - `PGFX_TEST_URL=postgres://...`: use that server and start nothing. Auth suites
 *   need these roles and hba lines there too; set `PGFX_TEST_USERS_READY=1` once
 *   they exist (the table below is the recipe).
 *
 * Roles and pg_hba.conf of the temp cluster (first match wins):
 *
 * | role         | password    | stored as     | 127.0.0.1/32 and local  |
 * | ------------ | ----------- | ------------- | ----------------------- |
 * | `pgfx_md5`   | `md5pass`   | md5           | md5                     |
 * | `pgfx_scram` | `scrampass` | scram-sha-256 | scram-sha-256           |
 * | `pgfx_clear` | `clearpass` | scram-sha-256 | password                |
 * | `pgfx_trust` | -           | -             | trust                   |
 * | `pgfx_cert`  | -           | -             | hostssl: cert; hostnossl: reject; local: trust |
 * | `pgfx_secret` | `pgfx-sentinel-7c1e0b93-pw` | scram-sha-256 | scram-sha-256 (a sentinel the secrets suite looks for) |
 * | everyone else (`postgres`)  | | | trust                             |
 */
import { Effect, Exit, Scope } from "effect"
import type { TestProject } from "vitest/node"
import type { HbaLine } from "@pgfx/testing/HbaLine"
import * as TempCluster from "@pgfx/testing/TempCluster"
import type { PgfxClientCert, PgfxTestContext, PgfxTestUser } from "./support/context.ts"

const users = {
  md5: { name: "pgfx_md5", password: "md5pass", method: "md5" },
  scram: { name: "pgfx_scram", password: "scrampass", method: "scram-sha-256" },
  clear: { name: "pgfx_clear", password: "clearpass", method: "password" },
  trust: { name: "pgfx_trust", password: null, method: "trust" },
  cert: { name: "pgfx_cert", password: null, method: "cert" },
  secret: { name: "pgfx_secret", password: "pgfx-sentinel-7c1e0b93-pw", method: "scram-sha-256" },
} as const satisfies Record<string, PgfxTestUser>

const loopback = "127.0.0.1/32"

const hba: ReadonlyArray<HbaLine> = [
  ...[users.md5, users.scram, users.clear, users.trust, users.secret].flatMap((u): Array<HbaLine> => [
    { type: "host", database: "all", user: u.name, address: loopback, method: u.method },
    { type: "local", database: "all", user: u.name, method: u.method },
  ]),
  { type: "hostssl", database: "all", user: users.cert.name, address: loopback, method: "cert" },
  { type: "hostnossl", database: "all", user: users.cert.name, address: loopback, method: "reject" },
  { type: "local", database: "all", user: "all", method: "trust" },
  { type: "host", database: "all", user: "all", address: loopback, method: "trust" },
  { type: "local", database: "replication", user: "all", method: "trust" },
  { type: "host", database: "replication", user: "all", address: loopback, method: "trust" },
]

const options = (tls: boolean): TempCluster.Options => ({
  users: [
    { name: users.md5.name, password: users.md5.password, passwordEncryption: "md5" },
    { name: users.scram.name, password: users.scram.password, passwordEncryption: "scram-sha-256" },
    { name: users.clear.name, password: users.clear.password },
    { name: users.trust.name },
    { name: users.cert.name },
    { name: users.secret.name, password: users.secret.password, passwordEncryption: "scram-sha-256" },
  ],
  hba,
  tls: tls ? { clientCerts: ["postgres", users.cert.name] } : false,
})

/** Start the cluster; without TLS (loudly) if `openssl` is missing. */
const start = Effect.gen(function* () {
  return yield* TempCluster.make(options(true)).pipe(
    Effect.catchIf(
      (error) => error.reason === "Tls",
      (error) =>
        Effect.gen(function* () {
          console.warn(
            `\n[pgfx] WARNING: TLS disabled for the integration run: ${error.message}\n` +
              "[pgfx] WARNING: TLS and cert-auth suites will FAIL. Install openssl.\n",
          )
          return yield* TempCluster.make(options(false))
        }),
    ),
  )
})

const toContext = (cluster: TempCluster.TempClusterShape) =>
  Effect.gen(function* () {
    let tls: PgfxTestContext["tls"] = null
    if (cluster.tls !== undefined) {
      const clientCerts: Record<string, PgfxClientCert> = {}
      for (const name of ["postgres", users.cert.name]) {
        const cert = yield* cluster.tls.clientCert(name)
        clientCerts[name] = {
          certFile: cert.certFile,
          keyFile: cert.keyFile,
          certPem: cert.certPem,
          keyPem: cert.keyPem,
        }
      }
      tls = {
        caFile: cluster.tls.caFile,
        caPem: cluster.tls.caPem,
        serverCertFile: cluster.tls.serverCertFile,
        clientCerts,
      }
    }
    const context: PgfxTestContext = {
      kind: cluster.external ? "external" : "temp",
      source: cluster.source,
      host: cluster.host,
      port: cluster.port,
      socketDir: cluster.socketDir ?? null,
      user: cluster.user,
      password: cluster.password ?? null,
      database: cluster.database,
      url: cluster.url,
      version: cluster.version,
      versionString: cluster.versionString,
      usersReady: !cluster.external || process.env.PGFX_TEST_USERS_READY === "1",
      users,
      tls,
    }
    return context
  })

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const scope = Effect.runSync(Scope.make())
  const exit = await Effect.runPromiseExit(start.pipe(Effect.flatMap(toContext), Scope.provide(scope)))
  if (Exit.isFailure(exit)) {
    await Effect.runPromise(Scope.close(scope, exit))
    const error = Exit.findErrorOption(exit)
    const detail =
      error._tag === "Some"
        ? `${error.value.reason}: ${error.value.message}\n--- log tail ---\n${error.value.logTail}`
        : String(exit.cause)
    throw new Error(`[pgfx] could not start the integration PostgreSQL server: ${detail}`)
  }
  const context = exit.value
  project.provide("pgfx", context)
  console.log(
    `[pgfx] integration server: PostgreSQL ${context.version} (${context.source}) at ${context.host}:${context.port}` +
      (context.socketDir === null ? "" : `, socket ${context.socketDir}`) +
      (context.tls === null ? ", no TLS" : ", TLS on") +
      (context.usersReady ? "" : ", auth roles NOT declared ready (PGFX_TEST_USERS_READY)"),
  )
  return async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}
