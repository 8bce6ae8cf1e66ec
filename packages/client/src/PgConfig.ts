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
import type { CodecRegistry } from "@pgfx/types/CodecRegistry"
import type { PgAuthPlugin } from "./PgAuth.ts"
import { Config, ConfigProvider, type Duration, Effect, Option, Redacted } from "effect"
import type * as tls from "node:tls"
import { configError, PgConfigError } from "./config/ConfigError.ts"
import { envNames, fromEnv } from "./config/Env.ts"
import { parseKeywordValue } from "./config/KeywordValue.ts"
import { type HostTarget, resolveLayers } from "./config/Resolve.ts"
import type { TlsSettings } from "./config/TlsSettings.ts"
import type { DebugSettings } from "./internal/observe/Debug.ts"
import { isUri, parseUri } from "./config/Uri.ts"

export { PgConfigError, type PgConfigSource } from "./config/ConfigError.ts"
export type { HostTarget } from "./config/Resolve.ts"
export type { TlsSettings } from "./config/TlsSettings.ts"

/** libpq's `sslmode`. @since 0.1.0 */
export type SslMode = "disable" | "allow" | "prefer" | "require" | "verify-ca" | "verify-full"

/** libpq's `target_session_attrs`. @since 0.1.0 */
export type TargetSessionAttrs = "any" | "read-write" | "read-only" | "primary" | "standby" | "prefer-standby"

/** An authentication method name of libpq's `require_auth`. @since 0.1.0 */
export type AuthMethodName = "password" | "md5" | "gss" | "sspi" | "scram-sha-256" | "oauth" | "none"

/** A TLS protocol version bound (`ssl_min_protocol_version`, `ssl_max_protocol_version`). @since 0.1.0 */
export type TlsProtocolVersion = "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3"

/**
 * A password: text, a `Redacted` (kept out of logs), or an Effect evaluated on every connection
 * attempt (rotating tokens such as cloud IAM tokens). A failing Effect fails the attempt with
 * `PgAuthenticationError`.
 * @since 0.1.0
 */
export type PasswordInput =
  string | Redacted.Redacted<string> | Effect.Effect<string | Redacted.Redacted<string>, unknown>

/**
 * Debug mode settings (the `debug` option; `PGFX_DEBUG=1` turns on the defaults,
 * `PGFX_DEBUG=values` also shows values). Every part is on unless set to `false`.
 * @since 0.1.0
 */
export interface PgDebugOptions {
  /** A line per protocol message, both ways (libpq's PQtrace). */
  readonly trace?: boolean | undefined
  /**
   * Show parameter values, row values, COPY data and notification payloads in the trace
   * (default false: their sizes). Authentication messages are never shown.
   */
  readonly showValues?: boolean | undefined
  /** Validate every protocol message in full, both ways (closes the session on a malformed one). */
  readonly checks?: boolean | undefined
  /** Report connections and pool checkouts garbage-collected while still open. */
  readonly leaks?: boolean | undefined
  /** Where the lines go (default: standard error). */
  readonly log?: ((line: string) => void) | undefined
}

/**
 * Options of a connection. Everything is optional; see the module documentation for the other
 * sources and their precedence. libpq keyword names are given in brackets.
 * @since 0.1.0
 */
