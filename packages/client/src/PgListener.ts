/**
 * `PgListener`: one dedicated connection that carries LISTEN for every channel of an
 * application, and survives disconnections.
 *
 * - The connection is opened on the first subscription and kept until the listener's scope
 *   closes. All channels share it; each channel is LISTENed once, however many streams read it.
 * - When the connection drops (server restart, `pg_terminate_backend`, network failure, a failed
 *   health check), the listener reconnects following `reconnectSchedule`, LISTENs every channel
 *   again, and then puts a {@link Reconnected} marker into every stream that was live before the
 *   drop: notifications sent while it was down are lost (PostgreSQL does not queue them for a
 *   session that is gone), so a consumer that keeps derived state should re-read it on a marker.
 * - Streams keep running across reconnections; they fail only when reconnecting gives up: a
 *   non-transient error (authentication, unknown database, invalid settings) or the schedule
 *   ending.
 * - A health check (`SELECT 1` every `healthCheckInterval`, default 30 seconds) notices a
 *   silently dead network path; it is skipped while backpressure pauses reading.
 * - Buffering per stream is the subscriber's choice (`BufferOptions`). Backpressure
 *   (`strategy: "suspend"` with a bounded `bufferSize`) pauses reading the shared connection,
 *   so one slow stream holds back the others.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import * as PgListener from "@pgfx/client/PgListener"
 *
 * const program = Effect.gen(function* () {
 *   const listener = yield* PgListener.make("postgres://localhost/app")
 *   yield* listener.listen("orders").pipe(
 *     Stream.runForEach((event) =>
 *       event._tag === "Reconnected"
 *         ? Effect.log("reconnected: reloading orders") // notifications may have been missed
 *         : Effect.log(`order ${event.payload}`),
 *     ),
 *   )
 * }).pipe(Effect.scoped)
 * ```
 * @since 0.1.0
 */
import {
  Cause,
  Context,
  Data,
  Deferred,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Option,
  Redacted,
  Schedule,
  type Scope,
  Semaphore,
  Stream,
} from "effect"
import type { ConnectionCore } from "./internal/connection/Core.ts"
import { invalidSubscription } from "./internal/connection/ConnectionEvents.ts"
import { coreOf } from "./internal/connection/Internals.ts"
import { Subscriber } from "./internal/connection/Subscriber.ts"
import * as PgConfig from "./PgConfig.ts"
import * as PgConnection from "./PgConnection.ts"
import {
  type PgConnectError,
  type PgConnectionError,
  PgInterfaceError,
  type PgProtocolError,
  type PgQueryError,
} from "./PgError.ts"
import type { BufferOptions, NotificationCallback, PgNotification } from "./PgNotifications.ts"

/**
 * Put into a stream after the listener reconnected and LISTENed again: notifications sent while
 * it was disconnected were missed.
 * @since 0.1.0
 */
export class Reconnected extends Data.TaggedClass("Reconnected")<{
  /** The channel of the stream. */
  readonly channel: string
  /** Why the previous connection ended. */
  readonly cause: PgConnectionError | PgProtocolError
  /** How long the channel was not listened to. */
  readonly downtime: Duration.Duration
}> {}

/** An element of a listener stream: a notification, or a reconnection marker. @since 0.1.0 */
export type ListenEvent = PgNotification | Reconnected

/** Why a listener stream failed. @since 0.1.0 */
export type PgListenerError = PgQueryError | PgConnectError | PgConfig.PgConfigError

/** Options of {@link make}. @since 0.1.0 */
export interface PgListenerOptions {
  /**
   * Delays between reconnection attempts after a transient failure (default: exponential from
   * 100 ms, capped at 5 seconds, forever). When it ends, the streams fail with the last error.
   */
  readonly reconnectSchedule?: Schedule.Schedule<unknown, PgListenerError> | undefined
  /** Interval of the `SELECT 1` health check, or `false` for none (default 30 seconds). */
  readonly healthCheckInterval?: Duration.Input | false | undefined
  /** Bound on one health check; past it the connection is dropped and re-made (default 10 seconds). */
  readonly healthCheckTimeout?: Duration.Input | undefined
}

/** A listener. @since 0.1.0 */
export interface PgListenerShape {
  /**
   * The notifications of `channel`, with a {@link Reconnected} marker after each reconnection.
   * The channel is LISTENed when the stream starts (after connecting, if needed) and UNLISTENed
   * when its last stream ends.
   *
   * Errors: `PgInterfaceError` for an invalid channel name or buffer options; the connect or
   * LISTEN error once reconnecting gives up.
   */
  listen(channel: string, options?: BufferOptions): Stream.Stream<ListenEvent, PgListenerError>
  /** Like {@link listen}, as a scoped Effect that completes once the LISTEN is confirmed. */
  subscribe(
    channel: string,
    options?: BufferOptions,
  ): Effect.Effect<Stream.Stream<ListenEvent, PgListenerError>, PgListenerError, Scope.Scope>
  /** The channels listened to now. */
  readonly channels: ReadonlyArray<string>
  /** The backend process id of the current connection, if connected. */
  readonly serverPid: number | undefined
}

