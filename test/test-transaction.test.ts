/**
 * `@pgfx/testing/TestTransaction`: test bodies in transactions that are always rolled back,
 * with `it.effect` (TestClock), `it.live` and `it.layer`; code under test that opens its own
 * transactions gets savepoints.
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgTransaction from "@pgfx/client/PgTransaction"
import { afterAll, beforeAll, describe, expect, it, layer } from "@effect/vitest"
import * as TestTransaction from "@pgfx/testing/TestTransaction"
import { Effect, Exit, Option } from "effect"
import { connect, tcpOptions, withAdmin } from "./support/connect.ts"

// A real (not temporary) table in the shared database, as in an application's test suite.
const table = `tt_items_${process.pid}`
const count = (conn: PgConnection.PgConnection) =>
  Effect.map(conn.fetchVal(`SELECT count(*) FROM ${table}`), Option.getOrThrow)
const committedCount = withAdmin((admin) =>
  Effect.map(admin.fetchVal(`SELECT count(*) FROM ${table}`), Option.getOrThrow),
)

beforeAll(() => Effect.runPromise(withAdmin((admin) => admin.execute(`CREATE TABLE ${table} (name text)`))))
afterAll(() =>
  Effect.runPromise(
    withAdmin((admin) =>
      Effect.gen(function* () {
        // Nothing any test wrote survived.
        const left = Option.getOrThrow(yield* admin.fetchVal(`SELECT count(*) FROM ${table}`))
        yield* admin.execute(`DROP TABLE ${table}`)
        if (left !== 0n) throw new Error(`${left} rows leaked out of the test transactions`)
      }),
    ),
  ),
)

/** Code under test: opens its own transaction. */
const addItems = (conn: PgConnection.PgConnection, names: ReadonlyArray<string>) =>
  conn.transaction(Effect.forEach(names, (name) => conn.execute(`INSERT INTO ${table} VALUES ($1)`, [name])))

describe("TestTransaction.rollback", () => {
  it.effect("works under it.effect (TestClock): the body's writes are rolled back", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const inside = yield* Effect.gen(function* () {
        yield* conn.execute(`INSERT INTO ${table} VALUES ('a')`)
        yield* addItems(conn, ["b", "c"])
        return yield* count(conn)
      }).pipe(TestTransaction.rollback(conn))
      expect(inside).toBe(3n)
      expect(yield* count(conn)).toBe(0n)
      expect(conn.transactionStatus).toBe("idle")
    }),
  )

  it.live("rolls back also when the body fails, and returns the body's failure", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const exit = yield* Effect.exit(
        TestTransaction.rollback(Effect.andThen(addItems(conn, ["x"]), Effect.fail("assertion failed")), conn),
      )
      expect(Exit.isFailure(exit)).toBe(true)
      expect(yield* count(conn)).toBe(0n)
    }),
  )

  it.live("inside an open transaction it is a savepoint: only the body is undone", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.transaction(
        Effect.gen(function* () {
          yield* addItems(conn, ["kept"])
          const depth = yield* TestTransaction.rollback(
            Effect.andThen(
              addItems(conn, ["undone"]),
              Effect.map(PgTransaction.current, (l) => Option.getOrThrow(l).depth),
            ),
            conn,
          )
          expect(depth).toBe(1)
          expect(yield* count(conn)).toBe(1n)
        }),
        { rollbackOnly: true },
      )
    }),
  )
})

describe("TestTransaction.scoped", () => {
  it.live("the rest of the test runs in a transaction rolled back when the test's scope closes", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* TestTransaction.scoped(conn)
          yield* conn.execute(`INSERT INTO ${table} VALUES ('a')`)
          // Code under test opening (and failing) its own transactions gets savepoints.
          yield* addItems(conn, ["b"])
          yield* Effect.ignore(
            conn.transaction(
              Effect.andThen(conn.execute(`INSERT INTO ${table} VALUES ('c')`), Effect.fail("rejected")),
            ),
          )
          expect(yield* count(conn)).toBe(2n)
          expect(yield* committedCount).toBe(0n)
        }),
      )
      expect(yield* count(conn)).toBe(0n)
    }),
  )

  it.live("as the first line of an it.live test", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* TestTransaction.scoped(conn)
      yield* addItems(conn, ["only in this test"])
      expect(yield* count(conn)).toBe(1n)
    }),
  )
})

layer(TestTransaction.layer(PgConnection.make(tcpOptions())))("TestTransaction.layer", (it) => {
  it.effect("isolated tests see nothing of each other (1)", () =>
    Effect.gen(function* () {
      const conn = yield* TestTransaction.TestConnection
      yield* addItems(conn, ["one"])
      expect(yield* count(conn)).toBe(1n)
    }).pipe(TestTransaction.isolated),
  )

  it.effect("isolated tests see nothing of each other (2)", () =>
    Effect.gen(function* () {
      const conn = yield* TestTransaction.TestConnection
      expect(yield* count(conn)).toBe(0n)
      expect(Option.getOrThrow(yield* PgTransaction.current).depth).toBe(1)
    }).pipe(TestTransaction.isolated),
  )

  it.effect("tests that are not isolated share the suite's transaction", () =>
    Effect.gen(function* () {
      const conn = yield* TestTransaction.TestConnection
      yield* addItems(conn, ["shared"])
      expect(Option.getOrThrow(yield* PgTransaction.current).depth).toBe(0)
      // Not committed: the suite's transaction is rolled back when the layer is released.
      expect(yield* committedCount).toBe(0n)
    }),
  )

  it.effect("... so the next one sees that row", () =>
    Effect.gen(function* () {
      const conn = yield* TestTransaction.TestConnection
      expect(yield* count(conn)).toBe(1n)
    }),
  )
})
