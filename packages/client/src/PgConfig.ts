/**
 * Connection settings, read the way libpq reads them.
 *
 * A `PgConnectionOptions` value says where and how to connect. {@link resolve} merges it with
 * the other sources libpq knows and validates the result; {@link config} reads the same settings
 * through an Effect `ConfigProvider`.
 *
 * **Sources, highest precedence first** (a setting comes from the first source that has it):
 *
 * 1. the options object (`host`, `port`, `sslMode`, ...);
 * 2. `url`: a URI (`postgres://user:pw@h1:5432,h2:5433/db?sslmode=require&search_path=app`) or a
 *    keyword/value string (`host=h1 port=5432 dbname=db`); as in asyncpg, an unknown URI query
 *    parameter becomes a server setting;
 * 3. the connection service file section named by `service` / PGSERVICE (`~/.pg_service.conf`
 *    or PGSERVICEFILE, then `$PGSYSCONFDIR/pg_service.conf`);
 * 4. the PG* environment variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE,
 *    PGSSLROOTCERT, PGSSLCERT, PGSSLKEY, PGSSLCRL, PGSSLNEGOTIATION, PGTARGETSESSIONATTRS,
 *    PGCONNECT_TIMEOUT, PGAPPNAME, PGOPTIONS, PGCHANNELBINDING, PGLOADBALANCEHOSTS, ...);
 * 5. for the password only, when no source gave one: the password file (`~/.pgpass` or
 *    `passFile` / PGPASSFILE), matched per host; ignored with a warning when group or others
 *    can read it;
 * 6. defaults: the unix socket directories `/run/postgresql`, `/var/run/postgresql`,
 *    `/var/pgsql_socket`, `/private/tmp`, `/tmp` (those holding a socket for the port), then
 *    `localhost`; port 5432; the OS user; database = user; `sslmode=prefer`.
 *
 * Every error is a {@link PgConfigError} naming the source and the key; values never appear in
 * it.
 *
 * @since 0.1.0
 */
import { Config, ConfigProvider, Effect, Option, Redacted } from "effect"
import { configError } from "./config/ConfigError.ts"
import { PgConfigError } from "./PgError.ts"
import { envNames, fromEnv } from "./config/Env.ts"
import { parseKeywordValue } from "./config/KeywordValue.ts"
import type { PgConnectionOptions } from "./config/Options.ts"
import { type ResolvedConfig, resolveLayers } from "./config/Resolve.ts"
import { isUri, parseUri } from "./config/Uri.ts"

export { PgConfigError, type PgConfigSource } from "./config/ConfigError.ts"
export type { AuthMethodName } from "./PgAuth.ts"
export type {
  PasswordInput,
  PgConnectionOptions,
  PgDebugOptions,
  SslMode,
  TargetSessionAttrs,
  TlsProtocolVersion,
} from "./config/Options.ts"
export type { HostTarget, ResolvedConfig } from "./config/Resolve.ts"
export type { TlsSettings } from "./config/TlsSettings.ts"

/**
 * Merges `options` with the URL, the service file, the PG* environment variables, the password
 * file and the defaults, in libpq's order of precedence, and validates the result.
 *
 * Errors: throws {@link PgConfigError} naming the source and key of a bad setting.
 *
 * @example
 * ```ts
 * import * as PgConfig from "@pgfx/client/PgConfig"
 * const config = PgConfig.resolve({ url: "postgres://app@db1,db2/app?target_session_attrs=read-write" })
 * config.hosts.map((h) => h.host) // ["db1", "db2"]
 * ```
 * @since 0.1.0
 */
export const resolve = (
  options: PgConnectionOptions,
  env?: Readonly<Record<string, string | undefined>>,
): ResolvedConfig => resolveLayers(options, options.environment ?? env ?? process.env, parseConnectionString)

/**
 * Parses a URI or keyword/value string into options (that source alone: nothing merged, no
 * defaults).
 *
 * Errors: throws {@link PgConfigError} with source `url` or `dsn`.
 * @since 0.1.0
 */
export const parseConnectionString = (
  text: string,
): { readonly source: "url" | "dsn"; readonly layer: PgConnectionOptions } =>
  isUri(text) ? { source: "url", layer: parseUri(text) } : { source: "dsn", layer: parseKeywordValue(text) }

/**
 * The same settings as an Effect `Config`: the keys are libpq's environment variable names with
 * `prefix` in place of `PG` (`PGHOST`, `PGPORT`, ... by default; `config("DB_")` reads `DB_HOST`,
 * `DB_PORT`, ...), plus `<prefix>URL` for a URI or keyword/value string. Every key is optional;
 * values are validated exactly like the environment's.
 *
 * Use it to build options from any `ConfigProvider` (e.g. `PgClient.layerConfig`).
 *
 * @example
 * ```ts
 * import { ConfigProvider, Effect } from "effect"
 * import * as PgConfig from "@pgfx/client/PgConfig"
 *
 * const provider = ConfigProvider.fromUnknown({ DB_HOST: "db1", DB_PORT: "5433", DB_PASSWORD: "pw" })
 * const options = Effect.runSync(PgConfig.config("DB_").parse(provider))
 * // { host: "db1", port: 5433, password: <redacted> }
 * ```
 * @since 0.1.0
 */
export const config = (prefix = "PG"): Config.Config<PgConnectionOptions> => {
  const names = envNames(prefix)
  const urlKey = `${prefix}URL`
  return Config.all({
    url: Config.option(Config.Redacted(urlKey)),
    values: Config.all(Object.fromEntries(names.map((name) => [name, Config.option(Config.String(name))]))),
  }).pipe(
    Config.mapEffect(({ url, values }) =>
      Effect.try({
        try: (): PgConnectionOptions => {
          const env: Record<string, string> = {}
          for (const [name, value] of Object.entries(values)) if (Option.isSome(value)) env[name] = value.value
          const layer = fromEnv(env, prefix, "config")
          if (Option.isSome(url)) {
            try {
              parseConnectionString(Redacted.value(url.value))
            } catch (e) {
              throw e instanceof PgConfigError ? configError("config", urlKey, e.message) : e
            }
            return { ...layer, url: Redacted.value(url.value) }
          }
          return layer
        },
        catch: (e) =>
          new Config.ConfigError(
            new ConfigProvider.SourceError({
              message:
                e instanceof PgConfigError
                  ? `invalid PostgreSQL setting ${e.key}: ${e.message}`
                  : "invalid PostgreSQL settings",
            }),
          ),
      }),
    ),
  )
}
