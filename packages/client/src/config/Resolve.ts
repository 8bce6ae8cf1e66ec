/**
 * The merge step: one layer per source (options, URL, service file, environment), the first
 * layer that has a setting wins, then defaults, the password file and validation.
 *
 * @internal
 */
import { Duration, Effect, Option, Redacted } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { type DebugSettings, resolveDebug } from "../internal/observe/Debug.ts"
import type { AuthMethodName, PgAuthPlugin } from "../PgAuth.ts"
import type { PgConnectionOptions, TargetSessionAttrs } from "./Options.ts"
import { configError } from "./ConfigError.ts"
import type { PgConfigSource } from "../PgError.ts"
import { type Environment, fromEnv } from "./Env.ts"
import { type Layer, splitList } from "./Keywords.ts"
import { lookupPgpass, readPgpass } from "./Pgpass.ts"
import { loadService, serviceFiles } from "./ServiceFile.ts"
import { type Found, resolveTls, type TlsSettings } from "./TlsSettings.ts"

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

/** One host to try. `password` is the password file's entry for it, if any. @since 0.1.0 */
export type HostTarget =
  | {
      readonly _tag: "tcp"
      readonly host: string
      readonly port: number
      readonly password?: Redacted.Redacted<string> | undefined
    }
  | {
      readonly _tag: "unix"
      /** `<dir>/.s.PGSQL.<port>` */
      readonly path: string
      /** The socket directory. */
      readonly host: string
      readonly port: number
      readonly password?: Redacted.Redacted<string> | undefined
    }

/** Where libpq and asyncpg look for a server's unix socket when no host is given. */
export const defaultSocketDirs: ReadonlyArray<string> = [
  "/run/postgresql",
  "/var/run/postgresql",
  "/var/pgsql_socket",
  "/private/tmp",
  "/tmp",
]

const allMethods: ReadonlyArray<AuthMethodName> = ["password", "md5", "gss", "sspi", "scram-sha-256", "oauth", "none"]

/** libpq's require_auth: a list of methods, or a list of negated methods. */
export const parseRequireAuth = (
  value: string | ReadonlyArray<string>,
  source: PgConfigSource,
): ReadonlyArray<AuthMethodName> => {
  const items = typeof value === "string" ? splitList(value) : [...value]
  if (items.length === 0 || items.some((i) => i === "" || i === "!")) {
    throw configError(source, "require_auth", "require_auth must list at least one method and no empty ones")
  }
  const negated = items[0].startsWith("!")
  const names = new Set<string>()
  for (const item of items) {
    if (item.startsWith("!") !== negated) {
      throw configError(source, "require_auth", "negative require_auth methods cannot be mixed with non-negative ones")
    }
    const name = negated ? item.slice(1) : item
    if (!(allMethods as ReadonlyArray<string>).includes(name)) {
      throw configError(source, "require_auth", `invalid require_auth method "${name}"`)
    }
    if (names.has(name)) {
      throw configError(source, "require_auth", `require_auth method "${name}" is specified more than once`)
    }
    names.add(name)
  }
  return negated ? allMethods.filter((m) => !names.has(m)) : allMethods.filter((m) => names.has(m))
}

const duration = (found: Found<Duration.Input> | undefined, key: string, fallback: number | undefined) => {
  if (found === undefined) return fallback
  const parsed = Duration.fromInput(found.value)
  if (Option.isNone(parsed) || Duration.toMillis(parsed.value) < 0) {
    throw configError(found.source, key, `${key} must be a non-negative duration`)
  }
  return Duration.toMillis(parsed.value)
}

const validPort = (port: number, source: PgConfigSource): number => {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw configError(source, "port", "invalid port number: must be 1-65535")
  }
  return port
}

/** The options object as a layer (host strings with commas become lists). */
const optionsLayer = (options: PgConnectionOptions): Layer => {
  const {
    url: _url,
    environment: _environment,
    codecs: _codecs,
    authPlugins: _authPlugins,
    debug: _debug,
    ...rest
  } = options
  const layer: Layer = {}
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) (layer as Record<string, unknown>)[k] = v
  if (typeof options.host === "string" && options.host.includes(",")) layer.host = splitList(options.host)
  return layer
}

const isSocketDir = (host: string): boolean =>
  host.startsWith("/") || (process.platform === "win32" && /^[A-Za-z]:[\\/]/.test(host))

/** The hosts to try when none is configured: socket directories with a socket, then localhost. */
const defaultHosts = (port: number): Array<string> => {
  if (process.platform === "win32") return ["localhost"]
  const dirs = defaultSocketDirs.filter((dir) => fs.existsSync(path.join(dir, `.s.PGSQL.${port}`)))
  return [...dirs, "localhost"]
}

