/**
 * Cursors: asyncpg's documented examples, prefetch batching, the explicit cursor's moves, and
 * cursors outside a transaction (an implicit transaction that holds the connection for the
 * cursor's lifetime and never leaves it in a bad state).
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Option, Stream } from "effect"
import { connect } from "./support/connect.ts"
import { failureOf } from "./support/failure.ts"

const portals = (conn: { fetchVal: (sql: string) => Effect.Effect<Option.Option<unknown>, unknown> }) =>
  Effect.map(conn.fetchVal("SELECT count(*) FROM pg_cursors WHERE name LIKE 'pgfx_c%'"), Option.getOrThrow)

describe("asyncpg's cursor examples", () => {
  it.live("iterate: SELECT generate_series(0, 100) inside a transaction", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const records = yield* conn.transaction(
        Stream.runCollect(conn.cursor("SELECT generate_series(0, 100) AS n")).pipe(
          Effect.tap(() =>
            Effect.gen(function* () {
              // The finished cursor's portal is closed; the transaction goes on.
              expect(yield* portals(conn)).toBe(0n)
              expect(conn.transactionStatus).toBe("transaction")
            }),
          ),
        ),
      )
      expect(records.map((r) => r.n)).toEqual(Array.from({ length: 101 }, (_, i) => i))
    }),
  )

  it.live("manual: forward 10, fetchRow, fetch 5 over generate_series(0, 100)", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.transaction(
        Effect.scoped(
          Effect.gen(function* () {
            const cur = yield* conn.openCursor("SELECT generate_series(0, 100) AS n")
            expect(yield* cur.forward(10)).toBe(10)
            expect(Option.getOrThrow(yield* cur.fetchRow()).n).toBe(10)
            expect((yield* cur.fetch(5)).map((r) => r.n)).toEqual([11, 12, 13, 14, 15])
            expect(cur.columns.map((c) => c.name)).toEqual(["n"])
          }),
        ),
      )
    }),
  )

  it.live("custom prefetch, and a cursor from a prepared statement (the usage guide)", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute(`
        CREATE TEMP TABLE users (id serial, name text, created_at date);
        INSERT INTO users (name, created_at)
          SELECT 'user ' || g, date '2023-12-01' + g FROM generate_series(1, 250) g`)
      const names = yield* conn.transaction(
        Effect.gen(function* () {
          const all = yield* Stream.runCollect(conn.cursor("SELECT * FROM users"))
          const batched = yield* Stream.runCollect(conn.cursor("SELECT * FROM users", [], { prefetch: 100 }))
          expect(batched.length).toBe(all.length)
          const stmt = yield* conn.prepare("SELECT * FROM users WHERE created_at > $1")
          return yield* Stream.runCollect(stmt.cursor([new Date(Date.UTC(2024, 0, 1))]))
        }).pipe(Effect.scoped),
      )
      expect(names.length).toBe(219)
      expect(names[0]!.name).toBe("user 32")
    }),
  )
})

describe("cursor streams", () => {
  it.live("fetch prefetch rows per round trip (default 50)", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const sizes = (prefetch?: number) =>
        conn
          .cursor("SELECT g FROM generate_series(1, 120) g", [], prefetch === undefined ? undefined : { prefetch })
          .pipe(
            Stream.chunks,
            Stream.map((chunk) => chunk.length),
            Stream.runCollect,
          )
      expect(yield* sizes()).toEqual([50, 50, 20])
      expect(yield* sizes(7)).toEqual([...Array.from({ length: 17 }, () => 7), 1])
      expect(yield* sizes(1000)).toEqual([120])
      const invalid = failureOf(yield* Effect.exit(Stream.runCollect(conn.cursor("SELECT 1", [], { prefetch: 0 }))))
      expect(invalid._tag).toBe("PgInterfaceError")
    }),
  )

  it.live("outside a transaction: works in an implicit transaction, then the connection is idle", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const seen: Array<string> = []
      const rows = yield* conn.cursor("SELECT g FROM generate_series(1, $1) g", [120]).pipe(
        Stream.tap(() => Effect.sync(() => seen.push(conn.transactionStatus))),
        Stream.runCollect,
      )
      expect(rows.length).toBe(120)
      expect(new Set(seen)).toEqual(new Set(["transaction"]))
      expect(conn.transactionStatus).toBe("idle")
      expect(yield* portals(conn)).toBe(0n)
    }),
  )

  it.live("a consumer that stops early, fails, or is interrupted leaves the connection idle and usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const sql = "SELECT g FROM generate_series(1, 1000000) g"
      const first = yield* conn.cursor(sql).pipe(Stream.take(3), Stream.runCollect)
      expect(first.map((r) => r.g)).toEqual([1, 2, 3])
      expect(conn.transactionStatus).toBe("idle")

      const failed = yield* Effect.exit(
        conn.cursor(sql).pipe(
          Stream.mapEffect((r) => ((r.g as number) > 75 ? Effect.fail("consumer gives up") : Effect.succeed(r))),
          Stream.runDrain,
        ),
      )
      expect(failureOf(failed)).toBe("consumer gives up")
      expect(conn.transactionStatus).toBe("idle")

      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.forkChild(
        conn.cursor(sql, [], { prefetch: 10 }).pipe(
          Stream.tap(() => Effect.andThen(Deferred.succeed(started, undefined), Effect.sleep("5 millis"))),
          Stream.runDrain,
        ),
      )
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      expect(conn.transactionStatus).toBe("idle")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 'usable'"))).toBe("usable")
    }),
  )

  it.live("a server error in the middle fails the stream typed; the implicit transaction is rolled back", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE cur_dml (a int)")
      const exit = yield* Effect.exit(
        conn.cursor("SELECT 1 / (60 - g) AS x FROM generate_series(1, 100) g", [], { prefetch: 10 }).pipe(
          Stream.mapEffect((row) => Effect.as(conn.execute("INSERT INTO cur_dml VALUES ($1)", [row.x]), row)),
          Stream.runCollect,
        ),
      )
      const error = failureOf(exit)
      expect(error._tag === "PgServerError" && error.condition).toBe("division_by_zero")
      expect(conn.transactionStatus).toBe("idle")
      // The consumer's own inserts ran inside the cursor's transaction: rolled back with it.
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM cur_dml"))).toBe(0n)
    }),
  )

  it.live("the consumer's own queries run inside the cursor's transaction and commit with it", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE cur_copy (a int)")
      yield* conn.cursor("SELECT g FROM generate_series(1, 30) g", [], { prefetch: 7 }).pipe(
        Stream.mapEffect((row) => conn.execute("INSERT INTO cur_copy VALUES ($1)", [row.g])),
        Stream.runDrain,
      )
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT sum(a) FROM cur_copy"))).toBe(465n)
    }),
  )

  it.live("while a cursor holds the connection, other fibers' queries wait for it", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE cur_wait (a int)")
      const reading = yield* Deferred.make<void>()
      const stream = yield* Effect.forkChild(
        conn.cursor("SELECT g FROM generate_series(1, 40) g", [], { prefetch: 10 }).pipe(
          Stream.mapEffect((row) =>
            Effect.gen(function* () {
              yield* conn.execute("INSERT INTO cur_wait VALUES ($1)", [row.g])
              yield* Deferred.succeed(reading, undefined)
              yield* Effect.sleep("3 millis")
            }),
          ),
          Stream.runDrain,
        ),
      )
      yield* Deferred.await(reading)
      // Had it interleaved, it would see the cursor's uncommitted inserts (same session) before the end.
      const count = Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM cur_wait"))
      expect(count).toBe(40n)
      yield* Fiber.join(stream)
    }),
  )

  it.live("a per-fetch timeout fails the stream typed and the connection recovers", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const exit = yield* Effect.exit(
        Stream.runDrain(
          conn.cursor("SELECT pg_sleep(0.02 * g) FROM generate_series(1, 100) g", [], {
            prefetch: 20,
            timeout: "100 millis",
          }),
        ),
      )
      expect(failureOf(exit)._tag).toBe("PgTimeoutError")
      expect(conn.transactionStatus).toBe("idle")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1"))).toBe(1)
    }),
  )

  it.live("a cached statement invalidated by DDL is re-prepared for a cursor outside a transaction", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE cur_ddl (a int); INSERT INTO cur_ddl VALUES (1), (2)")
      expect((yield* Stream.runCollect(conn.cursor("SELECT * FROM cur_ddl"))).length).toBe(2)
      yield* conn.execute("ALTER TABLE cur_ddl ADD COLUMN b text DEFAULT 'x'")
      const rows = yield* Stream.runCollect(conn.cursor("SELECT * FROM cur_ddl"))
      expect(rows.map((r) => r.toObject())).toEqual([
        { a: 1, b: "x" },
        { a: 2, b: "x" },
      ])
    }),
  )
})

describe("explicit cursors", () => {
  it.live("moves past the end: fewer rows, none, and forward counts what it skipped", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.transaction(
        Effect.scoped(
          Effect.gen(function* () {
            const cur = yield* conn.openCursor("SELECT g FROM generate_series(1, $1) g", [12])
            expect((yield* cur.fetch(5)).map((r) => r.g)).toEqual([1, 2, 3, 4, 5])
            expect(yield* cur.forward(4)).toBe(4)
            expect((yield* cur.fetch(10)).map((r) => r.g)).toEqual([10, 11, 12])
            expect(yield* cur.fetch(10)).toEqual([])
            expect(Option.isNone(yield* cur.fetchRow())).toBe(true)
            expect(yield* cur.forward(3)).toBe(0)
            const cur2 = yield* conn.openCursor("SELECT g FROM generate_series(1, 5) g")
            expect(yield* cur2.forward(100)).toBe(5)
            expect(yield* cur2.fetch(1)).toEqual([])
            expect(failureOf(yield* Effect.exit(cur2.fetch(0)))._tag).toBe("PgInterfaceError")
            expect(failureOf(yield* Effect.exit(cur2.forward(-1)))._tag).toBe("PgInterfaceError")
            expect(yield* portals(conn)).toBe(2n)
          }),
        ).pipe(
          // Closed with their scope; the transaction is still open.
          Effect.andThen(Effect.map(portals(conn), (n) => expect(n).toBe(0n))),
        ),
      )
    }),
  )

  it.live("a cursor of a transaction can be read from inside a nested transaction", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE cur_nested (a int)")
      const rows = yield* conn
        .transaction(
          Effect.scoped(
            Effect.gen(function* () {
              const cur = yield* conn.openCursor("SELECT g FROM generate_series(1, 10) g")
              const first = yield* conn.transaction(cur.fetch(3))
              yield* Effect.ignore(
                conn.transaction(Effect.andThen(cur.fetch(2), Effect.fail("roll back this savepoint"))),
              )
              return [...first, ...(yield* cur.fetch(100))]
            }),
          ),
        )
        .pipe(Effect.timeout("10 seconds"))
      expect(rows.map((r) => r.g)).toEqual([1, 2, 3, 6, 7, 8, 9, 10])
      // A stream outside a transaction whose consumer opens a transaction per row.
      yield* conn.cursor("SELECT g FROM generate_series(1, 6) g", [], { prefetch: 4 }).pipe(
        Stream.mapEffect((row) =>
          Effect.exit(
            conn.transaction(
              Effect.andThen(
                conn.execute("INSERT INTO cur_nested VALUES ($1)", [row.g]),
                (row.g as number) % 2 === 0 ? Effect.fail("odd rows only") : Effect.void,
              ),
            ),
          ),
        ),
        Stream.runDrain,
        Effect.timeout("10 seconds"),
      )
      expect((yield* conn.fetch("SELECT a FROM cur_nested ORDER BY a")).map((r) => r.a)).toEqual([1, 3, 5])
    }),
  )

  it.live("bind errors surface when the cursor is opened", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const exit = yield* Effect.exit(conn.transaction(Effect.scoped(conn.openCursor("SELECT 1 FROM no_such_table"))))
      expect((failureOf(exit) as { condition?: string }).condition).toBe("undefined_table")
      const enc = yield* Effect.exit(Effect.scoped(conn.openCursor("SELECT $1::int", [{ bad: true }])))
      expect(failureOf(enc)._tag).toBe("PgEncodeError")
      expect(conn.transactionStatus).toBe("idle")
    }),
  )

  it.live("outside a transaction: an implicit one for the cursor's scope, committed when it closes", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE cur_scope (a int)")
      yield* Effect.scoped(
        Effect.gen(function* () {
          const cur = yield* conn.openCursor("INSERT INTO cur_scope SELECT g FROM generate_series(1, 3) g RETURNING a")
          expect(conn.transactionStatus).toBe("transaction")
          expect((yield* cur.fetch(2)).map((r) => r.a)).toEqual([1, 2])
          // The opening fiber keeps using the connection, inside the cursor's transaction.
          expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM cur_scope"))).toBe(3n)
        }),
      )
      expect(conn.transactionStatus).toBe("idle")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM cur_scope"))).toBe(3n)
      const failed = yield* Effect.exit(
        Effect.scoped(
          Effect.gen(function* () {
            yield* conn.openCursor("INSERT INTO cur_scope VALUES (4) RETURNING a")
            return yield* Effect.fail("abandon")
          }),
        ),
      )
      expect(Exit.isFailure(failed)).toBe(true)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM cur_scope"))).toBe(3n)
    }),
  )
})
