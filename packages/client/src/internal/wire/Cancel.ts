/**
 * CancelRequest: a short-lived second connection that asks the postmaster to interrupt the
 * backend identified by (process id, secret key). The postmaster closes that connection once it
 * has signalled the backend, which is how we know the cancel has been delivered (libpq waits for
 * the same EOF).
 *
 * The cancel connection uses the encryption of the session it cancels: TLS with the session's
 * verification settings (SSLRequest, or direct TLS) when the session is encrypted, so the secret
 * key never travels in clear over a network the session protects; plain TCP or the unix socket
 * otherwise. The key is whatever BackendKeyData carried: 4 bytes in protocol 3.0, up to 256
 * (32 from PostgreSQL 18) in 3.2.
 *
 * @internal
 */
import * as Frontend from "@pgfx/protocol/Frontend"
import * as net from "node:net"
import * as tls from "node:tls"

/** Where to send a cancel request: the same address the session is connected to. */
export type CancelTarget =
  | { readonly _tag: "tcp"; readonly host: string; readonly port: number }
  | { readonly _tag: "unix"; readonly path: string }

/** How to encrypt the cancel connection (undefined: plain, like the session). */
export interface CancelTls {
  readonly options: tls.ConnectionOptions
  readonly direct: boolean
}

/**
 * What happened to a cancel request:
 * - `"delivered"`: the server read it and closed the connection (the backend was signalled);
 * - `"not-sent"`: it never reached the server (no connection, TLS refused);
 * - `"unknown"`: it was written but not confirmed (timeout, reset): it may still arrive.
 */
export type CancelOutcome = "delivered" | "not-sent" | "unknown"

/**
 * Sends a CancelRequest and calls `done` once with the outcome, after `timeoutMs` at the latest.
 * Never throws.
 */
export const sendCancel = (
  target: CancelTarget,
  encryption: CancelTls | undefined,
  processId: number,
  secretKey: Uint8Array,
  timeoutMs: number,
  done: (outcome: CancelOutcome) => void,
): void => {
  let finished = false
  let sent = false
  let socket: net.Socket =
    target._tag === "tcp" ? net.connect({ host: target.host, port: target.port }) : net.connect({ path: target.path })
  const finish = (outcome: CancelOutcome) => {
    if (finished) return
    finished = true
    clearTimeout(timer)
    socket.destroy()
    done(outcome)
  }
  const timer = setTimeout(() => finish(sent ? "unknown" : "not-sent"), timeoutMs)
  const packet = Frontend.build((w) => Frontend.cancelRequest(w, processId, secretKey))

  const onError = () => finish(sent ? "unknown" : "not-sent")
  const onClose = (hadError: boolean) => finish(!sent ? "not-sent" : hadError ? "unknown" : "delivered")

  /** Sends the request on `s` and waits for the server's EOF. */
  const request = (s: net.Socket) => {
    socket = s
    s.on("error", onError)
    s.on("data", () => {})
    s.once("end", () => finish(sent ? "delivered" : "not-sent"))
    s.once("close", onClose)
    s.write(packet)
    sent = true
  }

  const upgrade = (raw: net.Socket) => {
    let secure: tls.TLSSocket
    try {
      secure = tls.connect({ ...encryption!.options, socket: raw })
    } catch {
      finish("not-sent")
      return
    }
    socket = secure
    secure.once("error", onError)
    secure.once("secureConnect", () => {
      secure.off("error", onError)
      request(secure)
    })
  }

  socket.on("error", onError)
  socket.once("close", onClose)
  socket.once("connect", () => {
    const raw = socket
    if (encryption === undefined) return request(raw)
    if (encryption.direct) return upgrade(raw)
    raw.once("data", (chunk: Buffer) => {
      raw.pause()
      if (chunk.length === 1 && chunk[0] === 0x53) upgrade(raw)
      else finish("not-sent")
    })
    raw.write(Frontend.build((w) => Frontend.sslRequest(w)))
  })
}
