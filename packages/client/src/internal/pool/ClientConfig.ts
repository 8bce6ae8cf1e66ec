/**
 * Reading client settings through Effect's `Config` (and so any `ConfigProvider`: the
 * environment by default, `ConfigProvider.fromUnknown` in tests, a .env file, ...).
 *
 * The connection settings come from `PgConfig.config()`, so `PgClient.layerConfig` reads exactly
 * what libpq would (every PG* variable, validated by the same code as the other sources).
 *
 * @internal
 */
import { Config, type Duration, Option, Redacted } from "effect"
import type { PgConnectionOptions } from "../../PgConfig.ts"
import * as PgConfig from "../../PgConfig.ts"
import type { PgPoolOptions } from "../../PgPool.ts"

/**
 * The settings `PgClient.layerConfig` reads. Every field is optional; what is missing falls back
 * to `PgConfig`'s own resolution (libpq's PG* variables in `process.env`, then defaults).
 */
export interface PgClientConfig extends Omit<PgConnectionOptions, "url"> {
  /** A `postgres://` URL or keyword/value string (it may hold a password: a `Redacted` is welcome). */
  readonly url?: string | Redacted.Redacted<string> | undefined
  readonly min?: number | undefined
  readonly max?: number | undefined
  readonly maxQueries?: number | undefined
  readonly maxInactiveLifetime?: Duration.Duration | undefined
  readonly acquireTimeout?: Duration.Duration | undefined
}

const optional = <A>(config: Config.Config<A>): Config.Config<A | undefined> =>
  Config.map(Config.option(config), (o) => (Option.isSome(o) && o.value !== "" ? o.value : undefined))

/**
 * libpq's variables, read through `PgConfig.config()` (PGHOST, PGPORT, PGUSER, PGPASSWORD,
 * PGDATABASE, PGSERVICE, PGSSLMODE, PGTARGETSESSIONATTRS, ... and PGURL), plus `DATABASE_URL`,
 * which, when set, is used alone (as an explicit conninfo would be).
 */
export const envConfig: Config.Config<PgClientConfig> = Config.map(
  Config.all({
    url: optional(Config.Redacted("DATABASE_URL")),
    pg: PgConfig.config("PG"),
  }),
  ({ url, pg }): PgClientConfig => (url !== undefined && Redacted.value(url) !== "" ? { url } : pg),
)

/** Turns config values into pool options under explicit `options` (absent values never override). */
export const toOptions = <R>(config: PgClientConfig, options: PgPoolOptions<R>): PgPoolOptions<R> => {
  const merged: Record<string, unknown> = {}
  for (const source of [config, options] as ReadonlyArray<unknown> as ReadonlyArray<Record<string, unknown>>) {
    for (const [key, value] of Object.entries(source)) {
      if (value === undefined) continue
      merged[key] =
        key === "url" && Redacted.isRedacted(value) ? Redacted.value(value as Redacted.Redacted<string>) : value
    }
  }
  return merged as PgPoolOptions<R>
}
