/**
 * Transactions: the combinator (commit, rollback on failure / defect / interruption), savepoints,
 * modes, exclusivity of a connection while a transaction runs, manual transactions and their
 * illegal moves, scoped transactions, the serialization-failure retry, and asyncpg's documented
 * examples.
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgTransaction from "@pgfx/client/PgTransaction"
import { PgServerError } from "@pgfx/client/PgError"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Option, Schedule } from "effect"
import { connect, tcpOptions, withAdmin } from "./support/connect.ts"
import { failureOf } from "./support/failure.ts"
import { connectInSchema } from "./support/schema.ts"
import { untilRunning } from "./support/wait.ts"

describe("transaction combinator", () => {
  it.live("asyncpg's nested transaction example: the inner block is rolled back, mytab is empty", () =>
    Effect.gen(function* () {
      const { conn } = yield* connectInSchema()
      yield* conn.transaction(
        Effect.gen(function* () {
          yield* conn.execute("CREATE TABLE mytab (a int)")
          // A nested transaction, rolled back by its failure; the failure is then ignored.
          yield* conn
            .transaction(
              Effect.gen(function* () {
                yield* conn.execute("INSERT INTO mytab (a) VALUES (1), (2)")
                return yield* Effect.fail(new Error("rollback the nested transaction"))
              }),
            )
            .pipe(Effect.ignore)
          expect(yield* conn.fetch("SELECT a FROM mytab")).toEqual([])
        }),
      )
      // The outer transaction committed: the table exists, still empty.
      expect(yield* conn.fetch("SELECT a FROM mytab")).toEqual([])
      expect(conn.transactionStatus).toBe("idle")
    }),
  )

  it.live("asyncpg's `async with connection.transaction()` example commits", () =>
    Effect.gen(function* () {
      const { conn } = yield* connectInSchema()
      yield* conn.execute("CREATE TABLE mytable (a int, b int, c int)")
      yield* conn.transaction(conn.execute("INSERT INTO mytable VALUES(1, 2, 3)"))
      expect((yield* conn.fetch("SELECT * FROM mytable")).map((r) => r.toObject())).toEqual([{ a: 1, b: 2, c: 3 }])
    }),
  )

  it.live("commits on success: the rows are visible to other sessions", () =>
    Effect.gen(function* () {
      const { conn, schema } = yield* connectInSchema()
      yield* conn.execute("CREATE TABLE c (a int)")
      const result = yield* conn.transaction(
        Effect.gen(function* () {
          yield* conn.execute("INSERT INTO c VALUES ($1), ($2)", [1, 2])
          expect(conn.transactionStatus).toBe("transaction")
          return "done"
        }),
      )
      expect(result).toBe("done")
      expect(conn.transactionStatus).toBe("idle")
      expect(
        yield* withAdmin((admin) => Effect.map(admin.fetchVal(`SELECT count(*) FROM ${schema}.c`), Option.getOrThrow)),
      ).toBe(2n)
    }),
  )

  it.live("rolls back on a typed failure and returns it", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE rb (a int)")
      const exit = yield* Effect.exit(
        conn.transaction(
          Effect.gen(function* () {
            yield* conn.execute("INSERT INTO rb VALUES (1)")
            return yield* Effect.fail("nope" as const)
          }),
        ),
      )
      expect(failureOf(exit)).toBe("nope")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM rb"))).toBe(0n)
      expect(conn.transactionStatus).toBe("idle")
    }),
  )

  it.live("rolls back on a server error inside, and the connection stays usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE rbs (a int PRIMARY KEY)")
      const exit = yield* Effect.exit(conn.transaction(conn.executeMany("INSERT INTO rbs VALUES ($1)", [[1], [1]])))
      expect((failureOf(exit) as PgServerError).condition).toBe("unique_violation")
      expect(conn.transactionStatus).toBe("idle")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM rbs"))).toBe(0n)
    }),
  )

  it.live("rolls back on a defect", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE rbd (a int)")
      const exit = yield* Effect.exit(
        conn.transaction(Effect.andThen(conn.execute("INSERT INTO rbd VALUES (1)"), Effect.die("boom"))),
      )
      expect(Exit.isFailure(exit) && exit.cause.reasons.some((r) => r._tag === "Die")).toBe(true)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM rbd"))).toBe(0n)
      expect(conn.transactionStatus).toBe("idle")
    }),
  )

  it.live("rolls back on interruption, also while a statement is running", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE rbi (a int)")
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.forkChild(
        conn.transaction(
          Effect.gen(function* () {
            yield* conn.execute("INSERT INTO rbi VALUES (1)")
            yield* Deferred.succeed(started, undefined)
            yield* conn.execute("SELECT pg_sleep(30)")
          }),
        ),
      )
      yield* Deferred.await(started)
      yield* untilRunning(conn.serverPid)
      const t0 = Date.now()
      yield* Fiber.interrupt(fiber)
      expect(Date.now() - t0).toBeLessThan(10_000)
      expect(conn.transactionStatus).toBe("idle")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM rbi"))).toBe(0n)
    }),
  )

  it.live("a timeout inside the transaction fails it typed and rolls it back", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE rbt (a int)")
      const exit = yield* Effect.exit(
        conn.transaction(
          Effect.andThen(
            conn.execute("INSERT INTO rbt VALUES (1)"),
            conn.execute("SELECT pg_sleep(30)", [], { timeout: "50 millis" }),
          ),
        ),
      )
      expect(failureOf(exit)._tag).toBe("PgTimeoutError")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM rbt"))).toBe(0n)
    }),
  )

  it.live("nested failures roll back only to their savepoint; nested successes are kept", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE sp (a int)")
      yield* conn.transaction(
        Effect.gen(function* () {
          yield* conn.execute("INSERT INTO sp VALUES (1)")
          yield* conn.transaction(conn.execute("INSERT INTO sp VALUES (2)"))
          const inner = yield* Effect.exit(
            conn.transaction(
              Effect.gen(function* () {
                yield* conn.execute("INSERT INTO sp VALUES (3)")
                // Two levels deep: this one fails with a server error.
                yield* conn.transaction(conn.execute("INSERT INTO sp VALUES ('x')"))
              }),
            ),
          )
          expect((failureOf(inner) as PgServerError).condition).toBe("invalid_text_representation")
          expect(conn.transactionStatus).toBe("transaction")
          yield* conn.execute("INSERT INTO sp VALUES (4)")
        }),
      )
      expect((yield* conn.fetch("SELECT a FROM sp ORDER BY a")).map((r) => r.a)).toEqual([1, 2, 4])
    }),
  )

  it.live("isolation, readOnly and deferrable set the transaction's mode; nested calls keep the outer mode", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const modes = yield* conn.transaction(
        Effect.gen(function* () {
          const iso = Option.getOrThrow(yield* conn.fetchVal("SHOW transaction_isolation"))
          const ro = Option.getOrThrow(yield* conn.fetchVal("SHOW transaction_read_only"))
          const def = Option.getOrThrow(yield* conn.fetchVal("SHOW transaction_deferrable"))
          const nested = yield* conn.transaction(
            Effect.map(conn.fetchVal("SHOW transaction_isolation"), Option.getOrThrow),
            {
              isolation: "read_committed",
            },
          )
          return [iso, ro, def, nested]
        }),
        { isolation: "serializable", readOnly: true, deferrable: true },
      )
      expect(modes).toEqual(["serializable", "on", "on", "serializable"])
      for (const [isolation, name] of [
        ["repeatable_read", "repeatable read"],
        ["read_committed", "read committed"],
        ["read_uncommitted", "read uncommitted"],
      ] as const) {
        expect(
          yield* conn.transaction(Effect.map(conn.fetchVal("SHOW transaction_isolation"), Option.getOrThrow), {
            isolation,
          }),
        ).toBe(name)
      }
      const write = yield* Effect.exit(
        conn.transaction(conn.execute("CREATE TEMP TABLE ro (a int)"), { readOnly: true }),
      )
      expect((failureOf(write) as PgServerError).condition).toBe("read_only_sql_transaction")
      const bad = yield* Effect.exit(
        conn.transaction(Effect.void, { isolation: "chaos" as unknown as PgTransaction.Isolation }),
      )
      expect(failureOf(bad)._tag).toBe("PgInterfaceError")
      expect(conn.transactionStatus).toBe("idle")
    }),
  )

  it.live("a statement that failed inside but was caught makes the commit fail with Aborted", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE ab (a int)")
      const exit = yield* Effect.exit(
        conn.transaction(
          Effect.gen(function* () {
            yield* conn.execute("INSERT INTO ab VALUES (1)")
            yield* Effect.ignore(Effect.map(conn.fetchVal("SELECT 1/0"), Option.getOrThrow))
          }),
        ),
      )
      const error = failureOf(exit)
      expect(error._tag === "PgTransactionError" && error.reason).toBe("Aborted")
      expect(conn.transactionStatus).toBe("idle")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM ab"))).toBe(0n)
      // In a savepoint, the aborted savepoint is rolled back and the outer transaction goes on.
      yield* conn.transaction(
        Effect.gen(function* () {
          yield* conn.execute("INSERT INTO ab VALUES (1)")
          const inner = yield* Effect.exit(
            conn.transaction(
              Effect.andThen(
                conn.execute("INSERT INTO ab VALUES (2)"),
                Effect.ignore(Effect.map(conn.fetchVal("SELECT 1/0"), Option.getOrThrow)),
              ),
            ),
          )
          const e = failureOf(inner)
          expect(e._tag === "PgTransactionError" && e.reason).toBe("Aborted")
          yield* conn.execute("INSERT INTO ab VALUES (3)")
        }),
      )
      expect((yield* conn.fetch("SELECT a FROM ab ORDER BY a")).map((r) => r.a)).toEqual([1, 3])
    }),
  )

  it.live("a COMMIT refused by the server (deferred constraint) fails typed; the connection is usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE dc (a int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
      const exit = yield* Effect.exit(conn.transaction(conn.execute("INSERT INTO dc VALUES (1), (1)")))
      expect((failureOf(exit) as PgServerError).condition).toBe("unique_violation")
      expect(conn.transactionStatus).toBe("idle")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM dc"))).toBe(0n)
    }),
  )

  it.live("the connection dying inside a transaction fails it with the connection's error", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const exit = yield* Effect.exit(
        conn.transaction(
          Effect.gen(function* () {
            yield* conn.execute("SELECT 1")
            yield* withAdmin((admin) =>
              Effect.map(admin.fetchVal("SELECT pg_terminate_backend($1)", [conn.serverPid]), Option.getOrThrow),
            )
            yield* conn.execute("SELECT 2")
          }),
        ),
      )
      const error = failureOf(exit)
      expect(["PgConnectionError", "PgServerError"]).toContain(error._tag)
      expect(conn.isClosed).toBe(true)
    }),
  )

  it.live("inside a transaction begun with plain SQL, transaction() is a savepoint of it", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE raw (a int)")
      yield* conn.execute("BEGIN")
      yield* conn.transaction(conn.execute("INSERT INTO raw VALUES (1)"))
      yield* Effect.ignore(
        conn.transaction(Effect.andThen(conn.execute("INSERT INTO raw VALUES (2)"), Effect.fail("x"))),
      )
      expect(conn.transactionStatus).toBe("transaction")
      expect((yield* conn.fetch("SELECT a FROM raw")).map((r) => r.a)).toEqual([1])
      yield* conn.execute("ROLLBACK")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM raw"))).toBe(0n)
    }),
  )

  it.live("PgTransaction.current and find report the levels", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      expect(Option.isNone(yield* PgTransaction.current)).toBe(true)
      const [outer, inner] = yield* conn.transaction(
        Effect.gen(function* () {
          const outer = Option.getOrThrow(yield* PgTransaction.current)
          const inner = yield* conn.transaction(
            Effect.map(
              PgTransaction.find((l) => l.connection === conn),
              Option.getOrThrow,
            ),
          )
          return [outer, inner] as const
        }),
        { isolation: "repeatable_read" },
      )
      expect(outer.depth).toBe(0)
      expect(outer.savepoint).toBeUndefined()
      expect(outer.isolation).toBe("repeatable_read")
      expect(inner.depth).toBe(1)
      expect(inner.savepoint).toBe("pgfx_sp_1")
      expect(inner.outer).toBe(outer)
      expect(inner.isolation).toBe("repeatable_read")
      expect(outer.isActive || inner.isActive).toBe(false)
    }),
  )

  it.live("transactions on two connections nest independently", () =>
    Effect.gen(function* () {
      const a = yield* connect()
      const b = yield* connect()
      yield* a.execute("CREATE TEMP TABLE ta (x int)")
      yield* b.execute("CREATE TEMP TABLE tb (x int)")
      yield* a.transaction(
        Effect.gen(function* () {
          yield* a.execute("INSERT INTO ta VALUES (1)")
          yield* Effect.ignore(
            b.transaction(Effect.andThen(b.execute("INSERT INTO tb VALUES (1)"), Effect.fail("b fails"))),
          )
          yield* b.transaction(
            Effect.gen(function* () {
              // Queries on `a` from inside b's transaction still belong to a's transaction.
              yield* a.execute("INSERT INTO ta VALUES (2)")
              yield* b.execute("INSERT INTO tb VALUES (2)")
              const level = Option.getOrThrow(yield* PgTransaction.current)
              expect(level.connection).toBe(b)
              expect(level.depth).toBe(0)
            }),
          )
        }),
      )
      expect((yield* a.fetch("SELECT x FROM ta ORDER BY x")).map((r) => r.x)).toEqual([1, 2])
      expect((yield* b.fetch("SELECT x FROM tb")).map((r) => r.x)).toEqual([2])
    }),
  )
})

describe("transactions are exclusive", () => {
  it.live("queries from other fibers wait until the transaction ends", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE ex (a int)")
      const inside = yield* Deferred.make<void>()
      const proceed = yield* Deferred.make<void>()
      const tx = yield* Effect.forkChild(
        conn.transaction(
          Effect.gen(function* () {
            yield* conn.execute("INSERT INTO ex VALUES (1)")
            yield* Deferred.succeed(inside, undefined)
            yield* Deferred.await(proceed)
            yield* conn.execute("INSERT INTO ex VALUES (2)")
          }),
        ),
      )
      yield* Deferred.await(inside)
      // Had it interleaved, this query would see the uncommitted row (same session): count 1.
      const outside = yield* Effect.forkChild(Effect.map(conn.fetchVal("SELECT count(*) FROM ex"), Option.getOrThrow))
      yield* Effect.sleep("150 millis")
      expect(outside.pollUnsafe()).toBeUndefined()
      yield* Deferred.succeed(proceed, undefined)
      yield* Fiber.join(tx)
      expect(yield* Fiber.join(outside)).toBe(2n)
    }),
  )

  it.live("an outside query waiting for a rolled-back transaction sees nothing of it", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE ex2 (a int)")
      const inside = yield* Deferred.make<void>()
      const tx = yield* Effect.forkChild(
        Effect.exit(
          conn.transaction(
            Effect.gen(function* () {
              yield* conn.execute("INSERT INTO ex2 VALUES (1)")
              yield* Deferred.succeed(inside, undefined)
              yield* Effect.sleep("100 millis")
              return yield* Effect.fail("abort")
            }),
          ),
        ),
      )
      yield* Deferred.await(inside)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM ex2"))).toBe(0n)
      expect(Exit.isFailure(yield* Fiber.join(tx))).toBe(true)
    }),
  )

  it.live("a query or a transaction waiting for the connection can be interrupted", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE wi (a int)")
      const inside = yield* Deferred.make<void>()
      const proceed = yield* Deferred.make<void>()
      const holder = yield* Effect.forkChild(
        conn.transaction(
          Effect.gen(function* () {
            yield* Deferred.succeed(inside, undefined)
            yield* Deferred.await(proceed)
            yield* conn.execute("INSERT INTO wi VALUES (1)")
          }),
        ),
      )
      yield* Deferred.await(inside)
      // Started at once: each runs until it waits for the connection.
      const waitingQuery = yield* Effect.forkChild(conn.execute("INSERT INTO wi VALUES (2)"), {
        startImmediately: true,
      })
      const waitingTx = yield* Effect.forkChild(conn.transaction(conn.execute("INSERT INTO wi VALUES (3)")), {
        startImmediately: true,
      })
      yield* Fiber.interrupt(waitingQuery)
      yield* Fiber.interrupt(waitingTx)
      yield* Deferred.succeed(proceed, undefined)
      yield* Fiber.join(holder)
      // Neither interrupted request ever reached the server.
      expect((yield* conn.fetch("SELECT a FROM wi")).map((r) => r.a)).toEqual([1])
    }),
  )

  it.live("closing the connection fails the requests waiting for a transaction, typed", () =>
    Effect.gen(function* () {
      const conn = yield* PgConnection.connect(tcpOptions())
      const inside = yield* Deferred.make<void>()
      const holder = yield* Effect.forkChild(
        Effect.exit(conn.transaction(Effect.andThen(Deferred.succeed(inside, undefined), Effect.never))),
      )
      yield* Deferred.await(inside)
      // Started at once: it runs until it waits for the connection.
      const waiting = yield* Effect.forkChild(Effect.exit(Effect.map(conn.fetchVal("SELECT 1"), Option.getOrThrow)), {
        startImmediately: true,
      })
      yield* conn.close()
      expect(failureOf(yield* Fiber.join(waiting))._tag).toBe("PgConnectionError")
      yield* Fiber.interrupt(holder)
    }),
  )

  it.live("fibers forked inside the transaction belong to it and run concurrently", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE fk (a int)")
      const counts = yield* conn
        .transaction(
          Effect.gen(function* () {
            yield* Effect.forEach([1, 2, 3, 4, 5], (i) => conn.execute("INSERT INTO fk VALUES ($1)", [i]), {
              concurrency: "unbounded",
            })
            return yield* Effect.all(
              [
                Effect.map(conn.fetchVal("SELECT count(*) FROM fk"), Option.getOrThrow),
                Effect.map(conn.fetchVal("SELECT sum(a) FROM fk"), Option.getOrThrow),
              ],
              {
                concurrency: 2,
              },
            )
          }),
        )
        .pipe(Effect.timeout("10 seconds"))
      expect(counts).toEqual([5n, 15n])
    }),
  )

  it.live("concurrent transactions on one connection run one after the other", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE seq (tx int, step int)")
      yield* Effect.forEach(
        [1, 2, 3],
        (tx) =>
          conn.transaction(
            Effect.gen(function* () {
              yield* conn.execute("INSERT INTO seq VALUES ($1, 1)", [tx])
              yield* Effect.sleep("20 millis")
              yield* conn.execute("INSERT INTO seq VALUES ($1, 2)", [tx])
            }),
          ),
        { concurrency: "unbounded" },
      )
      const rows = yield* conn.fetch("SELECT tx, step FROM seq ORDER BY ctid")
      // Steps of one transaction are adjacent: no transaction interleaved with another.
      for (let i = 0; i < rows.length; i += 2) {
        expect(rows[i]!.tx).toBe(rows[i + 1]!.tx)
        expect([rows[i]!.step, rows[i + 1]!.step]).toEqual([1, 2])
      }
      expect(rows.length).toBe(6)
    }),
  )

  it.live("while a savepoint runs, sibling fibers of the outer transaction wait for it", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE sib (a int)")
      const inSavepoint = yield* Deferred.make<void>()
      yield* conn.transaction(
        Effect.gen(function* () {
          const sp = yield* Effect.forkChild(
            Effect.exit(
              conn.transaction(
                Effect.gen(function* () {
                  yield* conn.execute("INSERT INTO sib VALUES (1)")
                  yield* Deferred.succeed(inSavepoint, undefined)
                  yield* Effect.sleep("100 millis")
                  return yield* Effect.fail("roll back the savepoint")
                }),
              ),
            ),
          )
          yield* Deferred.await(inSavepoint)
          // Had it interleaved into the savepoint, it would count the row the savepoint rolls back.
          expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM sib"))).toBe(0n)
          yield* Fiber.join(sp)
        }),
      )
    }),
  )
})

describe("retry on serialization failure", () => {
  const setup = Effect.gen(function* () {
    const { conn, schema } = yield* connectInSchema()
    yield* conn.execute("CREATE TABLE acc (id int PRIMARY KEY, v int)")
    yield* conn.execute("INSERT INTO acc VALUES (1, 0)")
    const other = yield* connect({ serverSettings: { search_path: schema } })
    return { conn, other }
  })

  /** A transaction that fails with 40001 on its first `conflicts` attempts (a concurrent update). */
  const contended = (
    conn: Effect.Success<typeof setup>["conn"],
    other: Effect.Success<typeof setup>["other"],
    conflicts: number,
    attempts: { n: number },
  ) =>
    Effect.gen(function* () {
      attempts.n++
      Option.getOrThrow(yield* conn.fetchVal("SELECT v FROM acc WHERE id = 1")) // takes the snapshot
      if (attempts.n <= conflicts) yield* other.execute("UPDATE acc SET v = v + 1 WHERE id = 1")
      yield* conn.execute("UPDATE acc SET v = v + 10 WHERE id = 1")
    })

  it.live("without retry a serialization failure is a typed, retryable PgServerError", () =>
    Effect.gen(function* () {
      const { conn, other } = yield* setup
      const attempts = { n: 0 }
      const exit = yield* Effect.exit(
        conn.transaction(contended(conn, other, 1, attempts), { isolation: "serializable" }),
      )
      const error = failureOf(exit)
      expect(error instanceof PgServerError && error.condition).toBe("serialization_failure")
      expect(PgTransaction.isRetryable(error)).toBe(true)
      expect(attempts.n).toBe(1)
      expect(conn.transactionStatus).toBe("idle")
    }),
  )

  it.live("with a Schedule the whole transaction runs again and commits", () =>
    Effect.gen(function* () {
      const { conn, other } = yield* setup
      const attempts = { n: 0 }
      yield* conn.transaction(contended(conn, other, 2, attempts), {
        isolation: "repeatable_read",
        retry: Schedule.recurs(5),
      })
      expect(attempts.n).toBe(3)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT v FROM acc WHERE id = 1"))).toBe(12)
    }),
  )

  it.live("an exhausted schedule returns the last serialization failure", () =>
    Effect.gen(function* () {
      const { conn, other } = yield* setup
      const attempts = { n: 0 }
      const exit = yield* Effect.exit(
        conn.transaction(contended(conn, other, 100, attempts), {
          isolation: "serializable",
          retry: Schedule.recurs(2),
        }),
      )
      expect((failureOf(exit) as PgServerError).code).toBe("40001")
      expect(attempts.n).toBe(3)
    }),
  )

  it.live("other failures are not retried, and a nested transaction does not retry", () =>
    Effect.gen(function* () {
      const { conn, other } = yield* setup
      const attempts = { n: 0 }
      const exit = yield* Effect.exit(
        conn.transaction(
          Effect.andThen(
            Effect.sync(() => attempts.n++),
            conn.execute("INSERT INTO acc VALUES (1, 0)"),
          ),
          { retry: Schedule.recurs(5) },
        ),
      )
      expect((failureOf(exit) as PgServerError).condition).toBe("unique_violation")
      expect(attempts.n).toBe(1)
      const nested = { n: 0 }
      const outer = yield* Effect.exit(
        conn.transaction(conn.transaction(contended(conn, other, 100, nested), { retry: Schedule.recurs(5) }), {
          isolation: "serializable",
        }),
      )
      expect((failureOf(outer) as PgServerError).code).toBe("40001")
      expect(nested.n).toBe(1)
      expect(
        PgTransaction.isRetryable(
          PgServerError.fromFields([
            ["C", "40P01"],
            ["M", "deadlock detected"],
          ]),
        ),
      ).toBe(true)
    }),
  )
})

