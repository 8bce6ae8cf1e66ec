/**
 * Transactions on PgClient: `PgClient.transaction` checks a connection out and runs the
 * transaction on it; the client's shortcuts inside it go to that connection (carried in Context),
 * nested calls become savepoints, other fibers keep using other pooled connections, interruption
 * rolls back, `retry` re-runs on the same checkout. Also `PgTransaction` on a pooled handle.
 */
import * as PgClient from "@pgfx/client/PgClient"
import * as PgPool from "@pgfx/client/PgPool"
import * as PgTransaction from "@pgfx/client/PgTransaction"
import * as TestTransaction from "@pgfx/testing/TestTransaction"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Option, Schedule } from "effect"
import { tcpOptions, withAdmin } from "./support/connect.ts"
import { eventually, failureOf, poolOptions } from "./support/pool.ts"

let counter = 0

/** A fresh schema (dropped afterwards) and a client whose connections use it. */
const clientInSchema = (overrides: PgPool.PgPoolOptions = {}) =>
  Layer.unwrap(
    Effect.gen(function* () {
      const schema = `pgfx_ct${process.pid}_${++counter}_${Math.floor(Math.random() * 1e6)}`
      yield* withAdmin((admin) => admin.execute(`CREATE SCHEMA ${schema}`))
      yield* Effect.addFinalizer(() =>
        Effect.ignore(
          withAdmin((admin) => admin.execute(`SET client_min_messages = warning; DROP SCHEMA ${schema} CASCADE`)),
        ),
      )
      yield* withAdmin((admin) => admin.execute(`CREATE TABLE ${schema}.t (a int)`))
      return PgClient.layer({
        ...tcpOptions(),
        min: 0,
        max: 3,
        serverSettings: { search_path: schema },
        ...overrides,
      })
    }),
  )

const pid = Effect.map(PgClient.fetchVal("SELECT pg_backend_pid()"), Option.getOrThrow)
const count = Effect.map(PgClient.fetchVal("SELECT count(*) FROM t"), Option.getOrThrow)
const values = Effect.map(PgClient.fetch("SELECT a FROM t ORDER BY a"), (rows) => rows.map((r) => r.get("a")))

