/**
 * A throwaway connection pooler in front of a server: PgBouncer or pgpool-II, started from the
 * system's binaries (Debian's `pgbouncer` and `pgpool2` packages) on a free loopback port with a
 * generated configuration, for tests of how a client behaves behind a pooler.
 *
 * - **PgBouncer**: every database of the backend (`* = host=... port=...`), `pool_mode`
 *   `transaction` by default, `default_pool_size` 2 by default (so consecutive transactions of
 *   one client connection run on different server connections), `auth_type` `trust` or
 *   `scram-sha-256`, the users (and passwords) written to its `auth_file` (PgBouncer lets in only
 *   the users listed there, even with trust). The pooler logs in to the backend as the client's
 *   user (the backend must let it in: trust, or the same password).
 * - **pgpool-II**: one backend in its default clustering mode (`streaming_replication`, with
 *   replication checks and health checks off), `num_init_children` client slots (default 16:
 *   pgpool makes clients beyond it wait, it does not refuse them) with one cached backend
 *   connection each; no pool_hba, so the backend authenticates.
 *
 * Each pooler runs in its own temp directory under the same watchdog as TempCluster's servers
 * (killed and deleted when this process dies), as the unprivileged account TempCluster uses when
 * we are root: neither pooler runs as root. A missing binary fails with reason
 * `BinariesNotFound`: a suite that needs a pooler fails loudly, it is never skipped.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as TempCluster from "@pgfx/testing/TempCluster"
 * import * as TempPooler from "@pgfx/testing/TempPooler"
 *
 * const program = Effect.gen(function* () {
 *   const cluster = yield* TempCluster.make()
 *   const bouncer = yield* TempPooler.pgbouncer(cluster, { poolMode: "transaction", poolSize: 2 })
 *   // connect to `${bouncer.host}:${bouncer.port}` (or bouncer.url) with the cluster's users
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { Effect, type Scope } from "effect"
import type { TempClusterShape } from "./TempCluster.ts"
import type { TempClusterError } from "./TempClusterError.ts"
import { fail } from "./internal/fail.ts"
import { sslProbe } from "./internal/probe.ts"
import { type RunAs, sleep, tail } from "./internal/proc.ts"
import { freePort, readLog, spawnWatched, stopWatched, type Watched } from "./internal/server.ts"
import { chownTree, resolveRunAs, tempRoot } from "./internal/user.ts"

export { TempClusterError } from "./TempClusterError.ts"

/**
 * Where the pooler's backend is: a `TempCluster` (or any `{ host, port }`).
 *
 * @since 0.1.0
 * @category models
 */
export type Backend = Pick<TempClusterShape, "host" | "port">

/**
 * A running pooler.
 *
 * @since 0.1.0
 * @category models
 */
export interface TempPoolerShape {
  readonly kind: "pgbouncer" | "pgpool"
  readonly host: string
  readonly port: number
  /** `postgres://user@host:port/database` for the given user and database (default `postgres`). */
  readonly url: (user?: string, database?: string) => string
  /** The pooler's log file. */
  readonly logFile: string
  /** The end of the pooler's log (last 64 KiB). */
  readonly log: () => string
}

/**
 * PgBouncer's settings; everything is optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface PgBouncerOptions {
  /** `pool_mode` (default `"transaction"`). */
  readonly poolMode?: "session" | "transaction" | "statement" | undefined
  /** `default_pool_size`: server connections per user and database (default 2). */
  readonly poolSize?: number | undefined
  /** `auth_type`: `"trust"` (default) or `"scram-sha-256"` (the passwords of {@link users}). */
  readonly auth?: "trust" | "scram-sha-256" | undefined
  /** The users clients may log in as (default: `postgres`, TempCluster's superuser, no password). */
  readonly users?: ReadonlyArray<{ readonly name: string; readonly password?: string | undefined }> | undefined
  /** More `[pgbouncer]` settings (they override ours). */
  readonly settings?: Readonly<Record<string, string | number>> | undefined
  /** Account to run as when we are root (default: TempCluster's choice). */
  readonly runAs?: string | undefined
}

