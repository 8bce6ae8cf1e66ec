/**
 * Configuration sources and their precedence, without a server: URI, keyword/value strings,
 * PG* variables, the password file, the service file, the Effect Config form, and the
 * consistency rules of TLS and require_auth. Every error is a PgConfigError naming source and
 * key, and never the value.
 */
import * as PgConfig from "@pgfx/client/PgConfig"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Redacted } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pgfx-config-"))
/** An environment with nothing but a private HOME (no ~/.pgpass, no service file). */
const env = (extra: Record<string, string> = {}): Record<string, string> => ({ HOME: tmp, ...extra })

const resolve = (options: PgConfig.PgConnectionOptions, extra: Record<string, string> = {}) =>
  PgConfig.resolve({ environment: env(extra), ...options })

const configError = (f: () => unknown): PgConfig.PgConfigError => {
  try {
    f()
  } catch (e) {
    if (e instanceof PgConfig.PgConfigError) return e
    throw e
  }
  throw new Error("expected a PgConfigError")
}

const write = (name: string, text: string, mode = 0o600): string => {
  const file = path.join(tmp, name)
  fs.writeFileSync(file, text)
  fs.chmodSync(file, mode)
  return file
}

const tcp = (config: PgConfig.ResolvedConfig) => config.hosts.map((h) => `${h._tag}:${h.host}:${h.port}`)
const pw = (r: Redacted.Redacted<string> | undefined) => (r === undefined ? undefined : Redacted.value(r))

describe("URI", () => {
  it("reads user, password, host, port, database and percent-decodes them", () => {
    const c = resolve({ url: "postgresql://us%40er:p%3Ass%2Fw@db.example:6543/my%20db" })
    expect(c.user).toBe("us@er")
    expect(pw(c.password)).toBe("p:ss/w")
    expect(tcp(c)).toEqual(["tcp:db.example:6543"])
    expect(c.database).toBe("my db")
  })

  it("keeps a plus sign, as libpq does", () => {
    expect(pw(resolve({ url: "postgres://u:a+b@h/d" }).password)).toBe("a+b")
  })

  it("reads IPv6 hosts in brackets and several host:port pairs", () => {
    const c = resolve({ url: "postgres://u@[::1]:5433,db2,[fe80::1]/d" })
    expect(tcp(c)).toEqual(["tcp:::1:5433", "tcp:db2:5432", "tcp:fe80::1:5432"])
  })

  it("a percent-encoded path is a unix socket directory", () => {
    const c = resolve({ url: "postgres://u@%2Fvar%2Frun%2Fpg:5434/d" })
    expect(c.hosts[0]).toMatchObject({ _tag: "unix", host: "/var/run/pg", path: "/var/run/pg/.s.PGSQL.5434" })
  })

  it("query parameters are libpq keywords; unknown ones become server settings", () => {
    const c = resolve({
      url: "postgres:///d?host=/tmp/x&port=5999&sslmode=disable&application_name=app&search_path=s1&target_session_attrs=standby",
    })
    expect(c.hosts[0]).toMatchObject({ _tag: "unix", path: "/tmp/x/.s.PGSQL.5999" })
    expect(c.tls.mode).toBe("disable")
    expect(c.serverSettings).toEqual({ application_name: "app", search_path: "s1" })
    expect(c.targetSessionAttrs).toBe("standby")
  })

  it("ssl=true means sslmode=require", () => {
    expect(resolve({ url: "postgres://h/d?ssl=true" }).tls.mode).toBe("require")
  })

  it("bad input is a PgConfigError naming the part, without the value", () => {
    const bad = configError(() => resolve({ url: "postgres://u:sec%zzret@h/d" }))
    expect(bad).toMatchObject({ source: "url", key: "password" })
    expect(bad.message).not.toContain("sec")
    expect(configError(() => resolve({ url: "postgres://h:99999/d" }))).toMatchObject({ source: "url", key: "port" })
    expect(configError(() => resolve({ url: "postgres://[::1/d" }))).toMatchObject({ source: "url", key: "host" })
    expect(configError(() => resolve({ url: "postgres://h/d?sslmode=sometimes" }))).toMatchObject({
      source: "url",
      key: "sslmode",
    })
  })
})

