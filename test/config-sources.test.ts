/**
 * Every configuration source reaching the real server, and the precedence between them: URI,
 * keyword/value string, options, PG* variables, the password file, the service file, an Effect
 * Config, and a password Effect.
 */
import * as PgConfig from "@pgfx/client/PgConfig"
import * as PgConnection from "@pgfx/client/PgConnection"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Option, Redacted } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { authUser, testCluster } from "./support/cluster.ts"
import { failureOf } from "./support/failure.ts"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgfx-sources-"))
const file = (name: string, text: string, mode = 0o600) => {
  const p = path.join(dir, name)
  fs.writeFileSync(p, text)
  fs.chmodSync(p, mode)
  return p
}

/** Who we are and what the session looks like, from the server's side. */
const describeSession = (options: PgConnectionOptions) =>
  Effect.scoped(
    Effect.gen(function* () {
      const conn = yield* PgConnection.make(options)
      const row = yield* conn.fetchRow(
        "SELECT current_user AS user, current_database() AS db, current_setting('application_name') AS app, " +
          "current_setting('search_path') AS path, current_setting('port')::int AS port",
      )
      return Option.getOrThrow(row).toObject()
    }),
  )

type PgConnectionOptions = PgConnection.PgConnectionOptions

/** Nothing from the machine: only what a test gives. */
const base: PgConnectionOptions = { environment: { HOME: dir }, sslMode: "disable" }

describe("each source reaches the server", () => {
  it.live("a URI with several hosts, percent-encoding and server settings", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const scram = authUser("scram")
      const url =
        `postgresql://${scram.name}:${encodeURIComponent(scram.password!)}@127.0.0.1:1,${pg.host}:${pg.port}/` +
        `${pg.database}?application_name=from%20uri&search_path=uri_path&sslmode=disable&connect_timeout=5`
      const session = yield* describeSession({ ...base, url })
      expect(session).toMatchObject({ user: scram.name, app: "from uri", path: "uri_path", port: pg.port })
    }),
  )

  it.live("a keyword/value string with quoting and command-line options", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const scram = authUser("scram")
      const dsn = `host=${pg.host} port=${pg.port} user=${scram.name} password='${scram.password}' dbname=${pg.database} application_name='kv app' options='-c search_path=kv_path'`
      const session = yield* describeSession({ ...base, url: dsn })
      expect(session).toMatchObject({ user: scram.name, app: "kv app", path: "kv_path" })
    }),
  )

  it.live("PG* environment variables, including a unix socket directory in PGHOST", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const md5 = authUser("md5")
      const environment = {
        HOME: dir,
        PGHOST: pg.socketDir!,
        PGPORT: String(pg.port),
        PGUSER: md5.name,
        PGPASSWORD: md5.password!,
        PGDATABASE: pg.database,
        PGAPPNAME: "env app",
        PGOPTIONS: "-c search_path=env_path",
      }
      const session = yield* describeSession({ environment })
      expect(session).toMatchObject({ user: md5.name, app: "env app", path: "env_path" })
    }),
  )

  it.live("the password file, over TCP and for a socket directory", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const scram = authUser("scram")
      const md5 = authUser("md5")
      const passFile = file(
        "pgpass",
        `${pg.host}:${pg.port}:*:${scram.name}:${scram.password}\n${pg.socketDir}:${pg.port}:*:${md5.name}:${md5.password}\n`,
      )
      const tcp = { ...base, host: pg.host, port: pg.port, database: pg.database, passFile }
      expect((yield* describeSession({ ...tcp, user: scram.name })).user).toBe(scram.name)
      const unix = { ...tcp, host: pg.socketDir!, user: md5.name }
      expect((yield* describeSession(unix)).user).toBe(md5.name)
      // PGPASSFILE names it too.
      const viaEnv = { ...tcp, user: scram.name, passFile: undefined, environment: { HOME: dir, PGPASSFILE: passFile } }
      expect((yield* describeSession(viaEnv)).user).toBe(scram.name)
    }),
  )

  it.live("a password file others can read is ignored (the server then asks for a password we lack)", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const scram = authUser("scram")
      const passFile = file("pgpass-open", `*:*:*:${scram.name}:${scram.password}\n`, 0o644)
      const error = failureOf(
        yield* Effect.exit(
          describeSession({ ...base, host: pg.host, port: pg.port, user: scram.name, database: pg.database, passFile }),
        ),
      )
      expect(error._tag).toBe("PgAuthenticationError")
    }),
  )

  it.live("the service file, named by option or PGSERVICE", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const scram = authUser("scram")
      const serviceFile = file(
        "services.conf",
        `# services\n[billing]\nhost=${pg.host}\nport=${pg.port}\nuser=${scram.name}\npassword=${scram.password}\ndbname=${pg.database}\napplication_name=svc app\n`,
      )
      expect(yield* describeSession({ ...base, service: "billing", serviceFile })).toMatchObject({
        user: scram.name,
        app: "svc app",
      })
      const environment = { HOME: dir, PGSERVICE: "billing", PGSERVICEFILE: serviceFile }
      expect((yield* describeSession({ sslMode: "disable", environment })).app).toBe("svc app")
      const missing = failureOf(yield* Effect.exit(describeSession({ ...base, service: "nope", serviceFile })))
      expect(missing).toMatchObject({ _tag: "PgConfigError", source: "service", key: "service" })
    }),
  )

  it.live("an Effect Config read through a ConfigProvider", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const scram = authUser("scram")
      const provider = ConfigProvider.fromUnknown({
        APP_DB_HOST: pg.host,
        APP_DB_PORT: String(pg.port),
        APP_DB_USER: scram.name,
        APP_DB_PASSWORD: scram.password!,
        APP_DB_DATABASE: pg.database,
        APP_DB_SSLMODE: "disable",
        APP_DB_APPNAME: "config app",
      })
      const options = yield* PgConfig.config("APP_DB_").parse(provider)
      expect(Redacted.isRedacted(options.password)).toBe(true)
      const session = yield* describeSession({ ...options, environment: { HOME: dir } })
      expect(session).toMatchObject({ user: scram.name, app: "config app" })
    }),
  )

  it.live("a password Effect is evaluated on every connection attempt (rotating credentials)", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const scram = authUser("scram")
      let calls = 0
      const password = Effect.sync(() => {
        calls++
        return Redacted.make(scram.password!)
      })
      const options = { ...base, host: pg.host, port: pg.port, user: scram.name, database: pg.database, password }
      yield* describeSession(options)
      yield* describeSession(options)
      expect(calls).toBe(2)
    }),
  )
})