describe("PgClient.transaction", () => {
  it.live("commits on success; every query inside runs on the transaction's backend", () =>
    Effect.gen(function* () {
      const result = yield* PgClient.transaction(
        Effect.gen(function* () {
          const first = yield* pid
          yield* PgClient.execute("INSERT INTO t VALUES ($1)", [1])
          yield* PgClient.execute("INSERT INTO t VALUES (2)")
          expect(yield* pid).toBe(first)
          expect(yield* PgClient.fetchRow("SELECT pg_backend_pid() AS p")).toMatchObject({
            _tag: "Some",
            value: expect.objectContaining({ p: first }),
          })
          // A fiber forked inside belongs to the transaction too.
          const forked = yield* Effect.forkChild(pid)
          expect(yield* Fiber.join(forked)).toBe(first)
          // One transaction: the same transaction id throughout.
          const xid = Option.getOrThrow(yield* PgClient.fetchVal("SELECT txid_current()"))
          expect(Option.getOrThrow(yield* PgClient.fetchVal("SELECT txid_current()"))).toBe(xid)
          // It holds exactly one connection.
          expect((yield* PgClient.stats).inUse).toBe(1)
          return first
        }),
      )
      expect(typeof result).toBe("number")
      expect(yield* values).toEqual([1, 2])
      expect((yield* PgClient.stats).inUse).toBe(0)
    }).pipe(Effect.provide(clientInSchema())),
  )

  it.live("rolls back on failure and on a defect, and returns the failure", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        PgClient.transaction(
          Effect.gen(function* () {
            yield* PgClient.execute("INSERT INTO t VALUES (1)")
            return yield* Effect.fail("nope" as const)
          }),
        ),
      )
      expect(failureOf(exit)).toBe("nope")
      const died = yield* Effect.exit(
        PgClient.transaction(Effect.andThen(PgClient.execute("INSERT INTO t VALUES (2)"), Effect.die("boom"))),
      )
      expect(died._tag).toBe("Failure")
      expect(yield* count).toBe(0n)
      // A failing statement aborts the transaction: the body's error comes back, nothing is kept.
      const sqlFailure = yield* Effect.exit(
        PgClient.transaction(
          Effect.andThen(PgClient.execute("INSERT INTO t VALUES (3)"), PgClient.execute("SELECT 1/0")),
        ),
      )
      expect(failureOf(sqlFailure)).toMatchObject({ _tag: "PgServerError", code: "22012" })
      expect(yield* count).toBe(0n)
      expect((yield* PgClient.stats).inUse).toBe(0)
    }).pipe(Effect.provide(clientInSchema())),
  )

  it.live("a nested transaction is a savepoint on the same connection (asyncpg's nested example)", () =>
    Effect.gen(function* () {
      yield* PgClient.transaction(
        Effect.gen(function* () {
          const outer = yield* pid
          yield* PgClient.execute("INSERT INTO t VALUES (1)")
          yield* PgClient.transaction(
            Effect.gen(function* () {
              expect(yield* pid).toBe(outer)
              const level = yield* PgTransaction.current
              expect(level._tag === "Some" && level.value.savepoint).toBe("pgfx_sp_1")
              yield* PgClient.execute("INSERT INTO t VALUES (2), (3)")
              return yield* Effect.fail(new Error("roll back the savepoint"))
            }),
          ).pipe(Effect.ignore)
          expect(yield* values).toEqual([1])
          // A nested one that succeeds is released into the outer transaction.
          yield* PgClient.transaction(PgClient.execute("INSERT INTO t VALUES (4)"))
          expect((yield* PgClient.stats).inUse).toBe(1)
        }),
      )
      expect(yield* values).toEqual([1, 4])
    }).pipe(Effect.provide(clientInSchema())),
  )

  it.live("queries outside the transaction use other pooled connections and are not blocked", () =>
    Effect.gen(function* () {
      const inside = yield* Deferred.make<number>()
      const finish = yield* Deferred.make<void>()
      const tx = yield* Effect.forkChild(
        PgClient.transaction(
          Effect.gen(function* () {
            yield* PgClient.execute("INSERT INTO t VALUES (1)")
            yield* Deferred.succeed(inside, (yield* pid) as number)
            yield* Deferred.await(finish)
          }),
        ),
      )
      const txPid = yield* Deferred.await(inside)
      // While the transaction is open: outside queries run at once, elsewhere, and do not see
      // the uncommitted row.
      const outside = yield* Effect.all([pid, pid, count], { concurrency: "unbounded" }).pipe(
        Effect.timeoutOrElse({ duration: "10 seconds", orElse: () => Effect.die(new Error("blocked")) }),
      )
      expect(outside[0]).not.toBe(txPid)
      expect(outside[1]).not.toBe(txPid)
      expect(outside[2]).toBe(0n)
      yield* Deferred.succeed(finish, undefined)
      yield* Fiber.join(tx)
      expect(yield* count).toBe(1n)
    }).pipe(Effect.provide(clientInSchema({ max: 3 }))),
  )

  it.live("interrupting the transaction rolls it back and returns a clean connection", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<number>()
      const tx = yield* Effect.forkChild(
        PgClient.transaction(
          Effect.gen(function* () {
            yield* PgClient.execute("INSERT INTO t VALUES (1)")
            yield* Deferred.succeed(started, (yield* pid) as number)
            return yield* Effect.never
          }),
        ),
      )
      const txPid = yield* Deferred.await(started)
      yield* Fiber.interrupt(tx)
      const client = yield* PgClient.PgClient
      yield* eventually("released", () => client.pool.stats.inUse === 0)
      expect(yield* count).toBe(0n)
      // The same backend is reused, idle (not in a transaction).
      const state = yield* PgClient.withConnection((conn) =>
        Effect.succeed({ pid: conn.serverPid, status: conn.transactionStatus }),
      )
      expect(state).toEqual({ pid: txPid, status: "idle" })
    }).pipe(Effect.provide(clientInSchema({ max: 1 }))),
  )

  it.live("interrupting a query inside the transaction rolls back too", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        PgClient.transaction(
          Effect.andThen(PgClient.execute("INSERT INTO t VALUES (1)"), PgClient.execute("SELECT pg_sleep(30)")),
        ).pipe(Effect.timeout("300 millis")),
      )
      expect(failureOf(exit)).toMatchObject({ _tag: "TimeoutError" })
      expect(yield* count).toBe(0n)
      expect((yield* PgClient.stats).inUse).toBe(0)
    }).pipe(Effect.provide(clientInSchema({ max: 1 }))),
  )

  it.live("retry re-runs the whole transaction on the same checkout after a serialization failure", () =>
    Effect.gen(function* () {
      let attempts = 0
      const pids: Array<unknown> = []
      const result = yield* PgClient.transaction(
        Effect.gen(function* () {
          attempts++
          pids.push(yield* pid)
          yield* PgClient.execute("INSERT INTO t VALUES ($1)", [attempts])
          if (attempts < 3) {
            yield* PgClient.execute(
              "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = 'serialization_failure'; END $$",
            )
          }
          return attempts
        }),
        { isolation: "serializable", retry: Schedule.recurs(5) },
      )
      expect(result).toBe(3)
      expect(new Set(pids).size).toBe(1)
      // Only the last attempt committed.
      expect(yield* values).toEqual([3])
      // Without `retry`, the failure is returned.
      const exit = yield* Effect.exit(
        PgClient.transaction(
          PgClient.execute("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = 'serialization_failure'; END $$"),
        ),
      )
      expect(failureOf(exit)).toMatchObject({ _tag: "PgServerError", code: "40001" })
    }).pipe(Effect.provide(clientInSchema())),
  )

  it.live("isolation and read-only modes reach the server", () =>
    Effect.gen(function* () {
      const row = yield* PgClient.transaction(
        PgClient.fetchRow(
          "SELECT current_setting('transaction_isolation') AS iso, current_setting('transaction_read_only') AS ro",
        ),
        { isolation: "repeatable_read", readOnly: true },
      )
      expect(row).toMatchObject({
        _tag: "Some",
        value: expect.objectContaining({ iso: "repeatable read", ro: "on" }),
      })
      const exit = yield* Effect.exit(
        PgClient.transaction(PgClient.execute("INSERT INTO t VALUES (1)"), { readOnly: true }),
      )
      expect(failureOf(exit)).toMatchObject({ _tag: "PgServerError", code: "25006" })
    }).pipe(Effect.provide(clientInSchema())),
  )

  it.live("another client's transaction does not capture this client's queries", () =>
    Effect.gen(function* () {
      const other = yield* PgClient.make(poolOptions({ max: 1 }))
      yield* PgClient.transaction(
        Effect.gen(function* () {
          const mine = yield* pid
          // The other client's shortcuts check out its own connection...
          expect(Option.getOrThrow(yield* other.fetchVal("SELECT pg_backend_pid()"))).not.toBe(mine)
          // ...and its transaction is a top-level one on its own connection.
          yield* other.transaction(
            Effect.gen(function* () {
              expect(Option.getOrThrow(yield* other.fetchVal("SELECT pg_backend_pid()"))).not.toBe(mine)
              // This client's queries still go to this client's transaction.
              expect(yield* pid).toBe(mine)
              const level = yield* PgTransaction.current
              expect(level._tag === "Some" && level.value.depth).toBe(0)
            }),
          )
        }),
      )
    }).pipe(Effect.scoped, Effect.provide(clientInSchema())),
  )
})

