/**
 * libpq's connection keywords: each one's parser from text to a typed option, and the PG*
 * environment variable that feeds it. Every text source (URI, keyword/value string, environment,
 * service file, Effect `Config`) goes through {@link applyKeyword}, so a value means the same
 * wherever it comes from.
 *
 * @internal
 */
import { Redacted } from "effect"
import type { PgConnectionOptions } from "./Options.ts"
import { configError } from "./ConfigError.ts"
import type { PgConfigSource } from "../PgError.ts"

/** A partial, mutable set of options built from one source. */
export type Layer = { -readonly [K in keyof PgConnectionOptions]?: PgConnectionOptions[K] }

/** libpq's environment variables, by connection keyword. */
export const envVars: Readonly<Record<string, string>> = {
  host: "PGHOST",
  hostaddr: "PGHOSTADDR",
  port: "PGPORT",
  dbname: "PGDATABASE",
  user: "PGUSER",
  password: "PGPASSWORD",
  passfile: "PGPASSFILE",
  service: "PGSERVICE",
  servicefile: "PGSERVICEFILE",
  options: "PGOPTIONS",
  application_name: "PGAPPNAME",
  connect_timeout: "PGCONNECT_TIMEOUT",
  client_encoding: "PGCLIENTENCODING",
  sslmode: "PGSSLMODE",
  sslnegotiation: "PGSSLNEGOTIATION",
  sslrootcert: "PGSSLROOTCERT",
  sslcert: "PGSSLCERT",
  sslkey: "PGSSLKEY",
  sslcrl: "PGSSLCRL",
  sslcrldir: "PGSSLCRLDIR",
  sslsni: "PGSSLSNI",
  sslcertmode: "PGSSLCERTMODE",
  sslcompression: "PGSSLCOMPRESSION",
  ssl_min_protocol_version: "PGSSLMINPROTOCOLVERSION",
  ssl_max_protocol_version: "PGSSLMAXPROTOCOLVERSION",
  require_auth: "PGREQUIREAUTH",
  channel_binding: "PGCHANNELBINDING",
  target_session_attrs: "PGTARGETSESSIONATTRS",
  load_balance_hosts: "PGLOADBALANCEHOSTS",
  gssencmode: "PGGSSENCMODE",
  krbsrvname: "PGKRBSRVNAME",
  gsslib: "PGGSSLIB",
  requirepeer: "PGREQUIREPEER",
  min_protocol_version: "PGMINPROTOCOLVERSION",
  max_protocol_version: "PGMAXPROTOCOLVERSION",
}

const oneOf = <const T extends string>(
  allowed: ReadonlyArray<T>,
  value: string,
  source: PgConfigSource,
  key: string,
): T => {
  if ((allowed as ReadonlyArray<string>).includes(value)) return value as T
  throw configError(source, key, `invalid ${key} value: must be one of ${allowed.join(", ")}`)
}

const integer = (value: string, source: PgConfigSource, key: string): number => {
  const trimmed = value.trim()
  if (!/^[+-]?\d+$/.test(trimmed)) throw configError(source, key, `invalid integer value for ${key}`)
  return Number(trimmed)
}

const bool01 = (value: string, source: PgConfigSource, key: string): boolean => {
  if (value === "1") return true
  if (value === "0") return false
  throw configError(source, key, `invalid ${key} value: must be 0 or 1`)
}

/** A comma-separated list as libpq splits it (no quoting; empty elements kept). */
export const splitList = (value: string): Array<string> => value.split(",").map((s) => s.trim())

/** Parses a port or a comma-separated list of ports; an empty element means 5432. */
export const parsePorts = (value: string, source: PgConfigSource, key = "port"): Array<number> =>
  splitList(value).map((p) => {
    if (p === "") return 5432
    const n = integer(p, source, key)
    if (n < 1 || n > 65535) throw configError(source, key, `invalid port number: must be 1-65535`)
    return n
  })

const unsupported = (source: PgConfigSource, key: string, what = `the ${key} setting`): never => {
  throw configError(source, key, `${what} is not supported by pgfx`)
}

/**
 * Applies one libpq keyword to `layer`. Unknown keywords throw, unless `unknown` is given: then
 * they are handed to it (URIs turn them into server settings, as asyncpg does).
 */
