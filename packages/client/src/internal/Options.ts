/**
 * The option types of connections, queries, cursors, statements, transactions, notification
 * streams, COPY and pool checkouts: a leaf module, so every part of the client can name them
 * without importing the public module that documents the operation. The public modules
 * re-export them.
 */
import type { Duration, Schedule, Schema } from "effect"
import type { PgQueryError } from "../PgError.ts"

/** Options of a single query call. @since 0.1.0 */
export interface QueryOptions {
  /**
   * Fails the call with `PgTimeoutError` (after cancelling the statement) past this duration
   * (default: the connection's `commandTimeout`, if any). Time spent waiting for a transaction
   * of another fiber to release the connection counts.
   */
  readonly timeout?: Duration.Input | undefined
}

/** Options of `close`. @since 0.1.0 */
export interface CloseOptions {
  /**
   * How long to wait for running operations and queued requests to finish before terminating at
   * once (default 10 seconds).
   */
  readonly timeout?: Duration.Input | undefined
}

/** Options of `fetchVal`. @since 0.1.0 */
export interface FetchValOptions extends QueryOptions {
  /** The 0-based column to return (default 0). */
  readonly column?: number | undefined
}

/**
 * Options of a typed `fetch` / `fetchRow`: `schema` decodes each row (once per row, after the
 * wire codecs), usually a `Schema.Struct` keyed by column name; the call's rows are its type.
 * @since 0.1.0
 */
export interface RowSchemaOptions<A> extends QueryOptions {
  readonly schema: Schema.Decoder<A>
}

/**
 * Options of a typed `fetchVal`: `schema` decodes the value (a NULL is given to it as `null`).
 * @since 0.1.0
 */
export interface ValueSchemaOptions<A> extends FetchValOptions {
  readonly schema: Schema.Decoder<A>
}

/** Options of a cursor Stream. @since 0.1.0 */
export interface CursorOptions extends QueryOptions {
  /** Rows fetched per round trip (default 50). `timeout` applies to each fetch. */
  readonly prefetch?: number | undefined
}

/** Options of `explain`. @since 0.1.0 */
export interface ExplainOptions extends QueryOptions {
  /**
   * Runs the statement (`EXPLAIN ANALYZE`) to add actual run times. It runs inside a
   * transaction (a savepoint when one is open) that is always rolled back.
   */
  readonly analyze?: boolean | undefined
}

/** A transaction isolation level. @since 0.1.0 */
export type Isolation = "serializable" | "repeatable_read" | "read_committed" | "read_uncommitted"

/** Options of a transaction. @since 0.1.0 */
export interface TransactionOptions {
  /** The isolation level (default: the server's `default_transaction_isolation`). */
  readonly isolation?: Isolation | undefined
  /** `BEGIN ... READ ONLY`. */
  readonly readOnly?: boolean | undefined
  /** `BEGIN ... DEFERRABLE` (meaningful for serializable read-only transactions). */
  readonly deferrable?: boolean | undefined
  /**
   * Runs the whole transaction again, as long as the schedule continues (e.g.
   * `Schedule.recurs(3)`, or an exponential backoff), while it fails with an error that is both
   * safe to retry and transient (`PgError.isSafeToRetry`, `PgError.isTransient`): a
   * serialization failure (40001), a deadlock (40P01), the connection lost before COMMIT (the
   * server rolled the transaction back), the session terminated by an administrator. Never after
   * `PgCommitUnknownError` (the COMMIT was sent and its outcome is unknown): the COMMIT is never
   * sent twice. On one connection, a lost connection ends the retries; `PgClient.transaction`
   * retries with a new checkout. Only top-level transactions retry: a nested one (a savepoint)
   * lets the error reach the enclosing transaction, whose own `retry` applies.
   */
  readonly retry?: Schedule.Schedule<unknown, PgQueryError> | undefined
  /** Always roll back, even on success (dry runs, tests, `EXPLAIN ANALYZE`). */
  readonly rollbackOnly?: boolean | undefined
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

/**
 * The COPY statement options asyncpg passes through (see PostgreSQL's COPY). Invalid
 * combinations (e.g. `quote` without `format: "csv"`) fail with `PgInterfaceError` before
 * anything is sent. Strings are quoted as literals, column names as identifiers.
 * @since 0.1.0
 */
export interface CopyOptions {
  readonly format?: "text" | "csv" | "binary" | undefined
  /** Only servers before PostgreSQL 12 accept `oids: true`. */
  readonly oids?: boolean | undefined
  /** COPY FROM only. */
  readonly freeze?: boolean | undefined
  readonly delimiter?: string | undefined
  readonly null?: string | undefined
  /** `"match"` (COPY FROM, PostgreSQL 15+) checks the header against the column names. */
  readonly header?: boolean | "match" | undefined
  /** csv only. */
  readonly quote?: string | undefined
  /** csv only. */
  readonly escape?: string | undefined
  /** csv, COPY TO only: `true` quotes every column. */
  readonly forceQuote?: boolean | ReadonlyArray<string> | undefined
  /** csv, COPY FROM only. */
  readonly forceNotNull?: ReadonlyArray<string> | undefined
  /** csv, COPY FROM only. */
  readonly forceNull?: ReadonlyArray<string> | undefined
  readonly encoding?: string | undefined
}

/**
 * Options of one checkout: of `acquire`, `withConnection`, and of every call that checks a
 * connection out for itself (the shortcuts, `PgClient.transaction`, ...).
 * @since 0.1.0
 */
export interface AcquireOptions {
  /**
   * Bound on this checkout — waiting for a free connection, connecting, `init` — in place of the
   * pool's `acquireTimeout`. Past it the call fails with `PgTimeoutError` (`sent: false`: nothing
   * was sent, safe to retry; `PgError.isSafeToRetry` says so). A call that runs on the current
   * transaction's connection checks nothing out, so the bound does not apply.
   *
   * @example
   * ```ts
   * yield* pool.fetch("SELECT 1", [], { acquireTimeout: "200 millis", timeout: "2 seconds" }).pipe(
   *   Effect.catchTag("PgTimeoutError", () => Effect.succeed([])),
   * )
   * ```
   */
  readonly acquireTimeout?: Duration.Input | undefined
}

/** Options of a pool shortcut: the query's and the checkout's. @since 0.1.0 */
export interface ShortcutOptions extends QueryOptions, AcquireOptions {}
