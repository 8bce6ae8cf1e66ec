/**
 * Notifications (LISTEN/NOTIFY), server log messages (notices), termination events and query
 * logging on a connection: the types, and the methods every `PgConnection` has for them.
 *
 * Two styles, same machinery:
 *
 * - asyncpg's callbacks: `addListener(channel, callback)`, `addLogListener`,
 *   `addTerminationListener`, `addQueryLogger` (each with its `remove*`). Callbacks run
 *   synchronously as messages arrive; keep them short. A callback that throws, or an `async`
 *   one whose promise rejects, is logged at Error (with the logger in place when the connection
 *   was opened) and does not disturb the connection.
 * - The Effect way: `listen(channel)` is a `Stream` of notifications (LISTEN is sent when the
 *   stream starts and UNLISTEN when it ends); `subscribe(channel)` does the same as a scoped
 *   Effect that completes once the server has confirmed the LISTEN; `notices()` is a `Stream` of
 *   notices; `queryLog()` a bounded `Stream` of logged queries; `awaitClose()` an Effect that
 *   waits for the connection to close and succeeds with the reason. Work done on these runs in
 *   your own fibers, so its failures are ordinary Effect failures.
 *
 * On one connection, LISTEN is sent when a channel gets its first listener (callback or stream)
 * and UNLISTEN when it loses its last one. For a connection that survives disconnections, see
 * `PgListener`.
 *
 * Each notice is also logged through Effect's logger (the one in place when the connection was
 * opened), at Debug by default, so nothing is printed unless asked; see {@link NoticeLogLevel}.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import * as PgConnection from "@pgfx/client/PgConnection"
 *
 * const program = Effect.gen(function* () {
 *   const conn = yield* PgConnection.make("postgres://localhost/app")
 *   const events = yield* conn.subscribe("events") // LISTEN confirmed
 *   yield* conn.notify("events", "hello")
 *   const [first] = yield* events.pipe(Stream.take(1), Stream.runCollect)
 *   console.log(first.payload) // "hello"
 * }).pipe(Effect.scoped)
 * ```
 * @since 0.1.0
 */
import type { ErrorFields } from "@pgfx/protocol/ErrorFields"
import { parseErrorFields } from "@pgfx/protocol/ErrorFields"
import { conditionNameOf, type SqlStateName } from "@pgfx/protocol/SqlState"
import { Context, Data, type Duration, type Effect, type LogLevel, type Scope, type Stream } from "effect"
import type { PgConnection } from "./PgConnection.ts"
import type { PgConnectionError, PgInterfaceError, PgProtocolError, PgQueryError } from "./PgError.ts"

/**
 * A notification delivered by LISTEN/NOTIFY.
 * @since 0.1.0
 */
export interface PgNotification {
  readonly _tag: "PgNotification"
  /** The channel it was sent to. */
  readonly channel: string
  /** The payload (`""` when none was given). */
  readonly payload: string
  /** The process id of the server backend that sent it. */
  readonly processId: number
}

/**
 * A server log message (NoticeResponse): `WARNING`, `NOTICE`, `INFO`, `LOG` or `DEBUG`, with
 * every field the server sent (see `ErrorFields`) and the SQLSTATE condition name.
 * @since 0.1.0
 */
export class PgNotice extends Data.TaggedClass("PgNotice")<
  ErrorFields & {
    /** The condition name of `code` (e.g. `warning`, `successful_completion`), when known. */
    readonly condition: SqlStateName | undefined
  }
> {
  /** Builds a notice from the raw NoticeResponse fields. */
  static fromFields(fields: ReadonlyArray<readonly [string, string]>): PgNotice {
    const parsed = parseErrorFields(fields)
    return new PgNotice({ ...parsed, condition: conditionNameOf(parsed.code) })
  }
}

/**
 * How a stream buffers items its consumer has not taken yet.
 *
 * - `bufferSize`: how many items (default `"unbounded"`).
 * - `strategy` when the buffer is full: `"suspend"` (default) applies backpressure: the
 *   connection's socket stops being read until the consumer catches up, so the server holds
 *   further messages (and nothing is lost, but every other request on that connection waits
 *   too: use it on a dedicated connection such as `PgListener`'s); `"sliding"` drops the oldest
 *   item; `"dropping"` drops the newest. Dropped notifications are counted in
 *   `PgMetrics.notificationsDropped`.
 *
 * @since 0.1.0
 */
export interface BufferOptions {
  readonly bufferSize?: number | "unbounded" | undefined
  readonly strategy?: "suspend" | "sliding" | "dropping" | undefined
}

/** Receives notifications of one channel (asyncpg's listener signature). @since 0.1.0 */
export type NotificationCallback = (
  connection: PgConnection,
  processId: number,
  channel: string,
  payload: string,
) => void

/** Receives server log messages. @since 0.1.0 */
export type LogCallback = (connection: PgConnection, notice: PgNotice) => void

