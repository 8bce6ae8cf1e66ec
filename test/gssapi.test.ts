/**
 * GSSAPI (Kerberos) authentication through `@pgfx/gssapi`, end to end: a real MIT Kerberos KDC
 * (test/support/kdc.ts) with principals `alice` and `postgres/localhost`, and a PostgreSQL built
 * with GSSAPI (Debian's `postgresql`: the embedded PostgreSQL 18 is built without it) whose
 * pg_hba.conf asks for `gss` on TCP and whose `krb_server_keyfile` holds the service key.
 *
 * - with a ticket (`kinit` into a temp `KRB5CCNAME`): connected as alice, and the server's
 *   `pg_stat_gssapi` shows the principal;
 * - without a ticket: `PgAuthenticationError` caused by `GssapiError` `NoCredentials`;
 * - a wrong service name (option, URL keyword, `PGKRBSRVNAME`): `UnknownServer`;
 * - the ticket of another role: the server refuses (`PgServerError` 28000);
 * - no plugin, `gsslib=sspi`: typed errors.
 *
 * Missing Kerberos programs or a PostgreSQL without GSSAPI fail the suite; it is never skipped.
 * `.ci/run` installs `krb5-kdc krb5-admin-server krb5-user libkrb5-dev` and `postgresql`.
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import { expect, layer } from "@effect/vitest"
import * as Gssapi from "@pgfx/gssapi/Gssapi"
import * as TempCluster from "@pgfx/testing/TempCluster"
import { Context, Effect, Layer, Option } from "effect"
import { failureOf } from "./support/failure.ts"
import { realm, type TempKdc, tempKdc } from "./support/kdc.ts"

interface RealmShape {
  readonly kdc: TempKdc
  readonly cluster: TempCluster.TempClusterShape
  /** alice's credentials cache. */
  readonly ticket: string
}

class Realm extends Context.Service<Realm, RealmShape>()("test/Realm") {}

const RealmLive = Layer.effect(
  Realm,
  Effect.gen(function* () {
    const kdc = yield* tempKdc({ users: ["alice"], services: ["postgres/localhost"] })
    // the GSSAPI library of this process (the client) reads the realm's configuration
    process.env.KRB5_CONFIG = kdc.krb5Conf
    const cluster = yield* TempCluster.make({
      url: false,
      ignoreEnv: true,
      source: "system",
      users: [{ name: "alice" }, { name: "bob" }],
      hba: [
        { type: "local", database: "all", user: "all", method: "trust" },
        {
          type: "host",
          database: "all",
          user: "all",
          address: "127.0.0.1/32",
          method: "gss",
          options: { include_realm: "0" },
        },
        {
          type: "host",
          database: "all",
          user: "all",
          address: "::1/128",
          method: "gss",
          options: { include_realm: "0" },
        },
      ],
      settings: { krb_server_keyfile: kdc.serviceKeytab, listen_addresses: "127.0.0.1" },
    })
    const ticket = yield* kdc.kinit("alice")
    return { kdc, cluster, ticket }
  }),
)

/** Connects over TCP to `localhost` (the service principal is postgres/localhost) with `ccache`. */
const connect = (ccache: string, options: PgConnection.PgConnectionOptions = {}) =>
  Effect.gen(function* () {
    const { cluster } = yield* Realm
    process.env.KRB5CCNAME = ccache
    return yield* PgConnection.make({
      host: "localhost",
      port: cluster.port,
      database: "postgres",
      user: "alice",
      sslMode: "disable",
      environment: {},
      connectTimeout: "20 seconds",
      authPlugins: [Gssapi.plugin()],
      ...options,
    })
  })

const gssapiReason = (error: unknown) =>
  typeof error === "object" && error !== null && "cause" in error && error.cause instanceof Gssapi.GssapiError
    ? error.cause.reason
    : undefined

layer(RealmLive, { timeout: 120_000, excludeTestServices: true })("GSSAPI against an MIT Kerberos KDC", (it) => {
  it.effect("with a ticket: authenticated as the principal's role", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { ticket } = yield* Realm
        const conn = yield* connect(ticket, { requireAuth: "gss" })
        const row = yield* conn.fetchRow(
          "SELECT current_user AS role, principal, gss_authenticated FROM pg_stat_gssapi WHERE pid = pg_backend_pid()",
        )
        expect(Option.getOrThrow(row).toObject()).toEqual({
          role: "alice",
          principal: `alice@${realm}`,
          gss_authenticated: true,
        })
      }),
    ),
  )

  it.effect("without a ticket: PgAuthenticationError, GssapiError NoCredentials", () =>
    Effect.gen(function* () {
      const { kdc } = yield* Realm
      const error = failureOf(yield* Effect.exit(Effect.scoped(connect(`FILE:${kdc.dir}/no-such-ccache`))))
      expect(error).toMatchObject({ _tag: "PgAuthenticationError", method: "gss" })
      expect(gssapiReason(error)).toBe("NoCredentials")
    }),
  )

  it.effect("a wrong service name, from the options, the URL or PGKRBSRVNAME: GssapiError UnknownServer", () =>
    Effect.gen(function* () {
      const { ticket, cluster } = yield* Realm
      for (const options of [
        { krbSrvName: "nosuch" },
        { url: `postgres://localhost:${cluster.port}/postgres?krbsrvname=nosuch` },
        { environment: { PGKRBSRVNAME: "nosuch" } },
      ]) {
        const error = failureOf(yield* Effect.exit(Effect.scoped(connect(ticket, options))))
        expect(error).toMatchObject({ _tag: "PgAuthenticationError", method: "gss" })
        expect(gssapiReason(error)).toBe("UnknownServer")
        expect(error.message).toContain("nosuch@localhost")
      }
    }),
  )

  it.effect("alice's ticket for the role bob: the server refuses (28000)", () =>
    Effect.gen(function* () {
      const { ticket } = yield* Realm
      const error = failureOf(yield* Effect.exit(Effect.scoped(connect(ticket, { user: "bob" }))))
      expect(error).toMatchObject({ _tag: "PgServerError", code: "28000" })
    }),
  )

  it.effect("no plugin, gsslib=sspi: typed errors before any token is sent", () =>
    Effect.gen(function* () {
      const { ticket } = yield* Realm
      const none = failureOf(yield* Effect.exit(Effect.scoped(connect(ticket, { authPlugins: [] }))))
      expect(none).toMatchObject({ _tag: "PgAuthenticationError", method: "gss" })
      expect(none.message).toContain("@pgfx/gssapi")
      const sspi = failureOf(yield* Effect.exit(Effect.scoped(connect(ticket, { gssLib: "sspi" }))))
      expect(gssapiReason(sspi)).toBe("UnsupportedLibrary")
    }),
  )
})