export const applyKeyword = (
  layer: Layer,
  keyword: string,
  value: string,
  source: PgConfigSource,
  unknown?: (keyword: string, value: string) => void,
): void => {
  switch (keyword) {
    case "host": {
      const hosts = splitList(value)
      layer.host = hosts.length === 1 ? hosts[0] : hosts
      return
    }
    case "port": {
      const ports = parsePorts(value, source)
      layer.port = ports.length === 1 ? ports[0] : ports
      return
    }
    case "dbname":
    case "database":
      layer.database = value
      return
    case "user":
      layer.user = value
      return
    case "password":
      layer.password = Redacted.make(value)
      return
    case "passfile":
      layer.passFile = value
      return
    case "service":
      layer.service = value
      return
    case "servicefile":
      layer.serviceFile = value
      return
    case "options":
      layer.commandLineOptions = value
      return
    case "application_name":
      layer.applicationName = value
      return
    case "fallback_application_name":
      layer.fallbackApplicationName = value
      return
    case "connect_timeout": {
      // libpq: seconds; 0 or less waits forever; 1 is raised to 2.
      const seconds = integer(value, source, keyword)
      layer.connectTimeout = seconds <= 0 ? "Infinity" : `${Math.max(seconds, 2)} seconds`
      return
    }
    case "client_encoding":
      if (!/^(utf-?8|unicode|auto)$/i.test(value.trim())) {
        throw configError(source, keyword, "pgfx always uses client_encoding UTF8")
      }
      return
    case "sslmode":
      layer.sslMode = oneOf(
        ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"],
        value,
        source,
        keyword,
      )
      return
    case "ssl":
      // libpq (and JDBC) accept ssl=true in URIs as sslmode=require.
      if (value !== "true") throw configError(source, keyword, "invalid ssl value: only ssl=true is accepted")
      layer.sslMode ??= "require"
      return
    case "sslnegotiation":
      layer.sslNegotiation = oneOf(["postgres", "direct"], value, source, keyword)
      return
    case "sslrootcert":
      layer.sslRootCert = value
      return
    case "sslcert":
      layer.sslCert = value
      return
    case "sslkey":
      layer.sslKey = value
      return
    case "sslcrl":
      layer.sslCrl = value
      return
    case "sslpassword":
      layer.sslPassword = Redacted.make(value)
      return
    case "sslsni":
      layer.sslSni = bool01(value, source, keyword)
      return
    case "ssl_min_protocol_version":
      layer.sslMinProtocolVersion = oneOf(["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"], value, source, keyword)
      return
    case "ssl_max_protocol_version":
      layer.sslMaxProtocolVersion = oneOf(["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"], value, source, keyword)
      return
    case "sslcertmode":
      if (oneOf(["disable", "allow", "require"], value, source, keyword) === "require") {
        unsupported(source, keyword, "sslcertmode=require")
      }
      layer.sslCertMode = value as "disable" | "allow"
      return
    case "sslcompression":
      bool01(value, source, keyword)
      return
    case "channel_binding":
      layer.channelBinding = oneOf(["disable", "prefer", "require"], value, source, keyword)
      return
    case "require_auth":
      layer.requireAuth = value
      return
    case "target_session_attrs":
      layer.targetSessionAttrs = oneOf(
        ["any", "read-write", "read-only", "primary", "standby", "prefer-standby"],
        value,
        source,
        keyword,
      )
      return
    case "load_balance_hosts":
      layer.loadBalanceHosts = oneOf(["disable", "random"], value, source, keyword)
      return
    case "gssencmode":
      // GSSAPI encryption is not implemented (GSSAPI authentication is, through @pgfx/gssapi):
      // "prefer" falls back to no GSS encryption, as libpq built without GSSAPI does.
      if (oneOf(["disable", "prefer", "require"], value, source, keyword) === "require") {
        unsupported(source, keyword, "GSSAPI encryption (gssencmode=require)")
      }
      return
    case "krbsrvname":
      layer.krbSrvName = value
      return
    case "gsslib":
      layer.gssLib = oneOf(["gssapi", "sspi"], value, source, keyword)
      return
    case "gssdelegation":
      // Credential delegation is not offered: validated and ignored (libpq's default is 0).
      bool01(value, source, keyword)
      return
    case "sslkeylogfile":
      // A debugging aid of libpq's OpenSSL: accepted and ignored.
      return
    case "keepalives":
      layer.keepAlive = bool01(value, source, keyword)
      return
    case "keepalives_idle":
      layer.keepAliveIdle = `${Math.max(0, integer(value, source, keyword))} seconds`
      return
    case "keepalives_interval":
    case "keepalives_count":
    case "tcp_user_timeout":
      // Node exposes no socket option for these; validated and ignored.
      integer(value, source, keyword)
      return
    case "min_protocol_version":
      layer.minProtocolVersion = oneOf(["3.0", "3.2", "latest"], value, source, keyword)
      return
    case "max_protocol_version": {
      const v = oneOf(["3.0", "3.2", "latest"], value, source, keyword)
      layer.protocolVersion = v === "latest" ? "3.2" : v
      return
    }
    case "hostaddr":
    case "oauth_issuer":
    case "oauth_client_id":
    case "oauth_client_secret":
    case "oauth_scope":
    case "requirepeer":
    case "replication":
    case "sslcrldir":
      return unsupported(source, keyword)
    default:
      if (unknown !== undefined) return unknown(keyword, value)
      throw configError(source, keyword, `invalid connection option "${keyword}"`)
  }
}