/**
 * Called once when the connection closes, for any reason: `close`, a server-side termination,
 * a network failure or a protocol error. `reason` says which.
 * @since 0.1.0
 */
export type TerminationCallback = (connection: PgConnection, reason: PgConnectionError | PgProtocolError) => void

/** Where a connection is connected. @since 0.1.0 */
export type PgServerAddress =
  | { readonly _tag: "tcp"; readonly host: string; readonly port: number }
  | { readonly _tag: "unix"; readonly path: string }

/** The connection settings a query logger sees: never the password. @since 0.1.0 */
export interface PgConnectionParameters {
  readonly user: string
  readonly database: string
  /** Settings sent at startup (`application_name`, `search_path`, ...). */
  readonly serverSettings: Readonly<Record<string, string>>
}

/**
 * What a query logger receives after each query call (asyncpg's `LoggedQuery`).
 * @since 0.1.0
 */
export interface LoggedQuery {
  /** The SQL text. */
  readonly query: string
  /** The arguments; each wrapped in `Redacted` when the logger was added with `redactArgs`. */
  readonly args: ReadonlyArray<unknown>
  /** The call's timeout, if it had one. */
  readonly timeout: Duration.Duration | undefined
  /** Time from the call to its outcome. */
  readonly elapsed: Duration.Duration
  /** The failure, if the query failed (a timeout is a `PgTimeoutError`). */
  readonly error: PgQueryError | undefined
  /** True when the call was interrupted (no error, no result). */
  readonly interrupted: boolean
  /** The server the connection talks to. */
  readonly address: PgServerAddress
  /** The connection's settings (never the password). */
  readonly parameters: PgConnectionParameters
}

/** A query logger callback. @since 0.1.0 */
export type QueryLoggerCallback = (query: LoggedQuery) => void

/** Options of a query logger. @since 0.1.0 */
export interface QueryLoggerOptions {
  /** Wrap every argument in `Redacted`, so printing the record never shows values. */
  readonly redactArgs?: boolean | undefined
}

/**
 * Options of a {@link PgConnectionEvents.queryLog} stream: the query logger's, plus its buffer.
 *
 * - `bufferSize`: how many logged queries wait for the consumer (default 1024).
 * - `strategy` when the buffer is full: `"sliding"` (default) drops the oldest, so a consumer
 *   that falls behind sees the latest queries; `"dropping"` drops the newest. A query never
 *   waits for its log's consumer, so there is no `"suspend"`.
 *
 * @since 0.1.0
 */
export interface QueryLogOptions extends QueryLoggerOptions {
  readonly bufferSize?: number | undefined
  readonly strategy?: "sliding" | "dropping" | undefined
}

/**
 * How connections log server notices through Effect's logger, read when a connection is opened:
 *
 * - `"Debug"` (the default): every notice at Debug, below Effect's default minimum level (Info),
 *   so a program prints nothing unless it asks (`References.MinimumLogLevel`). `DROP TABLE IF EXISTS`' "does not exist, skipping" is news to
 *   nobody.
 * - another level (`"Info"`, `"Warn"`, ...): every notice at that level.
 * - `"BySeverity"`: the level matching the notice's severity (`WARNING` → Warn, `NOTICE`/`INFO`
 *   → Info, `LOG`/`DEBUG` → Debug).
 * - `"None"`: not logged (streams and log listeners still get every notice).
 *
 * @example
 * ```ts
 * // notices as warnings and infos again, for this connection
 * PgConnection.make(options).pipe(Effect.provideService(PgNotifications.NoticeLogLevel, "BySeverity"))
 * ```
 * @since 0.1.0
 */
export const NoticeLogLevel: Context.Reference<NoticeLogLevel> = Context.Reference<NoticeLogLevel>(
  "@pgfx/client/PgNotifications/NoticeLogLevel",
  { defaultValue: () => "Debug" },
)

/** The values of {@link NoticeLogLevel}. @since 0.1.0 */
export type NoticeLogLevel = LogLevel.Severity | "BySeverity" | "None"

/**
 * The notification, notice, termination and query-logging methods of a `PgConnection`.
 * @since 0.1.0
 */