describe("manual transactions", () => {
  it.live("asyncpg's manual example: start, commit; start, rollback on failure", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE man (a int)")
      const tr = yield* PgTransaction.make(conn)
      expect(tr.state).toBe("new")
      yield* tr.start
      expect(tr.state).toBe("started")
      yield* conn.execute("INSERT INTO man VALUES (1)")
      yield* tr.commit
      expect(tr.state).toBe("committed")

      const tr2 = yield* PgTransaction.make(conn)
      yield* tr2.start
      const failed = yield* Effect.exit(
        conn.execute("INSERT INTO man VALUES ('not a number')").pipe(Effect.tapError(() => tr2.rollback)),
      )
      expect(Exit.isFailure(failed)).toBe(true)
      expect(tr2.state).toBe("rolledBack")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM man"))).toBe(1n)
      expect(conn.transactionStatus).toBe("idle")
    }),
  )

  it.live("illegal moves are typed errors", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const reason = <A, E>(exit: Exit.Exit<A, E>) => {
        const e = failureOf(exit) as { _tag: string; reason?: string }
        expect(e._tag).toBe("PgTransactionError")
        return e.reason
      }
      const fresh = yield* PgTransaction.make(conn)
      expect(reason(yield* Effect.exit(fresh.commit))).toBe("NotStarted")
      expect(reason(yield* Effect.exit(fresh.rollback))).toBe("NotStarted")
      yield* fresh.start
      expect(reason(yield* Effect.exit(fresh.start))).toBe("AlreadyStarted")
      yield* fresh.commit
      expect(reason(yield* Effect.exit(fresh.commit))).toBe("AlreadyCommitted")
      expect(reason(yield* Effect.exit(fresh.rollback))).toBe("AlreadyCommitted")
      expect(reason(yield* Effect.exit(fresh.start))).toBe("AlreadyCommitted")

      const rolled = yield* PgTransaction.make(conn)
      yield* rolled.start
      yield* rolled.rollback
      expect(reason(yield* Effect.exit(rolled.commit))).toBe("AlreadyRolledBack")
      expect(reason(yield* Effect.exit(rolled.rollback))).toBe("AlreadyRolledBack")

      // Nested manual misuse: committing the outer one while the inner savepoint is still open.
      yield* conn.execute("CREATE TEMP TABLE nest (a int)")
      const outer = yield* PgTransaction.make(conn)
      const inner = yield* PgTransaction.make(conn)
      yield* outer.start
      yield* inner.start
      yield* conn.execute("INSERT INTO nest VALUES (1)")
      expect(reason(yield* Effect.exit(outer.commit))).toBe("NestedOpen")
      expect(outer.state).toBe("started")
      yield* inner.commit
      yield* outer.commit
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM nest"))).toBe(1n)

      // Rolling back the outer one rolls back the open inner one too.
      const o2 = yield* PgTransaction.make(conn)
      const i2 = yield* PgTransaction.make(conn)
      yield* o2.start
      yield* i2.start
      yield* conn.execute("INSERT INTO nest VALUES (2)")
      yield* o2.rollback
      expect(i2.state).toBe("rolledBack")
      expect(reason(yield* Effect.exit(i2.commit))).toBe("AlreadyRolledBack")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM nest"))).toBe(1n)

      // A failed start.
      const bad = yield* PgTransaction.make(conn, { isolation: "nope" as unknown as PgTransaction.Isolation })
      expect(failureOf(yield* Effect.exit(bad.start))._tag).toBe("PgInterfaceError")
      expect(bad.state).toBe("failed")
      expect(reason(yield* Effect.exit(bad.commit))).toBe("Failed")
      expect(conn.transactionStatus).toBe("idle")
    }),
  )

  it.live("a manual transaction left open inside a managed one is rolled back with it (NestedOpen)", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE left_open (a int)")
      const exit = yield* Effect.exit(
        conn.transaction(
          Effect.gen(function* () {
            yield* conn.execute("INSERT INTO left_open VALUES (1)")
            const tr = yield* PgTransaction.make(conn)
            yield* tr.start
            yield* conn.execute("INSERT INTO left_open VALUES (2)")
          }),
        ),
      )
      const error = failureOf(exit)
      expect(error._tag === "PgTransactionError" && error.reason).toBe("NestedOpen")
      expect(conn.transactionStatus).toBe("idle")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM left_open"))).toBe(0n)
    }),
  )

  it.live("a started manual transaction belongs to its fiber: others wait, forked fibers join it", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE mex (a int)")
      const go = yield* Deferred.make<void>()
      // Forked before the start: not part of the transaction.
      const outsider = yield* Effect.forkChild(
        Effect.andThen(Deferred.await(go), Effect.map(conn.fetchVal("SELECT count(*) FROM mex"), Option.getOrThrow)),
      )
      const tr = yield* PgTransaction.make(conn)
      yield* tr.start
      yield* conn.execute("INSERT INTO mex VALUES (1)")
      // Forked after the start: carries the transaction.
      const child = yield* Effect.forkChild(Effect.map(conn.fetchVal("SELECT count(*) FROM mex"), Option.getOrThrow))
      expect(yield* Fiber.join(child)).toBe(1n)
      yield* Deferred.succeed(go, undefined)
      yield* Effect.sleep("100 millis")
      expect(outsider.pollUnsafe()).toBeUndefined()
      yield* conn.execute("INSERT INTO mex VALUES (2)")
      yield* tr.commit
      expect(yield* Fiber.join(outsider)).toBe(2n)
      expect(Option.isNone(yield* PgTransaction.current)).toBe(true)
    }),
  )
})

describe("scoped transactions", () => {
  it.live("commit when the scope closes successfully, roll back on failure or with rollbackOnly", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE sc (a int)")
      yield* Effect.scoped(
        Effect.gen(function* () {
          const level = yield* PgTransaction.scoped(conn)
          expect(level.depth).toBe(0)
          yield* conn.execute("INSERT INTO sc VALUES (1)")
        }),
      )
      yield* Effect.exit(
        Effect.scoped(
          Effect.gen(function* () {
            yield* PgTransaction.scoped(conn)
            yield* conn.execute("INSERT INTO sc VALUES (2)")
            return yield* Effect.fail("no")
          }),
        ),
      )
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* PgTransaction.scoped(conn, { rollbackOnly: true })
          yield* conn.execute("INSERT INTO sc VALUES (3)")
          // Nested: a savepoint.
          const inner = yield* conn.transaction(PgTransaction.current)
          expect(Option.getOrThrow(inner).depth).toBe(1)
        }),
      )
      expect((yield* conn.fetch("SELECT a FROM sc")).map((r) => r.a)).toEqual([1])
      expect(Option.isNone(yield* PgTransaction.current)).toBe(true)
    }),
  )
})
