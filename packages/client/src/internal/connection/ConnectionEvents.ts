/**
 * The notification, notice, termination and query-logger registries of one connection: the
 * base class of `Connection`, implementing `PgConnectionEvents`.
 *
 * The session hands asynchronous messages to three listeners installed here once
 * ({@link ConnectionEvents.attachEvents}); each dispatch is plain synchronous code (a map lookup
 * and a loop over the channel's callbacks and stream buffers), so a notification costs no
 * Effect. LISTEN and UNLISTEN are serialised by a per-connection lock and reference-counted per
 * channel: the first listener (callback or stream) of a channel sends LISTEN, the last one to
 * leave sends UNLISTEN.
 *
 * The pool calls {@link ConnectionEvents.releaseListeners} when a connection comes back, which
 * removes whatever a borrower left registered and logs a warning (asyncpg's InterfaceWarning).
 *
 * @internal
 */
import { type Context, Effect, Exit, type LogLevel, Semaphore, Stream, type Scope } from "effect"
import { Context as Ctx } from "effect"
import type { ResolvedConfig } from "../../PgConfig.ts"
import {
  type LogCallback,
  NoticeLogLevel,
  type NotificationCallback,
  type PgConnection,
  type PgConnectionEvents,
  type QueryLogOptions,
  type TerminationCallback,
} from "../Handles.ts"
import {
  type LoggedQuery,
  PgNotice,
  type PgNotification,
  type QueryLoggerCallback,
  type QueryLoggerOptions,
} from "../Events.ts"
import type { BufferOptions, QueryOptions } from "../Options.ts"
import { PgConnectionError, PgInterfaceError, type PgProtocolError, type PgQueryError } from "../../PgError.ts"
import * as PgMetrics from "../../PgMetrics.ts"
import type { Notification, Session, SessionError } from "../wire/Session.ts"
import { invalidBufferOptions, ReadGate, Subscriber } from "./Subscriber.ts"

/** PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes. */
const maxIdentifierBytes = 63

/** Why a channel name is refused, or undefined when it is fine. */
export const invalidChannel = (channel: unknown): PgInterfaceError | undefined => {
  if (typeof channel !== "string" || channel.length === 0) {
    return new PgInterfaceError({ message: "a channel name must be a non-empty string" })
  }
  if (channel.includes("\0")) return new PgInterfaceError({ message: "a channel name cannot contain a NUL character" })
  if (Buffer.byteLength(channel, "utf8") > maxIdentifierBytes) {
    return new PgInterfaceError({ message: `a channel name is at most ${maxIdentifierBytes} bytes long` })
  }
  return undefined
}

/** Why a subscription to `channel` with `options` cannot start (a bad channel name or buffer size), if it cannot. */
export const invalidSubscription = (
  channel: unknown,
  options: BufferOptions | undefined,
): PgInterfaceError | undefined => {
  const invalid = invalidChannel(channel)
  if (invalid !== undefined) return invalid
  const badOptions = invalidBufferOptions(options)
  return badOptions === undefined ? undefined : new PgInterfaceError({ message: badOptions })
}

