/**
 * Running the postmaster: spawn, wait until ready, reload, stop, and two safety
 * nets for servers whose scope never got to close.
 *
 * The postmaster is started by us (not by `pg_ctl`, which detaches it) under a
 * small `/bin/sh` watchdog: the shell runs postgres in the background and exits
 * with its status, while a helper blocks reading the shell's stdin, a pipe from
 * this process. If this process dies in any way (even SIGKILL), the pipe closes,
 * the helper sends SIGQUIT (immediate shutdown) to the postmaster and the shell
 * deletes the cluster directory. On a normal `process.exit`, an exit hook does the
 * same synchronously. Server output goes to the log file.
 *
 * Readiness is read from `postmaster.pid` (line 8 becomes `ready`, as `pg_ctl -w`
 * does) and confirmed by a TCP SSLRequest round trip.
 *
 * @internal
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Path from "node:path"
import { Effect, type Scope } from "effect"
import type { TempClusterError } from "../TempClusterError.ts"
import { fail } from "./fail.ts"
import { sslProbe } from "./probe.ts"
import { type RunAs, sleep, tail, toolEnv } from "./proc.ts"

/** A server process started under the watchdog (see {@link spawnWatched}). */
export interface Watched {
  /** The process we spawned: the watchdog shell (or the server itself on Windows). */
  readonly child: ChildProcess
  /** Set once the process has exited. */
  exit: { readonly code: number | null; readonly signal: string | null } | undefined
  readonly exited: Promise<void>
}

export interface Postmaster extends Watched {
  readonly dataDir: string
}

const exe = process.platform === "win32" ? ".exe" : ""

// ---------------------------------------------------------------------------
// log helpers

export const logSize = (logFile: string): number => {
  try {
    return Fs.statSync(logFile).size
  } catch {
    return 0
  }
}

/** Read the log from byte `from` to the end (at most `maxBytes`, keeping the end). */
export const readLog = (logFile: string, from = 0, maxBytes = 1 << 20): string => {
  let fd: number
  try {
    fd = Fs.openSync(logFile, "r")
  } catch {
    return ""
  }
  try {
    const size = Fs.fstatSync(fd).size
    const start = Math.max(from, size - maxBytes)
    if (start >= size) return ""
    const buffer = Buffer.alloc(size - start)
    Fs.readSync(fd, buffer, 0, buffer.length, start)
    return buffer.toString("utf8")
  } finally {
    Fs.closeSync(fd)
  }
}

export const logTail = (logFile: string, maxChars = 4000): string => tail(readLog(logFile, 0, maxChars * 2), maxChars)

// ---------------------------------------------------------------------------
// exit hook

interface Reapable {
  readonly dataDir: string
  readonly baseDir: string
}

interface Reaper {
  readonly live: Set<Reapable>
}

const reaperKey = Symbol.for("@pgfx/testing/TempCluster/reaper")

/** The postmaster's pid, from line 1 of `postmaster.pid`. */
const postgresPid = (dataDir: string): number | undefined => {
  try {
    const pid = Number(Fs.readFileSync(Path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0])
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

const signal = (pid: number | undefined, name: NodeJS.Signals): boolean => {
  if (pid === undefined) return false
  try {
    process.kill(pid, name)
    return true
  } catch {
    return false
  }
}

const sleepSync = (millis: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, millis)
}

const reapAll = (reaper: Reaper): void => {
  const live = [...reaper.live]
  reaper.live.clear()
  const pids = live.map((server) => postgresPid(server.dataDir))
  for (const pid of pids) signal(pid, "SIGQUIT")
  // The postmaster removes postmaster.pid when it exits; give it a moment.
  const deadline = Date.now() + 2000
  for (const [i, server] of live.entries()) {
    while (Fs.existsSync(Path.join(server.dataDir, "postmaster.pid")) && Date.now() < deadline) sleepSync(20)
    signal(pids[i], "SIGKILL")
    try {
      Fs.rmSync(server.baseDir, { recursive: true, force: true })
    } catch {
      // best effort
    }
  }
}

/** The process-wide registry of running servers (shared across module instances). */
const reaper = (): Reaper => {
  const holder = globalThis as { [reaperKey]?: Reaper }
  let existing = holder[reaperKey]
  if (existing === undefined) {
    const created: Reaper = { live: new Set() }
    existing = created
    holder[reaperKey] = created
    process.once("exit", () => reapAll(created))
  }
  return existing
}

/** Track a server so that an abrupt `process.exit` still kills it; returns the untrack function. */
export const track = (server: Reapable): (() => void) => {
  const registry = reaper()
  registry.live.add(server)
  return () => {
    registry.live.delete(server)
  }
}

// ---------------------------------------------------------------------------
// postmaster

/** A currently free TCP port on `host` (bind port 0, read it, close). */
export const freePort = (host: string): Effect.Effect<number, TempClusterError> =>
  Effect.callback<number, TempClusterError>((resume) => {
    const server = Net.createServer()
    server.unref()
    server.on("error", (cause) => resume(Effect.fail(fail("Io", `cannot find a free port on ${host}`, { cause }))))
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resume(port > 0 ? Effect.succeed(port) : Effect.fail(fail("Io", "no port assigned"))))
    })
  })