describe("TestTransaction with PgClient", () => {
  it.live("code under test written against PgClient runs inside the test's transaction, rolled back", () =>
    Effect.gen(function* () {
      // What an application function does: its own client transaction and shortcuts.
      const register = (a: number) =>
        PgClient.transaction(Effect.andThen(PgClient.execute("INSERT INTO t VALUES ($1)", [a]), count))
      yield* Effect.scoped(
        Effect.gen(function* () {
          const conn = yield* PgClient.acquire()
          yield* TestTransaction.scoped(conn)
          expect(yield* register(1)).toBe(1n) // a savepoint in the test's transaction
          expect(yield* register(2)).toBe(2n)
          expect(yield* pid).toBe(conn.serverPid)
          expect((yield* PgClient.stats).inUse).toBe(1)
        }),
      )
      // Rolled back with the test.
      expect(yield* count).toBe(0n)
    }).pipe(Effect.provide(clientInSchema())),
  )
})

describe("PgTransaction on a pooled connection", () => {
  it.live("works on a checked-out handle, nests, and fails typed once the handle is released", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1 }))
      const handle = yield* pool.withConnection((conn) =>
        Effect.gen(function* () {
          yield* conn.execute("CREATE TEMP TABLE pooled (a int)")
          yield* PgTransaction.transaction(
            conn,
            Effect.gen(function* () {
              yield* conn.execute("INSERT INTO pooled VALUES (1)")
              yield* PgTransaction.transaction(
                conn,
                Effect.andThen(conn.execute("INSERT INTO pooled VALUES (2)"), Effect.fail("inner")),
              ).pipe(Effect.ignore)
            }),
          ).pipe(Effect.timeout("10 seconds"))
          expect(Option.getOrThrow(yield* conn.fetchVal("SELECT array_agg(a) FROM pooled"))).toEqual([1])
          return conn
        }),
      )
      const exit = yield* Effect.exit(PgTransaction.transaction(handle, Effect.void))
      expect(failureOf(exit)).toMatchObject({ _tag: "PgInterfaceError" })
      const scopedExit = yield* Effect.exit(Effect.scoped(PgTransaction.scoped(handle)))
      expect(failureOf(scopedExit)).toMatchObject({ _tag: "PgInterfaceError" })
      const manual = yield* PgTransaction.make(handle)
      expect(failureOf(yield* Effect.exit(manual.start))).toMatchObject({ _tag: "PgInterfaceError" })
    }).pipe(Effect.scoped),
  )

  it.live("a manual transaction left open at release is rolled back; the next checkout is not held up", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1 }))
      const table = `pool_open_tx_${process.pid}_${Math.floor(Math.random() * 1e6)}`
      yield* pool.execute(`CREATE TABLE ${table} (a int)`)
      yield* Effect.addFinalizer(() => Effect.ignore(withAdmin((admin) => admin.execute(`DROP TABLE ${table}`))))
      const manual = yield* pool.withConnection((conn) =>
        Effect.gen(function* () {
          const tx = yield* PgTransaction.make(conn)
          yield* tx.start
          yield* conn.execute(`INSERT INTO ${table} VALUES (1)`)
          return tx
        }),
      )
      // Another fiber checks out the same (only) connection: it is idle and not owned by the
      // abandoned transaction, whose insert was rolled back.
      const next = yield* Effect.forkChild(
        pool.withConnection((conn) =>
          Effect.all([
            Effect.map(conn.fetchVal(`SELECT count(*) FROM ${table}`), Option.getOrThrow),
            Effect.sync(() => conn.transactionStatus),
          ]),
        ),
      )
      const [count, status] = yield* Fiber.join(next).pipe(
        Effect.timeoutOrElse({ duration: "10 seconds", orElse: () => Effect.die(new Error("held up")) }),
      )
      expect(count).toBe(0n)
      expect(status).toBe("idle")
      expect(manual.state).toBe("rolledBack")
      expect(failureOf(yield* Effect.exit(manual.commit))).toMatchObject({ _tag: "PgTransactionError" })
    }).pipe(Effect.scoped),
  )
})
