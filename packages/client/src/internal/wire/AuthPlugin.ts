/**
 * Drives one exchange of an authentication plugin (`PgAuth`) from the synchronous startup
 * handler: each server message starts one step, run as its own fiber with the services of the
 * connection attempt; its answer comes back through a callback. At most one step is in flight
 * (the server waits for the answer). {@link PluginExchange.close} interrupts a step in flight
 * and closes the plugin's Scope; the startup handler calls it whenever authentication ends.
 *
 * @internal
 */
import { Cause, type Context, Effect, Exit, Scope } from "effect"
import type { PgAuthContext, PgAuthExchange, PgAuthPlugin } from "../../PgAuth.ts"
import { PgAuthenticationError } from "../../PgError.ts"

export class PluginExchange {
  readonly plugin: PgAuthPlugin
  readonly method: string
  private readonly context: PgAuthContext
  private readonly services: Context.Context<never>
  private readonly scope = Scope.makeUnsafe()
  private exchange: PgAuthExchange | undefined = undefined
  private interrupt: (() => void) | undefined = undefined
  private closed = false

  constructor(plugin: PgAuthPlugin, method: string, context: PgAuthContext, services: Context.Context<never>) {
    this.plugin = plugin
    this.method = method
    this.context = context
    this.services = services
  }

  /** Whether a step is running. */
  get busy(): boolean {
    return this.interrupt !== undefined
  }

  /** Runs the exchange's next step for `serverData` (`undefined`: the first one). */
  step(
    serverData: Uint8Array | undefined,
    onAnswer: (answer: Uint8Array | undefined) => void,
    onError: (error: PgAuthenticationError) => void,
  ): void {
    const started =
      this.exchange !== undefined
        ? Effect.succeed(this.exchange)
        : Scope.provide(this.plugin.start(this.context), this.scope).pipe(
            Effect.tap((exchange) => Effect.sync(() => (this.exchange = exchange))),
          )
    this.run(
      Effect.flatMap(started, (exchange) => exchange.step(serverData)),
      onAnswer,
      onError,
    )
  }

  /** Runs the exchange's `finish` for AuthenticationSASLFinal. */
  finish(serverData: Uint8Array, onDone: () => void, onError: (error: PgAuthenticationError) => void): void {
    const finish = this.exchange?.finish
    if (finish === undefined) return onDone()
    this.run(finish(serverData), onDone, onError)
  }

  private run<A>(
    effect: Effect.Effect<A, PgAuthenticationError>,
    onSuccess: (a: A) => void,
    onError: (error: PgAuthenticationError) => void,
  ): void {
    if (this.closed) return
    let done = false
    const interrupt = Effect.runCallbackWith(this.services)(effect, {
      onExit: (exit) => {
        done = true
        this.interrupt = undefined
        if (this.closed) return
        if (Exit.isSuccess(exit)) return onSuccess(exit.value)
        const failure = Cause.findErrorOption(exit.cause)
        onError(
          failure._tag === "Some"
            ? failure.value
            : new PgAuthenticationError({
                message: `the authentication plugin ${this.plugin.name} failed unexpectedly`,
                method: this.method,
                cause: Cause.squash(exit.cause),
              }),
        )
      },
    })
    if (!done) this.interrupt = interrupt
  }

  /** Interrupts a step in flight and closes the plugin's Scope. Idempotent. */
  close(): void {
    if (this.closed) return
    this.closed = true
    const interrupt = this.interrupt
    this.interrupt = undefined
    interrupt?.()
    Effect.runForkWith(this.services)(Scope.close(this.scope, Exit.void))
  }
}
