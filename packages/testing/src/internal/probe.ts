/**
 * Tiny raw-socket probes that prove a real PostgreSQL server answers, without a
 * client library: an SSLRequest (expects one byte, `S` or `N`), and a startup
 * handshake that reports which authentication the server asks for (or the
 * server's parameters, when it lets us in without a password).
 *
 * @internal
 */
import * as Net from "node:net"
import * as Tls from "node:tls"
import { Effect } from "effect"

/** Where to connect: TCP host/port, or a unix socket directory + port. */
export type ProbeTarget =
  { readonly host: string; readonly port: number } | { readonly socketDir: string; readonly port: number }

export type StartupOutcome =
  /** Authenticated (trust); `parameters` are the ParameterStatus values (server_version, ...). */
  | { readonly _tag: "Ok"; readonly parameters: Readonly<Record<string, string>> }
  /** The server asks for authentication: 3 = cleartext, 5 = MD5, 10 = SASL (mechanisms listed). */
  | { readonly _tag: "Auth"; readonly code: number; readonly mechanisms: ReadonlyArray<string> }
  /** An ErrorResponse; `fields` keyed by field code: S, C (SQLSTATE), M (message), ... */
  | { readonly _tag: "Error"; readonly fields: Readonly<Record<string, string>> }
  /** Could not connect, the connection closed early, or the timeout expired. */
  | { readonly _tag: "Failed"; readonly message: string }

const connect = (target: ProbeTarget): Net.Socket =>
  "host" in target
    ? Net.connect({ host: target.host, port: target.port })
    : Net.connect({ path: `${target.socketDir}/.s.PGSQL.${target.port}` })

/** The 8-byte SSLRequest frame: length 8, code 80877103. */
export const sslRequestFrame: Uint8Array = new Uint8Array([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])

/**
 * Send an SSLRequest and return the single reply byte as a string (`"S"`, `"N"`),
 * or `undefined` when nothing sensible came back in time.
 */
export const sslProbe = (target: ProbeTarget, timeoutMillis = 2000): Effect.Effect<string | undefined> =>
  Effect.callback<string | undefined>((resume) => {
    const socket = connect(target)
    let settled = false
    const finish = (value: string | undefined) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resume(Effect.succeed(value))
    }
    const timer = setTimeout(() => finish(undefined), timeoutMillis)
    socket.on("connect", () => socket.write(sslRequestFrame))
    socket.on("data", (data: Buffer) => finish(String.fromCharCode(data[0] ?? 0)))
    socket.on("error", () => finish(undefined))
    socket.on("close", () => finish(undefined))
    return Effect.sync(() => finish(undefined))
  })

const startupFrame = (user: string, database: string): Buffer => {
  const body = Buffer.from(`user\0${user}\0database\0${database}\0application_name\0pgfx-probe\0\0`, "utf8")
  const frame = Buffer.alloc(8 + body.length)
  frame.writeInt32BE(frame.length, 0)
  frame.writeInt32BE(196608, 4)
  body.copy(frame, 8)
  return frame
}

const cstrings = (body: Buffer): Array<string> => body.toString("utf8").split("\0")

/** TLS for {@link startupProbe}: SSLRequest, then a verified handshake. */
export interface ProbeTls {
  readonly ca: string
  readonly servername?: string | undefined
  readonly cert?: string | undefined
  readonly key?: string | undefined
}

/**
 * Send a StartupMessage and report what the server answers first: the auth
 * request, an error, or (trust / cert auth) the parameters up to ReadyForQuery.
 * With `tls`, negotiate TLS first (SSLRequest; the server certificate must verify
 * against `tls.ca` for `tls.servername`, default `localhost`).
 */
export const startupProbe = (
  target: ProbeTarget,
  login: { readonly user: string; readonly database: string; readonly tls?: ProbeTls | undefined },
  timeoutMillis = 5000,
): Effect.Effect<StartupOutcome> =>
  Effect.callback<StartupOutcome>((resume) => {
    const raw = connect(target)
    let socket: Net.Socket = raw
    let settled = false
    let buffer = Buffer.alloc(0)
    const parameters: Record<string, string> = {}
    const finish = (outcome: StartupOutcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      // Terminate politely if the session is open; harmless otherwise.
      if (socket.writable) socket.end(Buffer.from([0x58, 0, 0, 0, 4]))
      socket.destroy()
      raw.destroy()
      resume(Effect.succeed(outcome))
    }
    const timer = setTimeout(() => finish({ _tag: "Failed", message: "timeout" }), timeoutMillis)
    const onData = (data: Buffer) => {
      buffer = Buffer.concat([buffer, data])
      while (buffer.length >= 5) {
        const type = String.fromCharCode(buffer[0] ?? 0)
        const length = buffer.readInt32BE(1)
        if (buffer.length < 1 + length) return
        const body = buffer.subarray(5, 1 + length)
        buffer = buffer.subarray(1 + length)
        if (type === "R") {
          const code = body.readInt32BE(0)
          if (code !== 0) {
            const mechanisms = code === 10 ? cstrings(body.subarray(4)).filter((m) => m !== "") : []
            return finish({ _tag: "Auth", code, mechanisms })
          }
        } else if (type === "S") {
          const [name, value] = cstrings(body)
          if (name !== undefined && value !== undefined) parameters[name] = value
        } else if (type === "E") {
          const fields: Record<string, string> = {}
          let offset = 0
          while (offset < body.length && body[offset] !== 0) {
            const code = String.fromCharCode(body[offset] ?? 0)
            const end = body.indexOf(0, offset + 1)
            fields[code] = body.toString("utf8", offset + 1, end < 0 ? body.length : end)
            offset = end < 0 ? body.length : end + 1
          }
          return finish({ _tag: "Error", fields })
        } else if (type === "Z") {
          return finish({ _tag: "Ok", parameters })
        }
      }
    }
    const listen = (s: Net.Socket) => {
      s.on("data", onData)
      s.on("error", (error) => finish({ _tag: "Failed", message: error.message }))
      s.on("close", () => finish({ _tag: "Failed", message: "connection closed" }))
      s.write(startupFrame(login.user, login.database))
    }
    const tls = login.tls
    if (tls === undefined) {
      raw.on("connect", () => listen(raw))
    } else {
      raw.on("connect", () => raw.write(sslRequestFrame))
      raw.once("data", (data: Buffer) => {
        if (data[0] !== 0x53)
          return finish({ _tag: "Failed", message: `server refused SSL (${String.fromCharCode(data[0] ?? 0)})` })
        const secure = Tls.connect({
          socket: raw,
          ca: tls.ca,
          servername: tls.servername ?? "localhost",
          ...(tls.cert === undefined ? {} : { cert: tls.cert }),
          ...(tls.key === undefined ? {} : { key: tls.key }),
        })
        socket = secure
        secure.on("secureConnect", () => listen(secure))
        secure.on("error", (error) => finish({ _tag: "Failed", message: `tls: ${error.message}` }))
      })
    }
    raw.on("error", (error) => finish({ _tag: "Failed", message: error.message }))
    raw.on("close", () => finish({ _tag: "Failed", message: "connection closed" }))
    return Effect.sync(() => finish({ _tag: "Failed", message: "interrupted" }))
  })