describe("keyword/value strings", () => {
  it("reads quoted values, escapes and spaces around =", () => {
    const c = resolve({ url: "host = db1 port=5433 dbname='my db' user=a\\ b password='it\\'s \\\\ x'" })
    expect(tcp(c)).toEqual(["tcp:db1:5433"])
    expect(c.database).toBe("my db")
    expect(c.user).toBe("a b")
    expect(pw(c.password)).toBe("it's \\ x")
  })

  it("host and port lists", () => {
    expect(tcp(resolve({ url: "host=a,b,c port=1,2,3" }))).toEqual(["tcp:a:1", "tcp:b:2", "tcp:c:3"])
    expect(tcp(resolve({ url: "host=a,b port=7" }))).toEqual(["tcp:a:7", "tcp:b:7"])
    expect(configError(() => resolve({ url: "host=a,b,c port=1,2" }))).toMatchObject({ source: "dsn", key: "port" })
  })

  it("errors: missing =, unterminated quote, unknown keyword", () => {
    expect(configError(() => resolve({ url: "host" }))).toMatchObject({ source: "dsn", key: "host" })
    expect(configError(() => resolve({ url: "password='abc" }))).toMatchObject({ source: "dsn", key: "password" })
    expect(configError(() => resolve({ url: "hots=x" }))).toMatchObject({ source: "dsn", key: "hots" })
  })
})

describe("environment", () => {
  it("reads the PG* variables", () => {
    const c = resolve(
      {},
      {
        PGHOST: "e1,e2",
        PGPORT: "6001,6002",
        PGUSER: "envuser",
        PGPASSWORD: "envpw",
        PGDATABASE: "envdb",
        PGAPPNAME: "envapp",
        PGOPTIONS: "-c work_mem=8MB",
        PGSSLMODE: "require",
        PGCONNECT_TIMEOUT: "1",
        PGTARGETSESSIONATTRS: "read-write",
        PGLOADBALANCEHOSTS: "random",
        PGCHANNELBINDING: "require",
        PGSSLNEGOTIATION: "direct",
      },
    )
    expect(tcp(c)).toEqual(["tcp:e1:6001", "tcp:e2:6002"])
    expect(c.user).toBe("envuser")
    expect(pw(c.password)).toBe("envpw")
    expect(c.database).toBe("envdb")
    expect(c.serverSettings).toEqual({ application_name: "envapp", options: "-c work_mem=8MB" })
    expect(c.tls).toMatchObject({ mode: "require", negotiation: "direct" })
    expect(c.connectTimeoutMs).toBe(2000) // libpq raises 1 to 2 seconds
    expect(c.targetSessionAttrs).toBe("read-write")
    expect(c.loadBalanceHosts).toBe("random")
    expect(c.channelBinding).toBe("require")
  })

  it("PGCONNECT_TIMEOUT=0 waits forever", () => {
    expect(resolve({}, { PGCONNECT_TIMEOUT: "0" }).connectTimeoutMs).toBe(Number.POSITIVE_INFINITY)
  })

  it("a bad variable is named in the error", () => {
    expect(configError(() => resolve({}, { PGSSLMODE: "yes" }))).toMatchObject({ source: "env", key: "PGSSLMODE" })
    expect(configError(() => resolve({}, { PGPORT: "x" }))).toMatchObject({ source: "env", key: "PGPORT" })
  })

  it("environment: {} ignores process.env", () => {
    const c = PgConfig.resolve({ environment: {}, host: "h" })
    expect(c.tls.mode).toBe("prefer")
  })
})

describe("precedence", () => {
  it("options > URL > service file > environment > defaults", () => {
    const serviceFile = write("svc.conf", "[svc]\nhost=svchost\nport=7000\nuser=svcuser\ndbname=svcdb\nsslmode=allow\n")
    const e = { PGHOST: "envhost", PGUSER: "envuser", PGDATABASE: "envdb", PGAPPNAME: "envapp", PGSSLMODE: "disable" }
    const url = "postgres://urluser@urlhost/urldb?service=svc"
    const c = resolve({ url, user: "optuser", serviceFile }, e)
    expect(c.user).toBe("optuser") // options beat the URL
    expect(tcp(c)).toEqual(["tcp:urlhost:7000"]) // URL beats the service; the service fills the port
    expect(c.database).toBe("urldb")
    expect(c.tls.mode).toBe("allow") // the service beats the environment
    expect(c.serverSettings.application_name).toBe("envapp") // the environment fills the rest
    const defaults = resolve({ host: "h", user: "u" })
    expect(defaults.hosts[0]!.port).toBe(5432)
    expect(defaults.database).toBe("u")
    expect(defaults.connectTimeoutMs).toBe(60_000)
  })

  it("explicit serverSettings beat URL parameters", () => {
    const c = resolve({ url: "postgres://h/d?search_path=a&work_mem=1MB", serverSettings: { search_path: "b" } })
    expect(c.serverSettings).toEqual({ search_path: "b", work_mem: "1MB" })
  })

  it("with no host: socket directories holding a socket for the port, then localhost", () => {
    const c = resolve({ port: 1 })
    expect(c.hosts.at(-1)).toMatchObject({ _tag: "tcp", host: "localhost", port: 1 })
  })
})

