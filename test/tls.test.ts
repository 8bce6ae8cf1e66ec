/**
 * TLS and authentication against real servers: every sslmode against a server with TLS (the
 * shared cluster) and one without (a TempCluster of this suite), a wrong CA, a certificate for
 * another host name, client certificate authentication, direct TLS, the default files under
 * ~/.postgresql, channel binding, and require_auth.
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import type { PgConnectionOptions, SslMode } from "@pgfx/client/PgConfig"
import { describe, expect, it, layer } from "@effect/vitest"
import * as TempCluster from "@pgfx/testing/TempCluster"
import { Context, Effect, Layer, Option } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as util from "node:util"
import { authUser, testCluster, testTls } from "./support/cluster.ts"
import { tcpOptions, unixOptions } from "./support/connect.ts"
import { failureOf } from "./support/failure.ts"

/** A private HOME so that no ~/.postgresql or ~/.pgpass of the machine interferes. */
const home = fs.mkdtempSync(path.join(os.tmpdir(), "pgfx-tls-home-"))
const isolated = (options: PgConnectionOptions): PgConnectionOptions => ({ environment: { HOME: home }, ...options })

/** Connects and reports whether the session is encrypted, as the server sees it. */
const sslInUse = (options: PgConnectionOptions) =>
  Effect.scoped(
    Effect.flatMap(PgConnection.make(isolated(options)), (conn) =>
      Effect.map(conn.fetchVal("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"), Option.getOrThrow),
    ),
  )

const connectError = (options: PgConnectionOptions) =>
  Effect.map(Effect.exit(Effect.scoped(PgConnection.make(isolated(options)))), failureOf)

/** A connection error's reason, or the tag of any other error. */
const reason = (e: { readonly _tag: string; readonly reason?: string }) =>
  e._tag === "PgConnectionError" ? e.reason : e._tag

/** A CA that signed nothing the servers use. */
const wrongCa = (() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgfx-wrong-ca-"))
  const file = path.join(dir, "ca.crt")
  execFileSync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    path.join(dir, "ca.key"),
    "-out",
    file,
    "-days",
    "2",
    "-subj",
    "/CN=pgfx wrong CA",
  ])
  return file
})()

const withTls = (extra: PgConnectionOptions = {}) => tcpOptions({ sslRootCert: testTls().caFile, ...extra })

describe("sslmode against a server with TLS", () => {
  const expected: ReadonlyArray<readonly [SslMode, boolean]> = [
    ["disable", false],
    ["allow", false],
    ["prefer", true],
    ["require", true],
    ["verify-ca", true],
    ["verify-full", true],
  ]
  for (const [sslMode, encrypted] of expected) {
    it.live(`${sslMode}: ${encrypted ? "encrypted" : "in clear"}`, () =>
      Effect.gen(function* () {
        expect(yield* sslInUse(withTls({ sslMode }))).toBe(encrypted)
      }),
    )
  }

  it.live("verify-full checks the host name: localhost and 127.0.0.1 are in the certificate", () =>
    Effect.gen(function* () {
      expect(yield* sslInUse(withTls({ sslMode: "verify-full", host: "localhost" }))).toBe(true)
      expect(yield* sslInUse(withTls({ sslMode: "verify-full", host: "127.0.0.1" }))).toBe(true)
    }),
  )

  it.live("require verifies nothing without a root certificate", () =>
    Effect.gen(function* () {
      expect(yield* sslInUse(tcpOptions({ sslMode: "require" }))).toBe(true)
    }),
  )

  it.live("verify-ca and verify-full need a root certificate: a typed config error", () =>
    Effect.gen(function* () {
      for (const sslMode of ["verify-ca", "verify-full"] as const) {
        const error = yield* connectError(tcpOptions({ sslMode }))
        expect(error._tag).toBe("PgConfigError")
        expect(error._tag === "PgConfigError" && error.key).toBe("sslrootcert")
      }
    }),
  )

  it.live("sslnegotiation=direct: TLS at once with ALPN (PostgreSQL 17+)", () =>
    Effect.gen(function* () {
      expect(testCluster().version).toBeGreaterThanOrEqual(17)
      expect(yield* sslInUse(withTls({ sslMode: "verify-full", sslNegotiation: "direct" }))).toBe(true)
    }),
  )

  it.live("a unix socket never uses TLS, even with sslmode=require (libpq ignores sslmode there)", () =>
    Effect.gen(function* () {
      expect(yield* sslInUse(unixOptions({ sslMode: "require" }))).toBe(false)
    }),
  )

  it.live("the default files under ~/.postgresql are used", () =>
    Effect.gen(function* () {
      const tls = testTls()
      const cert = tls.clientCerts.pgfx_cert!
      const own = fs.mkdtempSync(path.join(os.tmpdir(), "pgfx-home-"))
      fs.mkdirSync(path.join(own, ".postgresql"))
      fs.copyFileSync(tls.caFile, path.join(own, ".postgresql", "root.crt"))
      fs.writeFileSync(path.join(own, ".postgresql", "postgresql.crt"), cert.certPem)
      fs.writeFileSync(path.join(own, ".postgresql", "postgresql.key"), cert.keyPem, { mode: 0o600 })
      const user = yield* Effect.scoped(
        Effect.flatMap(
          PgConnection.make(tcpOptions({ user: "pgfx_cert", sslMode: "verify-full", environment: { HOME: own } })),
          (conn) => Effect.map(conn.fetchVal("SELECT current_user"), Option.getOrThrow),
        ),
      )
      expect(user).toBe("pgfx_cert")
    }),
  )
})