/** The listener service, for applications that provide one through a Layer. @since 0.1.0 */
export class PgListener extends Context.Service<PgListener, PgListenerShape>()("@pgfx/client/PgListener") {}

/** Errors that a new connection attempt may cure. */
const isTransient = (error: PgListenerError): boolean => {
  switch (error._tag) {
    case "PgConnectionError":
    case "PgProtocolError":
    case "PgTimeoutError":
      return true
    case "PgServerError": {
      const cls = error.code.slice(0, 2)
      // connection exception, insufficient resources, operator intervention, system error
      return cls === "08" || cls === "53" || cls === "57" || cls === "58"
    }
    default:
      return false
  }
}

const defaultSchedule: Schedule.Schedule<unknown, PgListenerError> = Schedule.min([
  Schedule.exponential("100 millis"),
  Schedule.spaced("5 seconds"),
])

interface Member {
  readonly subscriber: Subscriber<ListenEvent, PgListenerError>
  /** The connection generation it became live on; -1 while it waits for its first LISTEN. */
  generation: number
}

interface ChannelState {
  readonly members: Set<Member>
  /** LISTEN confirmed on the current connection. */
  active: boolean
}

type Reason = PgConnectionError | PgProtocolError

type LiveConnection = ConnectionCore

class Listener implements PgListenerShape {
  /** May hold a password: `Redacted`, so no inspection shows it. */
  private readonly options: Redacted.Redacted<PgConnection.PgConnectionOptions | string>
  private readonly schedule: Schedule.Schedule<unknown, PgListenerError>
  private readonly healthInterval: Duration.Duration | undefined
  private readonly healthTimeout: Duration.Duration
  private readonly scope: Scope.Scope
  /** The context `make` ran in: the supervisor runs with its logger, tracer and metrics. */
  private readonly context: Context.Context<never>
  private readonly state = new Map<string, ChannelState>()
  private readonly lock = Semaphore.makeUnsafe(1)
  /** The connection while it is live and synced. */
  private conn: LiveConnection | undefined = undefined
  private generation = 0
  /** Completed when a connection is live and every channel LISTENed; replaced on each drop. */
  private synced = Deferred.makeUnsafe<void, PgListenerError>()
  private failure: PgListenerError | undefined = undefined
  private started = false
  private closing = false
  private lastDrop: { readonly reason: Reason; readonly at: number } | undefined = undefined

  constructor(
    options: PgConnection.PgConnectionOptions | string,
    listenerOptions: PgListenerOptions | undefined,
    scope: Scope.Scope,
    context: Context.Context<never>,
  ) {
    this.options = Redacted.make(options)
    this.schedule = listenerOptions?.reconnectSchedule ?? defaultSchedule
    const interval = listenerOptions?.healthCheckInterval ?? "30 seconds"
    this.healthInterval = interval === false ? undefined : Duration.fromInputUnsafe(interval)
    this.healthTimeout = Duration.fromInputUnsafe(listenerOptions?.healthCheckTimeout ?? "10 seconds")
    this.scope = scope
    this.context = context
  }

  get channels(): ReadonlyArray<string> {
    return [...this.state.keys()]
  }

  get serverPid(): number | undefined {
    return this.conn?.serverPid
  }

  /** Delivers one notification of the current connection to every stream of its channel. */
  private readonly fanout: NotificationCallback = (connection, processId, channel, payload) => {
    const state = this.state.get(channel)
    if (state === undefined) return
    const gate = coreOf(connection).readGate
    const item: PgNotification = { _tag: "PgNotification", channel, payload, processId }
    for (const member of state.members) member.subscriber.offer(item, gate)
  }

  /** Bookkeeping when the current connection closes (runs synchronously, in its close callback). */
  private onDrop(conn: LiveConnection, reason: Reason, closed: Deferred.Deferred<Reason>): void {
    Deferred.doneUnsafe(closed, Exit.succeed(reason))
    if (this.conn !== conn) return
    this.conn = undefined
    this.lastDrop = { reason, at: Date.now() }
    for (const state of this.state.values()) state.active = false
    this.synced = Deferred.makeUnsafe<void, PgListenerError>()
  }

