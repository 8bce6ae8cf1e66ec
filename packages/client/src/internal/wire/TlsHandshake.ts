/**
 * TLS for a session: the certificate files (read once per connection attempt), the Node TLS
 * options per host with libpq's verification rules, the SSLRequest exchange, the handshake over
 * the already-open socket, and the tls-server-end-point channel binding data.
 *
 * Verification (see `config/TlsSettings.ts` for the modes): the chain is checked in `verify-ca` and
 * `verify-full`, and in `allow` / `prefer` / `require` when a root certificate file exists; the
 * host name only in `verify-full`. `ssl: true` or an `ssl` object without a root certificate
 * verifies against Node's trusted roots.
 *
 * @internal
 */
import * as Frontend from "@pgfx/protocol/Frontend"
import { tlsServerEndPointHash } from "@pgfx/protocol/Scram"
import { Effect, Redacted } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
import * as tls from "node:tls"
import { configError } from "../../config/ConfigError.ts"
import { type PgConfigError, type PgConfigSource, PgConnectionError, PgProtocolError } from "../../PgError.ts"
import type { FileSetting, TlsSettings } from "../../config/TlsSettings.ts"

/** The certificate material of one connection attempt. */
export interface TlsMaterial {
  readonly ca: ReadonlyArray<string> | Buffer | undefined
  readonly verifyChain: boolean
  readonly verifyHost: boolean
  readonly cert: Buffer | undefined
  readonly key: Buffer | undefined
  readonly crl: Buffer | undefined
}

const readOptional = (file: FileSetting | undefined, key: string): Buffer | undefined => {
  if (file === undefined) return undefined
  try {
    return fs.readFileSync(file.path)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === "ENOENT" || code === "ENOTDIR") return undefined
    throw configError(file.source, key, `could not read ${key} file "${file.path}": ${code ?? "error"}`)
  }
}

/** libpq refuses a private key that group or others can read. */
const checkKeyPermissions = (file: FileSetting): void => {
  if (process.platform === "win32") return
  const stat = fs.statSync(file.path)
  if (!stat.isFile()) throw configError(file.source, "sslkey", `private key file "${file.path}" is not a regular file`)
  const uid = process.getuid?.()
  const tooOpen = stat.uid === 0 && uid !== 0 ? (stat.mode & 0o037) !== 0 : (stat.mode & 0o077) !== 0
  if (tooOpen) {
    throw configError(
      file.source,
      "sslkey",
      `private key file "${file.path}" has group or world access; file must have permissions u=rw (0600) or less if owned by the current user, or permissions u=rw,g=r (0640) or less if owned by root`,
    )
  }
}

const systemRoots = (): ReadonlyArray<string> | undefined => {
  const get = (tls as { getCACertificates?: (type: string) => ReadonlyArray<string> }).getCACertificates
  if (get === undefined) return undefined
  const system = get("system")
  return system.length > 0 ? [...system, ...get("default")] : undefined
}

/** Reads the files TLS needs. Throws `PgConfigError` for unusable files or settings. */
export const loadTlsMaterial = (settings: TlsSettings): TlsMaterial => {
  const mode = settings.mode
  const verifyMode = mode === "verify-ca" || mode === "verify-full"
  let ca: TlsMaterial["ca"]
  let haveRoot = false
  if (settings.rootCert === "system") {
    ca = systemRoots()
    haveRoot = true
  } else {
    const root = readOptional(settings.rootCert, "sslrootcert")
    if (root !== undefined) {
      ca = root
      haveRoot = true
    }
  }
  if (verifyMode && !haveRoot && !settings.nodeDefaults) {
    const file = settings.rootCert === "system" ? undefined : settings.rootCert
    throw configError(
      file?.source === "default" || file === undefined ? "options" : file.source,
      "sslrootcert",
      `root certificate file "${file?.path ?? ""}" does not exist; either provide the file, use the system's trusted roots with sslrootcert=system, or change sslmode to disable server certificate verification`,
    )
  }
  let cert: Buffer | undefined
  let key: Buffer | undefined
  if (settings.certMode !== "disable") {
    cert = readOptional(settings.cert, "sslcert")
    if (cert !== undefined && settings.key !== undefined) {
      key = readOptional(settings.key, "sslkey")
      if (key === undefined) {
        throw configError(
          settings.key.source,
          "sslkey",
          `certificate present, but not private key file "${settings.key.path}"`,
        )
      }
      checkKeyPermissions(settings.key)
    }
  }
  return {
    ca,
    verifyChain: verifyMode || haveRoot || settings.nodeDefaults,
    verifyHost: mode === "verify-full",
    cert,
    key,
    crl: haveRoot ? readOptional(settings.crl, "sslcrl") : undefined,
  }
}

