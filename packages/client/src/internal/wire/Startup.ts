/**
 * The startup cycle: StartupMessage, authentication (trust, cleartext password, MD5,
 * SCRAM-SHA-256 and -PLUS, and the mechanisms of authentication plugins: GSSAPI, other SASL
 * mechanisms), BackendKeyData, ParameterStatus, up to the first ReadyForQuery.
 *
 * A synchronous state machine like the query handlers: it answers each authentication request
 * by writing the response frame itself. Secrets (the password, SCRAM keys) never reach an error
 * message.
 *
 * @internal
 */
import * as Backend from "@pgfx/protocol/Backend"
import * as Frontend from "@pgfx/protocol/Frontend"
import type { Writer } from "@pgfx/protocol/Writer"
import { md5Password } from "@pgfx/protocol/Md5"
import * as Scram from "@pgfx/protocol/Scram"
import { type Context, Redacted, Result } from "effect"
import type { PgAuthContext, PgAuthPlugin } from "../../PgAuth.ts"
import { PgAuthenticationError, type PgConnectError, PgProtocolError, PgServerError } from "../../PgError.ts"
import type { AuthMethodName } from "../../PgConfig.ts"
import { PluginExchange } from "./AuthPlugin.ts"
import { StartupReplies } from "./Replies.ts"
import type { Handler, Session, SessionError } from "./Session.ts"

/** The authentication methods a client may accept (libpq's `require_auth` names). */
export type AuthMethod = AuthMethodName

export interface StartupOptions {
  readonly user: string
  readonly password: string | undefined
  readonly channelBinding: Scram.ChannelBindingMode
  /** The tls-server-end-point hash of the server certificate, when on TLS. */
  readonly tlsServerEndPoint: Uint8Array | undefined
  readonly tls: boolean
  /** When set, only these methods are accepted (libpq's require_auth). */
  readonly allowedMethods: ReadonlyArray<AuthMethod> | undefined
  /** The protocol minor version requested in StartupMessage (0 or 2). */
  readonly requestedMinor: number
  /** Authentication plugins (`authPlugins`), tried for requests the built-in methods do not answer. */
  readonly plugins: ReadonlyArray<PgAuthPlugin>
  /** What a plugin is told about the attempt (the password and the request are added). */
  readonly pluginContext: Omit<PgAuthContext, "password" | "request">
  /** The services plugin steps run with (those of the connection attempt). */
  readonly services: Context.Context<never>
}

export interface StartupCompletion {
  readonly succeed: () => void
  readonly fail: (error: PgConnectError) => void
}

type ScramState =
  | { readonly _tag: "None" }
  | { readonly _tag: "First"; readonly state: Scram.ScramAwaitingServerFirst }
  | { readonly _tag: "Final"; readonly state: Scram.ScramAwaitingServerFinal }

export class StartupHandler implements Handler {
  readonly session: Session
  /** The options without the password, which {@link password} holds until authentication ends. */
  readonly options: Omit<StartupOptions, "password">
  readonly completion: StartupCompletion
  /** Dropped (with the SCRAM state derived from it) once authentication has ended either way. */
  private password: string | undefined
  error: PgConnectError | undefined = undefined
  settled = false
  scram: ScramState = { _tag: "None" }
  /** The exchange of an authentication plugin, from its first request to the end of authentication. */
  plugin: PluginExchange | undefined = undefined
  /** AuthenticationOk came while a plugin step was running: authentication ends when the step does. */
  verifying = false
  /** ReadyForQuery came while {@link verifying}: the startup ends when the step does. */
  readyPending = false
  /** The method the server asked for (for error messages). */
  method: AuthMethod | "sasl" | undefined = undefined
  authenticated = false
  /** Whether a SCRAM exchange completed with channel binding (SCRAM-SHA-256-PLUS). */
  channelBound = false
  readonly replies = new StartupReplies()

  constructor(session: Session, options: StartupOptions, completion: StartupCompletion) {
    const { password, ...rest } = options
    this.session = session
    this.options = rest
    this.password = password
    this.completion = completion
  }

  /** Forgets the password and everything derived from it. */
  private forgetSecrets(): void {
    this.password = undefined
    this.scram = { _tag: "None" }
    this.plugin?.close()
  }