  /** Opens a connection and LISTENs every channel; markers go to streams that were live before. */
  private readonly connectAndSync: Effect.Effect<
    { readonly conn: LiveConnection; readonly closed: Deferred.Deferred<Reason> },
    PgListenerError
  > = Effect.gen({ self: this }, function* () {
    const conn = coreOf(yield* PgConnection.connect(Redacted.value(this.options)))
    const closed = Deferred.makeUnsafe<Reason>()
    yield* conn.addTerminationListener((_, reason) => this.onDrop(conn, reason, closed))
    yield* this.lock
      .withPermits(1)(
        Effect.gen({ self: this }, function* () {
          for (const [channel, state] of this.state) {
            const listened = yield* Effect.exit(conn.addListener(channel, this.fanout))
            if (Exit.isSuccess(listened)) state.active = true
            else {
              const found = Cause.findErrorOption(listened.cause)
              if (Option.isNone(found) || found.value._tag !== "PgServerError") {
                return yield* Effect.failCause(listened.cause)
              }
              const error = found.value
              // this channel cannot be listened to: its streams fail, the others go on
              for (const member of state.members) member.subscriber.fail(error)
              this.state.delete(channel)
            }
          }
          this.conn = conn
          const generation = ++this.generation
          const drop = this.lastDrop
          for (const [channel, state] of this.state) {
            for (const member of state.members) {
              if (member.generation >= 0 && drop !== undefined) {
                member.subscriber.offerMarker(
                  new Reconnected({ channel, cause: drop.reason, downtime: Duration.millis(Date.now() - drop.at) }),
                  conn.readGate,
                )
              }
              member.generation = generation
            }
          }
          Deferred.doneUnsafe(this.synced, Exit.void)
          if (drop !== undefined) {
            yield* Effect.logInfo(
              `pgfx: PgListener reconnected after ${Date.now() - drop.at} ms; ${this.state.size} channel(s) listened again`,
            )
          }
        }),
      )
      .pipe(
        Effect.onError(() =>
          Effect.andThen(
            Effect.sync(() => {
              for (const state of this.state.values()) state.active = false
            }),
            conn.close(),
          ),
        ),
      )
    return { conn, closed }
  })

  /**
   * Repeats `SELECT 1` on `conn`. A failure closes the connection (which triggers a reconnect);
   * so does a check that takes longer than the timeout: a watchdog closes the connection rather
   * than interrupting the query, since an interrupted query waits for the server to end its
   * cycle, which a frozen server or a dead network path never does.
   */
  private health(conn: LiveConnection): Effect.Effect<never> {
    const interval = this.healthInterval
    if (interval === undefined) return Effect.never
    const timeout = this.healthTimeout
    const check: Effect.Effect<void> = Effect.suspend(() =>
      conn.readGate.isBlocked
        ? Effect.void
        : Effect.flatMap(Effect.forkChild(Effect.andThen(Effect.sleep(timeout), conn.terminate())), (watchdog) =>
            Effect.exit(conn.execute("SELECT 1")).pipe(
              Effect.tap(() => Fiber.interrupt(watchdog)),
              Effect.flatMap((exit) => (Exit.isFailure(exit) ? conn.terminate() : Effect.void)),
            ),
          ),
    )
    return Effect.forever(Effect.andThen(Effect.sleep(interval), check)).pipe(Effect.withTracerEnabled(false))
  }

  /** Connects, watches, reconnects; ends only when reconnecting gives up. */
  private readonly supervise: Effect.Effect<never, PgListenerError> = Effect.gen({ self: this }, function* () {
    while (true) {
      const { conn, closed } = yield* this.connectAndSync.pipe(
        Effect.retry({ schedule: this.schedule, while: isTransient }),
      )
      const reason = yield* Effect.raceFirst(Deferred.await(closed), this.health(conn))
      if (!this.closing) {
        yield* Effect.logWarning(`pgfx: PgListener lost its connection (${reason.message}); reconnecting`)
      }
    }
  })

  private failAll(error: PgListenerError): void {
    this.failure = error
    for (const state of this.state.values()) for (const member of state.members) member.subscriber.fail(error)
    this.state.clear()
    Deferred.doneUnsafe(this.synced, Exit.fail(error))
  }

  /** Ends every stream and closes the connection: the listener's scope closed. */
  readonly shutdown: Effect.Effect<void> = Effect.suspend(() => {
    this.closing = true
    for (const state of this.state.values()) for (const member of state.members) member.subscriber.end()
    this.state.clear()
    Deferred.doneUnsafe(
      this.synced,
      Exit.fail(new PgInterfaceError({ message: "the listener is closed" }) as PgListenerError),
    )
    return this.conn === undefined ? Effect.void : this.conn.close()
  })