/** Quotes an identifier for LISTEN / UNLISTEN: always double-quoted, so the name is taken as is. */
export const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`

/**
 * Calls a user callback from the socket's data path or a query's completion: a throw, or a
 * returned promise that rejects (an `async` callback), is logged at Error with the logger of
 * `context`, and never propagates.
 */
export const callSafely = (context: Context.Context<never>, what: string, f: () => unknown): void => {
  const logFailure = (error: unknown) => {
    Effect.runForkWith(context)(Effect.logError(`pgfx: a ${what} failed`, error))
  }
  try {
    const result = f()
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === "function") {
      ;(result as PromiseLike<unknown>).then(undefined, logFailure)
    }
  } catch (error) {
    logFailure(error)
  }
}

/** The default buffer of a {@link ConnectionEvents.queryLog} stream. */
const defaultQueryLogBuffer = 1024

/** The listeners of one channel. */
interface ChannelEntry {
  readonly callbacks: Set<NotificationCallback>
  readonly subscribers: Set<Subscriber<PgNotification, PgQueryError>>
}

/** What {@link ConnectionEvents.detachListeners} removed. */
export interface ListenerCounts {
  /** Notification callbacks (`addListener`). */
  readonly notification: number
  /** Notification streams (`listen` / `subscribe`), ended with a `PgInterfaceError`. */
  readonly notificationStreams: number
  /** Log listeners (`addLogListener`) and notice streams. */
  readonly log: number
  readonly termination: number
  readonly queryLoggers: number
  /** Sum of the above. */
  readonly total: number
}

type NoticeStreamError = PgConnectionError | PgProtocolError | PgInterfaceError

/** The level a notice is logged at under {@link NoticeLogLevel} `level` (not `"None"`). */
const noticeLevel = (level: Exclude<NoticeLogLevel, "None">, severity: string): LogLevel.Severity =>
  level !== "BySeverity"
    ? level
    : severity === "WARNING"
      ? "Warn"
      : severity === "DEBUG" || severity === "LOG"
        ? "Debug"
        : "Info"

export abstract class ConnectionEvents implements PgConnectionEvents {
  abstract readonly session: Session
  abstract readonly config: ResolvedConfig
  abstract execute(
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: QueryOptions,
  ): Effect.Effect<string, PgQueryError>

  /** Query loggers, read by `Instrument.observe` after each query. */
  readonly queryLoggers = new Map<QueryLoggerCallback, QueryLoggerOptions | undefined>()
  /** The context captured when the connection was opened: logger, metric registry, settings. */
  eventContext: Context.Context<never> = Ctx.empty()

  private readonly channels = new Map<string, ChannelEntry>()
  private readonly channelLock = Semaphore.makeUnsafe(1)
  private readonly logListeners = new Set<LogCallback>()
  private readonly noticeSubscribers = new Set<Subscriber<PgNotice, NoticeStreamError>>()
  private readonly terminationListeners = new Set<TerminationCallback>()
  /** Fibers waiting in {@link awaitClose}: resumed with the reason, or failed on release. */
  private readonly closeWaiters = new Set<
    (exit: Exit.Exit<PgConnectionError | PgProtocolError, PgInterfaceError>) => void
  >()
  private readonly queryLogSubscribers = new Set<Subscriber<LoggedQuery, PgInterfaceError>>()
  private installed = false
  private noticeLogLevel: NoticeLogLevel = "Debug"
  private metricsOn = true
  private socketGate: ReadGate | undefined = undefined

  /** True when a borrower left anything registered (what {@link releaseListeners} removes). */
  get hasRegistrations(): boolean {
    return (
      this.channels.size > 0 ||
      this.logListeners.size > 0 ||
      this.noticeSubscribers.size > 0 ||
      this.terminationListeners.size > 0 ||
      this.closeWaiters.size > 0 ||
      this.queryLoggers.size > 0
    )
  }

  /** This connection as its public type (for callbacks). */
  private get connection(): PgConnection {
    return this as unknown as PgConnection
  }

  /** The read gate that pauses this connection's socket for backpressure. */
  get readGate(): ReadGate {
    return (this.socketGate ??= new ReadGate(this.session.socket))
  }

  /**
   * Installs the session listeners and captures `context` (the logger and metric registry used
   * for notices and callback failures). Called once, right after the connection is opened.
   */
  attachEvents(context: Context.Context<never>): void {
    this.eventContext = context
    this.noticeLogLevel = Ctx.get(context, NoticeLogLevel)
    this.metricsOn = Ctx.get(context, PgMetrics.Enabled)
    this.install()
  }

  private install(): void {
    if (this.installed) return
    this.installed = true
    this.session.notificationListeners.add(this.onNotification)
    this.session.noticeListeners.add(this.onNotice)
    this.session.closeListeners.add(this.onClose)
  }

  private closeReason(): PgConnectionError | PgProtocolError {
    return this.session.closeError ?? new PgConnectionError({ reason: "Closed", message: "the connection is closed" })
  }

  /** Runs a user callback; a throw or a rejected promise is logged, never propagated. */
  private safely(what: string, f: () => unknown): void {
    callSafely(this.eventContext, what, f)
  }

  private readonly onNotification = (n: Notification): void => {
    if (this.metricsOn) PgMetrics.notifications.updateUnsafe(1, this.eventContext)
    const entry = this.channels.get(n.channel)
    if (entry === undefined) return
    for (const callback of entry.callbacks) {
      this.safely("notification listener", () => callback(this.connection, n.processId, n.channel, n.payload))
    }
    if (entry.subscribers.size > 0) {
      const item: PgNotification = {
        _tag: "PgNotification",
        channel: n.channel,
        payload: n.payload,
        processId: n.processId,
      }
      for (const subscriber of entry.subscribers) subscriber.offer(item, this.readGate)
    }
  }

  private readonly onNotice = (fields: ReadonlyArray<readonly [string, string]>): void => {
    const notice = PgNotice.fromFields(fields)
    for (const callback of this.logListeners) this.safely("log listener", () => callback(this.connection, notice))
    for (const subscriber of this.noticeSubscribers) subscriber.offer(notice, this.readGate)
    const level = this.noticeLogLevel
    if (level !== "None") Effect.runForkWith(this.eventContext)(this.logNotice(level, notice))
  }

  private logNotice(level: Exclude<NoticeLogLevel, "None">, notice: PgNotice): Effect.Effect<void> {
    const annotations: Record<string, unknown> = {
      "pg.severity": notice.severity,
      "pg.code": notice.code,
      "pg.backend_pid": this.session.processId,
    }
    if (notice.detail !== undefined) annotations["pg.detail"] = notice.detail
    if (notice.hint !== undefined) annotations["pg.hint"] = notice.hint
    if (notice.where !== undefined) annotations["pg.where"] = notice.where
    return Effect.logWithLevel(noticeLevel(level, notice.severity))(notice.message).pipe(
      Effect.annotateLogs(annotations),
    )
  }

  private readonly onClose = (error: SessionError | undefined): void => {
    const reason = error ?? this.closeReason()
    this.socketGate?.close()
    for (const entry of this.channels.values()) for (const subscriber of entry.subscribers) subscriber.fail(reason)
    this.channels.clear()
    for (const subscriber of this.noticeSubscribers) subscriber.fail(reason)
    this.noticeSubscribers.clear()
    for (const subscriber of this.queryLogSubscribers) subscriber.end()
    this.queryLogSubscribers.clear()
    const waiters = [...this.closeWaiters]
    this.closeWaiters.clear()
    for (const resume of waiters) resume(Exit.succeed(reason))
    const listeners = [...this.terminationListeners]
    this.terminationListeners.clear()
    for (const callback of listeners) this.safely("termination listener", () => callback(this.connection, reason))
  }

  /** Adds a member to `channel`, sending LISTEN (and awaiting it) if it is the first one. */
  private join(
    channel: string,
    add: (entry: ChannelEntry) => void,
    undo: (entry: ChannelEntry) => void,
  ): Effect.Effect<void, PgQueryError> {
    return this.channelLock.withPermits(1)(
      Effect.suspend(() => {
        if (this.session.closed) return Effect.fail(this.closeReason())
        this.install()
        const existing = this.channels.get(channel)
        if (existing !== undefined) {
          add(existing)
          return Effect.void
        }
        // Registered before LISTEN is sent: a notification can arrive just before its ReadyForQuery.
        const entry: ChannelEntry = { callbacks: new Set(), subscribers: new Set() }
        add(entry)
        this.channels.set(channel, entry)
        return this.execute(`LISTEN ${quoteIdentifier(channel)}`).pipe(
          Effect.asVoid,
          Effect.onError(() =>
            Effect.sync(() => {
              undo(entry)
              if (this.channels.get(channel) === entry) this.channels.delete(channel)
            }),
          ),
        )
      }),
    )
  }

  /** Removes a member from `channel`, sending UNLISTEN if it was the last one. */
  private leave(channel: string, remove: (entry: ChannelEntry) => void): Effect.Effect<void, PgQueryError> {
    return this.channelLock.withPermits(1)(
      Effect.suspend(() => {
        const entry = this.channels.get(channel)
        if (entry === undefined) return Effect.void
        remove(entry)
        if (entry.callbacks.size > 0 || entry.subscribers.size > 0) return Effect.void
        this.channels.delete(channel)
        if (this.session.closed) return Effect.void
        return Effect.asVoid(this.execute(`UNLISTEN ${quoteIdentifier(channel)}`))
      }),
    )
  }

  addListener(channel: string, callback: NotificationCallback): Effect.Effect<void, PgQueryError> {
    return Effect.suspend(() => {
      const invalid = invalidChannel(channel)
      if (invalid !== undefined) return Effect.fail(invalid)
      return this.join(
        channel,
        (entry) => entry.callbacks.add(callback),
        (entry) => entry.callbacks.delete(callback),
      )
    })
  }

  removeListener(channel: string, callback: NotificationCallback): Effect.Effect<void, PgQueryError> {
    return this.leave(channel, (entry) => entry.callbacks.delete(callback))
  }

  subscribe(
    channel: string,
    options?: BufferOptions,
  ): Effect.Effect<Stream.Stream<PgNotification, PgQueryError>, PgQueryError, Scope.Scope> {
    return Effect.gen({ self: this }, function* () {
      const invalid = invalidSubscription(channel, options)
      if (invalid !== undefined) return yield* invalid
      const subscriber = yield* Subscriber.make<PgNotification, PgQueryError>(options)
      const leave = Effect.suspend(() => {
        subscriber.end()
        return Effect.ignore(this.leave(channel, (entry) => entry.subscribers.delete(subscriber)))
      })
      yield* Effect.uninterruptibleMask((restore) =>
        Effect.andThen(
          restore(
            this.join(
              channel,
              (entry) => entry.subscribers.add(subscriber),
              (entry) => entry.subscribers.delete(subscriber),
            ),
          ),
          Effect.addFinalizer(() => leave),
        ),
      )
      return Stream.fromQueue(subscriber.queue)
    })
  }

  listen(channel: string, options?: BufferOptions): Stream.Stream<PgNotification, PgQueryError> {
    return Stream.unwrap(this.subscribe(channel, options))
  }

  notify(channel: string, payload: string = ""): Effect.Effect<void, PgQueryError> {
    return Effect.suspend(() => {
      const invalid = invalidChannel(channel)
      if (invalid !== undefined) return Effect.fail(invalid)
      if (typeof payload !== "string") {
        return Effect.fail(new PgInterfaceError({ message: "a notification payload must be a string" }))
      }
      return Effect.asVoid(this.execute("SELECT pg_notify($1, $2)", [channel, payload]))
    })
  }

  addLogListener(callback: LogCallback): Effect.Effect<void> {
    return Effect.sync(() => {
      this.install()
      this.logListeners.add(callback)
    })
  }

  removeLogListener(callback: LogCallback): Effect.Effect<void> {
    return Effect.sync(() => {
      this.logListeners.delete(callback)
    })
  }

  notices(options?: BufferOptions): Stream.Stream<PgNotice, PgConnectionError | PgProtocolError | PgInterfaceError> {
    return Stream.unwrap(
      Effect.gen({ self: this }, function* () {
        const badOptions = invalidBufferOptions(options)
        if (badOptions !== undefined) return yield* new PgInterfaceError({ message: badOptions })
        if (this.session.closed) return yield* Effect.fail(this.closeReason())
        const subscriber = yield* Subscriber.make<PgNotice, NoticeStreamError>(options)
        this.install()
        this.noticeSubscribers.add(subscriber)
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            this.noticeSubscribers.delete(subscriber)
            subscriber.end()
          }),
        )
        return Stream.fromQueue(subscriber.queue)
      }),
    )
  }

  addTerminationListener(callback: TerminationCallback): Effect.Effect<void> {
    return Effect.sync(() => {
      if (this.session.closed) {
        const reason = this.closeReason()
        this.safely("termination listener", () => callback(this.connection, reason))
        return
      }
      this.install()
      this.terminationListeners.add(callback)
    })
  }

  removeTerminationListener(callback: TerminationCallback): Effect.Effect<void> {
    return Effect.sync(() => {
      this.terminationListeners.delete(callback)
    })
  }

  awaitClose(): Effect.Effect<PgConnectionError | PgProtocolError, PgInterfaceError> {
    return Effect.callback<PgConnectionError | PgProtocolError, PgInterfaceError>((resume) => {
      if (this.session.closed) return resume(Effect.succeed(this.closeReason()))
      this.install()
      const waiter = (exit: Exit.Exit<PgConnectionError | PgProtocolError, PgInterfaceError>) => resume(exit)
      this.closeWaiters.add(waiter)
      return Effect.sync(() => {
        this.closeWaiters.delete(waiter)
      })
    })
  }

  queryLog(options?: QueryLogOptions): Stream.Stream<LoggedQuery, PgInterfaceError> {
    return Stream.unwrap(
      Effect.gen({ self: this }, function* () {
        const strategy = options?.strategy ?? "sliding"
        const badOptions =
          strategy !== "sliding" && strategy !== "dropping"
            ? `strategy must be "sliding" or "dropping", got ${String(strategy)}`
            : invalidBufferOptions({ bufferSize: options?.bufferSize ?? defaultQueryLogBuffer })
        if (badOptions !== undefined) return yield* new PgInterfaceError({ message: badOptions })
        const subscriber = yield* Subscriber.make<LoggedQuery, PgInterfaceError>(
          { bufferSize: options?.bufferSize ?? defaultQueryLogBuffer, strategy },
          { countDrops: false },
        )
        if (this.session.closed) {
          subscriber.end()
          return Stream.fromQueue(subscriber.queue)
        }
        const logger: QueryLoggerCallback = (query) => subscriber.offer(query, undefined)
        this.queryLoggers.set(logger, options)
        this.queryLogSubscribers.add(subscriber)
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            this.queryLoggers.delete(logger)
            this.queryLogSubscribers.delete(subscriber)
            subscriber.end()
          }),
        )
        return Stream.fromQueue(subscriber.queue)
      }),
    )
  }

  addQueryLogger(callback: QueryLoggerCallback, options?: QueryLoggerOptions): Effect.Effect<void> {
    return Effect.sync(() => {
      this.queryLoggers.set(callback, options)
    })
  }

  removeQueryLogger(callback: QueryLoggerCallback): Effect.Effect<void> {
    return Effect.sync(() => {
      this.queryLoggers.delete(callback)
    })
  }

  addQueryLoggerScoped(
    callback: QueryLoggerCallback,
    options?: QueryLoggerOptions,
  ): Effect.Effect<void, never, Scope.Scope> {
    return Effect.acquireRelease(this.addQueryLogger(callback, options), () => this.removeQueryLogger(callback))
  }

  /**
   * Removes every listener, stream and query logger (streams end with a `PgInterfaceError`) and
   * sends `UNLISTEN *` if any channel was listened to. Returns what was removed. For the pool:
   * see {@link releaseListeners}.
   */
  detachListeners(): Effect.Effect<ListenerCounts, PgQueryError> {
    return this.channelLock.withPermits(1)(
      Effect.suspend(() => {
        let notification = 0
        let notificationStreams = 0
        const released = new PgInterfaceError({ message: "the connection was released to the pool" })
        for (const entry of this.channels.values()) {
          notification += entry.callbacks.size
          notificationStreams += entry.subscribers.size
          for (const subscriber of entry.subscribers) subscriber.fail(released)
        }
        const listened = this.channels.size > 0
        this.channels.clear()
        const log = this.logListeners.size + this.noticeSubscribers.size
        for (const subscriber of this.noticeSubscribers) subscriber.fail(released)
        this.logListeners.clear()
        this.noticeSubscribers.clear()
        const termination = this.terminationListeners.size + this.closeWaiters.size
        this.terminationListeners.clear()
        const waiters = [...this.closeWaiters]
        this.closeWaiters.clear()
        for (const resume of waiters) resume(Exit.fail(released))
        // a queryLog stream is one of the query loggers
        const queryLoggers = this.queryLoggers.size
        for (const subscriber of this.queryLogSubscribers) subscriber.fail(released)
        this.queryLogSubscribers.clear()
        this.queryLoggers.clear()
        const counts: ListenerCounts = {
          notification,
          notificationStreams,
          log,
          termination,
          queryLoggers,
          total: notification + notificationStreams + log + termination + queryLoggers,
        }
        if (!listened || this.session.closed) return Effect.succeed(counts)
        return Effect.as(this.execute("UNLISTEN *"), counts)
      }),
    )
  }

  /**
   * {@link detachListeners}, plus a warning in the log when anything was left registered (what
   * asyncpg reports as an InterfaceWarning when a connection goes back to its pool).
   */
  releaseListeners(): Effect.Effect<ListenerCounts, PgQueryError> {
    return Effect.tap(this.detachListeners(), (counts) =>
      counts.total === 0
        ? Effect.void
        : Effect.logWarning(
            `pgfx: connection (backend pid ${this.session.processId}) released to the pool with active listeners; ` +
              `they were removed: ${counts.notification} notification listener(s), ${counts.notificationStreams} ` +
              `notification stream(s), ${counts.log} log listener(s), ${counts.termination} termination listener(s), ` +
              `${counts.queryLoggers} query logger(s)`,
          ),
    )
  }
}