describe("password file", () => {
  const pgpass = [
    "# comment",
    "other:5432:*:*:nope",
    "db\\:1:5432:app:alice:pa\\:ss\\\\word",
    "*:6000:*:bob:bobpw",
    "localhost:5432:*:carol:carolpw",
    "/srv/sock:5432:*:carol:dirpw",
  ].join("\n")

  it("matches host, port, database and user with wildcards and escapes", () => {
    const passFile = write("pgpass", pgpass)
    expect(pw(resolve({ passFile, host: "db:1", user: "alice", database: "app" }).hosts[0]!.password)).toBe(
      "pa:ss\\word",
    )
    expect(pw(resolve({ passFile, host: "anything", port: 6000, user: "bob" }).hosts[0]!.password)).toBe("bobpw")
    expect(resolve({ passFile, host: "anything", port: 6001, user: "bob" }).hosts[0]!.password).toBeUndefined()
  })

  it("is matched per host; a default socket directory counts as localhost", () => {
    const passFile = write("pgpass", pgpass)
    const c = resolve({ passFile, host: ["localhost", "/tmp", "/srv/sock", "elsewhere"], user: "carol" })
    expect(c.hosts.map((h) => pw(h.password))).toEqual(["carolpw", "carolpw", "dirpw", undefined])
  })

  it("PGPASSFILE points at it; any other password source wins", () => {
    const passFile = write("pgpass", pgpass)
    expect(pw(resolve({ host: "x", port: 6000, user: "bob" }, { PGPASSFILE: passFile }).hosts[0]!.password)).toBe(
      "bobpw",
    )
    const withPassword = resolve({ host: "x", port: 6000, user: "bob" }, { PGPASSFILE: passFile, PGPASSWORD: "env" })
    expect(withPassword.hosts[0]!.password).toBeUndefined()
    expect(pw(withPassword.password)).toBe("env")
  })

  it("is ignored with a warning when group or others can read it", () => {
    const passFile = write("pgpass-open", pgpass, 0o644)
    const c = resolve({ passFile, host: "x", port: 6000, user: "bob" })
    expect(c.hosts[0]!.password).toBeUndefined()
    expect(c.warnings.join()).toContain("group or world access")
  })

  it("~/.pgpass is the default", () => {
    write(".pgpass", "*:*:*:dave:davepw")
    try {
      expect(pw(resolve({ host: "x", user: "dave" }).hosts[0]!.password)).toBe("davepw")
    } finally {
      fs.rmSync(path.join(tmp, ".pgpass"))
    }
  })
})

describe("service file", () => {
  it("PGSERVICEFILE first, then PGSYSCONFDIR/pg_service.conf", () => {
    const user = write("user-svc.conf", "[a]\nhost=from-user\n")
    const sysdir = fs.mkdtempSync(path.join(tmp, "sys-"))
    fs.writeFileSync(path.join(sysdir, "pg_service.conf"), "# system\n[a]\nhost=from-sys\n[b]\nhost=sys-b\nport=5555\n")
    const e = { PGSERVICEFILE: user, PGSYSCONFDIR: sysdir }
    expect(tcp(resolve({ service: "a" }, e))).toEqual(["tcp:from-user:5432"])
    expect(tcp(resolve({}, { ...e, PGSERVICE: "b" }))).toEqual(["tcp:sys-b:5555"])
  })

  it("~/.pg_service.conf is the default user file", () => {
    write(".pg_service.conf", "[home]\nhost=home-host\n")
    try {
      expect(tcp(resolve({ service: "home" }))).toEqual(["tcp:home-host:5432"])
    } finally {
      fs.rmSync(path.join(tmp, ".pg_service.conf"))
    }
  })

  it("an unknown service, a nested service and a bad keyword are errors", () => {
    const file = write("bad-svc.conf", "[nested]\nservice=other\n[badkw]\nhots=x\n")
    expect(configError(() => resolve({ service: "missing", serviceFile: file }))).toMatchObject({
      source: "service",
      key: "service",
    })
    expect(configError(() => resolve({ service: "nested", serviceFile: file }))).toMatchObject({ source: "service" })
    expect(configError(() => resolve({ service: "badkw", serviceFile: file }))).toMatchObject({
      source: "service",
      key: "hots",
    })
  })
})