/** Merges the sources of `options` (see `PgConfig.resolve`). */
export const resolveLayers = (
  options: PgConnectionOptions,
  env: Environment,
  parse: (text: string) => { readonly source: "url" | "dsn"; readonly layer: PgConnectionOptions },
): ResolvedConfig => {
  const warnings: Array<string> = []
  const home = env.HOME || os.homedir()
  const layers: Array<{ readonly source: PgConfigSource; readonly layer: PgConnectionOptions }> = [
    { source: "options", layer: optionsLayer(options) },
  ]
  if (options.url !== undefined && options.url !== "") layers.push(parse(options.url))

  const find = <K extends keyof PgConnectionOptions>(
    key: K,
  ): Found<NonNullable<PgConnectionOptions[K]>> | undefined => {
    for (const { source, layer } of layers) {
      const value = layer[key]
      if (value !== undefined && value !== "") return { value: value as NonNullable<PgConnectionOptions[K]>, source }
    }
    return undefined
  }

  const envLayer = fromEnv(env)
  const service = find("service")?.value ?? envLayer.service
  if (service !== undefined) {
    const files = serviceFiles(env, home, find("serviceFile")?.value)
    layers.push({ source: "service", layer: loadService(service, files) })
  }
  layers.push({ source: "env", layer: envLayer })

  // Hosts and ports.
  const hostFound = find("host")
  const portFound = find("port")
  const ports = (
    portFound === undefined ? [5432] : typeof portFound.value === "number" ? [portFound.value] : [...portFound.value]
  ).map((p) => validPort(p, portFound?.source ?? "default"))
  if (ports.length === 0) throw configError(portFound?.source ?? "options", "port", "the port list is empty")
  const explicitHosts =
    hostFound === undefined ? undefined : typeof hostFound.value === "string" ? [hostFound.value] : [...hostFound.value]
  if (explicitHosts !== undefined && explicitHosts.length === 0) {
    throw configError(hostFound?.source ?? "options", "host", "the host list is empty")
  }
  const hostNames = explicitHosts ?? defaultHosts(ports[0])
  if (ports.length !== 1 && ports.length !== hostNames.length) {
    throw configError(
      portFound?.source ?? "options",
      "port",
      `could not match ${ports.length} port numbers to ${hostNames.length} hosts`,
    )
  }

  const user = find("user")?.value ?? osUser(env)
  const database = find("database")?.value ?? user

  // Password: explicit sources, else the password file, matched per host.
  const passwordFound = find("password")
  const rawPassword = passwordFound?.value
  let password: Redacted.Redacted<string> | undefined
  let passwordEffect: ResolvedConfig["passwordEffect"]
  if (typeof rawPassword === "string") password = Redacted.make(rawPassword)
  else if (rawPassword !== undefined && Redacted.isRedacted(rawPassword)) password = rawPassword
  else if (rawPassword !== undefined && Effect.isEffect(rawPassword)) passwordEffect = rawPassword
  else if (rawPassword !== undefined) throw configError(passwordFound!.source, "password", "invalid password value")

  const passFile = find("passFile")?.value ?? path.join(home, ".pgpass")
  const pgpass = password === undefined && passwordEffect === undefined ? readPgpass(passFile) : undefined
  if (pgpass?._tag === "Ignored") warnings.push(pgpass.warning)

  const hosts = hostNames.map((name, i) => {
    const port = ports.length === 1 ? ports[0] : ports[i]
    const host = name === "" ? (defaultHosts(port)[0] ?? "localhost") : name
    const unix = isSocketDir(host)
    const passHost = unix && !defaultSocketDirs.includes(host.replace(/\/+$/, "")) ? host : unix ? "localhost" : host
    const fromFile = pgpass?._tag === "Read" ? lookupPgpass(pgpass.entries, passHost, port, database, user) : undefined
    const pw = fromFile === undefined ? undefined : Redacted.make(fromFile)
    return unix
      ? ({ _tag: "unix", path: path.join(host, `.s.PGSQL.${port}`), host, port, password: pw } as const)
      : ({ _tag: "tcp", host, port, password: pw } as const)
  })

  // Startup parameters.
  const serverSettings: Record<string, string> = {}
  for (const { layer } of [...layers].reverse()) Object.assign(serverSettings, layer.serverSettings)
  for (const key of ["user", "database", "replication", "client_encoding"]) {
    if (key in serverSettings) {
      throw configError(
        layers.find((l) => l.layer.serverSettings?.[key] !== undefined)?.source ?? "options",
        key,
        `"${key}" cannot be set as a server setting`,
      )
    }
  }
  const applicationName = find("applicationName")?.value ?? find("fallbackApplicationName")?.value
  if (applicationName !== undefined) serverSettings.application_name = applicationName
  const commandLine = find("commandLineOptions")?.value
  if (commandLine !== undefined) serverSettings.options = commandLine

  // Every startup value travels as UTF-8: a lone surrogate has no UTF-8 form (it would be sent
  // as U+FFFD, another name), so it is refused here with the key that holds it.
  for (const [key, value] of [["user", user], ["database", database], ...Object.entries(serverSettings)]) {
    if (!key!.isWellFormed() || !value!.isWellFormed()) {
      throw configError(
        "options",
        key === "user" || key === "database" ? key! : "serverSettings",
        `${key} contains a lone UTF-16 surrogate, which has no UTF-8 form`,
      )
    }
  }

  const statementCacheSize = find("statementCacheSize")?.value ?? 256
  if (!Number.isInteger(statementCacheSize) || statementCacheSize < 0) {
    throw configError("options", "statementCacheSize", "statementCacheSize must be a non-negative integer")
  }
  const maxMessageSize = find("maxMessageSize")?.value
  if (maxMessageSize !== undefined && (!Number.isInteger(maxMessageSize) || maxMessageSize < 1024)) {
    throw configError("options", "maxMessageSize", "maxMessageSize must be an integer of at least 1024")
  }
  const maxResultRows = find("maxResultRows")?.value
  if (maxResultRows !== undefined && (!Number.isInteger(maxResultRows) || maxResultRows < 1)) {
    throw configError("options", "maxResultRows", "maxResultRows must be a positive integer")
  }
  const maxResultBytes = find("maxResultBytes")?.value
  if (maxResultBytes !== undefined && (!Number.isInteger(maxResultBytes) || maxResultBytes < 1)) {
    throw configError("options", "maxResultBytes", "maxResultBytes must be a positive integer")
  }

  const requireAuth = find("requireAuth")
  const minProtocol = find("minProtocolVersion")
  const minProtocolMinor = minProtocol === undefined || minProtocol.value === "3.0" ? 0 : 2
  // libpq 18's default: ask for 3.0, which every server and pooler speaks; 3.2 when asked for
  // (or when the minimum requires it).
  const protocolVersion = find("protocolVersion")?.value ?? (minProtocolMinor === 2 ? "3.2" : "3.0")
  const protocolMinor = protocolVersion === "3.0" ? 0 : 2
  if (minProtocolMinor > protocolMinor) {
    throw configError(minProtocol!.source, "min_protocol_version", "min_protocol_version is above max_protocol_version")
  }

  const sslPassword = find("sslPassword")?.value
  const tls = resolveTls({
    mode: find("sslMode"),
    negotiation: find("sslNegotiation"),
    rootCert: find("sslRootCert"),
    cert: find("sslCert"),
    key: find("sslKey"),
    password: sslPassword === undefined || Redacted.isRedacted(sslPassword) ? sslPassword : Redacted.make(sslPassword),
    crl: find("sslCrl"),
    sni: find("sslSni")?.value,
    certMode: find("sslCertMode")?.value,
    minVersion: find("sslMinProtocolVersion")?.value,
    maxVersion: find("sslMaxProtocolVersion")?.value,
    ssl: options.ssl,
    home,
  })

  const connectTimeoutMs = duration(find("connectTimeout"), "connectTimeout", 60_000)!
  return {
    hosts,
    target: hosts[0],
    user,
    password,
    passwordEffect,
    database,
    serverSettings,
    connectTimeoutMs: connectTimeoutMs === 0 ? Number.POSITIVE_INFINITY : connectTimeoutMs,
    commandTimeoutMs: duration(find("commandTimeout"), "commandTimeout", undefined),
    cancelTimeoutMs: duration(find("cancelTimeout"), "cancelTimeout", 1_000)!,
    statementCacheSize,
    maxCachedStatementLifetimeMs: duration(find("maxCachedStatementLifetime"), "maxCachedStatementLifetime", 300_000)!,
    maxCacheableStatementSize: options.maxCacheableStatementSize ?? 15360,
    namedStatements: options.namedStatements ?? true,
    pipelining: options.pipelining ?? true,
    maxMessageSize,
    maxResultRows,
    maxResultBytes,
    protocolMinor,
    minProtocolMinor,
    requireAuth: requireAuth === undefined ? undefined : parseRequireAuth(requireAuth.value, requireAuth.source),
    channelBinding: find("channelBinding")?.value ?? "prefer",
    authPlugins: options.authPlugins ?? [],
    krbSrvName: find("krbSrvName")?.value ?? "postgres",
    gssLib: find("gssLib")?.value,
    tls,
    targetSessionAttrs: find("targetSessionAttrs")?.value ?? "any",
    loadBalanceHosts: find("loadBalanceHosts")?.value ?? "disable",
    keepAlive: find("keepAlive")?.value ?? true,
    keepAliveIdleMs: duration(find("keepAliveIdle"), "keepAliveIdle", 0)!,
    debug: resolveDebug(options.debug, env.PGFX_DEBUG),
    warnings,
  }
}

const osUser = (env: Environment): string => {
  try {
    return os.userInfo().username
  } catch {
    const name = env.USER || env.LOGNAME || env.USERNAME
    if (name === undefined) throw configError("default", "user", "could not determine the OS user name; set user")
    return name
  }
}
