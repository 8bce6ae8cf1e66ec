/**
 * The connection service file (`pg_service.conf`): INI-style sections of libpq keywords.
 *
 * ```
 * # ~/.pg_service.conf
 * [billing]
 * host=db1.internal
 * port=5433
 * dbname=billing
 * ```
 *
 * Lookup as in libpq: the user file (`servicefile` / PGSERVICEFILE, else `~/.pg_service.conf`)
 * first, then the system file (`$PGSYSCONFDIR/pg_service.conf`); the first file that has the
 * section wins, a missing file is skipped, and a service found nowhere is an error. Values from
 * the service fill only what the connection string and options leave unset, and they beat the
 * PG* environment variables.
 *
 * @internal
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { configError } from "./ConfigError.ts"
import type { Environment } from "./Env.ts"
import { applyKeyword, type Layer } from "./Keywords.ts"

/** The sections of a service file, each as ordered keyword/value pairs. */
export const parseServiceFile = (text: string, file: string): Map<string, Array<readonly [string, string]>> => {
  const sections = new Map<string, Array<readonly [string, string]>>()
  let current: Array<readonly [string, string]> | undefined
  const lines = text.split(/\r?\n/)
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim()
    if (line === "" || line.startsWith("#")) continue
    if (line.startsWith("[")) {
      if (!line.endsWith("]"))
        throw configError("service", "service", `syntax error in service file ${file}, line ${n + 1}`)
      current = []
      const name = line.slice(1, -1).trim()
      if (!sections.has(name)) sections.set(name, current)
      continue
    }
    const eq = line.indexOf("=")
    if (eq < 0) throw configError("service", "service", `syntax error in service file ${file}, line ${n + 1}`)
    if (current === undefined) continue
    current.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()])
  }
  return sections
}

const readIfExists = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, "utf8")
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === "ENOENT" || code === "ENOTDIR") return undefined
    throw configError("service", "servicefile", `cannot read service file ${file}: ${code ?? "error"}`)
  }
}

/** Where the service files are, in lookup order. */
export const serviceFiles = (env: Environment, home: string, serviceFile: string | undefined): Array<string> => {
  const user = serviceFile ?? (env.PGSERVICEFILE || undefined) ?? path.join(home, ".pg_service.conf")
  const sysconf = env.PGSYSCONFDIR || "/etc/postgresql-common"
  return [user, path.join(sysconf, "pg_service.conf")]
}

/** Finds service `name` and returns its settings as a layer. */
export const loadService = (name: string, files: ReadonlyArray<string>): Layer => {
  for (const file of files) {
    const text = readIfExists(file)
    if (text === undefined) continue
    const pairs = parseServiceFile(text, file).get(name)
    if (pairs === undefined) continue
    const layer: Layer = {}
    for (const [keyword, value] of pairs) {
      if (keyword === "service" || keyword === "servicefile") {
        throw configError(
          "service",
          keyword,
          `nested "${keyword}" specifications are not supported in service file ${file}`,
        )
      }
      applyKeyword(layer, keyword, value, "service")
    }
    return layer
  }
  throw configError("service", "service", `definition of service "${name}" not found`)
}