/**
 * pgpool-II's settings; everything is optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface PgpoolOptions {
  /** `num_init_children`: concurrent client connections (default 16; more wait, pgpool does not refuse them). */
  readonly children?: number | undefined
  /** More `pgpool.conf` settings (they override ours). */
  readonly settings?: Readonly<Record<string, string | number>> | undefined
  /** Account to run as when we are root (default: TempCluster's choice). */
  readonly runAs?: string | undefined
}

const loopback = "127.0.0.1"

const searchDirs = (): Array<string> => [
  ...(process.env.PATH ?? "").split(Path.delimiter).filter((d) => d !== ""),
  "/usr/sbin",
  "/usr/local/sbin",
  "/usr/bin",
  "/usr/local/bin",
]

/** The binary `name` from PATH or the sbin directories Debian installs daemons into. */
const findBinary = (name: string, pkg: string): Effect.Effect<string, TempClusterError> => {
  for (const dir of searchDirs()) {
    const candidate = Path.join(dir, name)
    try {
      Fs.accessSync(candidate, Fs.constants.X_OK)
      return Effect.succeed(candidate)
    } catch {
      // next
    }
  }
  return Effect.fail(
    fail("BinariesNotFound", `${name} not found (install it, e.g. Debian's "${pkg}" package: apt-get install ${pkg})`),
  )
}

const io = <A>(what: string, thunk: () => A): Effect.Effect<A, TempClusterError> =>
  Effect.try({ try: thunk, catch: (cause) => fail("Io", `${what}: ${String(cause)}`, { cause }) })

/** The pooler's own directory: deleted with the scope (or by the watchdog when we die). */
const poolerDir = (runAs: RunAs | undefined): Effect.Effect<string, TempClusterError, Scope.Scope> =>
  Effect.acquireRelease(
    io("creating the pooler directory", () => {
      const dir = Fs.mkdtempSync(Path.join(tempRoot(runAs), "pgfx-pooler-"))
      Fs.chmodSync(dir, 0o700)
      return dir
    }),
    (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 })),
  )

const quoted = (value: string | number): string =>
  typeof value === "number" ? String(value) : `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`

/**
 * Starts the pooler `command` (whose configuration is in `dir`) and waits until it answers an
 * SSLRequest on `port`; fails with its log when it exits first or does not answer in 30 s.
 */
const start = (
  kind: TempPoolerShape["kind"],
  dir: string,
  port: number,
  command: ReadonlyArray<string>,
  runAs: RunAs | undefined,
): Effect.Effect<TempPoolerShape, TempClusterError, Scope.Scope> =>
  Effect.gen(function* () {
    const logFile = Path.join(dir, `${kind}.log`)
    yield* io("preparing the pooler directory", () => {
      Fs.writeFileSync(logFile, "")
      chownTree(dir, runAs)
    })
    const watched: Watched = yield* Effect.acquireRelease(spawnWatched({ command, logFile, cwd: dir, runAs }), (w) =>
      stopWatched(w, () => undefined),
    )
    const log = () => tail(readLog(logFile, 0, 1 << 16))
    const deadline = Date.now() + 30_000
    for (;;) {
      if (watched.exit !== undefined) {
        return yield* Effect.fail(fail("Start", `${kind} exited during start-up`, { logTail: log() }))
      }
      const answer = yield* sslProbe({ host: loopback, port }, 1000)
      if (answer === "N" || answer === "S") break
      if (Date.now() > deadline) {
        return yield* Effect.fail(
          fail("StartTimeout", `${kind} did not accept connections in 30 s`, { logTail: log() }),
        )
      }
      yield* sleep(50)
    }
    return {
      kind,
      host: loopback,
      port,
      url: (user = "postgres", database = "postgres") =>
        `postgres://${encodeURIComponent(user)}@${loopback}:${port}/${encodeURIComponent(database)}`,
      logFile,
      log,
    }
  })

/**
 * Starts PgBouncer in front of `backend` (see the module header). Scoped: closing the scope
 * stops it and deletes its directory.
 *
 * @since 0.1.0
 * @category constructors
 */
