/**
 * Establishing a session, the way libpq does:
 *
 * - hosts are tried in order (shuffled with `load_balance_hosts=random`), each attempt bounded
 *   by the connect timeout; the first host that accepts and satisfies `target_session_attrs`
 *   wins (`prefer-standby` makes a second pass accepting any server);
 * - per host, encryption follows `sslmode`: `allow` tries plain and retries with TLS when the
 *   server refuses; `prefer` tries TLS (SSLRequest 'N' continues in clear) and retries in clear
 *   when the TLS handshake fails or the server refuses the TLS session; `require` and stronger
 *   never fall back; unix sockets never use TLS; `sslnegotiation=direct` starts TLS at once with
 *   ALPN `postgresql`;
 * - then startup and authentication (`Startup.ts`) with the channel binding data of the TLS
 *   session, and the `target_session_attrs` check (`SessionAttrs.ts`);
 * - a server that does not understand the request itself gets one more, plainer one on a new
 *   socket: a 3.2 startup rejected outright (a server error that is not about the user, the
 *   database or the server's state, or the connection closed: poolers such as PgBouncer before
 *   1.19 do not negotiate) is sent again as 3.0 when `min_protocol_version` allows it, and
 *   a direct TLS handshake that fails is tried again with an SSLRequest (still TLS, with the same
 *   verification).
 *
 * When every host fails, a single host's error is returned as is; several hosts give a
 * `PgConnectionError` with reason `AllHostsFailed` listing each host's failure.
 *
 * @internal
 */
import { Writer } from "@pgfx/protocol/Writer"
import { type Context, Effect, Exit, Redacted, Result } from "effect"
import * as net from "node:net"
import type * as tls from "node:tls"
import { configError } from "../../config/ConfigError.ts"
import {
  PgAuthenticationError,
  PgConfigError,
  type PgConnectError,
  PgConnectionError,
  type PgHostAttempt,
  PgServerError,
} from "../../PgError.ts"
import type { HostTarget } from "../../config/Resolve.ts"
import type { ResolvedConfig, TargetSessionAttrs } from "../../PgConfig.ts"
import type { CancelTls } from "./Cancel.ts"
import { SessionDebug } from "../observe/Debug.ts"
import { Session } from "./Session.ts"
import { checkSessionAttrs } from "./SessionAttrs.ts"
import { StartupHandler } from "./Startup.ts"
import {
  loadTlsMaterial,
  sealKey,
  serverEndPoint,
  sslRequest,
  startTls,
  type TlsMaterial,
  tlsError,
  tlsOptions,
} from "./TlsHandshake.ts"

/** An open session and the config it was opened with (`target` and `encryption` filled in). */
export interface Established {
  readonly session: Session
  readonly config: ResolvedConfig
  /** How a cancel request for this session is encrypted (undefined: in clear, like the session). */
  readonly cancelTls: CancelTls | undefined
}

type Encryption = "none" | "tls" | "tls-direct"

/** What one try on one socket does about TLS. */
type Plan = "plain" | "tls" | "tls-or-plain"

const where = (host: HostTarget): string => (host._tag === "tcp" ? `${host.host}:${host.port}` : host.path)

const openSocket = (host: HostTarget, config: ResolvedConfig): Effect.Effect<net.Socket, PgConnectionError> =>
  Effect.callback<net.Socket, PgConnectionError>((resume) => {
    const socket =
      host._tag === "tcp" ? net.connect({ host: host.host, port: host.port }) : net.connect({ path: host.path })
    const onError = (err: Error) => {
      socket.destroy()
      resume(
        Effect.fail(
          new PgConnectionError({
            reason: "ConnectFailed",
            message: `cannot connect to ${where(host)}: ${err.message}`,
            cause: err,
          }),
        ),
      )
    }
    socket.once("error", onError)
    socket.once("connect", () => {
      socket.off("error", onError)
      if (host._tag === "tcp") {
        socket.setNoDelay(true)
        socket.setKeepAlive(config.keepAlive, config.keepAliveIdleMs)
      }
      resume(Effect.succeed(socket))
    })
    return Effect.sync(() => socket.destroy())
  })