  onFailure(error: SessionError): void {
    this.settle(this.error ?? error)
  }

  private settle(error: PgConnectError | undefined): void {
    this.forgetSecrets()
    if (this.settled) return
    this.settled = true
    if (error === undefined) this.completion.succeed()
    else this.completion.fail(error)
  }

  /** Fails the startup and closes the session: authentication cannot continue. */
  private abort(error: PgConnectError): boolean {
    this.error ??= error
    this.settle(this.error)
    this.session.destroy()
    return true
  }

  private refuse(method: AuthMethod, description: string): boolean {
    return this.abort(
      new PgAuthenticationError({
        message: `the server requested ${description}, which the client does not allow (require_auth: ${
          this.options.allowedMethods?.join(",") ?? ""
        })`,
        method,
      }),
    )
  }

  private noChannelBinding(method: AuthMethod): boolean {
    return this.abort(
      new PgAuthenticationError({
        message: `channel binding is required, but the server requested ${method} authentication, which cannot bind the channel`,
        method,
      }),
    )
  }

  private allowed(method: AuthMethod): boolean {
    const allowed = this.options.allowedMethods
    return allowed === undefined || allowed.includes(method)
  }

  private needPassword(method: AuthMethod): string | undefined {
    const password = this.password
    if (password === undefined) {
      this.abort(
        new PgAuthenticationError({
          message: `the server requested ${method} authentication, but no password was provided`,
          method,
        }),
      )
    }
    return password
  }

  onMessage(type: number, buf: Uint8Array, view: DataView, start: number, end: number): boolean {
    this.replies.accept(type, type === Backend.Type.Authentication && end - start >= 4 && view.getInt32(start) === 0)
    if (this.settled) return type === Backend.Type.ReadyForQuery
    const msg = Backend.decode(type, buf, view, start, end)
    switch (msg._tag) {
      case "AuthenticationOk":
        if (!this.authenticated && this.method === undefined && !this.allowed("none")) {
          return this.refuse("none", "no authentication")
        }
        // libpq: with channel_binding=require, success is only acceptable after a channel-bound
        // SCRAM exchange; anything else (trust, cert, password, a truncated SASL) is refused.
        if (this.options.channelBinding === "require" && !this.channelBound) {
          return this.abort(
            new PgAuthenticationError({
              message: "channel binding required, but server authenticated client without channel binding",
              method: this.method === "sasl" ? "scram-sha-256" : (this.method ?? "none"),
            }),
          )
        }
        if (this.scram._tag !== "None") {
          return this.abort(
            new PgAuthenticationError({
              message: "the server ended SCRAM authentication before proving it knows the password",
              method: "scram-sha-256",
            }),
          )
        }
        if (this.plugin?.busy) {
          // The server does not wait for the client to read its last message (GSSAPI's final
          // token, SASLFinal): that step still runs, and must succeed (mutual authentication)
          // before the startup may end.
          this.authenticated = true
          this.verifying = true
          return false
        }
        this.authenticated = true
        this.forgetSecrets()
        return false
      case "AuthenticationCleartextPassword": {
        this.method = "password"
        if (!this.allowed("password")) return this.refuse("password", "cleartext password authentication")
        if (this.options.channelBinding === "require") return this.noChannelBinding("password")
        const password = this.needPassword("password")
        if (password === undefined) return true
        this.session.write(Frontend.build((w) => Frontend.password(w, password)))
        return false
      }
      case "AuthenticationMD5Password": {
        this.method = "md5"
        if (!this.allowed("md5")) return this.refuse("md5", "MD5 password authentication")
        if (this.options.channelBinding === "require") return this.noChannelBinding("md5")
        const password = this.needPassword("md5")
        if (password === undefined) return true
        const hashed = md5Password(this.options.user, password, msg.salt)
        this.session.write(Frontend.build((w) => Frontend.password(w, hashed)))
        return false
      }
      case "AuthenticationSASL":
        return this.saslStart(msg.mechanisms)
      case "AuthenticationSASLContinue":
        return this.plugin === undefined
          ? this.saslContinue(msg.data)
          : this.pluginStep(msg.data, Frontend.saslResponse)
      case "AuthenticationSASLFinal":
        return this.plugin === undefined ? this.saslFinal(msg.data) : this.pluginFinal(msg.data)
      case "AuthenticationGSS":
        return this.gssStart("gss", "GSS")
      case "AuthenticationSSPI":
        return this.gssStart("sspi", "SSPI")
      case "AuthenticationGSSContinue":
        if (this.plugin?.plugin._tag !== "Gss") {
          return this.abort(new PgProtocolError({ message: "unexpected AuthenticationGSSContinue during startup" }))
        }
        return this.pluginStep(msg.data, Frontend.gssResponse)
      case "AuthenticationKerberosV5":
        return this.abort(
          new PgAuthenticationError({
            message: "the server requested Kerberos V5 authentication, which no PostgreSQL since 9.4 uses",
          }),
        )
      case "BackendKeyData":
        this.session.processId = msg.processId
        this.session.secretKey = msg.secretKey
        return false
      case "NegotiateProtocolVersion":
        this.session.protocolMinor = Math.min(msg.newestMinor, this.options.requestedMinor)
        return false
      case "ErrorResponse": {
        const error = PgServerError.fromFields(msg.fields)
        this.error ??= error
        // The server closes the connection after a startup error.
        this.settle(this.error)
        return false
      }
      case "ReadyForQuery":
        if (this.verifying) {
          this.readyPending = true
          return true
        }
        if (this.scram._tag !== "None") {
          this.abort(
            new PgAuthenticationError({
              message: "the server finished startup before SCRAM authentication completed",
              method: "scram-sha-256",
            }),
          )
          return true
        }
        this.settle(this.error)
        return true
      default:
        return this.abort(new PgProtocolError({ message: `unexpected ${msg._tag} during startup` }))
    }
  }

