/**
 * What `test/globalSetup.ts` hands to the integration suites through vitest's
 * `provide`/`inject` (plain, structured-clonable data), and the vitest
 * `ProvidedContext` declaration that types `inject("pgfx")`.
 *
 * This file holds types only, so both the global setup (main process) and the
 * test workers can import it.
 */

/** The auth methods the shared cluster maps test roles to. */
export type PgfxAuthMethod = "trust" | "password" | "md5" | "scram-sha-256" | "cert"

/** A role set up for one authentication method. */
export interface PgfxTestUser {
  readonly name: string
  /** `null` for trust and cert users. */
  readonly password: string | null
  /** The hba method for this role on `127.0.0.1/32` and the unix socket (cert: hostssl only). */
  readonly method: PgfxAuthMethod
}

/** A client certificate (CN = role name) signed by the cluster's CA. */
export interface PgfxClientCert {
  readonly certFile: string
  readonly keyFile: string
  readonly certPem: string
  readonly keyPem: string
}

/** TLS material of the shared cluster (`null` when `openssl` is unavailable or the server is external). */
export interface PgfxTestTls {
  readonly caFile: string
  readonly caPem: string
  readonly serverCertFile: string
  /** Client certificates by role name: `postgres`, `pgfx_cert`. */
  readonly clientCerts: Readonly<Record<string, PgfxClientCert>>
}

/** The server the integration run uses. */
export interface PgfxTestContext {
  /** `"temp"`: started by globalSetup; `"external"`: `PGFX_TEST_URL`. */
  readonly kind: "temp" | "external"
  /** Where the binaries came from: `embedded`, `system`, `explicit`, or `external`. */
  readonly source: string
  readonly host: string
  readonly port: number
  /** Unix socket directory (connect to `${socketDir}/.s.PGSQL.${port}`); `null` if unknown. */
  readonly socketDir: string | null
  /** Superuser (trust on loopback and the socket for a temp cluster). */
  readonly user: string
  readonly password: string | null
  readonly database: string
  readonly url: string
  /** Server major version, e.g. `18` (`0` if an external server's version is unknown). */
  readonly version: number
  readonly versionString: string
  /**
   * Whether the roles in `users` exist with the hba lines described. Always true for a
   * temp cluster; for `PGFX_TEST_URL`, set `PGFX_TEST_USERS_READY=1` once you created them.
   */
  readonly usersReady: boolean
  readonly users: {
    readonly md5: PgfxTestUser
    readonly scram: PgfxTestUser
    readonly clear: PgfxTestUser
    readonly trust: PgfxTestUser
    readonly cert: PgfxTestUser
    /** A SCRAM role whose password is a sentinel no public object may ever show. */
    readonly secret: PgfxTestUser
  }
  readonly tls: PgfxTestTls | null
}

declare module "vitest" {
  export interface ProvidedContext {
    pgfx: PgfxTestContext
  }
}