const buildStartup = (params: Record<string, string>, minor: number): Uint8Array => {
  const w = new Writer(256)
  const at = w.reserveLength()
  w.int32((3 << 16) | minor)
  for (const [k, v] of Object.entries(params)) w.cstring(k).cstring(v)
  w.byte(0)
  return w.patchLength(at).finishCopy()
}

/** Startup failures of a server that did not understand the startup request itself. */
const rejectedOutright = new WeakSet<PgConnectError>()

/**
 * Whether `error`, failing a startup, may mean the request itself was not understood: any server
 * error except those about who connects or the server's state (classes 28 invalid authorization,
 * 3D invalid database, 53 insufficient resources, 57 operator intervention), or the connection
 * closed by the server. Seen: PgBouncer 1.18 answers a 3.2 startup with 08P01 "bad packet
 * header"; pgpool-II 4.3 passes it on to PostgreSQL 18, relays AuthenticationOk, and then fails
 * on the long cancel key with XX000 "invalid messages length(40) for BackendKeyData".
 */
const isOutrightRejection = (error: PgConnectError): boolean =>
  error instanceof PgServerError
    ? !["28", "3D", "53", "57"].includes(error.code.slice(0, 2))
    : error instanceof PgConnectionError && error.reason === "ClosedByServer"

const startup = (
  session: Session,
  host: HostTarget,
  config: ResolvedConfig,
  password: string | undefined,
  secure: tls.TLSSocket | undefined,
): Effect.Effect<void, PgConnectError> =>
  Effect.flatMap(Effect.context<never>(), (services) => startupWith(services, session, host, config, password, secure))

const startupWith = (
  services: Context.Context<never>,
  session: Session,
  host: HostTarget,
  config: ResolvedConfig,
  password: string | undefined,
  secure: tls.TLSSocket | undefined,
): Effect.Effect<void, PgConnectError> =>
  Effect.callback<void, PgConnectError>((resume) => {
    const handler = new StartupHandler(
      session,
      {
        user: config.user,
        password,
        channelBinding: config.channelBinding,
        tlsServerEndPoint: secure === undefined ? undefined : serverEndPoint(secure),
        tls: secure !== undefined,
        allowedMethods: config.requireAuth,
        requestedMinor: config.protocolMinor,
        plugins: config.authPlugins,
        pluginContext: {
          host: host.host,
          port: host.port,
          unixSocket: host._tag === "unix",
          user: config.user,
          krbSrvName: config.krbSrvName,
          gssLib: config.gssLib,
          tls: secure !== undefined,
        },
        services,
      },
      {
        succeed: () => resume(Effect.void),
        fail: (e) => {
          if (isOutrightRejection(e)) rejectedOutright.add(e)
          resume(Effect.fail(e))
        },
      },
    )
    const params: Record<string, string> = {
      user: config.user,
      database: config.database,
      client_encoding: "UTF8",
      // dates and timestamps are read in the ISO style (a server may default to another)
      DateStyle: "ISO",
      ...config.serverSettings,
    }
    session.protocolMinor = config.protocolMinor
    session.send(handler, buildStartup(params, config.protocolMinor))
    return Effect.sync(() => session.destroy())
  })

