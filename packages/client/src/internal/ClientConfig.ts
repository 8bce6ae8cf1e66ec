/**
 * Reading client settings through Effect's `Config` (and so any `ConfigProvider`: the
 * environment by default, `ConfigProvider.fromUnknown` in tests, a .env file, ...).
 *
 * This adapter is deliberately small: it reads libpq's main variables and turns the result into
 * `PgPoolOptions`. `PgConfig` gains full config sources (service files, pgpass, TLS, several
 * hosts) separately; when it has an Effect `Config` form, `envConfig` becomes that.
 *
 * @internal
 */
import { Config, Duration, Option, Redacted } from "effect"
import type { PgPoolOptions } from "../PgPool.ts"

/**
 * The settings `PgClient.layerConfig` reads. Every field is optional; what is missing falls back
 * to `PgConfig`'s own resolution (libpq's PG* variables in `process.env`, then defaults).
 */
export interface PgClientConfig {
  /** A `postgres://` URL (it may hold a password, so a `Redacted` is welcome). */
  readonly url?: string | Redacted.Redacted<string> | undefined
  readonly host?: string | undefined
  readonly port?: number | undefined
  readonly user?: string | undefined
  readonly password?: string | Redacted.Redacted<string> | undefined
  readonly database?: string | undefined
  readonly applicationName?: string | undefined
  readonly connectTimeout?: Duration.Duration | undefined
  readonly min?: number | undefined
  readonly max?: number | undefined
  readonly maxQueries?: number | undefined
  readonly maxInactiveLifetime?: Duration.Duration | undefined
  readonly acquireTimeout?: Duration.Duration | undefined
}

const optional = <A>(config: Config.Config<A>): Config.Config<A | undefined> =>
  Config.map(Config.option(config), (o) => (Option.isSome(o) && o.value !== "" ? o.value : undefined))

/**
 * libpq's variables: `DATABASE_URL` (when set, it is used alone, as libpq's explicit conninfo
 * would be), else `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`, `PGAPPNAME`,
 * `PGCONNECT_TIMEOUT` (seconds).
 */
export const envConfig: Config.Config<PgClientConfig> = Config.map(
  Config.all({
    url: optional(Config.Redacted("DATABASE_URL")),
    host: optional(Config.String("PGHOST")),
    port: optional(Config.Port("PGPORT")),
    user: optional(Config.String("PGUSER")),
    password: optional(Config.Redacted("PGPASSWORD")),
    database: optional(Config.String("PGDATABASE")),
    applicationName: optional(Config.String("PGAPPNAME")),
    connectTimeout: optional(Config.Int("PGCONNECT_TIMEOUT")),
  }),
  ({ url, connectTimeout, ...rest }): PgClientConfig =>
    url !== undefined && Redacted.value(url) !== ""
      ? { url }
      : { ...rest, connectTimeout: connectTimeout === undefined ? undefined : Duration.seconds(connectTimeout) },
)

/** Turns config values into pool options under explicit `options` (absent values never override). */
export const toOptions = (config: PgClientConfig, options: PgPoolOptions): PgPoolOptions => {
  const merged: Record<string, unknown> = {}
  for (const source of [config, options] as ReadonlyArray<unknown> as ReadonlyArray<Record<string, unknown>>) {
    for (const [key, value] of Object.entries(source)) {
      if (value === undefined) continue
      merged[key] =
        key === "url" && Redacted.isRedacted(value) ? Redacted.value(value as Redacted.Redacted<string>) : value
    }
  }
  return merged as PgPoolOptions
}