  /** Starts a plugin's exchange: its first step's answer goes out with `frame`. */
  private pluginStart(
    plugin: PgAuthPlugin,
    method: AuthMethod,
    request: PgAuthContext["request"],
    frame: (answer: Uint8Array | undefined) => Uint8Array | undefined,
  ): boolean {
    const password = this.password
    const exchange = new PluginExchange(
      plugin,
      method,
      {
        ...this.options.pluginContext,
        request,
        password: password === undefined ? undefined : Redacted.make(password),
      },
      this.options.services,
    )
    this.plugin = exchange
    exchange.step(
      undefined,
      (answer) => {
        if (this.verifying) return this.verified(answer)
        const bytes = frame(answer)
        if (bytes !== undefined) this.session.write(bytes)
      },
      (error) => this.abort(error),
    )
    return false
  }

  /**
   * The step that was running when AuthenticationOk came has ended with `answer`: the client's
   * side completed unless it still had something to say.
   */
  private verified(answer: Uint8Array | undefined): void {
    this.verifying = false
    if (answer !== undefined && answer.length > 0) {
      this.abort(
        new PgAuthenticationError({
          message: `the server accepted the client before the ${this.plugin?.plugin.name ?? ""} exchange completed`,
          method: this.plugin?.method,
        }),
      )
      return
    }
    this.forgetSecrets()
    if (this.readyPending) this.settle(this.error)
  }

  /** A continuation of a plugin's exchange; a non-empty answer goes out with `message`. */
  private pluginStep(data: Uint8Array, message: (w: Writer, data: Uint8Array) => Writer): boolean {
    const exchange = this.plugin!
    if (exchange.busy) {
      return this.abort(
        new PgProtocolError({ message: "unexpected authentication request before the client's answer" }),
      )
    }
    exchange.step(
      data,
      (answer) => {
        if (this.verifying) return this.verified(answer)
        if (answer !== undefined && answer.length > 0) this.session.write(Frontend.build((w) => message(w, answer)))
      },
      (error) => this.abort(error),
    )
    return false
  }

  private pluginFinal(data: Uint8Array): boolean {
    const exchange = this.plugin!
    if (exchange.busy || exchange.plugin._tag !== "Sasl") {
      return this.abort(new PgProtocolError({ message: "unexpected AuthenticationSASLFinal during startup" }))
    }
    exchange.finish(
      data,
      () => {
        if (this.verifying) this.verified(undefined)
      },
      (error) => this.abort(error),
    )
    return false
  }