/** One connection on one socket: TLS per `plan`, startup, attribute check. */
const tryOnce = (
  host: HostTarget,
  plan: Plan,
  config: ResolvedConfig,
  material: TlsMaterial | undefined,
  password: string | undefined,
  attrs: TargetSessionAttrs,
  progress: { encrypted: boolean } = { encrypted: false },
): Effect.Effect<{ session: Session; encryption: Encryption }, PgConnectError | PgConfigError> => {
  let socket: net.Socket | undefined
  let session: Session | undefined
  return Effect.gen(function* () {
    const raw = yield* openSocket(host, config)
    socket = raw
    let secure: tls.TLSSocket | undefined
    let encryption: Encryption = "none"
    if (plan !== "plain") {
      const settings = config.tls
      const direct = settings.negotiation === "direct"
      const options = tlsOptions(settings, material!, host.host)
      const keySource = settings.key?.source ?? "options"
      const accepted = direct ? true : yield* sslRequest(raw)
      if (accepted) {
        secure = yield* startTls(raw, options, direct, keySource)
        progress.encrypted = true
        socket = secure
        encryption = direct ? "tls-direct" : "tls"
      } else if (plan === "tls") {
        return yield* Effect.fail(
          tlsError(`the server at ${where(host)} does not support TLS, but sslmode=${settings.mode} requires it`),
        )
      }
    }
    const opened = new Session(socket, config)
    if (config.debug !== undefined) opened.debug = new SessionDebug(config.debug)
    session = opened
    socket.resume()
    yield* startup(opened, host, config, password, secure)
    if (opened.protocolMinor < config.minProtocolMinor) {
      opened.terminate()
      return yield* Effect.fail(
        new PgConnectionError({
          reason: "ConnectFailed",
          message: `the server at ${where(host)} only speaks protocol 3.${opened.protocolMinor}, below min_protocol_version 3.${config.minProtocolMinor}`,
        }),
      )
    }
    const fits = yield* checkSessionAttrs(opened, attrs, where(host))
    if (fits !== undefined) {
      opened.terminate()
      return yield* Effect.fail(fits)
    }
    return { session: opened, encryption }
  }).pipe(
    Effect.onExit((exit) =>
      Exit.isSuccess(exit)
        ? Effect.void
        : Effect.sync(() => {
            if (session !== undefined) session.destroy()
            else socket?.destroy()
          }),
    ),
  )
}

/**
 * {@link tryOnce}, and once more with plainer requests when the server did not understand the
 * first one (see the module header): 3.0 instead of 3.2, an SSLRequest instead of direct TLS.
 */
const tryPlainer = (
  host: HostTarget,
  plan: Plan,
  config: ResolvedConfig,
  material: TlsMaterial | undefined,
  password: string | undefined,
  attrs: TargetSessionAttrs,
  progress?: { encrypted: boolean },
): Effect.Effect<{ session: Session; encryption: Encryption }, PgConnectError | PgConfigError> =>
  Effect.catch(tryOnce(host, plan, config, material, password, attrs, progress), (e) => {
    const directFailed =
      plan !== "plain" && config.tls.negotiation === "direct" && e instanceof PgConnectionError && e.reason === "Tls"
    const olderProtocol =
      !(e instanceof PgConfigError) && rejectedOutright.has(e) && config.protocolMinor > config.minProtocolMinor
    if (!directFailed && !olderProtocol) return Effect.fail(e)
    const plainer: ResolvedConfig = {
      ...config,
      protocolMinor: olderProtocol ? config.minProtocolMinor : config.protocolMinor,
      tls: directFailed ? { ...config.tls, negotiation: "postgres" } : config.tls,
    }
    return tryPlainer(host, plan, plainer, material, password, attrs, progress)
  })

/** The tries of one host per sslmode, with libpq's retry rules between them. */
const tryHost = (
  host: HostTarget,
  config: ResolvedConfig,
  material: TlsMaterial | undefined,
  password: string | undefined,
  attrs: TargetSessionAttrs,
): Effect.Effect<{ session: Session; encryption: Encryption }, PgConnectError | PgConfigError> =>
  Effect.gen(function* () {
    const mode = config.tls.mode
    if (host._tag === "unix" || mode === "disable")
      return yield* tryPlainer(host, "plain", config, material, password, attrs)
    if (mode === "allow") {
      const first = yield* Effect.result(tryPlainer(host, "plain", config, material, password, attrs))
      if (Result.isSuccess(first)) return first.success
      // The server refused the plain session: try again with TLS (libpq's "allow").
      if (!(first.failure instanceof PgServerError)) return yield* Effect.fail(first.failure)
      return yield* tryPlainer(host, "tls", config, material, password, attrs)
    }
    if (mode === "prefer") {
      const progress = { encrypted: false }
      const first = yield* Effect.result(tryPlainer(host, "tls-or-plain", config, material, password, attrs, progress))
      if (Result.isSuccess(first)) return first.success
      const e = first.failure
      // The TLS handshake failed, or the server refused the TLS session: try again in clear.
      const retry =
        (e instanceof PgConnectionError && e.reason === "Tls") || (progress.encrypted && e instanceof PgServerError)
      if (!retry) return yield* Effect.fail(e)
      return yield* tryPlainer(host, "plain", config, material, password, attrs)
    }
    return yield* tryPlainer(host, "tls", config, material, password, attrs)
  })

