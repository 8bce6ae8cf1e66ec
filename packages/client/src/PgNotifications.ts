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
import { NoticeLogLevel } from "./internal/Handles.ts"
export type { BufferOptions } from "./internal/Options.ts"
export type {
  LoggedQuery,
  PgConnectionParameters,
  PgNotification,
  PgServerAddress,
  QueryLoggerCallback,
  QueryLoggerOptions,
} from "./internal/Events.ts"
export { PgNotice } from "./internal/Events.ts"
export type {
  LogCallback,
  NotificationCallback,
  PgConnectionEvents,
  QueryLogOptions,
  TerminationCallback,
} from "./internal/Handles.ts"
export { NoticeLogLevel } from "./internal/Handles.ts"