describe("a wrong CA", () => {
  it.live("verify-ca, verify-full and require (a root certificate was given) fail with a Tls error", () =>
    Effect.gen(function* () {
      for (const sslMode of ["verify-ca", "verify-full", "require"] as const) {
        const error = yield* connectError(tcpOptions({ sslMode, sslRootCert: wrongCa }))
        expect(reason(error)).toBe("Tls")
      }
    }),
  )

  it.live("prefer falls back to a plain connection when verification fails; allow never tries TLS", () =>
    Effect.gen(function* () {
      expect(yield* sslInUse(tcpOptions({ sslMode: "prefer", sslRootCert: wrongCa }))).toBe(false)
      expect(yield* sslInUse(tcpOptions({ sslMode: "allow", sslRootCert: wrongCa }))).toBe(false)
    }),
  )

  it.live("sslrootcert=system does not trust the test CA", () =>
    Effect.gen(function* () {
      expect(reason(yield* connectError(tcpOptions({ sslRootCert: "system" })))).toBe("Tls")
    }),
  )

  it.live("ssl: true verifies like Node (system CAs); an ssl object can bring its own CA", () =>
    Effect.gen(function* () {
      expect(reason(yield* connectError(tcpOptions({ ssl: true })))).toBe("Tls")
      expect(yield* sslInUse(tcpOptions({ host: "localhost", ssl: { ca: testTls().caPem } }))).toBe(true)
      expect(reason(yield* connectError(tcpOptions({ ssl: { ca: fs.readFileSync(wrongCa, "utf8") } })))).toBe("Tls")
    }),
  )
})

