/**
 * The query checker behind `npx pgfx check`: load modules, find every declared `PgQuery` among
 * their exports (also inside exported arrays and plain objects, one level deep), prepare and
 * check each against a database, and report. Also usable as a test helper ({@link checkModules}).
 *
 * ```sh
 * npx pgfx check src/queries.ts src/admin/queries.ts --url postgres://app@localhost/app
 * # without --url: DATABASE_URL, else libpq's PG* variables
 * ```
 *
 * Exit status: 0 when every query matches, 1 when any query does not match or cannot be
 * prepared, 2 for usage errors (no module, a module that cannot be loaded, no connection).
 *
 * A declaration's SQL and Schemas are values built when its module runs, so the checker imports
 * each module: its top level runs. A module passed to it must therefore not start a program on
 * import. Keep queries in modules of their own, or guard the entry point of a module that is
 * also a program with `if (import.meta.main) { ... }` (Node >= 22.18, Bun, Deno): under
 * `pgfx check` the entry point is the checker, so the guard is false and only the declarations
 * are evaluated. An unguarded `Effect.runPromise(main)` at the top level still runs.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import * as PgConnection from "./PgConnection.ts"
import * as PgQuery from "./PgQuery.ts"

/** The queries a module exports, with their export names. @since 0.1.0 */
export const queriesOf = (
  exports: Record<string, unknown>,
): Array<{ readonly exportName: string; readonly query: PgQuery.AnyPgQuery }> => {
  const found: Array<{ readonly exportName: string; readonly query: PgQuery.AnyPgQuery }> = []
  const seen = new Set<unknown>()
  const add = (exportName: string, value: unknown) => {
    if (PgQuery.isPgQuery(value) && !seen.has(value)) {
      seen.add(value)
      found.push({ exportName, query: value })
    }
  }
  for (const [key, value] of Object.entries(exports)) {
    if (PgQuery.isPgQuery(value)) add(key, value)
    else if (Array.isArray(value)) value.forEach((v, i) => add(`${key}[${i}]`, v))
    else if (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
      for (const [k, v] of Object.entries(value)) add(`${key}.${k}`, v)
    }
  }
  return found
}

/** One module's report. @since 0.1.0 */
export interface ModuleReport {
  readonly module: string
  readonly results: ReadonlyArray<PgQuery.CheckResult & { readonly exportName: string }>
}

/**
 * Loads the modules (paths relative to `cwd`) and checks their queries on `conn`.
 *
 * Errors: a module that cannot be imported fails with its import error (as a defect-free
 * `Error` value).
 * @since 0.1.0
 */
export const checkModules = (
  conn: PgQuery.PgExecutor,
  modules: ReadonlyArray<string>,
  cwd: string = process.cwd(),
): Effect.Effect<Array<ModuleReport>, Error> =>
  Effect.forEach(modules, (module) =>
    Effect.gen(function* () {
      const url = pathToFileURL(path.resolve(cwd, module)).href
      const exports = yield* Effect.tryPromise({
        try: () => import(url) as Promise<Record<string, unknown>>,
        catch: (e) => new Error(`cannot load ${module}: ${e instanceof Error ? e.message : String(e)}`),
      })
      const queries = queriesOf(exports)
      const results = yield* PgQuery.checkAll(
        conn,
        queries.map((q) => q.query),
      )
      return { module, results: results.map((r, i) => ({ ...r, exportName: queries[i]!.exportName })) }
    }),
  )

/** Renders reports as text; `ok` is false when anything failed. @since 0.1.0 */
export const formatReports = (
  reports: ReadonlyArray<ModuleReport>,
): { readonly text: string; readonly ok: boolean } => {
  const lines: Array<string> = []
  let passed = 0
  let failed = 0
  for (const report of reports) {
    lines.push(`${report.module}:`)
    if (report.results.length === 0) lines.push("  (no PgQuery exports)")
    for (const r of report.results) {
      const label = r.exportName === r.name ? r.name : `${r.exportName} (${r.name})`
      if (r.error !== undefined) {
        failed++
        lines.push(`  FAIL ${label}`, `    - cannot prepare: ${r.error.message}`)
      } else if (r.differences.length > 0) {
        failed++
        lines.push(`  FAIL ${label}`, ...r.differences.map((d) => `    - ${d.message}`))
      } else {
        passed++
        lines.push(`  ok   ${label}`)
      }
    }
  }
  lines.push(`${passed + failed} queries checked: ${passed} ok, ${failed} failed`)
  return { text: lines.join("\n"), ok: failed === 0 }
}

const usage = "usage: pgfx check <module>... [--url <postgres url>]  (default: DATABASE_URL or PG* variables)"

/**
 * Runs the CLI with `argv` (without `node` and the script) and returns the exit status; writes
 * to `out` / `err`. Never prints the connection URL (it may hold a password).
 * @since 0.1.0
 */
export const main = (
  argv: ReadonlyArray<string>,
  out: (s: string) => void = (s) => process.stdout.write(s + "\n"),
  err: (s: string) => void = (s) => process.stderr.write(s + "\n"),
): Effect.Effect<number> => {
  const [command, ...rest] = argv
  if (command !== "check") {
    err(usage)
    return Effect.succeed(2)
  }
  const modules: Array<string> = []
  let url: string | undefined = process.env["DATABASE_URL"] || undefined
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!
    if (arg === "--url") url = rest[++i]
    else if (arg.startsWith("--url=")) url = arg.slice("--url=".length)
    else modules.push(arg)
  }
  if (modules.length === 0) {
    err(usage)
    return Effect.succeed(2)
  }
  return Effect.scoped(
    Effect.gen(function* () {
      const conn = yield* PgConnection.make(url === undefined ? {} : { url })
      const reports = yield* checkModules(conn, modules)
      const { text, ok } = formatReports(reports)
      out(text)
      return ok ? 0 : 1
    }),
  ).pipe(
    Effect.catch((e) => {
      err(`pgfx check: ${e.message}`)
      return Effect.succeed(2)
    }),
  )
}
