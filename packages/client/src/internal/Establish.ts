/**
 * Establishing a session: dial the server (TCP or unix socket), run the startup cycle and
 * authentication, all bounded by the connect timeout.
 *
 * @internal
 */
import { Writer } from "@pgfx/protocol/Writer"
import { Effect, Redacted } from "effect"
import * as net from "node:net"
import type { ResolvedConfig } from "../PgConfig.ts"
import { PgConnectionError, type PgConnectError } from "../PgError.ts"
import { Session } from "./Session.ts"
import { StartupHandler } from "./Startup.ts"

const openSocket = (config: ResolvedConfig): Effect.Effect<net.Socket, PgConnectionError> =>
  Effect.callback<net.Socket, PgConnectionError>((resume) => {
    const target = config.target
    const socket =
      target._tag === "tcp" ? net.connect({ host: target.host, port: target.port }) : net.connect({ path: target.path })
    const where = target._tag === "tcp" ? `${target.host}:${target.port}` : target.path
    const onError = (err: Error) => {
      socket.destroy()
      resume(
        Effect.fail(
          new PgConnectionError({
            reason: "ConnectFailed",
            message: `cannot connect to ${where}: ${err.message}`,
            cause: err,
          }),
        ),
      )
    }
    socket.once("error", onError)
    socket.once("connect", () => {
      socket.off("error", onError)
      socket.setNoDelay(true)
      socket.setKeepAlive(true)
      resume(Effect.succeed(socket))
    })
    return Effect.sync(() => socket.destroy())
  })

const startup = (session: Session, config: ResolvedConfig): Effect.Effect<void, PgConnectError> =>
  Effect.callback<void, PgConnectError>((resume) => {
    const handler = new StartupHandler(
      session,
      {
        user: config.user,
        password: config.password === undefined ? undefined : Redacted.value(config.password),
        channelBinding: "prefer",
        tlsServerEndPoint: undefined,
        tls: false,
        allowedMethods: config.requireAuth,
        requestedMinor: config.protocolMinor,
      },
      {
        succeed: () => resume(Effect.void),
        fail: (e) => resume(Effect.fail(e)),
      },
    )
    const params: Record<string, string> = {
      user: config.user,
      database: config.database,
      client_encoding: "UTF8",
      ...config.serverSettings,
    }
    session.protocolMinor = config.protocolMinor
    session.send(handler, buildStartup(params, config.protocolMinor))
    return Effect.sync(() => session.destroy())
  })

const buildStartup = (params: Record<string, string>, minor: number): Uint8Array => {
  const w = new Writer(256)
  const at = w.reserveLength()
  w.int32((3 << 16) | minor)
  for (const [k, v] of Object.entries(params)) w.cstring(k).cstring(v)
  w.byte(0)
  return w.patchLength(at).finishCopy()
}

/** Opens a socket and runs startup, within the connect timeout. */
export const establish = (config: ResolvedConfig): Effect.Effect<Session, PgConnectError> =>
  Effect.gen(function* () {
    const socket = yield* openSocket(config)
    const session = new Session(socket, config.maxMessageSize)
    yield* startup(session, config).pipe(Effect.onError(() => Effect.sync(() => session.destroy())))
    return session
  }).pipe(
    Effect.timeoutOrElse({
      duration: config.connectTimeoutMs,
      orElse: () =>
        Effect.fail(
          new PgConnectionError({
            reason: "ConnectTimeout",
            message: `connection attempt timed out after ${config.connectTimeoutMs} ms`,
          }),
        ),
    }),
  )