/**
 * The watchdog. `$1` is the cluster directory, the rest is the postgres command.
 *
 * - The helper blocks reading our stdin (a pipe from node). EOF means node is gone
 *   or asks us to stop: the helper marks the cluster abandoned and sends SIGQUIT;
 *   once postgres has exited, the shell deletes an abandoned cluster directory.
 * - Background jobs of a non-interactive shell get stdin from /dev/null, so the
 *   helper reads the pipe through fd 3.
 * - The shell and helper ignore INT/TERM/HUP: a Ctrl-C or `timeout` signals the
 *   whole process group, and they must outlive node to clean up. postgres installs
 *   its own handlers, so it still reacts to those signals; when it exits on its
 *   own, we give the helper a moment to notice a simultaneous EOF.
 */
const watchdog = `
trap '' INT TERM HUP
base=$1; shift
exec 3<&0
"$@" </dev/null 3<&- &
pg=$!
( read -r _ <&3; : >"$base/.abandoned"; kill -QUIT "$pg" ) 2>/dev/null &
helper=$!
exec 3<&-
wait "$pg"
code=$?
[ -e "$base/.abandoned" ] || sleep 0.3 2>/dev/null || sleep 1
kill -KILL "$helper" 2>/dev/null
[ -e "$base/.abandoned" ] && rm -rf "$base"
exit $code
`

const useWatchdog = process.platform !== "win32" && Fs.existsSync("/bin/sh")

/** Spawn `postgres -D dataDir -p port` (under the watchdog), logging to `logFile`. */
export const spawnPostmaster = (options: {
  readonly binDir: string
  readonly dataDir: string
  readonly port: number
  readonly logFile: string
  readonly cwd: string
  readonly runAs: RunAs | undefined
}): Effect.Effect<Postmaster, TempClusterError> =>
  Effect.map(
    spawnWatched({
      command: [Path.join(options.binDir, `postgres${exe}`), "-D", options.dataDir, "-p", String(options.port)],
      logFile: options.logFile,
      cwd: options.cwd,
      runAs: options.runAs,
    }),
    // The same object: the exit handlers set `exit` on it.
    (watched) => Object.assign(watched, { dataDir: options.dataDir }),
  )

/**
 * Spawn a server `command` under the watchdog, logging to `logFile`: when this process dies, or
 * the watchdog's stdin is closed ({@link stopWatched}), the server gets SIGQUIT and `cwd` (the
 * server's own temp directory) is deleted.
 */