/** Node TLS options for one host. */
export const tlsOptions = (settings: TlsSettings, material: TlsMaterial, host: string): tls.ConnectionOptions => {
  const options: tls.ConnectionOptions = {
    ALPNProtocols: ["postgresql"],
    rejectUnauthorized: material.verifyChain,
    checkServerIdentity: material.verifyHost ? (_name, cert) => tls.checkServerIdentity(host, cert) : () => undefined,
    minVersion: settings.minVersion ?? "TLSv1.2",
  }
  if (settings.sni && net.isIP(host) === 0) options.servername = host
  if (material.ca !== undefined) options.ca = material.ca as Array<string> | Buffer
  if (settings.maxVersion !== undefined) options.maxVersion = settings.maxVersion
  if (material.cert !== undefined) options.cert = material.cert
  if (material.key !== undefined) options.key = material.key
  if (settings.password !== undefined) options.passphrase = Redacted.value(settings.password)
  if (material.crl !== undefined) options.crl = material.crl
  return settings.node === undefined ? options : { ...options, ...settings.node }
}

/**
 * `options` with the client key, its passphrase and a PFX sealed into a secure context: Node keeps
 * the options a socket was made with on the socket, where an inspection would show them. Throws
 * what `tls.createSecureContext` throws (a malformed key, a wrong passphrase).
 */
export const sealKey = (options: tls.ConnectionOptions): tls.ConnectionOptions => {
  const { key, passphrase, pfx, ...rest } = options
  if (key === undefined && passphrase === undefined && pfx === undefined) return options
  return { ...rest, secureContext: rest.secureContext ?? tls.createSecureContext(options) }
}

/** A TLS failure: handshake, verification, or a server without TLS. */
export const tlsError = (message: string, cause?: unknown): PgConnectionError =>
  new PgConnectionError({ reason: "Tls", message, cause })

/**
 * Sends SSLRequest and reads the one-byte answer: `true` for 'S', `false` for 'N'. Bytes after
 * the answer are a protocol violation (CVE-2021-23222: they would be unencrypted).
 */
export const sslRequest = (socket: net.Socket): Effect.Effect<boolean, PgConnectionError | PgProtocolError> =>
  Effect.callback<boolean, PgConnectionError | PgProtocolError>((resume) => {
    const cleanup = () => {
      socket.off("data", onData)
      socket.off("error", onError)
      socket.off("close", onClose)
    }
    const onData = (chunk: Buffer) => {
      cleanup()
      socket.pause()
      const answer = chunk[0]
      if (chunk.length > 1) {
        resume(Effect.fail(new PgProtocolError({ message: "received unencrypted data after the SSL response" })))
      } else if (answer === 0x53) resume(Effect.succeed(true))
      else if (answer === 0x4e) resume(Effect.succeed(false))
      else {
        resume(
          Effect.fail(
            new PgProtocolError({
              message: `received invalid response to SSL negotiation: ${JSON.stringify(String.fromCharCode(answer ?? 0))}`,
            }),
          ),
        )
      }
    }
    const onError = (err: Error) => {
      cleanup()
      resume(
        Effect.fail(
          new PgConnectionError({ reason: "SocketError", message: `socket error: ${err.message}`, cause: err }),
        ),
      )
    }
    const onClose = () => {
      cleanup()
      resume(
        Effect.fail(
          new PgConnectionError({
            reason: "ClosedByServer",
            message: "the server closed the connection during SSL negotiation",
          }),
        ),
      )
    }
    socket.on("data", onData)
    socket.once("error", onError)
    socket.once("close", onClose)
    socket.resume()
    socket.write(Frontend.build((w) => Frontend.sslRequest(w)))
    return Effect.sync(cleanup)
  })

/** Runs the TLS handshake over `socket`. */
export const startTls = (
  socket: net.Socket,
  options: tls.ConnectionOptions,
  direct: boolean,
  keySource: PgConfigSource,
): Effect.Effect<tls.TLSSocket, PgConnectionError | PgConfigError> =>
  Effect.callback<tls.TLSSocket, PgConnectionError | PgConfigError>((resume) => {
    let secure: tls.TLSSocket
    try {
      secure = tls.connect({ ...sealKey(options), socket })
    } catch (e) {
      // createSecureContext failed: a malformed certificate or key, or a wrong sslpassword.
      resume(
        Effect.fail(
          configError(
            keySource,
            "sslkey",
            `cannot load the TLS certificate or key (wrong sslpassword, or a malformed file): ${(e as { readonly code?: unknown }).code ?? "error"}`,
          ),
        ),
      )
      return
    }
    const onError = (err: Error) => {
      secure.destroy()
      resume(Effect.fail(tlsError(`TLS handshake failed: ${err.message}`, err)))
    }
    secure.once("error", onError)
    secure.once("secureConnect", () => {
      secure.off("error", onError)
      if (direct && secure.alpnProtocol !== "postgresql") {
        secure.destroy()
        resume(
          Effect.fail(tlsError("direct SSL connection was established without ALPN protocol negotiation extension")),
        )
        return
      }
      resume(Effect.succeed(secure))
    })
    return Effect.sync(() => secure.destroy())
  })

/** The tls-server-end-point hash of the server certificate (channel binding data), if computable. */
export const serverEndPoint = (secure: tls.TLSSocket): Uint8Array | undefined => {
  const cert = secure.getPeerCertificate(true)
  const raw = cert?.raw
  return raw === undefined || raw.length === 0 ? undefined : tlsServerEndPointHash(new Uint8Array(raw))
}