describe("TLS and authentication settings", () => {
  it("sslrootcert=system needs verify-full (and makes it the default)", () => {
    expect(resolve({ sslRootCert: "system" }).tls.mode).toBe("verify-full")
    expect(configError(() => resolve({ sslRootCert: "system", sslMode: "require" }))).toMatchObject({
      key: "sslmode",
    })
  })

  it("sslnegotiation=direct needs sslmode require or stronger", () => {
    expect(configError(() => resolve({ sslNegotiation: "direct" }))).toMatchObject({ key: "sslnegotiation" })
    expect(resolve({ sslNegotiation: "direct", sslMode: "require" }).tls.negotiation).toBe("direct")
  })

  it("ssl: true / an object verify like Node; ssl: false disables", () => {
    expect(resolve({ ssl: true }).tls).toMatchObject({ mode: "verify-full", nodeDefaults: true })
    expect(resolve({ ssl: { servername: "x" } }).tls.node).toEqual({ servername: "x" })
    expect(resolve({ ssl: false }).tls.mode).toBe("disable")
  })

  it("require_auth: lists, negation, and their errors", () => {
    expect(resolve({ requireAuth: "scram-sha-256,md5" }).requireAuth).toEqual(["md5", "scram-sha-256"])
    expect(resolve({ requireAuth: ["!password", "!none"] }).requireAuth).toEqual([
      "md5",
      "gss",
      "sspi",
      "scram-sha-256",
      "oauth",
    ])
    expect(configError(() => resolve({ requireAuth: "md5,!password" }))).toMatchObject({ key: "require_auth" })
    expect(configError(() => resolve({ requireAuth: "md5,md5" }))).toMatchObject({ key: "require_auth" })
    expect(configError(() => resolve({ requireAuth: "kerberos" }))).toMatchObject({ key: "require_auth" })
    expect(configError(() => resolve({}, { PGREQUIREAUTH: "bogus" }))).toMatchObject({ source: "env" })
  })

  it("unsupported libpq features are refused, not ignored", () => {
    expect(configError(() => resolve({ url: "host=h gssencmode=require" }))).toMatchObject({ key: "gssencmode" })
    expect(configError(() => resolve({ url: "host=h replication=database" }))).toMatchObject({ key: "replication" })
    expect(resolve({ url: "host=h gssencmode=prefer krbsrvname=postgres" }).hosts).toHaveLength(1)
  })

  it("server settings cannot replace user or database", () => {
    expect(configError(() => resolve({ url: "postgres://h/d?user=x", serverSettings: { user: "y" } }))).toMatchObject({
      key: "user",
    })
  })
})

describe("Effect Config", () => {
  it("reads the PG* names (or a prefix) through a ConfigProvider", () =>
    Effect.gen(function* () {
      const provider = ConfigProvider.fromUnknown({
        DB_HOST: "c1,c2",
        DB_PORT: "7001",
        DB_USER: "cfg",
        DB_PASSWORD: "cfgpw",
        DB_SSLMODE: "verify-ca",
        DB_URL: "postgres://x/urldb",
      })
      const options = yield* PgConfig.config("DB_").parse(provider)
      expect(options.host).toEqual(["c1", "c2"])
      expect(options.port).toBe(7001)
      expect(options.sslMode).toBe("verify-ca")
      const c = resolve(options)
      expect(c.database).toBe("urldb")
      expect(pw(c.password)).toBe("cfgpw")
      const plain = yield* PgConfig.config().parse(ConfigProvider.fromUnknown({ PGHOST: "h" }))
      expect(plain).toEqual({ host: "h" })
    }).pipe(Effect.runSync))

  it("a bad value is a ConfigError naming the key, not the value", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        PgConfig.config().parse(ConfigProvider.fromUnknown({ PGSSLMODE: "s3cr3t-mode", PGPASSWORD: "pw" })),
      )
      expect(Exit.isFailure(exit)).toBe(true)
      const text = String(Exit.isFailure(exit) ? exit.cause : "")
      expect(text).toContain("PGSSLMODE")
      expect(text).not.toContain("s3cr3t-mode")
    }).pipe(Effect.runSync))
})
