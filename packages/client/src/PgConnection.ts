/**
 * `PgConnection`: one PostgreSQL session as a scoped resource.
 *
 * `PgConnection.make(options)` connects (TCP or unix socket), authenticates (trust, password,
 * MD5, SCRAM-SHA-256) and returns a connection whose queries are Effects; closing the scope sends
 * Terminate. Queries issued concurrently from several fibers are pipelined on the socket, each
 * in its own Sync cycle, so one failure never fails its neighbours.
 *
 * Queries with arguments (or any `fetch*`) use the extended protocol with binary results for
 * every type that has a codec; their statements are prepared once and kept in a per-connection
 * LRU cache. `execute(sql)` with no arguments uses the simple protocol and may hold several
 * statements.
 *
 * Also methods of a connection: transactions (`transaction`, see `PgTransaction`; while one runs
 * it owns the connection and other fibers' queries wait), prepared statements (`prepare`, see
 * `PgStatement`), cursors (`cursor`, `openCursor`, see `PgCursor`) and pipelined batches
 * (`executeMany`, `fetchMany`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as PgConnection from "@pgfx/client/PgConnection"
 *
 * const program = Effect.gen(function*() {
 *   const conn = yield* PgConnection.make({ url: "postgres://postgres@localhost/postgres" })
 *   yield* conn.execute("CREATE TEMP TABLE t (id int, name text)")
 *   yield* conn.execute("INSERT INTO t VALUES ($1, $2)", [1, "one"])
 *   const rows = yield* conn.fetch("SELECT * FROM t")
 *   console.log(rows.map((r) => r.toObject()))
 * }).pipe(Effect.scoped)
 * ```
 * @since 0.1.0
 */
import { builtins } from "@pgfx/types/CodecRegistry"
import { Effect, type Scope } from "effect"
import { Connection } from "./internal/connection/Connection.ts"
import { callSite, watchLeak } from "./internal/observe/Debug.ts"
import { establish } from "./internal/wire/Establish.ts"
import { observeConnect } from "./internal/observe/Instrument.ts"
import { guard, Lease } from "./internal/pool/Lease.ts"
import type { PgConnectionOptions } from "./PgConfig.ts"
import * as PgConfig from "./PgConfig.ts"
import type { PgConnectError } from "./PgError.ts"
import { type PgConnection } from "./internal/Handles.ts"
export type {
  CloseOptions,
  FetchValOptions,
  QueryOptions,
  RowSchemaOptions,
  ValueSchemaOptions,
} from "./internal/Options.ts"
export type { Fetch, FetchRow, FetchVal, PgConnection, PgResult } from "./internal/Handles.ts"

export type { PgConnectionOptions } from "./PgConfig.ts"

/**
 * Opens a connection as a scoped resource: closing the scope sends Terminate and closes the
 * socket.
 *
 * Errors: `PgConnectionError` (cannot reach the server, connect timeout), `PgServerError` (the
 * server refused: wrong password is SQLSTATE 28P01 `invalid_password`, unknown database 3D000),
 * `PgAuthenticationError` (the client refused the server's method, or SCRAM verification
 * failed), `PgProtocolError`, and `PgConfigError` for invalid settings.
 *
 * @since 0.1.0
 */
export const make = (
  options: PgConnectionOptions | string = {},
): Effect.Effect<PgConnection, PgConnectError | PgConfig.PgConfigError, Scope.Scope> =>
  Effect.acquireRelease(connect(options), (conn) => conn.close())

/**
 * Opens a connection that you must close yourself with `close`. Prefer {@link make}.
 * @since 0.1.0
 */
export const connect = (
  options: PgConnectionOptions | string = {},
): Effect.Effect<PgConnection, PgConnectError | PgConfig.PgConfigError> => {
  const opts: PgConnectionOptions = typeof options === "string" ? { url: options } : options
  const opened = callSite(opts)
  return Effect.gen(function* () {
    const config = yield* Effect.try({
      try: () => PgConfig.resolve(opts),
      catch: (e) =>
        e instanceof PgConfig.PgConfigError
          ? e
          : new PgConfig.PgConfigError({ source: "options", key: "", message: String(e) }),
    })
    const established = yield* observeConnect(config, establish(config))
    const connection = new Connection(
      established.session,
      established.config,
      opts.codecs ?? builtins,
      established.cancelTls,
    )
    connection.attachEvents(yield* Effect.context<never>())
    const debug = established.session.debug
    if (debug === undefined || !debug.settings.leaks) return connection
    // Debug mode: the caller gets a view of the connection, reported if collected while open.
    const session = established.session
    const handle = guard<PgConnection>(connection, new Lease("", undefined))
    const what = `connection pgfx[${debug.id}] (backend pid ${session.processId})`
    watchLeak(handle, what, () => !session.closed, debug.settings, opened)
    return handle
  })
}