export const spawnWatched = (options: {
  readonly command: ReadonlyArray<string>
  readonly logFile: string
  readonly cwd: string
  readonly runAs: RunAs | undefined
}): Effect.Effect<Watched, TempClusterError> =>
  Effect.try({
    try: () => {
      const fd = Fs.openSync(options.logFile, "a")
      let child: ChildProcess
      try {
        const [command, ...args] = useWatchdog
          ? ["/bin/sh", "-c", watchdog, "pgfx-watchdog", options.cwd, ...options.command]
          : options.command
        child = spawn(command ?? "", args, {
          cwd: options.cwd,
          env: toolEnv(),
          stdio: [useWatchdog ? "pipe" : "ignore", fd, fd],
          ...(options.runAs === undefined ? {} : { uid: options.runAs.uid, gid: options.runAs.gid }),
        })
        // Never written to: it only has to stay open while we live.
        child.stdin?.on("error", () => {})
      } finally {
        Fs.closeSync(fd)
      }
      if (child.pid === undefined) throw new Error("spawn returned no pid")
      let markExited: () => void = () => {}
      const exited = new Promise<void>((resolve) => {
        markExited = resolve
      })
      const watched: Watched = { child, exit: undefined, exited }
      child.on("exit", (code, signal) => {
        watched.exit = { code, signal }
        markExited()
      })
      child.on("error", () => {
        watched.exit ??= { code: null, signal: null }
        markExited()
      })
      return watched
    },
    catch: (cause) =>
      fail("Start", `cannot spawn ${options.command[0]}: ${String(cause)}`, {
        cause,
        logTail: logTail(options.logFile),
      }),
  })

const waitExit = (postmaster: Watched, millis: number): Effect.Effect<boolean> =>
  postmaster.exit !== undefined
    ? Effect.succeed(true)
    : Effect.callback<boolean>((resume) => {
        const timer = setTimeout(() => resume(Effect.succeed(false)), millis)
        void postmaster.exited.then(() => {
          clearTimeout(timer)
          resume(Effect.succeed(true))
        })
        return Effect.sync(() => clearTimeout(timer))
      })

/**
 * Immediate shutdown (SIGQUIT, what `pg_ctl stop -m immediate` sends, via the
 * watchdog), then SIGKILL if the postmaster lingers. Never fails.
 */
export const stopPostmaster = (postmaster: Postmaster): Effect.Effect<void> =>
  stopWatched(postmaster, () => postgresPid(postmaster.dataDir))

/**
 * Stop a {@link spawnWatched} server: SIGQUIT through the watchdog, then SIGKILL to `serverPid()`
 * (the server behind the watchdog) and the watchdog if it lingers. Never fails.
 */
export const stopWatched = (watched: Watched, serverPid: () => number | undefined): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (watched.exit !== undefined) return
    // Closing the watchdog's stdin makes it SIGQUIT the server and delete its directory.
    if (useWatchdog) watched.child.stdin?.destroy()
    else signal(watched.child.pid, "SIGQUIT")
    if (yield* waitExit(watched, 10_000)) return
    signal(useWatchdog ? serverPid() : undefined, "SIGKILL")
    watched.child.kill("SIGKILL")
    yield* waitExit(watched, 5_000)
  })