describe("client certificates", () => {
  const cert = () => testTls().clientCerts.pgfx_cert!

  it.live("cert authentication with sslcert and sslkey", () =>
    Effect.gen(function* () {
      const user = yield* Effect.scoped(
        Effect.flatMap(
          PgConnection.make(
            isolated(
              withTls({ user: "pgfx_cert", sslMode: "verify-full", sslCert: cert().certFile, sslKey: cert().keyFile }),
            ),
          ),
          (conn) => Effect.map(conn.fetchVal("SELECT current_user"), Option.getOrThrow),
        ),
      )
      expect(user).toBe("pgfx_cert")
    }),
  )

  it.live("the same through a Node TLS options object", () =>
    Effect.gen(function* () {
      const user = yield* Effect.scoped(
        Effect.flatMap(
          PgConnection.make(
            isolated(
              tcpOptions({
                user: "pgfx_cert",
                host: "localhost",
                ssl: { ca: testTls().caPem, cert: cert().certPem, key: cert().keyPem },
              }),
            ),
          ),
          (conn) => Effect.map(conn.fetchVal("SELECT current_user"), Option.getOrThrow),
        ),
      )
      expect(user).toBe("pgfx_cert")
    }),
  )

  it.live("without a certificate the server refuses; prefer retries in clear and is refused again", () =>
    Effect.gen(function* () {
      const required = yield* connectError(withTls({ user: "pgfx_cert", sslMode: "verify-full" }))
      expect(required._tag).toBe("PgServerError")
      const preferred = yield* connectError(tcpOptions({ user: "pgfx_cert", sslMode: "prefer" }))
      expect(preferred._tag).toBe("PgServerError")
      expect(preferred.message).toMatch(/no pg_hba.conf entry|rejects/)
      const disabled = yield* connectError(
        withTls({ user: "pgfx_cert", sslCertMode: "disable", sslCert: cert().certFile, sslKey: cert().keyFile }),
      )
      expect(disabled._tag).toBe("PgServerError")
    }),
  )

  it.live("a key file that others can read is refused, as libpq does", () =>
    Effect.gen(function* () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgfx-key-"))
      const key = path.join(dir, "client.key")
      fs.writeFileSync(key, cert().keyPem)
      fs.chmodSync(key, 0o644)
      const error = yield* connectError(withTls({ user: "pgfx_cert", sslCert: cert().certFile, sslKey: key }))
      expect(error._tag === "PgConfigError" && error.key).toBe("sslkey")
    }),
  )

  it.live("an encrypted key needs sslpassword; a wrong one is a config error without the secret", () =>
    Effect.gen(function* () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgfx-key-"))
      const key = path.join(dir, "client.key")
      execFileSync("openssl", ["pkey", "-in", cert().keyFile, "-aes256", "-passout", "pass:right-pass", "-out", key])
      fs.chmodSync(key, 0o600)
      const options = withTls({ user: "pgfx_cert", sslMode: "verify-full", sslCert: cert().certFile, sslKey: key })
      const user = yield* Effect.scoped(
        Effect.flatMap(PgConnection.make(isolated({ ...options, sslPassword: "right-pass" })), (conn) => {
          // Neither the passphrase nor the key is reachable from the connection (or its socket).
          const shown = util.inspect(conn, { depth: Infinity, showHidden: true })
          expect(shown).not.toContain("right-pass")
          expect(shown).not.toContain("PRIVATE KEY")
          return Effect.map(conn.fetchVal("SELECT current_user"), Option.getOrThrow)
        }),
      )
      expect(user).toBe("pgfx_cert")
      const error = yield* connectError({ ...options, sslPassword: "wrong-pass" })
      expect(error._tag).toBe("PgConfigError")
      expect(JSON.stringify(error) + error.message).not.toContain("wrong-pass")
    }),
  )
})