export interface PgConnectionOptions {
  /**
   * A `postgres://` / `postgresql://` URI or a keyword/value string (`host=db port=5432`).
   * Explicit options override its parts.
   */
  readonly url?: string | undefined
  /**
   * Host name, IP address, or absolute path of a unix socket directory (`<dir>/.s.PGSQL.<port>`);
   * several hosts as an array or a comma-separated string are tried in order [host].
   */
  readonly host?: string | ReadonlyArray<string> | undefined
  /** Port, or one port per host [port]. Default 5432. */
  readonly port?: number | ReadonlyArray<number> | undefined
  /** Role name [user]. Default: the OS user. */
  readonly user?: string | undefined
  /** The password [password]; see {@link PasswordInput}. */
  readonly password?: PasswordInput | undefined
  /** Password file [passfile]. Default `~/.pgpass`. */
  readonly passFile?: string | undefined
  /** Database name [dbname]. Default: the user name. */
  readonly database?: string | undefined
  /** A section of the connection service file [service]. */
  readonly service?: string | undefined
  /** The user's connection service file [servicefile]. Default `~/.pg_service.conf`. */
  readonly serviceFile?: string | undefined
  /** `application_name` reported to the server [application_name]. */
  readonly applicationName?: string | undefined
  /** `application_name` when none is set anywhere else [fallback_application_name]. */
  readonly fallbackApplicationName?: string | undefined
  /** Command-line options sent to the server, e.g. `-c search_path=app` [options]. */
  readonly commandLineOptions?: string | undefined
  /** Server settings sent at startup (e.g. `{ search_path: "app" }`). */
  readonly serverSettings?: Readonly<Record<string, string>> | undefined
  /**
   * Bound on each host's connection attempt: TCP, TLS, authentication and the
   * target_session_attrs check [connect_timeout]. Default 60 seconds; `"Infinity"` waits forever.
   */
  readonly connectTimeout?: Duration.Input | undefined
  /** Default bound on every query of the connection (a per-call `timeout` overrides it). */
  readonly commandTimeout?: Duration.Input | undefined
  /**
   * The grace an interrupted statement gets (a timeout, fiber interruption, a closed scope):
   * pgfx sends a cancel request and waits this long for the server to end the statement; past
   * it, the connection is closed (and a pool's slot freed), so every operation settles within
   * its timeout plus this grace whatever the server or the network does (default 1 second). The
   * cancel request's own connection is bounded by `connectTimeout`.
   */
  readonly cancelTimeout?: Duration.Input | undefined
  /** The codecs this connection uses (default: the built-ins). */
  readonly codecs?: CodecRegistry | undefined
  /** Prepared statements kept per connection for repeated SQL (default 256; 0 disables). */
  readonly statementCacheSize?: number | undefined
  /** How long a cached statement may be reused before it is prepared again (default 300 seconds; 0: forever). */
  readonly maxCachedStatementLifetime?: Duration.Input | undefined
  /** SQL longer than this many bytes (UTF-8) is never cached (default 15360). */
  readonly maxCacheableStatementSize?: number | undefined
  /**
   * `false`: no named statements are created; every query re-sends Parse for the unnamed
   * statement, and only the statement descriptions are cached (default true). Not needed behind
   * PgBouncer or pgpool-II: named statements are safe there (their names are digests of their
   * SQL, and a statement missing on a pooler's server connection is re-created; see
   * docs/poolers.md), but `false` avoids even the first misses while a pooler warms up.
   */
  readonly namedStatements?: boolean | undefined
  /** `false` sends one request at a time instead of pipelining concurrent queries (default true). */
  readonly pipelining?: boolean | undefined
  /**
   * Largest backend message read in bytes (default 1 GiB, PostgreSQL's own limit on a value, so
   * every legal value is readable). A row or COPY chunk over it fails its query with
   * `PgLimitError` (kind `message`) and is discarded as it arrives, never held; the connection
   * stays usable. An error or notice over it keeps its first 64 KiB (at most this). At least 1024.
   */
  readonly maxMessageSize?: number | undefined
  /**
   * Most rows one reply may carry (default: no limit). A query (`fetch`, a prepared statement,
   * an `executeMany` batch as a whole, one cursor fetch, a simple query) whose reply has more fails
   * with `PgLimitError` (kind `rows`); the rest is read and discarded, and the connection stays
   * usable. The statement is not cancelled: it runs to its end on the server.
   */
  readonly maxResultRows?: number | undefined
  /**
   * Most bytes of rows (DataRow bodies, as sent by the server) or COPY TO data one reply may
   * carry (default: no limit). Over it: `PgLimitError` (kind `bytes`), the rest is read and
   * discarded, the connection stays usable.
   */
  readonly maxResultBytes?: number | undefined
  /**
   * Protocol version asked for at startup [max_protocol_version]: "3.0" (default, as in libpq
   * 18: poolers such as PgBouncer before 1.19 reject anything else) or "3.2" (PostgreSQL 18's
   * 32-byte cancel keys). A server that rejects a 3.2 startup outright is asked again with 3.0,
   * unless `minProtocolVersion` forbids it.
   */
  readonly protocolVersion?: "3.0" | "3.2" | undefined
  /** Refuse a server that negotiates a lower protocol version (default "3.0") [min_protocol_version]. */
  readonly minProtocolVersion?: "3.0" | "3.2" | "latest" | undefined
  /**
   * Only accept these authentication methods [require_auth]: a list (`["scram-sha-256"]`,
   * `"scram-sha-256,md5"`) or its negation (`"!password,!md5"`); `none` allows no
   * authentication at all (trust, or a client certificate).
   */
  readonly requireAuth?: string | ReadonlyArray<AuthMethodName | `!${AuthMethodName}`> | undefined
  /** SCRAM channel binding [channel_binding]: disable, prefer (default), require. */
  readonly channelBinding?: "disable" | "prefer" | "require" | undefined
  /**
   * Authentication mechanisms beyond the built-in ones (see `PgAuth`), e.g. GSSAPI from
   * `@pgfx/gssapi`: `authPlugins: [Gssapi.plugin()]`.
   */
  readonly authPlugins?: ReadonlyArray<PgAuthPlugin> | undefined
  /** The Kerberos service name of the server (default `postgres`) [krbsrvname]. */
  readonly krbSrvName?: string | undefined
  /** The GSS library: `gssapi` (`sspi` exists only on Windows) [gsslib]. */
  readonly gssLib?: "gssapi" | "sspi" | undefined
  /** TLS mode with libpq's meanings [sslmode]. Default `prefer`. */
  readonly sslMode?: SslMode | undefined
  /** `postgres` (SSLRequest, default) or `direct` (TLS at once, ALPN `postgresql`; PostgreSQL 17+) [sslnegotiation]. */
  readonly sslNegotiation?: "postgres" | "direct" | undefined
  /** CA file to verify the server with, or `system` for the system's trusted roots [sslrootcert]. Default `~/.postgresql/root.crt`. */
  readonly sslRootCert?: string | undefined
  /** Client certificate file [sslcert]. Default `~/.postgresql/postgresql.crt` when it exists. */
  readonly sslCert?: string | undefined
  /** Client key file [sslkey]. Default `~/.postgresql/postgresql.key` when it exists. */
  readonly sslKey?: string | undefined
  /** Passphrase of the client key [sslpassword]. */
  readonly sslPassword?: string | Redacted.Redacted<string> | undefined
  /** Certificate revocation list file [sslcrl]. Default `~/.postgresql/root.crl` when it exists. */
  readonly sslCrl?: string | undefined
  /** Send the host name as TLS SNI (default true) [sslsni]. */
  readonly sslSni?: boolean | undefined
  /** `disable` never sends a client certificate; `allow` (default) sends one when configured [sslcertmode]. */
  readonly sslCertMode?: "disable" | "allow" | undefined
  /** Lowest TLS version (default TLSv1.2) [ssl_min_protocol_version]. */
  readonly sslMinProtocolVersion?: TlsProtocolVersion | undefined
  /** Highest TLS version [ssl_max_protocol_version]. */
  readonly sslMaxProtocolVersion?: TlsProtocolVersion | undefined
  /**
   * asyncpg's `ssl`: `false` is `sslMode: "disable"`; `true` or a Node `tls.ConnectionOptions`
   * object requires TLS verified by Node's rules (the system CAs and the host name) unless the
   * object says otherwise. The object is applied over what the ssl* settings produce.
   */
  readonly ssl?: boolean | tls.ConnectionOptions | undefined
  /** Which server is acceptable [target_session_attrs]. Default `any`. */
  readonly targetSessionAttrs?: TargetSessionAttrs | undefined
  /** `random` shuffles the hosts before trying them [load_balance_hosts]. Default `disable`. */
  readonly loadBalanceHosts?: "disable" | "random" | undefined
  /**
   * TCP keepalive (default true, as in libpq) [keepalives]: a peer that vanished without closing
   * the connection (host down, cable cut) is detected on an idle connection after the idle time
   * plus the probes (on Linux with the system defaults: about 2 hours 11 minutes; see
   * docs/reliability.md). Per-query timeouts and `cancelTimeout` bound waits much sooner.
   */
  readonly keepAlive?: boolean | undefined
  /** Idle time before the first keepalive probe [keepalives_idle]. Default: the system's (7200 s on Linux). */
  readonly keepAliveIdle?: Duration.Input | undefined
  /**
   * Debug mode, for when something is wrong (default off, or `PGFX_DEBUG` from the environment):
   * a protocol trace of every message both ways with values redacted, full validation of every
   * message, and reports of connections leaked without being closed. `true` turns everything on;
   * see {@link PgDebugOptions}. Costly: never in production.
   */
  readonly debug?: boolean | PgDebugOptions | undefined
  /**
   * The environment variables to read (default `process.env`); `{}` ignores the environment.
   * `HOME` in it locates `~/.pgpass` and friends.
   */
  readonly environment?: Readonly<Record<string, string | undefined>> | undefined
}

