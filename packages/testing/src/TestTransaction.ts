/**
 * Test isolation by rollback: run a test body inside a transaction — or a savepoint, when one is
 * already open — that is always rolled back, so tests against a shared database leave nothing
 * behind and need no cleanup. Code under test that opens its own transactions
 * (`conn.transaction(...)`) gets savepoints inside the test's transaction, so its commits and
 * rollbacks behave as usual but never outlive the test.
 *
 * Works with `@effect/vitest`'s `it.effect`, `it.live` and `it.layer`:
 *
 * - {@link rollback}: wrap one test body (`body.pipe(TestTransaction.rollback(conn))`);
 * - {@link scoped}: `yield* TestTransaction.scoped(conn)` at the top of a test; the rest of the
 *   test runs in the transaction, rolled back when the test's scope closes;
 * - {@link layer}: one connection and one transaction for a whole `it.layer` suite, rolled back
 *   at its end; combine with {@link isolated} for a savepoint per test.
 *
 * Gotchas: while a test's transaction is open it owns the connection, so other fibers' queries
 * on that connection (outside the test's fiber and the fibers it forks) wait until it ends. DDL
 * is transactional in PostgreSQL and is rolled back too; a few statements (`CREATE DATABASE`,
 * `VACUUM`, `CREATE INDEX CONCURRENTLY`) cannot run inside a transaction at all.
 *
 * @example
 * ```ts
 * import { it } from "@effect/vitest"
 * import * as TestTransaction from "@pgfx/testing/TestTransaction"
 *
 * it.effect("creates a user", () =>
 *   Effect.gen(function* () {
 *     yield* TestTransaction.scoped(conn)
 *     yield* conn.execute("INSERT INTO users (name) VALUES ($1)", ["ada"])
 *     expect(yield* conn.fetchVal("SELECT count(*) FROM users")).toBe(1n)
 *   }), // rolled back here
 * )
 * ```
 * @since 0.1.0
 */
import type { PgConnection } from "@pgfx/client/PgConnection"
import type { PgQueryError, PgTransactionError } from "@pgfx/client/PgError"
import * as PgTransaction from "@pgfx/client/PgTransaction"
import { Context, Effect, Layer, type Scope } from "effect"
import { dual } from "effect/Function"

/**
 * The connection of a {@link layer} suite.
 * @since 0.1.0
 */
export class TestConnection extends Context.Service<TestConnection, PgConnection>()(
  "@pgfx/testing/TestTransaction/TestConnection",
) {}

/**
 * Runs `self` in a transaction on `conn` (a savepoint when the fiber is already in one) and
 * always rolls it back, whether `self` succeeds, fails or is interrupted. The result is
 * `self`'s own.
 *
 * @example
 * ```ts
 * it.live("inserts", () =>
 *   conn.execute("INSERT INTO t VALUES (1)").pipe(TestTransaction.rollback(conn)))
 * ```
 * @since 0.1.0
 */
export const rollback: {
  (
    conn: PgConnection,
  ): <A, E, R>(
    self: Effect.Effect<A, E, R>,
  ) => Effect.Effect<A, E | PgQueryError | PgTransactionError, Exclude<R, PgTransaction.PgTransaction>>
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    conn: PgConnection,
  ): Effect.Effect<A, E | PgQueryError | PgTransactionError, Exclude<R, PgTransaction.PgTransaction>>
} = dual(
  2,
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    conn: PgConnection,
  ): Effect.Effect<A, E | PgQueryError | PgTransactionError, Exclude<R, PgTransaction.PgTransaction>> =>
    PgTransaction.transaction(conn, self, { rollbackOnly: true }),
)

/**
 * Begins a transaction on `conn` (a savepoint when one is open) for the rest of the current
 * fiber, rolled back when the Scope closes — in `it.effect` / `it.live`, when the test ends.
 *
 * @example
 * ```ts
 * it.live("deletes", () =>
 *   Effect.gen(function* () {
 *     yield* TestTransaction.scoped(conn)
 *     yield* conn.execute("DELETE FROM t")
 *   }))
 * ```
 * @since 0.1.0
 */
export const scoped = (conn: PgConnection): Effect.Effect<void, PgQueryError, Scope.Scope> =>
  Effect.asVoid(PgTransaction.scoped(conn, { rollbackOnly: true }))

/**
 * A layer for `it.layer` suites: opens a connection with `connection`, provides it as
 * {@link TestConnection}, and opens a transaction on it that every test of the suite runs in
 * (the layer provides the `PgTransaction` service), rolled back when the suite ends. Use
 * {@link isolated} in each test that must not see the effects of the previous ones.
 *
 * @example
 * ```ts
 * layer(TestTransaction.layer(PgConnection.make(options)))("users", (it) => {
 *   it.effect("inserts", () =>
 *     Effect.gen(function* () {
 *       const conn = yield* TestTransaction.TestConnection
 *       yield* conn.execute("INSERT INTO users (name) VALUES ('ada')")
 *     }).pipe(TestTransaction.isolated))
 * })
 * ```
 * @since 0.1.0
 */
export const layer = <E, R>(
  connection: Effect.Effect<PgConnection, E, R>,
): Layer.Layer<TestConnection | PgTransaction.PgTransaction, E | PgQueryError, Exclude<R, Scope.Scope>> =>
  Layer.effectContext(
    Effect.gen(function* () {
      const conn = yield* connection
      const level = yield* PgTransaction.scoped(conn, { rollbackOnly: true })
      return Context.make(TestConnection, conn).pipe(Context.add(PgTransaction.PgTransaction, level))
    }),
  )

/**
 * {@link rollback} on the suite's {@link TestConnection}: the test body runs in a savepoint of
 * the suite's transaction, rolled back at the end of the test.
 * @since 0.1.0
 */
export const isolated = <A, E, R>(
  self: Effect.Effect<A, E, R>,
): Effect.Effect<A, E | PgQueryError | PgTransactionError, Exclude<R, PgTransaction.PgTransaction> | TestConnection> =>
  Effect.flatMap(TestConnection, (conn) => rollback(self, conn))