describe("channel binding and require_auth", () => {
  it.live("channel_binding=require: SCRAM-SHA-256-PLUS over TLS succeeds", () =>
    Effect.gen(function* () {
      const user = authUser("scram")
      expect(
        yield* sslInUse(
          withTls({ user: user.name, password: user.password!, sslMode: "verify-full", channelBinding: "require" }),
        ),
      ).toBe(true)
    }),
  )

  it.live("channel_binding=require refuses what cannot bind: no TLS, MD5, trust, a certificate", () =>
    Effect.gen(function* () {
      const scram = authUser("scram")
      const md5 = authUser("md5")
      const trust = authUser("trust")
      const cert = testTls().clientCerts.pgfx_cert!
      const cases: ReadonlyArray<PgConnectionOptions> = [
        tcpOptions({ user: scram.name, password: scram.password!, sslMode: "disable" }),
        withTls({ user: md5.name, password: md5.password!, sslMode: "require" }),
        withTls({ user: trust.name, sslMode: "require" }),
        withTls({ user: "pgfx_cert", sslMode: "verify-full", sslCert: cert.certFile, sslKey: cert.keyFile }),
      ]
      for (const options of cases) {
        const error = yield* connectError({ ...options, channelBinding: "require" })
        expect(error._tag).toBe("PgAuthenticationError")
      }
    }),
  )

  it.live("channel_binding=disable and prefer both work over TLS", () =>
    Effect.gen(function* () {
      const user = authUser("scram")
      for (const channelBinding of ["disable", "prefer"] as const) {
        expect(
          yield* sslInUse(withTls({ user: user.name, password: user.password!, sslMode: "require", channelBinding })),
        ).toBe(true)
      }
    }),
  )

  it.live("require_auth: none accepts certificate auth; a negated list refuses the named method", () =>
    Effect.gen(function* () {
      const cert = testTls().clientCerts.pgfx_cert!
      const certOptions = withTls({
        user: "pgfx_cert",
        sslMode: "verify-full",
        sslCert: cert.certFile,
        sslKey: cert.keyFile,
      })
      expect(yield* sslInUse({ ...certOptions, requireAuth: "none" })).toBe(true)
      expect((yield* connectError({ ...certOptions, requireAuth: "scram-sha-256" }))._tag).toBe("PgAuthenticationError")
      const scram = authUser("scram")
      const scramOptions = tcpOptions({ user: scram.name, password: scram.password! })
      expect((yield* connectError({ ...scramOptions, requireAuth: "!scram-sha-256" }))._tag).toBe(
        "PgAuthenticationError",
      )
      expect(yield* sslInUse({ ...scramOptions, requireAuth: "!password,!md5" })).toBe(true)
    }),
  )
})

class Servers extends Context.Service<
  Servers,
  { readonly plain: TempCluster.TempClusterShape; readonly otherName: TempCluster.TempClusterShape }
>()("test/tls/Servers") {}

const servers = Layer.effect(
  Servers,
  Effect.all(
    {
      plain: TempCluster.make({ url: false }),
      otherName: TempCluster.make({ url: false, tls: { serverNames: ["db.other.example"] } }),
    },
    { concurrency: 2 },
  ),
)

const on = (cluster: TempCluster.TempClusterShape, extra: PgConnectionOptions): PgConnectionOptions => ({
  host: cluster.host,
  port: cluster.port,
  user: cluster.user,
  database: cluster.database,
  ...extra,
})

layer(servers, { timeout: 120_000, excludeTestServices: true })("servers of this suite", (it) => {
  it.effect("a server without TLS: disable, allow and prefer connect in clear; require and stronger fail", () =>
    Effect.gen(function* () {
      const { plain } = yield* Servers
      for (const sslMode of ["disable", "allow", "prefer"] as const) {
        expect(yield* sslInUse(on(plain, { sslMode }))).toBe(false)
      }
      for (const sslMode of ["require", "verify-ca", "verify-full"] as const) {
        const error = yield* connectError(on(plain, { sslMode, sslRootCert: testTls().caFile }))
        expect(reason(error)).toBe("Tls")
        expect(error.message).toContain("does not support TLS")
      }
      const direct = yield* connectError(on(plain, { sslMode: "require", sslNegotiation: "direct" }))
      expect(reason(direct)).toBe("Tls")
    }),
  )

  it.effect("a certificate for another host name: verify-full fails, verify-ca and require pass", () =>
    Effect.gen(function* () {
      const { otherName } = yield* Servers
      const caFile = otherName.tls!.caFile
      const error = yield* connectError(on(otherName, { sslMode: "verify-full", sslRootCert: caFile }))
      expect(reason(error)).toBe("Tls")
      expect(error.message).toMatch(/altnames|host/i)
      expect(yield* sslInUse(on(otherName, { sslMode: "verify-ca", sslRootCert: caFile }))).toBe(true)
      expect(yield* sslInUse(on(otherName, { sslMode: "require", sslRootCert: caFile }))).toBe(true)
    }),
  )
})
