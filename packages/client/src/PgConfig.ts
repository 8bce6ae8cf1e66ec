/**
 * Connection settings. A `PgConnectionOptions` value says where and how to connect; `resolve`
 * fills what is missing from a connection URL and libpq's PG* environment variables.
 *
 * Precedence (highest first): explicit options, the URL, PG* environment variables, defaults
 * (host: the unix socket directory `/var/run/postgresql` when present, else `localhost`; port
 * 5432; user: the OS user; database: the user name).
 *
 * @since 0.1.0
 */
import type { CodecRegistry } from "@pgfx/types/CodecRegistry"
import { Data, Duration, Redacted } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"

/** Options of a connection. @since 0.1.0 */
export interface PgConnectionOptions {
  /** A `postgres://` or `postgresql://` URL; explicit options override its parts. */
  readonly url?: string | undefined
  /** Host name, IP address, or an absolute path to a unix socket directory. */
  readonly host?: string | undefined
  readonly port?: number | undefined
  readonly user?: string | undefined
  /** The password; a `Redacted` keeps it out of logs. */
  readonly password?: string | Redacted.Redacted<string> | undefined
  readonly database?: string | undefined
  readonly applicationName?: string | undefined
  /** Server settings sent at startup (e.g. `{ search_path: "app" }`). */
  readonly serverSettings?: Readonly<Record<string, string>> | undefined
  /** Bound on the whole connection attempt (default 60 seconds). */
  readonly connectTimeout?: Duration.Input | undefined
  /** The codecs this connection uses (default: the built-ins). */
  readonly codecs?: CodecRegistry | undefined
  /** Prepared statements kept per connection for repeated SQL (default 256; 0 disables). */
  readonly statementCacheSize?: number | undefined
  /** How long a cached statement may be reused before it is prepared again (default 300 seconds; 0: forever). */
  readonly maxCachedStatementLifetime?: Duration.Input | undefined
  /** SQL longer than this many bytes (UTF-8) is never cached (default 15360). */
  readonly maxCacheableStatementSize?: number | undefined
  /**
   * `false` for PgBouncer in transaction/statement pooling mode and similar poolers: no named
   * statements are created; every query re-sends Parse for the unnamed statement, and only the
   * statement descriptions are cached (default true).
   */
  readonly namedStatements?: boolean | undefined
  /** `false` sends one request at a time instead of pipelining concurrent queries (default true). */
  readonly pipelining?: boolean | undefined
  /** Default timeout of every query method (default: none); a per-call `timeout` overrides it. */
  readonly commandTimeout?: Duration.Input | undefined
  /** Largest accepted backend message in bytes (default 1 GiB). */
  readonly maxMessageSize?: number | undefined
  /** Protocol version asked for at startup: "3.2" (default; PostgreSQL 18's long cancel keys) or "3.0". */
  readonly protocolVersion?: "3.0" | "3.2" | undefined
  /** Only accept these authentication methods (libpq's require_auth). */
  readonly requireAuth?: ReadonlyArray<"none" | "password" | "md5" | "scram-sha-256"> | undefined
  /** Bound on a cancel request (default 5 seconds). */
  readonly cancelTimeout?: Duration.Input | undefined
}

/** Settings after defaults and sources are applied. @since 0.1.0 */
export interface ResolvedConfig {
  readonly target:
    | { readonly _tag: "tcp"; readonly host: string; readonly port: number }
    | {
        readonly _tag: "unix"
        readonly path: string
        readonly host: string
        readonly port: number
      }
  readonly user: string
  readonly password: Redacted.Redacted<string> | undefined
  readonly database: string
  readonly serverSettings: Readonly<Record<string, string>>
  readonly connectTimeoutMs: number
  readonly cancelTimeoutMs: number
  readonly statementCacheSize: number
  /** 0 means forever. */
  readonly maxCachedStatementLifetimeMs: number
  readonly maxCacheableStatementSize: number
  readonly namedStatements: boolean
  readonly pipelining: boolean
  readonly commandTimeoutMs: number | undefined
  readonly maxMessageSize: number | undefined
  readonly protocolMinor: number
  readonly requireAuth: ReadonlyArray<"none" | "password" | "md5" | "scram-sha-256"> | undefined
}

/** A setting is invalid; `source` and `key` say which. The value is never included. @since 0.1.0 */
export class PgConfigError extends Data.TaggedError("PgConfigError")<{
  readonly source: "url" | "options" | "env"
  readonly key: string
  readonly message: string
}> {}

interface UrlParts {
  host?: string
  port?: number
  user?: string
  password?: string
  database?: string
  settings: Record<string, string>
}

