/**
 * Transactions as combinators: `transaction(conn, effect)` (or `conn.transaction(effect)`) runs
 * an Effect in a transaction, commits on success and rolls back on failure, defect and
 * interruption. Nesting creates savepoints: an inner failure rolls back only to its savepoint.
 *
 * **Transactions are exclusive.** While a transaction runs on a connection it owns the
 * connection: queries from fibers outside it wait until it ends, queries from inside it (the
 * transaction is carried in the fiber's Context as the {@link PgTransaction} service, so fibers
 * forked inside it belong to it too) go straight through. The same holds for each savepoint.
 *
 * Also here: asyncpg's manual `Transaction` ({@link make}: `start`, `commit`, `rollback`), a
 * transaction held for a Scope ({@link scoped}), and an opt-in retry of serialization failures
 * and deadlocks driven by an Effect `Schedule`.
 *
 * @example
 * ```ts
 * import { Effect, Schedule } from "effect"
 *
 * const transfer = Effect.gen(function* () {
 *   yield* conn.execute("UPDATE account SET balance = balance - $1 WHERE id = $2", [100, 1])
 *   yield* conn.execute("UPDATE account SET balance = balance + $1 WHERE id = $2", [100, 2])
 * })
 *
 * // Commit on success, roll back on failure; retry up to 5 times on serialization failures.
 * yield* conn.transaction(transfer, { isolation: "serializable", retry: Schedule.recurs(5) })
 *
 * // Nested: the inner block becomes a savepoint; its failure is caught and the outer commits.
 * yield* conn.transaction(
 *   Effect.gen(function* () {
 *     yield* conn.execute("INSERT INTO log VALUES ('outer')")
 *     yield* conn.transaction(Effect.fail("boom")).pipe(Effect.ignore)
 *   }),
 * )
 * ```
 *
 * **For `PgClient` (pool)**: a client's transaction takes a connection and runs
 * `transaction(connection, effect)`; its query shortcuts first look for the current level
 * ({@link find} with a predicate recognising the client's connections) and send the query to
 * `level.connection`; only outside a transaction do they take a connection from the pool.
 *
 * @since 0.1.0
 */
import { Effect, Option, type Scope } from "effect"
import { coreOf } from "./internal/connection/Internals.ts"
import * as internal from "./internal/query/Transaction.ts"
import type { PgConnection } from "./PgConnection.ts"
import type { PgQueryError, PgTransactionError } from "./PgError.ts"

import { type TransactionOptions } from "./internal/Options.ts"
import { PgTransaction, type Transaction, type TransactionLevel } from "./internal/Handles.ts"
export type { Isolation, TransactionOptions } from "./internal/Options.ts"
export type { Transaction, TransactionLevel, TransactionState } from "./internal/Handles.ts"
export { PgTransaction } from "./internal/Handles.ts"

/**
 * Runs `effect` in a transaction on `conn` (a savepoint when the fiber is already in a
 * transaction on `conn`): commits on success; rolls back on failure, defect and interruption.
 *
 * Errors: the effect's own, `PgQueryError` from BEGIN / COMMIT (e.g. a deferred constraint), and
 * `PgTransactionError` "Aborted" when the effect succeeded but a statement inside it failed and
 * left the transaction aborted (it is rolled back), or "NestedOpen" when a manual transaction
 * started inside was never finished.
 *
 * Gotchas: `isolation`, `readOnly` and `deferrable` apply to the top-level transaction; a nested
 * call runs in its parent's mode. While the transaction runs, other fibers' queries on `conn`
 * wait for it.
 *
 * @example
 * ```ts
 * const id = yield* PgTransaction.transaction(
 *   conn,
 *   conn.fetchVal("INSERT INTO t (name) VALUES ($1) RETURNING id", ["x"]),
 *   { isolation: "repeatable_read" },
 * )
 * // data-last
 * const same = yield* insertOrder.pipe(PgTransaction.transaction(conn, { isolation: "repeatable_read" }))
 * ```
 * @since 0.1.0
 */
