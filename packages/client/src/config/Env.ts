/**
 * libpq's PG* environment variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE,
 * ...; see {@link envVars}). An empty variable counts as unset. PGSERVICE, PGSERVICEFILE,
 * PGPASSFILE and PGSYSCONFDIR are read here too but only used to find the files.
 *
 * @internal
 */
import { configError } from "./ConfigError.ts"
import { PgConfigError, type PgConfigSource } from "../PgError.ts"
import { applyKeyword, envVars, type Layer } from "./Keywords.ts"

/** The environment a resolution reads (process.env by default). */
export type Environment = Readonly<Record<string, string | undefined>>

/**
 * Reads every libpq variable of `env` into a layer. `prefix` replaces "PG" (for Effect `Config`
 * keys such as `DB_HOST`); `source` names the source in errors.
 */
export const fromEnv = (env: Environment, prefix = "PG", source: PgConfigSource = "env"): Layer => {
  const layer: Layer = {}
  for (const [keyword, name] of Object.entries(envVars)) {
    const value = env[prefix + name.slice(2)]
    if (value === undefined || value === "") continue
    try {
      applyKeyword(layer, keyword, value, source)
    } catch (e) {
      // Name the variable, not the keyword: that is what the user has to fix.
      throw e instanceof PgConfigError ? configError(source, prefix + name.slice(2), e.message) : e
    }
  }
  return layer
}

/** The variable names {@link fromEnv} reads, with `prefix` in place of "PG". */
export const envNames = (prefix = "PG"): Array<string> => Object.values(envVars).map((n) => prefix + n.slice(2))