const shuffle = <A>(items: ReadonlyArray<A>): Array<A> => {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

const timeoutError = (host: HostTarget, ms: number) =>
  new PgConnectionError({
    reason: "ConnectTimeout",
    message: `connection attempt to ${where(host)} timed out after ${ms} ms`,
  })

const evaluatePassword = (config: ResolvedConfig): Effect.Effect<string | undefined, PgAuthenticationError> => {
  const effect = config.passwordEffect
  if (effect === undefined) return Effect.succeed(undefined)
  return effect.pipe(
    Effect.map((p) => (typeof p === "string" ? p : Redacted.value(p))),
    Effect.mapError(
      (cause) => new PgAuthenticationError({ message: "the password Effect failed", method: undefined, cause }),
    ),
  )
}

/**
 * Connects to the first suitable host. Fails with the host's own error when there is one host,
 * `PgConnectionError` `AllHostsFailed` when there are several, and `PgConfigError` for unusable
 * TLS files (before any host is tried).
 */
export const establish = (config: ResolvedConfig): Effect.Effect<Established, PgConnectError | PgConfigError> =>
  Effect.gen(function* () {
    for (const warning of config.warnings) yield* Effect.logWarning(`pgfx: ${warning}`)
    const needsTls = config.tls.mode !== "disable" && config.hosts.some((h) => h._tag === "tcp")
    const material = needsTls
      ? yield* Effect.try({
          try: () => loadTlsMaterial(config.tls),
          catch: (e) =>
            e instanceof PgConfigError ? e : configError("options", "sslrootcert", "cannot load the TLS files"),
        })
      : undefined
    const dynamic = yield* evaluatePassword(config)
    const hosts = config.loadBalanceHosts === "random" ? shuffle(config.hosts) : config.hosts
    const passes: ReadonlyArray<TargetSessionAttrs> =
      config.targetSessionAttrs === "prefer-standby" ? ["standby", "any"] : [config.targetSessionAttrs]
    const attempts: Array<PgHostAttempt> = []
    for (const attrs of passes) {
      for (const host of hosts) {
        const password =
          dynamic ??
          (config.password !== undefined
            ? Redacted.value(config.password)
            : host.password === undefined
              ? undefined
              : Redacted.value(host.password))
        let attempt = tryHost(host, config, material, password, attrs)
        if (Number.isFinite(config.connectTimeoutMs)) {
          attempt = attempt.pipe(
            Effect.timeoutOrElse({
              duration: config.connectTimeoutMs,
              orElse: () => Effect.fail(timeoutError(host, config.connectTimeoutMs)),
            }),
          )
        }
        const result = yield* Effect.result(attempt)
        if (Result.isSuccess(result)) {
          const { session, encryption } = result.success
          const cancelTls: CancelTls | undefined =
            encryption === "none"
              ? undefined
              : // The handshake accepted the key: sealing it again cannot throw.
                { options: sealKey(tlsOptions(config.tls, material!, host.host)), direct: encryption === "tls-direct" }
          return { session, config: { ...config, target: host, encryption }, cancelTls }
        }
        if (result.failure instanceof PgConfigError) return yield* Effect.fail(result.failure)
        attempts.push({ host: host.host, port: host.port, error: result.failure })
      }
    }
    if (attempts.length === 1) return yield* Effect.fail(attempts[0]!.error)
    return yield* Effect.fail(
      new PgConnectionError({
        reason: "AllHostsFailed",
        message: `could not connect to any of ${hosts.length} hosts${
          config.targetSessionAttrs === "any" ? "" : ` with target_session_attrs=${config.targetSessionAttrs}`
        }: ${attempts.map((a) => `${a.host}:${a.port}: ${a.error.message}`).join("; ")}`,
        attempts,
      }),
    )
  })
