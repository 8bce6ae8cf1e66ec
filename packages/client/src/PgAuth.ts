/**
 * Pluggable authentication: mechanisms beyond the built-in ones (trust, cleartext password, MD5,
 * SCRAM-SHA-256 and -PLUS), given to a connection as `authPlugins`, so that the client itself
 * stays free of native dependencies.
 *
 * A plugin answers one kind of authentication request of the server:
 *
 * - {@link gss}: `AuthenticationGSS` (and `AuthenticationSSPI`, which on Linux and macOS is
 *   answered with GSSAPI, as libpq does), then every `AuthenticationGSSContinue`; its tokens
 *   travel in GSSResponse messages. `@pgfx/gssapi` is such a plugin (Kerberos).
 * - {@link sasl}: `AuthenticationSASL` when the server offers the plugin's mechanism (a plugin
 *   is preferred over the built-in SCRAM), then `AuthenticationSASLContinue` and
 *   `AuthenticationSASLFinal`.
 *
 * **The contract.** When the server asks, the client calls the plugin's `start` with a
 * {@link PgAuthContext} (who connects to which host, the Kerberos service name, the password if
 * any — `Redacted`), then the exchange's `step` once per server message (`undefined` for the
 * first one), and sends what it returns. The Scope given to `start` is closed when
 * authentication ends in any way (success, a server error, the connect timeout, a lost socket):
 * release native contexts there. A step that fails with `PgAuthenticationError` fails the
 * connection attempt with that error; a defect becomes a `PgAuthenticationError` naming the
 * plugin. Every step runs under the connection attempt's `connectTimeout`.
 *
 * **`requireAuth`** (libpq's `require_auth`) applies to plugins by the method they implement:
 * `gss` for {@link gss} plugins (`sspi` when the server sent `AuthenticationSSPI`), the
 * `method` given to {@link sasl}. A server asking for a method no plugin answers fails with
 * `PgAuthenticationError`. `channelBinding: "require"` refuses every plugin (none of them binds
 * the channel).
 *
 * @example
 * ```ts
 * import * as PgAuth from "@pgfx/client/PgAuth"
 * import * as PgConnection from "@pgfx/client/PgConnection"
 * import { PgAuthenticationError } from "@pgfx/client/PgError"
 * import { Effect } from "effect"
 *
 * // A SASL mechanism the server offers as "X-TOKEN": send a token, accept the outcome.
 * const token = PgAuth.sasl({
 *   name: "x-token",
 *   mechanism: "X-TOKEN",
 *   method: "oauth",
 *   start: (context) =>
 *     Effect.succeed({
 *       step: (serverData) =>
 *         serverData === undefined
 *           ? Effect.succeed(new TextEncoder().encode(`user=${context.user}`))
 *           : Effect.fail(new PgAuthenticationError({ message: "X-TOKEN takes one round", method: "oauth" })),
 *     }),
 * })
 *
 * const program = PgConnection.connect({ url: "postgres://app@db/app", authPlugins: [token] })
 * ```
 *
 * @since 0.1.0
 */
import type { Effect, Redacted, Scope } from "effect"
import type { PgAuthenticationError } from "./PgError.ts"

/** An authentication method name of libpq's `require_auth`. @since 0.1.0 */
export type AuthMethodName = "password" | "md5" | "gss" | "sspi" | "scram-sha-256" | "oauth" | "none"

/**
 * What a plugin knows about the connection attempt it authenticates.
 * @since 0.1.0
 */
export interface PgAuthContext {
  /**
   * The host name as configured (not a resolved address: GSSAPI names the service
   * `<krbSrvName>@<host>`), or the socket directory of a unix-socket connection.
   */
  readonly host: string
  readonly port: number
  /** Whether the connection goes through a unix socket (`host` is then a directory). */
  readonly unixSocket: boolean
  /** The role name sent in the startup message. */
  readonly user: string
  /** The Kerberos service name [krbsrvname] (default `postgres`). */
  readonly krbSrvName: string
  /** The GSS library asked for [gsslib], if any. */
  readonly gssLib: "gssapi" | "sspi" | undefined
  /** The password of the attempt, if one is configured. */
  readonly password: Redacted.Redacted<string> | undefined
  /** Whether the session is encrypted with TLS. */
  readonly tls: boolean
  /** The request that started the exchange: `AuthenticationGSS`, `AuthenticationSSPI` or `AuthenticationSASL`. */
  readonly request: "GSS" | "SSPI" | "SASL"
}

/**
 * One authentication exchange, from the server's first request to AuthenticationOk.
 * @since 0.1.0
 */
export interface PgAuthExchange {
  /**
   * Answers one server message: `undefined` for the request that starts the exchange, else the
   * data of `AuthenticationGSSContinue` / `AuthenticationSASLContinue`. Returns the bytes to
   * send (GSSResponse, SASLInitialResponse, SASLResponse), or `undefined` when there is nothing
   * to send (GSSAPI's last step).
   */
  readonly step: (serverData: Uint8Array | undefined) => Effect.Effect<Uint8Array | undefined, PgAuthenticationError>
  /** SASL only: checks the data of `AuthenticationSASLFinal` (default: accepted). */
  readonly finish?: ((serverData: Uint8Array) => Effect.Effect<void, PgAuthenticationError>) | undefined
}

/** What every plugin has. @since 0.1.0 */
export interface PgAuthPluginBase {
  /** Names the plugin in error messages. */
  readonly name: string
  /** Begins an exchange; the Scope closes when authentication ends, however it ends. */
  readonly start: (context: PgAuthContext) => Effect.Effect<PgAuthExchange, PgAuthenticationError, Scope.Scope>
}

/** A plugin answering `AuthenticationGSS` / `AuthenticationSSPI`. @since 0.1.0 */
export interface PgGssPlugin extends PgAuthPluginBase {
  readonly _tag: "Gss"
}

/** A plugin answering `AuthenticationSASL` for one mechanism. @since 0.1.0 */
export interface PgSaslPlugin extends PgAuthPluginBase {
  readonly _tag: "Sasl"
  /** The SASL mechanism name the server offers (e.g. `OAUTHBEARER`). */
  readonly mechanism: string
  /** The `requireAuth` method name this mechanism counts as. */
  readonly method: AuthMethodName
}

/** An authentication plugin (see the module documentation). @since 0.1.0 */
export type PgAuthPlugin = PgGssPlugin | PgSaslPlugin

/**
 * A plugin for GSSAPI authentication (`AuthenticationGSS`, `AuthenticationSSPI` answered with
 * GSSAPI, `AuthenticationGSSContinue`).
 *
 * @example
 * ```ts
 * import * as PgAuth from "@pgfx/client/PgAuth"
 * import { Effect } from "effect"
 *
 * // A fake mechanism that sends one fixed token (a real one is `@pgfx/gssapi`).
 * const fixed = PgAuth.gss({
 *   name: "fixed",
 *   start: () => Effect.succeed({ step: (data) => Effect.succeed(data === undefined ? new Uint8Array([1]) : undefined) }),
 * })
 * ```
 * @since 0.1.0
 */
export const gss = (plugin: Omit<PgGssPlugin, "_tag">): PgGssPlugin => ({ _tag: "Gss", ...plugin })

/**
 * A plugin for one SASL mechanism. See the module documentation for an example.
 * @since 0.1.0
 */
export const sasl = (plugin: Omit<PgSaslPlugin, "_tag">): PgSaslPlugin => ({ _tag: "Sasl", ...plugin })