/** Settings after every source and default is applied. @since 0.1.0 */
export interface ResolvedConfig {
  /** The hosts to try, in order (before any load-balancing shuffle). */
  readonly hosts: ReadonlyArray<HostTarget>
  /** The first host; on an open connection's config, the host it is connected to. */
  readonly target: HostTarget
  readonly user: string
  /** The password from the options, URL, service file or environment. */
  readonly password: Redacted.Redacted<string> | undefined
  /** A password Effect evaluated per connection attempt. */
  readonly passwordEffect: Effect.Effect<string | Redacted.Redacted<string>, unknown> | undefined
  readonly database: string
  /** Startup parameters besides user, database and client_encoding. */
  readonly serverSettings: Readonly<Record<string, string>>
  /** Per-host bound on connecting; `Infinity` for none. */
  readonly connectTimeoutMs: number
  /** Default bound on each query, if any. */
  readonly commandTimeoutMs: number | undefined
  readonly cancelTimeoutMs: number
  readonly statementCacheSize: number
  /** 0 means forever. */
  readonly maxCachedStatementLifetimeMs: number
  readonly maxCacheableStatementSize: number
  readonly namedStatements: boolean
  readonly pipelining: boolean
  readonly maxMessageSize: number | undefined
  readonly maxResultRows: number | undefined
  readonly maxResultBytes: number | undefined
  readonly protocolMinor: number
  /** The lowest protocol minor version accepted (0 or 2). */
  readonly minProtocolMinor: number
  /** The accepted authentication methods, or undefined for any. */
  readonly requireAuth: ReadonlyArray<AuthMethodName> | undefined
  readonly channelBinding: "disable" | "prefer" | "require"
  readonly authPlugins: ReadonlyArray<PgAuthPlugin>
  /** The Kerberos service name (default `postgres`). */
  readonly krbSrvName: string
  readonly gssLib: "gssapi" | "sspi" | undefined
  readonly tls: TlsSettings
  readonly targetSessionAttrs: TargetSessionAttrs
  readonly loadBalanceHosts: "disable" | "random"
  readonly keepAlive: boolean
  readonly keepAliveIdleMs: number
  /** Debug mode, when on (the `debug` option, else `PGFX_DEBUG`). */
  readonly debug: DebugSettings | undefined
  /** Warnings met while resolving (e.g. a password file with too open permissions). */
  readonly warnings: ReadonlyArray<string>
  /** On an open connection's config: whether (and how) the session is encrypted. */
  readonly encryption?: "none" | "tls" | "tls-direct" | undefined
}

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
