/**
 * A throwaway primary with a streaming hot standby, for tests of several hosts,
 * `target_session_attrs` and failover.
 *
 * **How it is built** (no `pg_basebackup` needed, the embedded PostgreSQL ships only `initdb`,
 * `pg_ctl` and `postgres`): `initdb` the primary, create the roles with the single-user backend,
 * and while the primary has never run (so its data directory is a cleanly shut down cluster),
 * copy the data directory. The copy gets `standby.signal` and a `primary_conninfo` pointing at
 * the primary; both servers start, and the standby streams WAL from the primary's checkpoint
 * onwards (the primary keeps enough WAL with `wal_keep_size`).
 *
 * Each node lives in its own temp directory with its own watchdog (see `TempCluster`), so
 * stopping one (`stopPrimary`) never touches the other. Closing the scope stops and deletes
 * both. As root, both run as the unprivileged account TempCluster uses.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as TempReplicaSet from "@pgfx/testing/TempReplicaSet"
 *
 * const program = Effect.gen(function* () {
 *   const set = yield* TempReplicaSet.make()
 *   // connect to `${set.primary.host}:${set.primary.port}` and `${set.standby.port}`, e.g. with
 *   // target_session_attrs=standby
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { Effect, type Scope } from "effect"
import * as Hba from "./HbaLine.ts"
import type { HbaLine } from "./HbaLine.ts"
import type { TempClusterError } from "./TempClusterError.ts"
import { type BinarySource, findBinaries } from "./internal/binaries.ts"
import { fail } from "./internal/fail.ts"
import { sleep } from "./internal/proc.ts"
import { logSize, readLog, startPostmaster, stopPostmaster } from "./internal/server.ts"
import {
  initdb,
  provisionStatements,
  renderSettings,
  singleUser,
  type UserSpec,
  writeConfig,
} from "./internal/setup.ts"
import { chownTree, resolveRunAs, tempRoot } from "./internal/user.ts"

export { TempClusterError } from "./TempClusterError.ts"

/**
 * How to build the pair. Everything is optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Roles to create (on the primary, before the copy, so both nodes have them). */
  readonly users?: ReadonlyArray<UserSpec> | undefined
  /** The pg_hba.conf of both nodes (default: trust on loopback and the sockets, replication included). */
  readonly hba?: ReadonlyArray<HbaLine> | undefined
  /** Extra server settings for both nodes. */
  readonly settings?: Readonly<Record<string, string | number | boolean>> | undefined
  /** Directory holding `initdb` and `postgres` (default: `PGFX_PG_BINDIR`, then discovery). */
  readonly binDir?: string | undefined
  /** Account to run PostgreSQL as when we are root. */
  readonly runAs?: string | undefined
  /** How long to wait for each server to accept connections (default 60 000 ms). */
  readonly startTimeoutMillis?: number | undefined
}

/**
 * One running node.
 *
 * @since 0.1.0
 * @category models
 */
export interface Node {
  readonly host: string
  readonly port: number
  /** Directory of the unix socket `.s.PGSQL.<port>`. */
  readonly socketDir: string
  readonly dataDir: string
  readonly logFile: string
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string
  /** The end of the node's log (default: last 64 KiB). */
  readonly serverLog: (options?: { readonly maxBytes?: number | undefined }) => Effect.Effect<string>
}

/**
 * The running pair.
 *
 * @since 0.1.0
 * @category models
 */
export interface TempReplicaSetShape {
  readonly primary: Node
  readonly standby: Node
  /** Superuser of both nodes (trust auth). */
  readonly user: string
  readonly database: string
  /** Server major version. */
  readonly version: number
  readonly source: BinarySource
  /** Stops the primary at once (immediate shutdown) and deletes its directory. */
  readonly stopPrimary: () => Effect.Effect<void>
  /**
   * Promotes the standby (what `pg_ctl promote` does) and waits until it has left recovery,
   * i.e. accepts writes.
   */
  readonly promoteStandby: () => Effect.Effect<void, TempClusterError>
}

const loopback = "127.0.0.1"
const bootstrapUser = "postgres"

const io = <A>(what: string, thunk: () => A): Effect.Effect<A, TempClusterError> =>
  Effect.try({ try: thunk, catch: (cause) => fail("Io", `${what}: ${String(cause)}`, { cause }) })

/** A temp directory deleted with the scope (unless its watchdog already did). */
const nodeDir = (root: string, name: string): Effect.Effect<string, TempClusterError, Scope.Scope> =>
  Effect.acquireRelease(
    io(`creating the ${name} directory`, () => Fs.mkdtempSync(Path.join(root, `pgfx-${name}-`))),
    (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 })),
  )

interface Layout {
  readonly base: string
  readonly dataDir: string
  readonly socketDir: string
  readonly logFile: string
}

const layout = (base: string): Layout => ({
  base,
  dataDir: Path.join(base, "data"),
  socketDir: Path.join(base, "sock"),
  logFile: Path.join(base, "postgres.log"),
})

const toNode = (node: Layout, port: number): Node => ({
  host: loopback,
  port,
  socketDir: node.socketDir,
  dataDir: node.dataDir,
  logFile: node.logFile,
  url: `postgres://${bootstrapUser}@${loopback}:${port}/postgres`,
  serverLog: (options) => Effect.sync(() => readLog(node.logFile, 0, options?.maxBytes ?? 65536)),
})