export const pgbouncer = (
  backend: Backend,
  options: PgBouncerOptions = {},
): Effect.Effect<TempPoolerShape, TempClusterError, Scope.Scope> =>
  Effect.gen(function* () {
    const binary = yield* findBinary("pgbouncer", "pgbouncer")
    const runAs = yield* resolveRunAs(options.runAs ?? (process.env.PGFX_PG_USER || undefined))
    const dir = yield* poolerDir(runAs)
    const port = yield* freePort(loopback)
    const users = options.users ?? [{ name: "postgres" }]
    const settings: Record<string, string | number> = {
      listen_addr: loopback,
      listen_port: port,
      unix_socket_dir: "",
      auth_type: options.auth ?? "trust",
      auth_file: Path.join(dir, "userlist.txt"),
      pool_mode: options.poolMode ?? "transaction",
      default_pool_size: options.poolSize ?? 2,
      max_client_conn: 500,
      server_login_retry: 1,
      // Drivers send it; PgBouncer refuses startup parameters it does not know.
      ignore_startup_parameters: "extra_float_digits",
      ...options.settings,
    }
    const ini = [
      "[databases]",
      `* = host=${backend.host} port=${backend.port}`,
      "",
      "[pgbouncer]",
      ...Object.entries(settings).map(([k, v]) => `${k} = ${v}`),
      "",
    ].join("\n")
    const userlist = users
      .map((u) => `"${u.name.replace(/"/g, '""')}" "${(u.password ?? "").replace(/"/g, '""')}"`)
      .join("\n")
    yield* io("writing the PgBouncer configuration", () => {
      Fs.writeFileSync(Path.join(dir, "pgbouncer.ini"), ini)
      Fs.writeFileSync(Path.join(dir, "userlist.txt"), `${userlist}\n`, { mode: 0o600 })
    })
    return yield* start("pgbouncer", dir, port, [binary, Path.join(dir, "pgbouncer.ini")], runAs)
  })

/**
 * Starts pgpool-II in front of `backend` (see the module header). Scoped: closing the scope
 * stops it and deletes its directory.
 *
 * @since 0.1.0
 * @category constructors
 */
export const pgpool = (
  backend: Backend,
  options: PgpoolOptions = {},
): Effect.Effect<TempPoolerShape, TempClusterError, Scope.Scope> =>
  Effect.gen(function* () {
    const binary = yield* findBinary("pgpool", "pgpool2")
    const runAs = yield* resolveRunAs(options.runAs ?? (process.env.PGFX_PG_USER || undefined))
    const dir = yield* poolerDir(runAs)
    const port = yield* freePort(loopback)
    const pcpPort = yield* freePort(loopback)
    const settings: Record<string, string | number> = {
      listen_addresses: loopback,
      port,
      // pgpool 4.4 renamed socket_dir; each version ignores the other's name with a warning.
      socket_dir: dir,
      unix_socket_directories: dir,
      wd_ipc_socket_dir: dir,
      pcp_listen_addresses: "",
      pcp_port: pcpPort,
      pcp_socket_dir: dir,
      backend_clustering_mode: "streaming_replication",
      backend_hostname0: backend.host,
      backend_port0: backend.port,
      backend_weight0: 1,
      backend_flag0: "DISALLOW_TO_FAILOVER",
      num_init_children: options.children ?? 16,
      max_pool: 1,
      enable_pool_hba: "off",
      pool_passwd: "",
      sr_check_period: 0,
      health_check_period: 0,
      failover_on_backend_error: "off",
      use_watchdog: "off",
      logdir: dir,
      pid_file_name: Path.join(dir, "pgpool.pid"),
      log_destination: "stderr",
      ...options.settings,
    }
    const conf = Object.entries(settings)
      .map(([k, v]) => `${k} = ${quoted(v)}`)
      .join("\n")
    yield* io("writing the pgpool configuration", () => {
      Fs.writeFileSync(Path.join(dir, "pgpool.conf"), `${conf}\n`)
      Fs.writeFileSync(Path.join(dir, "pcp.conf"), "")
      Fs.writeFileSync(Path.join(dir, "pool_hba.conf"), "")
    })
    return yield* start(
      "pgpool",
      dir,
      port,
      [
        binary,
        "-n",
        "-f",
        Path.join(dir, "pgpool.conf"),
        "-F",
        Path.join(dir, "pcp.conf"),
        "-a",
        Path.join(dir, "pool_hba.conf"),
      ],
      runAs,
    )
  })