  /** AuthenticationGSS / AuthenticationSSPI: answered by a GSS plugin (libpq without SSPI answers SSPI with GSSAPI). */
  private gssStart(method: "gss" | "sspi", request: "GSS" | "SSPI"): boolean {
    if (this.plugin !== undefined || this.scram._tag !== "None" || this.authenticated) {
      return this.abort(new PgProtocolError({ message: `unexpected Authentication${request} during startup` }))
    }
    this.method = method
    const what = request === "GSS" ? "GSSAPI authentication" : "SSPI authentication"
    if (!this.allowed(method)) return this.refuse(method, what)
    if (this.options.channelBinding === "require") return this.noChannelBinding(method)
    const plugin = this.options.plugins.find((p) => p._tag === "Gss")
    if (plugin === undefined) {
      return this.abort(
        new PgAuthenticationError({
          message: `the server requested ${what}, but no authentication plugin for it was given (authPlugins; GSSAPI: @pgfx/gssapi)`,
          method,
        }),
      )
    }
    return this.pluginStart(plugin, method, request, (answer) =>
      answer === undefined ? undefined : Frontend.build((w) => Frontend.gssResponse(w, answer)),
    )
  }

  private saslStart(mechanisms: ReadonlyArray<string>): boolean {
    if (this.scram._tag !== "None" || this.plugin !== undefined || this.authenticated) {
      return this.abort(new PgProtocolError({ message: "unexpected AuthenticationSASL during startup" }))
    }
    this.method = "sasl"
    const plugin = this.options.plugins.find(
      (p) => p._tag === "Sasl" && mechanisms.includes(p.mechanism) && this.allowed(p.method),
    )
    if (plugin?._tag === "Sasl") {
      this.method = plugin.method
      if (this.options.channelBinding === "require") return this.noChannelBinding(plugin.method)
      return this.pluginStart(plugin, plugin.method, "SASL", (answer) =>
        Frontend.build((w) => Frontend.saslInitialResponse(w, plugin.mechanism, answer)),
      )
    }
    if (!this.allowed("scram-sha-256")) return this.refuse("scram-sha-256", "SASL (SCRAM) authentication")
    const password = this.needPassword("scram-sha-256")
    if (password === undefined) return true
    const selection = Scram.chooseMechanism(mechanisms, {
      channelBinding: this.options.channelBinding,
      tlsServerEndPoint: this.options.tlsServerEndPoint,
      tls: this.options.tls,
    })
    if (Result.isFailure(selection)) {
      return this.abort(
        new PgAuthenticationError({
          message: selection.failure.message,
          method: "scram-sha-256",
          cause: selection.failure,
        }),
      )
    }
    const step = Scram.clientFirst(selection.success)
    this.scram = { _tag: "First", state: step.state }
    this.session.write(Frontend.build((w) => Frontend.saslInitialResponse(w, selection.success.mechanism, step.bytes)))
    return false
  }

  private saslContinue(data: Uint8Array): boolean {
    if (this.scram._tag !== "First") {
      return this.abort(new PgProtocolError({ message: "unexpected SASLContinue during startup" }))
    }
    const step = Scram.handleServerFirst(this.scram.state, data, this.password ?? "")
    if (Result.isFailure(step)) {
      return this.abort(
        new PgAuthenticationError({ message: step.failure.message, method: "scram-sha-256", cause: step.failure }),
      )
    }
    this.scram = { _tag: "Final", state: step.success.state }
    this.session.write(Frontend.build((w) => Frontend.saslResponse(w, step.success.bytes)))
    return false
  }

  private saslFinal(data: Uint8Array): boolean {
    if (this.scram._tag !== "Final") {
      return this.abort(new PgProtocolError({ message: "unexpected SASLFinal during startup" }))
    }
    const outcome = Scram.verifyServerFinal(this.scram.state, data)
    if (Result.isFailure(outcome)) {
      return this.abort(
        new PgAuthenticationError({
          message: outcome.failure.message,
          method: "scram-sha-256",
          cause: outcome.failure,
        }),
      )
    }
    this.scram = { _tag: "None" }
    this.authenticated = true
    this.channelBound = outcome.success.channelBound
    return false
  }
}
