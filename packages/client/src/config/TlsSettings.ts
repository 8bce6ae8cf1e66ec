/**
 * TLS settings after resolution, with libpq's rules:
 *
 * - `sslmode`: `disable` (never), `allow` (plain first, TLS if the server refuses plain),
 *   `prefer` (TLS first, plain if the server has no TLS or refuses the TLS session; the
 *   default), `require` (TLS only; the certificate is verified like `verify-ca` when a root
 *   certificate is available, otherwise not), `verify-ca` (TLS, chain verified), `verify-full`
 *   (TLS, chain and host name verified).
 * - `sslrootcert=system` uses the system's trusted roots and needs `verify-full`;
 *   `sslnegotiation=direct` needs `require` or stronger. Both are checked here.
 * - Default files under `~/.postgresql/` (`root.crt`, `postgresql.crt`, `postgresql.key`,
 *   `root.crl`) are used when they exist.
 * - TLS is never used on unix sockets (libpq ignores `sslmode` there).
 *
 * @internal
 */
import type { Redacted } from "effect"
import * as path from "node:path"
import type * as tls from "node:tls"
import type { SslMode, TlsProtocolVersion } from "./Options.ts"
import { configError } from "./ConfigError.ts"
import type { PgConfigSource } from "../PgError.ts"

/** A file path and where it came from; `explicit` is false for the `~/.postgresql` defaults. */
export interface FileSetting {
  readonly path: string
  readonly source: PgConfigSource
  readonly explicit: boolean
}

/** Resolved TLS settings. @since 0.1.0 */
export interface TlsSettings {
  readonly mode: SslMode
  readonly negotiation: "postgres" | "direct"
  /** The CA to verify with: a file, or the system's trusted roots. */
  readonly rootCert: FileSetting | "system" | undefined
  readonly cert: FileSetting | undefined
  readonly key: FileSetting | undefined
  readonly password: Redacted.Redacted<string> | undefined
  readonly crl: FileSetting | undefined
  readonly sni: boolean
  readonly certMode: "disable" | "allow"
  readonly minVersion: TlsProtocolVersion | undefined
  readonly maxVersion: TlsProtocolVersion | undefined
  /** asyncpg-style `ssl` object applied over the derived options. */
  readonly node: tls.ConnectionOptions | undefined
  /** `ssl: true` or an object: verification follows Node's defaults when no CA is configured. */
  readonly nodeDefaults: boolean
}

/** A setting with its source, as the merge step finds it. */
export interface Found<A> {
  readonly value: A
  readonly source: PgConfigSource
}

export interface TlsInputs {
  readonly mode: Found<SslMode> | undefined
  readonly negotiation: Found<"postgres" | "direct"> | undefined
  readonly rootCert: Found<string> | undefined
  readonly cert: Found<string> | undefined
  readonly key: Found<string> | undefined
  readonly password: Redacted.Redacted<string> | undefined
  readonly crl: Found<string> | undefined
  readonly sni: boolean | undefined
  readonly certMode: "disable" | "allow" | undefined
  readonly minVersion: TlsProtocolVersion | undefined
  readonly maxVersion: TlsProtocolVersion | undefined
  readonly ssl: boolean | tls.ConnectionOptions | undefined
  readonly home: string
}

const file = (found: Found<string> | undefined, home: string, name: string): FileSetting | undefined =>
  found !== undefined && found.value !== ""
    ? { path: found.value, source: found.source, explicit: true }
    : { path: path.join(home, ".postgresql", name), source: "default", explicit: false }

/** Applies defaults and libpq's consistency rules. Throws `PgConfigError`. */
export const resolveTls = (inputs: TlsInputs): TlsSettings => {
  const ssl = inputs.ssl
  const system = inputs.rootCert?.value === "system"
  const mode: SslMode =
    inputs.mode?.value ??
    (ssl === false ? "disable" : ssl === true || typeof ssl === "object" || system ? "verify-full" : "prefer")
  const modeSource = inputs.mode?.source ?? inputs.rootCert?.source ?? "options"
  if (system && mode !== "verify-full") {
    throw configError(
      modeSource,
      "sslmode",
      `weak sslmode "${mode}" may not be used with sslrootcert=system (use "verify-full")`,
    )
  }
  const negotiation = inputs.negotiation?.value ?? "postgres"
  if (negotiation === "direct" && (mode === "disable" || mode === "allow" || mode === "prefer")) {
    throw configError(
      inputs.negotiation?.source ?? modeSource,
      "sslnegotiation",
      `weak sslmode "${mode}" may not be used with sslnegotiation=direct (use "require", "verify-ca", or "verify-full")`,
    )
  }
  if (inputs.minVersion !== undefined && inputs.maxVersion !== undefined) {
    const order = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
    if (order.indexOf(inputs.minVersion) > order.indexOf(inputs.maxVersion)) {
      throw configError("options", "ssl_min_protocol_version", "invalid SSL protocol version range")
    }
  }
  return {
    mode,
    negotiation,
    rootCert: system ? "system" : file(inputs.rootCert, inputs.home, "root.crt"),
    cert: file(inputs.cert, inputs.home, "postgresql.crt"),
    key: file(inputs.key, inputs.home, "postgresql.key"),
    password: inputs.password,
    crl: file(inputs.crl, inputs.home, "root.crl"),
    sni: inputs.sni ?? true,
    certMode: inputs.certMode ?? "allow",
    minVersion: inputs.minVersion,
    maxVersion: inputs.maxVersion,
    node: typeof ssl === "object" ? ssl : undefined,
    nodeDefaults: ssl === true || typeof ssl === "object",
  }
}