/** The status word on line 8 of postmaster.pid (`starting`, `ready`, `standby`, `stopping`). */
const pidFileStatus = (dataDir: string): string | undefined => {
  try {
    return Fs.readFileSync(Path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[7]?.trim()
  } catch {
    return undefined
  }
}

/** Outcome of waiting for start-up: ready, or the port was taken (retry with another). */
export type StartOutcome = "ready" | "port-in-use"

/** Wait until the postmaster accepts connections, or fail with its log tail. */
export const waitReady = (options: {
  readonly postmaster: Postmaster
  readonly dataDir: string
  readonly host: string
  readonly port: number
  readonly logFile: string
  /** Log offset at spawn time: earlier attempts' lines are not this attempt's fault. */
  readonly logFrom: number
  readonly timeoutMillis: number
}): Effect.Effect<StartOutcome, TempClusterError> =>
  Effect.gen(function* () {
    const deadline = Date.now() + options.timeoutMillis
    for (;;) {
      const exit = options.postmaster.exit
      if (exit !== undefined) {
        const log = tail(readLog(options.logFile, options.logFrom))
        if (/could not bind .*Address already in use/.test(log)) {
          return "port-in-use" as const
        }
        return yield* Effect.fail(
          fail("Start", `postgres exited during start-up (${exit.signal ?? `exit code ${exit.code}`})`, {
            logTail: log,
          }),
        )
      }
      const status = pidFileStatus(options.dataDir)
      if (status === "ready" || status === "standby") {
        const answer = yield* sslProbe({ host: options.host, port: options.port }, 1000)
        if (answer === "S" || answer === "N") return "ready" as const
      }
      if (Date.now() > deadline) {
        return yield* Effect.fail(
          fail("StartTimeout", `postgres did not accept connections within ${options.timeoutMillis} ms`, {
            logTail: logTail(options.logFile),
          }),
        )
      }
      yield* sleep(25)
    }
  })

/**
 * Starts the postmaster of `dataDir` on `host` for the lifetime of the current scope, on `port`
 * or else on a free port: when a free port is taken before the server binds it, another is tried
 * (five attempts). `beforeStart` runs before each attempt.
 */
export const startPostmaster = (options: {
  readonly binDir: string
  readonly baseDir: string
  readonly dataDir: string
  readonly logFile: string
  readonly runAs: RunAs | undefined
  readonly host: string
  readonly port?: number | undefined
  readonly timeoutMillis: number
  readonly beforeStart?: (() => Effect.Effect<void, TempClusterError>) | undefined
}): Effect.Effect<{ postmaster: Postmaster; port: number }, TempClusterError, Scope.Scope> =>
  Effect.gen(function* () {
    const { binDir, baseDir, dataDir, logFile, runAs, host } = options
    for (let attempt = 1; ; attempt++) {
      const port = options.port ?? (yield* freePort(host))
      if (options.beforeStart !== undefined) yield* options.beforeStart()
      const logFrom = logSize(logFile)
      const postmaster = yield* Effect.acquireRelease(
        Effect.map(spawnPostmaster({ binDir, dataDir, port, logFile, cwd: baseDir, runAs }), (postmaster) => ({
          postmaster,
          untrack: track({ dataDir, baseDir }),
        })),
        ({ postmaster, untrack }) => Effect.ensuring(stopPostmaster(postmaster), Effect.sync(untrack)),
      ).pipe(Effect.map(({ postmaster }) => postmaster))
      const outcome = yield* waitReady({
        postmaster,
        dataDir,
        host,
        port,
        logFile,
        logFrom,
        timeoutMillis: options.timeoutMillis,
      })
      if (outcome === "ready") return { postmaster, port }
      if (options.port !== undefined || attempt >= 5) {
        return yield* Effect.fail(
          fail("Start", `port ${port} is already in use`, { logTail: tail(readLog(logFile, logFrom)) }),
        )
      }
    }
  })

/**
 * Signal a configuration reload (SIGHUP, what `pg_ctl reload` sends) and wait until
 * the postmaster has processed it; fail with `Reload` if it rejected a file.
 */
export const reload = (options: {
  readonly postmaster: Postmaster
  readonly host: string
  readonly port: number
  readonly logFile: string
}): Effect.Effect<void, TempClusterError> =>
  Effect.gen(function* () {
    if (options.postmaster.exit !== undefined) {
      return yield* Effect.fail(fail("Reload", "the server is not running", { logTail: logTail(options.logFile) }))
    }
    const from = logSize(options.logFile)
    const pid = useWatchdog ? postgresPid(options.postmaster.dataDir) : options.postmaster.child.pid
    if (!signal(pid, "SIGHUP")) {
      return yield* Effect.fail(fail("Reload", "cannot signal the postmaster", { logTail: logTail(options.logFile) }))
    }
    const deadline = Date.now() + 10_000
    while (!readLog(options.logFile, from).includes("received SIGHUP, reloading configuration files")) {
      if (Date.now() > deadline) {
        return yield* Effect.fail(
          fail("Reload", "the server did not log the reload", { logTail: logTail(options.logFile) }),
        )
      }
      yield* sleep(10)
    }
    // A fresh connection is served only after the postmaster finished the reload
    // (it handles the signal before accepting again), so any complaint is now logged.
    yield* sslProbe({ host: options.host, port: options.port }, 2000)
    const logged = readLog(options.logFile, from)
    if (/was not reloaded|contains errors/.test(logged)) {
      return yield* Effect.fail(fail("Reload", "the server rejected the new configuration", { logTail: tail(logged) }))
    }
  })
