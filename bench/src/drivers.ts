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

/**
 * How an Effect driver is called: `effect`, callers are Effect loops (`yield*` per query);
 * `promise`, plain async callers run one `runPromise` per query on a runtime built once.
 */
export type CallShape = "effect" | "promise"

export interface DriverInfo {
  readonly id: string
  readonly label: string
  readonly kind: DriverKind
  /** Only for the Effect drivers. */
  readonly shape?: CallShape
  /** Run only when `--drivers` lists it (a variant of another row, not a peer). */
  readonly optIn?: boolean
  /** The command of one run, or why this machine cannot run the driver at all. */
  readonly command: (machine: Machine) => { readonly argv: ReadonlyArray<string> } | { readonly unavailable: string }
}

const node =
  (file: string, ...args: Array<string>) =>
  () => ({
    argv: [process.execPath, "--expose-gc", Path.join(benchDir, "src", "drivers", file), ...args],
  })

/** An Effect driver in both call shapes: the Effect loop, and one `runPromise` per call (`--promise`). */
const bothShapes = (
  id: string,
  label: string,
  kind: DriverKind,
  file: string,
  ...args: Array<string>
): ReadonlyArray<DriverInfo> => [
  { id, label, kind, shape: "effect", command: node(file, ...args) },
  {
    id: `${id}-promise`,
    label: label.endsWith(")") ? `${label.slice(0, -1)}, promise)` : `${label} (promise)`,
    kind,
    shape: "promise",
    command: node(file, ...args, "--promise"),
  },
]

export const drivers: ReadonlyArray<DriverInfo> = [
  ...bothShapes("pgfx", "pgfx", "pgfx", "pgfx.ts"),
  ...bothShapes("pgfx-pool", "pgfx (PgClient)", "pgfx", "pgfx.ts", "--pool"),
  ...bothShapes(
    "pgfx-pool-txonly",
    "pgfx (PgClient, transactionOnly)",
    "pgfx",
    "pgfx.ts",
    "--pool",
    "--reset=transactionOnly",
  ).map((driver) => ({ ...driver, optIn: true })),
  ...bothShapes("pgfx-sql", "pgfx (@pgfx/sql)", "pgfx", "effect-sql-pg.ts", "--pgfx"),
  { id: "pg", label: "pg", kind: "js", command: node("pg.ts") },
  { id: "pg-native", label: "pg-native", kind: "js", command: node("pg.ts", "--native") },
  { id: "postgres", label: "postgres.js", kind: "js", command: node("postgres.ts") },
  ...bothShapes("effect-sql-pg", "@effect/sql-pg", "js", "effect-sql-pg.ts"),
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
  readonly python:
    { readonly path: string; readonly version: string; readonly note: string } | { readonly reason: string }
  readonly pgBin: { readonly dir: string; readonly version: string } | { readonly reason: string }
}

/** The virtual environment with asyncpg and uvloop from PyPI, at the versions of `requirements.txt`. */
export const venvDir = Path.join(benchDir, "python", ".venv")
const requirementsFile = Path.join(benchDir, "python", "requirements.txt")

/**
 * Creates (or refreshes, when `requirements.txt` changed) `bench/python/.venv` with `python3 -m
 * venv` and pip, and returns its python; or why it could not (no venv module, no package index).
 */
const ensureVenv = (): { readonly path: string } | { readonly reason: string } => {
  const python = Path.join(venvDir, "bin", "python")
  const installed = Path.join(venvDir, "installed-requirements.txt")
  const wanted = Fs.readFileSync(requirementsFile, "utf8")
  if (Fs.existsSync(python) && Fs.existsSync(installed) && Fs.readFileSync(installed, "utf8") === wanted) {
    return { path: python }
  }
  console.log(`bench: creating ${Path.relative(repoRoot, venvDir)} (asyncpg and uvloop from PyPI, once)`)
  Fs.rmSync(venvDir, { recursive: true, force: true })
  const steps: ReadonlyArray<ReadonlyArray<string>> = [
    ["python3", "-m", "venv", venvDir],
    [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirementsFile],
  ]
  for (const [command, ...args] of steps) {
    const step = spawnSync(command, args, { encoding: "utf8", timeout: 600_000 })
    if (step.status !== 0) {
      const why = step.error?.message ?? step.stderr.trim().split("\n").slice(-2).join(" ")
      return { reason: `${[command, ...args].join(" ")} failed: ${why}` }
    }
  }
  Fs.writeFileSync(installed, wanted)
  return { path: python }
}

/**
 * Finds a Python that imports asyncpg: `PGFX_BENCH_PYTHON`, then the virtual environment with
 * asyncpg's latest release from PyPI (created on first use), then Debian's python3-asyncpg, then
 * PATH's. The version it found is recorded in the report.
 */
const findPython = (): Machine["python"] => {
  const failures: Array<string> = []
  const venv = process.env.PGFX_BENCH_PYTHON ? undefined : ensureVenv()
  if (venv !== undefined && "reason" in venv) failures.push(`venv: ${venv.reason}`)
  const candidates = [
    process.env.PGFX_BENCH_PYTHON,
    venv !== undefined && "path" in venv ? venv.path : undefined,
    "/usr/bin/python3",
    "python3",
  ].filter((c): c is string => c !== undefined && c !== "")
  for (const candidate of candidates) {
    const probe = spawnSync(
      candidate,
      ["-c", "import sys, asyncpg; print(sys.version.split()[0], asyncpg.__version__)"],
      { encoding: "utf8" },
    )
    if (probe.status === 0) {
      const fallback = failures.length > 0 ? ` (fell back: ${failures.join("; ")})` : ""
      return { path: candidate, version: probe.stdout.trim(), note: fallback }
    }
    const why = probe.error?.message ?? probe.stderr.trim().split("\n").pop() ?? `exit ${probe.status}`
    failures.push(`${candidate}: ${why}`)
  }
  return {
    reason: `no python imports asyncpg (pip install -r bench/python/requirements.txt, or apt-get install python3-asyncpg) [${failures.join("; ")}]`,
  }
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

/** What this machine has of the non-npm peers; Python only when the asyncpg driver will run. */
export const probeMachine = (withPython: boolean): Machine => ({
  python: withPython ? findPython() : { reason: "asyncpg not selected" },
  pgBin: findPgBin(),
})

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