export interface PgConnectionEvents {
  /**
   * Calls `callback` for every notification on `channel`, sending LISTEN first if the channel
   * had no listener yet. Completes once the server confirmed the LISTEN.
   *
   * Errors: `PgInterfaceError` for an invalid channel name (empty, longer than 63 bytes, or
   * holding a NUL character); query errors of the LISTEN (e.g. a closed connection).
   *
   * Gotcha: inside a transaction block LISTEN takes effect at commit, as in PostgreSQL.
   *
   * @example
   * ```ts
   * yield* conn.addListener("jobs", (_conn, pid, channel, payload) => console.log(pid, channel, payload))
   * ```
   */
  addListener(channel: string, callback: NotificationCallback): Effect.Effect<void, PgQueryError>
  /** Removes a listener; sends UNLISTEN when it was the channel's last one (nothing on a closed connection). */
  removeListener(channel: string, callback: NotificationCallback): Effect.Effect<void, PgQueryError>
  /**
   * A stream of the notifications on `channel`: LISTEN is sent when the stream starts and
   * UNLISTEN when it ends (if no other listener remains). Fails with the connection's error when
   * the connection closes. Use {@link subscribe} when you need to know that LISTEN is in place.
   *
   * @example
   * ```ts
   * yield* conn.listen("jobs").pipe(Stream.runForEach((n) => Effect.log(n.payload)), Effect.forkScoped)
   * ```
   */
  listen(channel: string, options?: BufferOptions): Stream.Stream<PgNotification, PgQueryError>
  /**
   * Sends LISTEN (unless the channel is already listened to), waits for the server to confirm
   * it, and returns the stream of notifications; closing the scope ends the stream and sends
   * UNLISTEN if no other listener remains.
   */
  subscribe(
    channel: string,
    options?: BufferOptions,
  ): Effect.Effect<Stream.Stream<PgNotification, PgQueryError>, PgQueryError, Scope.Scope>
  /**
   * Sends a notification: `SELECT pg_notify($1, $2)`, so any channel name and payload are safe.
   * Inside a transaction it is delivered at commit.
   *
   * Errors: `PgInterfaceError` for an invalid channel name; `PgServerError` for a payload over
   * 8000 bytes (SQLSTATE 22023).
   */
  notify(channel: string, payload?: string): Effect.Effect<void, PgQueryError>
  /** Calls `callback` for every server log message (NoticeResponse). */
  addLogListener(callback: LogCallback): Effect.Effect<void>
  /** Removes a log listener. */
  removeLogListener(callback: LogCallback): Effect.Effect<void>
  /**
   * A stream of server log messages while it runs; fails with the connection's error when it
   * closes (`PgInterfaceError` for invalid buffer options).
   */
  notices(options?: BufferOptions): Stream.Stream<PgNotice, PgConnectionError | PgProtocolError | PgInterfaceError>
  /**
   * Calls `callback` once when the connection closes, for any reason. Added to an already
   * closed connection, it is called at once.
   */
  addTerminationListener(callback: TerminationCallback): Effect.Effect<void>
  /** Removes a termination listener. */
  removeTerminationListener(callback: TerminationCallback): Effect.Effect<void>
  /**
   * Waits until the connection closes, for any reason (`close`, a server-side termination, a
   * network failure, a protocol error), and succeeds with the reason; at once when it is already
   * closed. Interrupting the wait stops waiting. On a pooled connection the wait fails with
   * `PgInterfaceError` when the connection goes back to the pool.
   *
   * @example
   * ```ts
   * yield* conn.awaitClose().pipe(
   *   Effect.flatMap((reason) => Effect.logWarning(`connection lost: ${reason.message}`)),
   *   Effect.forkScoped,
   * )
   * ```
   */
  awaitClose(): Effect.Effect<PgConnectionError | PgProtocolError, PgInterfaceError>
  /**
   * Calls `callback` after each query call (`execute`, `fetch`, `fetchRow`, `fetchVal`, ...)
   * with its text, arguments, timeout, elapsed time, error, the server address and connection
   * settings (never the password).
   *
   * @example
   * ```ts
   * yield* conn.addQueryLogger((q) => console.log(q.query, Duration.toMillis(q.elapsed)), { redactArgs: true })
   * ```
   */
  addQueryLogger(callback: QueryLoggerCallback, options?: QueryLoggerOptions): Effect.Effect<void>
  /** Removes a query logger. */
  removeQueryLogger(callback: QueryLoggerCallback): Effect.Effect<void>
  /**
   * A stream of what a query logger receives (see {@link addQueryLogger}), while it runs: each
   * query call of this connection after the stream started. Bounded (default 1024 waiting,
   * oldest dropped first: {@link QueryLogOptions}); ends when the connection closes; fails with
   * `PgInterfaceError` when a pooled connection is released or for invalid options.
   *
   * @example
   * ```ts
   * yield* conn.queryLog({ redactArgs: true }).pipe(
   *   Stream.runForEach((q) => Effect.logDebug(`${q.query} took ${Duration.format(q.elapsed)}`)),
   *   Effect.forkScoped,
   * )
   * ```
   */
  queryLog(options?: QueryLogOptions): Stream.Stream<LoggedQuery, PgInterfaceError>
  /**
   * Adds a query logger for the lifetime of the current scope (asyncpg's `query_logger`
   * context manager).
   *
   * @example
   * ```ts
   * const seen: Array<string> = []
   * yield* Effect.scoped(Effect.gen(function* () {
   *   yield* conn.addQueryLoggerScoped((q) => seen.push(q.query))
   *   yield* conn.execute("SELECT 1")
   * }))
   * ```
   */
  addQueryLoggerScoped(
    callback: QueryLoggerCallback,
    options?: QueryLoggerOptions,
  ): Effect.Effect<void, never, Scope.Scope>
}
