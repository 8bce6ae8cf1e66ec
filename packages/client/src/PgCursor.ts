/**
 * Cursors over large results: `cursor(conn, sql, args, { prefetch })` (or `conn.cursor(...)`) is
 * a `Stream` of records that fetches `prefetch` rows at a time (default 50) through a server-side
 * portal, so memory stays flat however many rows there are. `open` gives an explicit
 * {@link PgCursor} with `fetch(n)`, `fetchRow()` and `forward(n)`. Prepared statements have both
 * too (`stmt.cursor(args)`, `stmt.openCursor(args)`).
 *
 * **Transactions.** PostgreSQL keeps a portal only inside a transaction block. Inside a
 * transaction, the cursor lives in it. Outside one, pgfx does not fail like asyncpg does: it
 * begins an implicit transaction held for the cursor's lifetime (the Stream's, or the Scope of
 * `open`) and
 *
 * - holds the connection meanwhile: other fibers' queries on it wait until the cursor is done,
 *   while the fiber that opened it keeps running its own queries (inside that transaction);
 * - commits when the Stream ends or its consumer stops early (e.g. `Stream.take`) and when the
 *   Scope of `open` closes successfully; rolls back on failure or interruption.
 *
 * Either way the connection is never left with a dangling portal or transaction.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 *
 * // Stream 1,000,000 rows, 500 at a time, in constant memory.
 * const total = yield* conn
 *   .cursor("SELECT g FROM generate_series(1, $1) g", [1_000_000], { prefetch: 500 })
 *   .pipe(Stream.runFold(() => 0, (sum, row) => sum + (row.g as number)))
 *
 * // An explicit cursor (asyncpg's manual cursor).
 * yield* Effect.scoped(
 *   Effect.gen(function* () {
 *     const cur = yield* conn.openCursor("SELECT generate_series(0, 100) AS n")
 *     yield* cur.forward(10)        // 10 rows skipped
 *     const row = yield* cur.fetchRow() // Some(n = 10)
 *     const rows = yield* cur.fetch(5)  // n = 11 .. 15
 *   }),
 * )
 * ```
 * @since 0.1.0
 */
import { Effect, type Scope, Stream } from "effect"
import { cacheSource } from "./internal/query/Execute.ts"
import { usableCore } from "./internal/connection/Internals.ts"
import * as internal from "./internal/query/Cursor.ts"
import type { PgConnection, QueryOptions } from "./PgConnection.ts"
import type { PgQueryError } from "./PgError.ts"
import type { PgRecord } from "./PgRecord.ts"
import { type CursorOptions } from "./internal/Options.ts"
import { type PgCursor } from "./internal/Handles.ts"
export type { CursorOptions } from "./internal/Options.ts"
export type { PgCursor } from "./internal/Handles.ts"

/**
 * The rows of `sql` as a Stream, fetched `prefetch` at a time through a portal. See the module
 * header for what happens outside a transaction.
 * @since 0.1.0
 */
export const cursor = (
  conn: PgConnection,
  sql: string,
  args: ReadonlyArray<unknown> = [],
  options?: CursorOptions,
): Stream.Stream<PgRecord, PgQueryError> =>
  Stream.unwrap(Effect.map(usableCore(conn, "cursor"), (c) => internal.stream(c, cacheSource(c, sql), args, options)))

/**
 * An explicit cursor over `sql`, bound now (errors surface here) and closed when the Scope
 * closes. See the module header for what happens outside a transaction.
 * @since 0.1.0
 */
export const open = (
  conn: PgConnection,
  sql: string,
  args: ReadonlyArray<unknown> = [],
  options?: QueryOptions,
): Effect.Effect<PgCursor, PgQueryError, Scope.Scope> =>
  Effect.flatMap(usableCore(conn, "openCursor"), (c) => internal.open(c, cacheSource(c, sql), args, options))
