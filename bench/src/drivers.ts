/**
 * The drivers the harness knows, how to start a run of each in a fresh process, and what this
 * machine has of the non-npm peers (a Python that imports asyncpg; pgbench and psql).
 */
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"

export const benchDir = Path.resolve(import.meta.dirname, "..")
export const repoRoot = Path.resolve(benchDir, "..")

export type DriverKind = "pgfx" | "js" | "python" | "c"

export interface DriverInfo {
  readonly id: string
  readonly label: string
  readonly kind: DriverKind
  /** The command of one run, or why this machine cannot run the driver at all. */
  readonly command: (machine: Machine) => { readonly argv: ReadonlyArray<string> } | { readonly unavailable: string }
}

const node =
  (file: string, ...args: Array<string>) =>
  () => ({
    argv: [process.execPath, "--expose-gc", Path.join(benchDir, "src", "drivers", file), ...args],
  })

export const drivers: ReadonlyArray<DriverInfo> = [
  { id: "pgfx", label: "pgfx", kind: "pgfx", command: node("pgfx.ts") },
  { id: "pgfx-pool", label: "pgfx (PgClient)", kind: "pgfx", command: node("pgfx.ts", "--pool") },
  { id: "pg", label: "pg", kind: "js", command: node("pg.ts") },
  { id: "pg-native", label: "pg-native", kind: "js", command: node("pg.ts", "--native") },
  { id: "postgres", label: "postgres.js", kind: "js", command: node("postgres.ts") },
  { id: "effect-sql-pg", label: "@effect/sql-pg", kind: "js", command: node("effect-sql-pg.ts") },
  {
    id: "pgfx-sql",
    label: "pgfx (@pgfx/sql drop-in)",
    kind: "pgfx",
    command: node("effect-sql-pg.ts", "--pgfx"),
  },
  {
    id: "asyncpg",
    label: "asyncpg",
    kind: "python",
    command: (machine) =>
      "path" in machine.python
        ? { argv: [machine.python.path, Path.join(benchDir, "python", "asyncpg_bench.py")] }
        : { unavailable: machine.python.reason },
  },
  {
    id: "libpq",
    label: "pgbench/psql (C)",
    kind: "c",
    command: (machine) => ("dir" in machine.pgBin ? node("libpq.ts")() : { unavailable: machine.pgBin.reason }),
  },
]

export interface Machine {
  readonly python: { readonly path: string; readonly version: string } | { readonly reason: string }
  readonly pgBin: { readonly dir: string; readonly version: string } | { readonly reason: string }
}

/** Finds a Python that imports asyncpg: `PGFX_BENCH_PYTHON`, then Debian's, then PATH's. */
const findPython = (): Machine["python"] => {
  const candidates = [process.env.PGFX_BENCH_PYTHON, "/usr/bin/python3", "python3"].filter(
    (c): c is string => c !== undefined && c !== "",
  )
  const failures: Array<string> = []
  for (const candidate of candidates) {
    const probe = spawnSync(
      candidate,
      ["-c", "import sys, asyncpg; print(sys.version.split()[0], asyncpg.__version__)"],
      { encoding: "utf8" },
    )
    if (probe.status === 0) return { path: candidate, version: probe.stdout.trim() }
    const why = probe.error?.message ?? probe.stderr.trim().split("\n").pop() ?? `exit ${probe.status}`
    failures.push(`${candidate}: ${why}`)
  }
  return { reason: `no python imports asyncpg (apt-get install python3-asyncpg) [${failures.join("; ")}]` }
}

/** Finds pgbench and psql: `PGFX_BENCH_PGBIN`, then the newest /usr/lib/postgresql/N/bin, then PATH. */
const findPgBin = (): Machine["pgBin"] => {
  const dirs: Array<string> = []
  if (process.env.PGFX_BENCH_PGBIN) dirs.push(process.env.PGFX_BENCH_PGBIN)
  const debian = "/usr/lib/postgresql"
  if (Fs.existsSync(debian)) {
    for (const v of Fs.readdirSync(debian).sort((a, b) => Number(b) - Number(a))) dirs.push(Path.join(debian, v, "bin"))
  }
  for (const dir of (process.env.PATH ?? "").split(":")) if (dir !== "") dirs.push(dir)
  for (const dir of dirs) {
    if (Fs.existsSync(Path.join(dir, "pgbench")) && Fs.existsSync(Path.join(dir, "psql"))) {
      const probe = spawnSync(Path.join(dir, "pgbench"), ["--version"], { encoding: "utf8" })
      if (probe.status === 0) return { dir, version: probe.stdout.trim() }
    }
  }
  return {
    reason:
      "pgbench and psql not found (Debian: apt-get install postgresql postgresql-client; or set PGFX_BENCH_PGBIN)",
  }
}

export const probeMachine = (): Machine => ({ python: findPython(), pgBin: findPgBin() })

/** Installed versions of the npm peers (or "not installed"), read from node_modules. */
export const peerVersions = (): Record<string, string> => {
  const names = ["pg", "pg-native", "libpq", "pg-copy-streams", "pg-cursor", "postgres", "@effect/sql-pg", "effect"]
  const versions: Record<string, string> = {}
  for (const name of names) {
    versions[name] = "not installed"
    // Walk up like Node's resolution (several peers do not export their package.json).
    for (let dir = benchDir; ; dir = Path.dirname(dir)) {
      const file = Path.join(dir, "node_modules", name, "package.json")
      if (Fs.existsSync(file)) {
        versions[name] = (JSON.parse(Fs.readFileSync(file, "utf8")) as { version: string }).version
        break
      }
      if (Path.dirname(dir) === dir) break
    }
  }
  return versions
}