export const transaction: {
  /**
   * Data-last, for `pipe`: `effect.pipe(PgTransaction.transaction(conn, { isolation: "serializable" }))`.
   */
  (
    conn: PgConnection,
    options?: TransactionOptions,
  ): <A, E, R>(
    effect: Effect.Effect<A, E, R>,
  ) => Effect.Effect<A, E | PgQueryError | PgTransactionError, Exclude<R, PgTransaction>>
  <A, E, R>(
    conn: PgConnection,
    effect: Effect.Effect<A, E, R>,
    options?: TransactionOptions,
  ): Effect.Effect<A, E | PgQueryError | PgTransactionError, Exclude<R, PgTransaction>>
} = <A, E, R>(
  conn: PgConnection,
  effectOrOptions?: Effect.Effect<A, E, R> | TransactionOptions,
  options?: TransactionOptions,
): never => {
  // The connection comes first in both forms, so `dual` (which puts the data first) does not fit.
  const run = (effect: Effect.Effect<A, E, R>, opts: TransactionOptions | undefined) =>
    internal.transaction(coreOf(conn), effect, opts)
  return (
    Effect.isEffect(effectOrOptions)
      ? run(effectOrOptions, options)
      : (effect: Effect.Effect<A, E, R>) => run(effect, effectOrOptions)
  ) as never
}

/**
 * Begins a transaction (or a savepoint) held until the current Scope closes: it commits when the
 * scope closes successfully and rolls back otherwise (always with `rollbackOnly`). The rest of
 * the current fiber runs inside it (like setting a FiberRef).
 *
 * Gotcha: a COMMIT that fails when the scope closes is a defect (a finalizer cannot fail); use
 * {@link transaction} when the commit outcome matters. `retry` is ignored here.
 *
 * @example
 * ```ts
 * Effect.gen(function* () {
 *   yield* PgTransaction.scoped(conn, { rollbackOnly: true })
 *   yield* conn.execute("DELETE FROM t") // rolled back when the scope closes
 * }).pipe(Effect.scoped)
 * ```
 * @since 0.1.0
 */
export const scoped = (
  conn: PgConnection,
  options?: TransactionOptions,
): Effect.Effect<TransactionLevel, PgQueryError, Scope.Scope> => internal.scoped(coreOf(conn), options)

/**
 * A manual transaction on `conn`, not started yet (asyncpg's `connection.transaction()` used
 * with `start` / `commit` / `rollback`).
 *
 * @example
 * ```ts
 * const tx = yield* PgTransaction.make(conn)
 * yield* tx.start
 * yield* conn.execute("INSERT INTO t VALUES (1)").pipe(
 *   Effect.tapError(() => tx.rollback),
 * )
 * yield* tx.commit
 * ```
 * @since 0.1.0
 */
export const make = (conn: PgConnection, options: TransactionOptions = {}): Effect.Effect<Transaction> =>
  Effect.sync(() => new internal.ManualTransaction(coreOf(conn), options))

/**
 * The innermost active transaction level of the current fiber, on any connection.
 * @since 0.1.0
 */
export const current: Effect.Effect<Option.Option<TransactionLevel>> = Effect.map(
  Effect.serviceOption(PgTransaction),
  (level) => find_(level, () => true),
)

const find_ = (
  start: Option.Option<TransactionLevel>,
  predicate: (level: TransactionLevel) => boolean,
): Option.Option<TransactionLevel> => {
  let level = Option.getOrUndefined(start)
  while (level !== undefined && !(level.isActive && predicate(level))) level = level.outer
  return Option.fromUndefinedOr(level)
}

/**
 * The innermost active transaction level of the current fiber that satisfies `predicate`
 * (typically: runs on a connection of a given pool).
 * @since 0.1.0
 */
export const find = (predicate: (level: TransactionLevel) => boolean): Effect.Effect<Option.Option<TransactionLevel>> =>
  Effect.map(Effect.serviceOption(PgTransaction), (level) => find_(level, predicate))

/**
 * Whether an error is worth retrying the whole transaction for, the rule `retry` follows: safe to
 * retry and transient (`PgError.isSafeToRetry` and `PgError.isTransient`): a serialization
 * failure (SQLSTATE 40001), a deadlock (40P01), a connection lost before COMMIT, ... but never
 * `PgCommitUnknownError`.
 * @since 0.1.0
 */
export const isRetryable: (error: unknown) => boolean = internal.isRetryable