/**
 * Starts a primary and a streaming hot standby for the lifetime of the current scope.
 *
 * Fails with {@link TempClusterError}: `BinariesNotFound`, `InvalidOptions`, `Initdb`,
 * `Provision`, `Start`, `StartTimeout`, `Io`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<TempReplicaSetShape, TempClusterError, Scope.Scope> =>
  Effect.gen(function* () {
    for (const line of options.hba ?? []) {
      const problem = Hba.validate(line)
      if (problem !== undefined) return yield* Effect.fail(fail("InvalidOptions", `hba: ${problem}`))
    }
    const runAs = yield* resolveRunAs(options.runAs ?? (process.env.PGFX_PG_USER || undefined))
    const binaries = yield* findBinaries({
      binDir: options.binDir ?? (process.env.PGFX_PG_BINDIR || undefined),
      source: (process.env.PGFX_TEST_PG as "auto" | "embedded" | "system" | undefined) ?? "auto",
      runAs,
    })
    const timeoutMillis = options.startTimeoutMillis ?? 60_000
    const root = tempRoot(runAs)
    const primary = layout(yield* nodeDir(root, "primary"))
    const standby = layout(yield* nodeDir(root, "standby"))
    for (const node of [primary, standby]) {
      yield* io("preparing a node directory", () => {
        Fs.mkdirSync(node.socketDir, { mode: 0o700 })
        Fs.writeFileSync(node.logFile, "")
        chownTree(node.base, runAs)
      })
    }
    yield* io("preparing the primary data directory", () => {
      Fs.mkdirSync(primary.dataDir, { mode: 0o700 })
      chownTree(primary.dataDir, runAs)
    })
    yield* initdb({
      binDir: binaries.binDir,
      dataDir: primary.dataDir,
      cwd: primary.base,
      user: bootstrapUser,
      password: undefined,
      runAs,
    })
    const common = {
      listen_addresses: loopback,
      fsync: "off",
      synchronous_commit: "off",
      full_page_writes: "off",
      shared_buffers: "32MB",
      wal_level: "replica",
      max_wal_senders: 10,
      wal_keep_size: "256MB",
      hot_standby: "on",
      ...options.settings,
    }
    const hba = Hba.renderFile(options.hba ?? Hba.defaults("trust"))
    const primarySettings = yield* renderSettings({ ...common, unix_socket_directories: primary.socketDir })
    yield* io("writing the primary configuration", () => {
      writeConfig(primary.dataDir, primarySettings)
      Fs.writeFileSync(Path.join(primary.dataDir, "pg_hba.conf"), hba)
      chownTree(primary.dataDir, runAs)
    })
    yield* singleUser({
      binDir: binaries.binDir,
      dataDir: primary.dataDir,
      cwd: primary.base,
      database: "postgres",
      runAs,
      statements: provisionStatements(bootstrapUser, options.users ?? [], []),
    })
    // The primary has never run: its data directory is a consistent, cleanly shut down cluster.
    yield* io("copying the primary data directory", () => {
      Fs.cpSync(primary.dataDir, standby.dataDir, { recursive: true, preserveTimestamps: true })
      Fs.chmodSync(standby.dataDir, 0o700)
      chownTree(standby.dataDir, runAs)
    })

    const startNode = (node: Layout, beforeStart?: () => Effect.Effect<void, TempClusterError>) =>
      startPostmaster({
        binDir: binaries.binDir,
        baseDir: node.base,
        dataDir: node.dataDir,
        logFile: node.logFile,
        runAs,
        host: loopback,
        timeoutMillis,
        beforeStart,
      })
    const started = yield* startNode(primary)
    const standbyStarted = yield* startNode(standby, () =>
      Effect.gen(function* () {
        const settings = yield* renderSettings({
          ...common,
          unix_socket_directories: standby.socketDir,
          primary_conninfo: `host=${loopback} port=${started.port} user=${bootstrapUser} application_name=pgfx_standby`,
        })
        yield* io("writing the standby configuration", () => {
          Fs.writeFileSync(Path.join(standby.dataDir, "pgfx.conf"), `# generated by @pgfx/testing\n${settings}\n`)
          Fs.writeFileSync(Path.join(standby.dataDir, "standby.signal"), "")
          chownTree(standby.dataDir, runAs)
        })
      }),
    )

    const promoteStandby = (): Effect.Effect<void, TempClusterError> =>
      Effect.gen(function* () {
        const from = logSize(standby.logFile)
        yield* io("requesting promotion", () => {
          const pid = Number(Fs.readFileSync(Path.join(standby.dataDir, "postmaster.pid"), "utf8").split("\n")[0])
          Fs.writeFileSync(Path.join(standby.dataDir, "promote"), "")
          chownTree(Path.join(standby.dataDir, "promote"), runAs)
          process.kill(pid, "SIGUSR1")
        })
        // The postmaster logs this (without "read-only") once recovery has ended.
        const deadline = Date.now() + timeoutMillis
        while (!/ready to accept connections/.test(readLog(standby.logFile, from))) {
          if (Date.now() > deadline) {
            return yield* Effect.fail(
              fail("StartTimeout", "the standby did not leave recovery after promotion", {
                logTail: readLog(standby.logFile, from, 8000),
              }),
            )
          }
          yield* sleep(25)
        }
      })

    return {
      primary: toNode(primary, started.port),
      standby: toNode(standby, standbyStarted.port),
      user: bootstrapUser,
      database: "postgres",
      version: binaries.version,
      source: binaries.source,
      stopPrimary: () => stopPostmaster(started.postmaster),
      promoteStandby,
    } satisfies TempReplicaSetShape
  })