describe("defaults", () => {
  it.live("with no host: the usual socket directories (here /tmp) are tried before localhost", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      // Make the cluster's socket appear in /tmp, where libpq-style discovery looks.
      const link = `/tmp/.s.PGSQL.${pg.port}`
      yield* Effect.acquireRelease(
        Effect.sync(() => fs.symlinkSync(path.join(pg.socketDir!, `.s.PGSQL.${pg.port}`), link)),
        () => Effect.sync(() => fs.rmSync(link, { force: true })),
      )
      const options = { ...base, port: pg.port, user: pg.user, database: pg.database }
      const hosts = PgConfig.resolve(options).hosts.map((h) => h.host)
      expect(hosts).toContain("/tmp")
      expect(hosts.at(-1)).toBe("localhost")
      const viaSocket = yield* Effect.scoped(
        Effect.flatMap(PgConnection.make(options), (conn) =>
          Effect.map(conn.fetchVal("SELECT inet_client_addr()"), Option.getOrThrow),
        ),
      )
      expect(viaSocket).toBe(null) // a unix-socket session has no client address
    }),
  )
})

describe("precedence", () => {
  it.live("options > URI > service file > environment", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const scram = authUser("scram")
      const trust = authUser("trust")
      const serviceFile = file(
        "precedence.conf",
        `[p]\nport=${pg.port}\napplication_name=from service\nuser=nobody_in_particular\n`,
      )
      const environment = {
        HOME: dir,
        PGHOST: "no-such-host.invalid",
        PGPORT: "1",
        PGUSER: "not_this_user",
        PGAPPNAME: "from env",
        PGOPTIONS: "-c search_path=env_path",
        PGPASSWORD: scram.password!,
      }
      const session = yield* describeSession({
        url: `postgres://${scram.name}@${pg.host}/${pg.database}?service=p&sslmode=disable`,
        serviceFile,
        user: trust.name, // options beat the URI's user
        environment,
      })
      expect(session).toMatchObject({
        user: trust.name,
        port: pg.port, // the service beats PGPORT
        app: "from service", // the service beats PGAPPNAME
        path: "env_path", // the environment fills what nothing else set
      })
    }),
  )

  it.live("a URI password beats PGPASSWORD, and any password beats the password file", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const scram = authUser("scram")
      const passFile = file("pgpass-wrong", `*:*:*:${scram.name}:wrong-from-file\n`)
      const url = `postgres://${scram.name}:${scram.password}@${pg.host}:${pg.port}/${pg.database}?sslmode=disable`
      const environment = { HOME: dir, PGPASSWORD: "wrong-from-env", PGPASSFILE: passFile }
      expect((yield* describeSession({ url, environment })).user).toBe(scram.name)
      // Without the URI's password, PGPASSWORD (wrong) is used, not the file (also wrong): 28P01.
      const error = failureOf(
        yield* Effect.exit(
          describeSession({
            url: `postgres://${scram.name}@${pg.host}:${pg.port}/${pg.database}?sslmode=disable`,
            environment,
          }),
        ),
      )
      expect(error._tag === "PgServerError" && error.code).toBe("28P01")
      expect(error.message).not.toContain("wrong-from")
    }),
  )

  it.live("a bad environment variable is a typed error naming it", () =>
    Effect.gen(function* () {
      const error = failureOf(
        yield* Effect.exit(describeSession({ environment: { HOME: dir, PGTARGETSESSIONATTRS: "leader" } })),
      )
      expect(error).toMatchObject({ _tag: "PgConfigError", source: "env", key: "PGTARGETSESSIONATTRS" })
    }),
  )
})
