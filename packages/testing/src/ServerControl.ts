/**
 * Stopping and starting a running {@link TempCluster}'s server, for tests of what clients do
 * while the server goes away and comes back (a restart under a connection pool).
 *
 * `stop` shuts the postmaster down (fast: backends are terminated and clients see their
 * connections closed; immediate: like a crash). `start` starts it again on the same port and
 * data directory, under the same watchdog as `TempCluster.make`, and waits until it accepts
 * connections; the restarted server is stopped when the scope of `start` closes (the cluster's
 * own scope still deletes its directory). `restart` is both.
 *
 * **Gotchas**: only for servers TempCluster started (not `PGFX_TEST_URL`). After a restart,
 * `cluster.reload()` and `cluster.setHba()` no longer reach the server (they signal the first
 * postmaster); call `start` in the same scope as the cluster, or an inner one that outlives
 * your test's use of the server.
 *
 * **Example** (A restart under a client)
 *
 * ```ts
 * import { Effect } from "effect"
 * import * as ServerControl from "@pgfx/testing/ServerControl"
 * import * as TempCluster from "@pgfx/testing/TempCluster"
 *
 * const program = Effect.gen(function* () {
 *   const cluster = yield* TempCluster.make()
 *   // ... connect ...
 *   yield* ServerControl.stop(cluster)
 *   // ... clients fail with typed errors ...
 *   yield* ServerControl.start(cluster)
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
import { isRoot } from "./internal/user.ts"
import { logSize, logTail, spawnPostmaster, type Postmaster, waitReady } from "./internal/server.ts"
import { type RunAs, sleep } from "./internal/proc.ts"

interface Local {
  readonly binDir: string
  readonly dataDir: string
  readonly logFile: string
}

const localOf = (cluster: TempClusterShape, what: string): Effect.Effect<Local, TempClusterError> =>
  cluster.external || cluster.binDir === undefined || cluster.dataDir === undefined || cluster.logFile === undefined
    ? Effect.fail(fail("External", `${what} is not available for an external server (PGFX_TEST_URL)`))
    : Effect.succeed({ binDir: cluster.binDir, dataDir: cluster.dataDir, logFile: cluster.logFile })

const postmasterPid = (dataDir: string): number | undefined => {
  try {
    const pid = Number(Fs.readFileSync(Path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0])
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const signalAndWait = (
  local: Local,
  signal: NodeJS.Signals,
  timeoutMillis: number,
): Effect.Effect<void, TempClusterError> =>
  Effect.gen(function* () {
    const pid = postmasterPid(local.dataDir)
    if (pid === undefined || !alive(pid)) return
    try {
      process.kill(pid, signal)
    } catch (cause) {
      return yield* Effect.fail(fail("Io", `cannot signal the postmaster (pid ${pid})`, { cause }))
    }
    const deadline = Date.now() + timeoutMillis
    while (alive(pid)) {
      if (Date.now() > deadline) {
        return yield* Effect.fail(
          fail("Io", `the postmaster (pid ${pid}) did not stop within ${timeoutMillis} ms`, {
            logTail: logTail(local.logFile),
          }),
        )
      }
      yield* sleep(10)
    }
  })

/**
 * Stops the cluster's server: `"fast"` (default; SIGINT, what `pg_ctl stop -m fast` sends) or
 * `"immediate"` (SIGQUIT: no shutdown checkpoint, as after a crash). Completes once the
 * postmaster has exited. Stopping a stopped server does nothing.
 *
 * @since 0.1.0
 * @category control
 */
export const stop = (
  cluster: TempClusterShape,
  options?: { readonly mode?: "fast" | "immediate" | undefined },
): Effect.Effect<void, TempClusterError> =>
  Effect.flatMap(localOf(cluster, "stop"), (local) =>
    signalAndWait(local, options?.mode === "immediate" ? "SIGQUIT" : "SIGINT", 30_000),
  )

/** The account owning the data directory (the server must run as it when we are root). */
const runAsOf = (dataDir: string): RunAs | undefined => {
  if (!isRoot()) return undefined
  const stat = Fs.statSync(dataDir)
  return { name: String(stat.uid), uid: stat.uid, gid: stat.gid }
}

/**
 * Starts the cluster's stopped server again (same port, same data directory) and waits until it
 * accepts connections. The server runs until the current scope closes.
 *
 * Fails with `Start` (the port was taken meanwhile, or postgres exited; see `logTail`) or
 * `StartTimeout`.
 *
 * @since 0.1.0
 * @category control
 */
export const start = (
  cluster: TempClusterShape,
  options?: { readonly timeoutMillis?: number | undefined },
): Effect.Effect<void, TempClusterError, Scope.Scope> =>
  Effect.gen(function* () {
    const local = yield* localOf(cluster, "start")
    const running = postmasterPid(local.dataDir)
    if (running !== undefined && alive(running)) {
      return yield* Effect.fail(fail("Start", "the server is already running"))
    }
    const logFrom = logSize(local.logFile)
    const postmaster: Postmaster = yield* Effect.acquireRelease(
      spawnPostmaster({
        binDir: local.binDir,
        dataDir: local.dataDir,
        port: cluster.port,
        logFile: local.logFile,
        cwd: Path.dirname(local.dataDir),
        runAs: runAsOf(local.dataDir),
      }),
      // Signal postgres directly (not by closing the watchdog's stdin, which would also delete the
      // cluster directory): the cluster's own scope deletes it later.
      () => Effect.ignore(signalAndWait(local, "SIGQUIT", 10_000)),
    )
    const outcome = yield* waitReady({
      postmaster,
      dataDir: local.dataDir,
      host: cluster.host,
      port: cluster.port,
      logFile: local.logFile,
      logFrom,
      timeoutMillis: options?.timeoutMillis ?? 60_000,
    })
    if (outcome === "port-in-use") {
      return yield* Effect.fail(fail("Start", `port ${cluster.port} was taken while the server was stopped`))
    }
  })

/**
 * {@link stop} then {@link start}.
 *
 * @since 0.1.0
 * @category control
 */
export const restart = (
  cluster: TempClusterShape,
  options?: { readonly mode?: "fast" | "immediate" | undefined },
): Effect.Effect<void, TempClusterError, Scope.Scope> => Effect.andThen(stop(cluster, options), start(cluster))