const parseUrl = (url: string): UrlParts => {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new PgConfigError({
      source: "url",
      key: "scheme",
      message: "the URL must start with postgres:// or postgresql://",
    })
  }
  let u: URL
  try {
    u = new URL(url.replace(/^postgres(ql)?:/, "http:"))
  } catch {
    throw new PgConfigError({ source: "url", key: "url", message: "the connection URL is malformed" })
  }
  const parts: UrlParts = { settings: {} }
  if (u.hostname) parts.host = decodeURIComponent(u.hostname.replace(/^\[(.*)\]$/, "$1"))
  if (u.port) parts.port = Number(u.port)
  if (u.username) parts.user = decodeURIComponent(u.username)
  if (u.password) parts.password = decodeURIComponent(u.password)
  const db = u.pathname.replace(/^\//, "")
  if (db) parts.database = decodeURIComponent(db)
  for (const [k, v] of u.searchParams) {
    if (k === "host") parts.host = v
    else if (k === "port") parts.port = Number(v)
    else if (k === "user") parts.user = v
    else if (k === "password") parts.password = v
    else if (k === "dbname") parts.database = v
    else if (k === "application_name") parts.settings.application_name = v
    else if (k === "sslmode" || k === "connect_timeout") continue
    else parts.settings[k] = v
  }
  return parts
}

const defaultHost = (): string => {
  for (const dir of ["/var/run/postgresql", "/tmp"]) {
    try {
      if (fs.readdirSync(dir).some((f) => f.startsWith(".s.PGSQL."))) return dir
    } catch {
      // not there
    }
  }
  return "localhost"
}

const envInt = (env: NodeJS.ProcessEnv, key: string): number | undefined => {
  const v = env[key]
  if (v === undefined || v === "") return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n <= 0 || n > 65535) {
    throw new PgConfigError({ source: "env", key, message: `${key} must be a port number` })
  }
  return n
}

/**
 * Applies the URL, PG* environment variables and defaults to explicit options.
 *
 * Errors: throws {@link PgConfigError} naming the source and key of a bad setting.
 * @since 0.1.0
 */
export const resolve = (options: PgConnectionOptions, env: NodeJS.ProcessEnv = process.env): ResolvedConfig => {
  const url = options.url === undefined ? ({ settings: {} } as UrlParts) : parseUrl(options.url)
  const host = options.host ?? url.host ?? (env.PGHOST || undefined) ?? defaultHost()
  const port = options.port ?? url.port ?? envInt(env, "PGPORT") ?? 5432
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new PgConfigError({
      source: options.port !== undefined ? "options" : "url",
      key: "port",
      message: "port must be 1-65535",
    })
  }
  const user = options.user ?? url.user ?? (env.PGUSER || undefined) ?? os.userInfo().username
  const rawPassword = options.password ?? url.password ?? (env.PGPASSWORD || undefined)
  const password =
    rawPassword === undefined ? undefined : Redacted.isRedacted(rawPassword) ? rawPassword : Redacted.make(rawPassword)
  const database = options.database ?? url.database ?? (env.PGDATABASE || undefined) ?? user
  const applicationName = options.applicationName ?? url.settings.application_name ?? (env.PGAPPNAME || undefined)
  const serverSettings: Record<string, string> = { ...url.settings, ...options.serverSettings }
  if (applicationName !== undefined) serverSettings.application_name = applicationName
  const target = host.startsWith("/")
    ? { _tag: "unix" as const, path: `${host}/.s.PGSQL.${port}`, host, port }
    : { _tag: "tcp" as const, host, port }
  return {
    target,
    user,
    password,
    database,
    serverSettings,
    connectTimeoutMs: Duration.toMillis(Duration.fromInputUnsafe(options.connectTimeout ?? "60 seconds")),
    cancelTimeoutMs: Duration.toMillis(Duration.fromInputUnsafe(options.cancelTimeout ?? "5 seconds")),
    statementCacheSize: options.statementCacheSize ?? 256,
    maxCachedStatementLifetimeMs: Duration.toMillis(
      Duration.fromInputUnsafe(options.maxCachedStatementLifetime ?? "300 seconds"),
    ),
    maxCacheableStatementSize: options.maxCacheableStatementSize ?? 15360,
    namedStatements: options.namedStatements ?? true,
    pipelining: options.pipelining ?? true,
    commandTimeoutMs:
      options.commandTimeout === undefined
        ? undefined
        : Duration.toMillis(Duration.fromInputUnsafe(options.commandTimeout)),
    maxMessageSize: options.maxMessageSize,
    protocolMinor: options.protocolVersion === "3.0" ? 0 : 2,
    requireAuth: options.requireAuth,
  }
}