  private register(channel: string, member: Member): Effect.Effect<void, PgListenerError> {
    const join = this.lock.withPermits(1)(
      Effect.suspend((): Effect.Effect<void, PgListenerError> => {
        if (this.failure !== undefined) return Effect.fail(this.failure)
        if (this.closing) return Effect.fail(new PgInterfaceError({ message: "the listener is closed" }))
        let state = this.state.get(channel)
        if (state === undefined) {
          state = { members: new Set(), active: false }
          this.state.set(channel, state)
        }
        state.members.add(member)
        if (!this.started) {
          this.started = true
          return Effect.asVoid(
            Effect.forkIn(
              Effect.catch(this.supervise, (error) => Effect.sync(() => this.failAll(error))).pipe(
                Effect.provideContext(this.context),
              ),
              this.scope,
            ),
          )
        }
        if (state.active) {
          member.generation = this.generation
          return Effect.void
        }
        const conn = this.conn
        if (conn === undefined) return Effect.void
        const current = state
        return conn.addListener(channel, this.fanout).pipe(
          Effect.tap(() =>
            Effect.sync(() => {
              current.active = true
              member.generation = this.generation
            }),
          ),
          // a dropped connection is the supervisor's business: wait for the next sync
          Effect.catchIf(
            (error) => error._tag !== "PgServerError" && error._tag !== "PgInterfaceError",
            () => Effect.void,
          ),
        )
      }),
    )
    const awaitLive: Effect.Effect<void, PgListenerError> = Effect.suspend(() =>
      member.generation >= 0 ? Effect.void : Effect.andThen(Deferred.await(this.synced), awaitLive),
    )
    return Effect.andThen(join, awaitLive)
  }

  private unregister(channel: string, member: Member): Effect.Effect<void> {
    return Effect.suspend(() => {
      // end first, outside the lock: a full buffer of this stream may be what pauses the socket
      // that a LISTEN holding the lock is waiting on
      member.subscriber.end()
      return this.lock.withPermits(1)(
        Effect.suspend(() => {
          const state = this.state.get(channel)
          if (state === undefined || !state.members.delete(member) || state.members.size > 0) return Effect.void
          this.state.delete(channel)
          if (!state.active || this.conn === undefined) return Effect.void
          return Effect.ignore(this.conn.removeListener(channel, this.fanout))
        }),
      )
    })
  }

  subscribe(
    channel: string,
    options?: BufferOptions,
  ): Effect.Effect<Stream.Stream<ListenEvent, PgListenerError>, PgListenerError, Scope.Scope> {
    return Effect.gen({ self: this }, function* () {
      const invalid = invalidSubscription(channel, options)
      if (invalid !== undefined) return yield* invalid
      const member: Member = {
        subscriber: yield* Subscriber.make<ListenEvent, PgListenerError>(options),
        generation: -1,
      }
      yield* Effect.uninterruptibleMask((restore) =>
        Effect.andThen(
          Effect.addFinalizer(() => this.unregister(channel, member)),
          restore(this.register(channel, member)),
        ),
      )
      return Stream.fromQueue(member.subscriber.queue)
    })
  }

  listen(channel: string, options?: BufferOptions): Stream.Stream<ListenEvent, PgListenerError> {
    return Stream.unwrap(this.subscribe(channel, options))
  }
}

/**
 * Creates a listener for the server described by `options`. Nothing is opened until the first
 * subscription; closing the scope ends every stream and closes the connection.
 *
 * Errors: `PgConfigError` for invalid connection settings.
 *
 * @example
 * ```ts
 * const listener = yield* PgListener.make({ host: "db", database: "app" }, { healthCheckInterval: "10 seconds" })
 * const orders = yield* listener.subscribe("orders", { bufferSize: 1024, strategy: "suspend" })
 * ```
 * @since 0.1.0
 */
export const make = (
  options: PgConnection.PgConnectionOptions | string,
  listenerOptions?: PgListenerOptions,
): Effect.Effect<PgListenerShape, PgConfig.PgConfigError, Scope.Scope> =>
  Effect.gen(function* () {
    yield* Effect.try({
      try: () => PgConfig.resolve(typeof options === "string" ? { url: options } : options),
      catch: (e) =>
        e instanceof PgConfig.PgConfigError
          ? e
          : new PgConfig.PgConfigError({ source: "options", key: "", message: String(e) }),
    })
    const scope = yield* Effect.scope
    const listener = new Listener(options, listenerOptions, scope, yield* Effect.context<never>())
    yield* Effect.addFinalizer(() => listener.shutdown)
    return listener
  })

/**
 * A layer providing {@link PgListener}.
 * @since 0.1.0
 */
export const layer = (
  options: PgConnection.PgConnectionOptions | string,
  listenerOptions?: PgListenerOptions,
): Layer.Layer<PgListener, PgConfig.PgConfigError> => Layer.effect(PgListener)(make(options, listenerOptions))

/** True for a notification, false for a {@link Reconnected} marker. @since 0.1.0 */
export const isNotification = (event: ListenEvent): event is PgNotification => event._tag === "PgNotification"
