/**
 * Prepared statements (`conn.prepare`): asyncpg's documented examples, every query method,
 * statement metadata, explain, schema changes, closing; and the statement cache's options.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Stream } from "effect"
import { connect } from "./support/connect.ts"
import { failureOf } from "./support/failure.ts"
import { connectInSchema } from "./support/schema.ts"

const statementNames = (conn: { fetch: (sql: string) => Effect.Effect<Array<{ get(k: string): unknown }>, unknown> }) =>
  Effect.map(conn.fetch("SELECT name FROM pg_prepared_statements ORDER BY name"), (rows) =>
    rows.map((r) => String(r.get("name"))),
  )

describe("asyncpg's prepared statement examples", () => {
  it.live("prepare once, run with different arguments: SELECT 2 ^ $1", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const stmt = yield* conn.prepare("SELECT 2 ^ $1")
      expect(Option.getOrThrow(yield* stmt.fetchVal([10]))).toBe(1024)
      expect(Option.getOrThrow(yield* stmt.fetchVal([20]))).toBe(1048576)
    }),
  )

  it.live("getParameters: SELECT ($1::int, $2::text)", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const stmt = yield* conn.prepare("SELECT ($1::int, $2::text)")
      expect(yield* stmt.getParameters()).toEqual([
        { oid: 23, name: "int4", kind: "scalar", schema: "pg_catalog" },
        { oid: 25, name: "text", kind: "scalar", schema: "pg_catalog" },
      ])
    }),
  )

  it.live("getAttributes: SELECT typname, typnamespace FROM pg_type", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const stmt = yield* conn.prepare("SELECT typname, typnamespace FROM pg_type")
      expect(yield* stmt.getAttributes()).toEqual([
        { name: "typname", type: { oid: 19, name: "name", kind: "scalar", schema: "pg_catalog" } },
        { name: "typnamespace", type: { oid: 26, name: "oid", kind: "scalar", schema: "pg_catalog" } },
      ])
    }),
  )

  it.live("getQuery: SELECT $1::int", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const stmt = yield* conn.prepare("SELECT $1::int")
      expect(stmt.getQuery()).toBe("SELECT $1::int")
    }),
  )

  it.live("getStatusMsg: CREATE TABLE mytab (a int)", () =>
    Effect.gen(function* () {
      const { conn } = yield* connectInSchema()
      const stmt = yield* conn.prepare("CREATE TABLE mytab (a int)")
      expect(stmt.getStatusMsg()).toBeUndefined()
      yield* stmt.fetch()
      expect(stmt.getStatusMsg()).toBe("CREATE TABLE")
    }),
  )

  it.live("the usage guide: fetchRow, fetchVal with column, fetch, executeMany, explain (with analyze)", () =>
    Effect.gen(function* () {
      const { conn } = yield* connectInSchema()
      yield* conn.execute(`
        CREATE TABLE users (id int PRIMARY KEY, name text, email text);
        CREATE TABLE logs (user_id int, action text);
        INSERT INTO users VALUES (1, 'Alice', 'alice@example.com'), (2, 'Andy', 'andy@example.com'),
                                 (3, 'Bob', 'bob@example.com')`)
      const stmt = yield* conn.prepare("SELECT * FROM users WHERE id = $1")
      expect(stmt.getQuery()).toBe("SELECT * FROM users WHERE id = $1")
      expect((yield* stmt.getParameters()).map((t) => t.name)).toEqual(["int4"])
      expect((yield* stmt.getAttributes()).map((a) => [a.name, a.type.name])).toEqual([
        ["id", "int4"],
        ["name", "text"],
        ["email", "text"],
      ])
      expect(Option.getOrThrow(yield* stmt.fetchRow([1])).name).toBe("Alice")
      expect(Option.getOrThrow(yield* stmt.fetchRow([2])).name).toBe("Andy")
      expect(Option.getOrThrow(yield* stmt.fetchVal([3], { column: 1 }))).toBe("Bob")

      const stmt2 = yield* conn.prepare("SELECT * FROM users WHERE name LIKE $1 ORDER BY id")
      expect((yield* stmt2.fetch(["A%"])).map((r) => r.name)).toEqual(["Alice", "Andy"])

      const stmt3 = yield* conn.prepare("INSERT INTO logs(user_id, action) VALUES($1, $2)")
      yield* stmt3.executeMany([
        [1, "login"],
        [1, "view_page"],
        [1, "logout"],
      ])
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM logs"))).toBe(3n)

      const stmt4 = yield* conn.prepare("SELECT * FROM users WHERE email = $1")
      const plan = (yield* stmt4.explain(["test@example.com"])) as Array<{ Plan: Record<string, unknown> }>
      expect(plan[0]!.Plan["Node Type"]).toBeDefined()
      expect(plan[0]!.Plan["Actual Rows"]).toBeUndefined()
      const analyzed = (yield* stmt4.explain(["alice@example.com"], { analyze: true })) as Array<{
        Plan: Record<string, unknown>
      }>
      expect(analyzed[0]!.Plan["Actual Rows"]).toBe(1)
    }),
  )

  it.live("a cursor from a prepared statement: SELECT generate_series(0, $1) with 10", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const stmt = yield* conn.prepare("SELECT generate_series(0, $1) AS n")
      const records = yield* conn.transaction(Stream.runCollect(stmt.cursor([10])))
      expect(records.map((r) => r.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
      const manual = yield* conn.transaction(
        Effect.scoped(
          Effect.gen(function* () {
            const cur = yield* stmt.openCursor([100])
            expect(yield* cur.forward(10)).toBe(10)
            return yield* cur.fetch(3)
          }),
        ),
      )
      expect(manual.map((r) => r.n)).toEqual([10, 11, 12])
    }),
  )
})

describe("prepared statements", () => {
  it.live("execute, fetch, fetchRow, fetchVal and fetchMany", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE ps (id int, label text)")
      const insert = yield* conn.prepare("INSERT INTO ps VALUES ($1, $2) RETURNING id * 10 AS ten")
      expect(yield* insert.execute([1, "one"])).toBe("INSERT 0 1")
      expect(insert.getStatusMsg()).toBe("INSERT 0 1")
      expect(
        (yield* insert.fetchMany([
          [2, "two"],
          [3, "three"],
        ])).map((rows) => rows.map((r) => r.ten)),
      ).toEqual([[20], [30]])
      const select = yield* conn.prepare("SELECT id, label FROM ps WHERE id >= $1 ORDER BY id")
      expect((yield* select.fetch([2])).map((r) => r.toObject())).toEqual([
        { id: 2, label: "two" },
        { id: 3, label: "three" },
      ])
      expect(select.getStatusMsg()).toBe("SELECT 2")
      expect(Option.isNone(yield* select.fetchRow([99]))).toBe(true)
      expect(yield* select.fetchVal([99])).toEqual(Option.none())
      expect(
        failureOf(yield* Effect.exit(Effect.map(select.fetchVal([1], { column: 7 }), Option.getOrThrow)))._tag,
      ).toBe("PgInterfaceError")
      expect(select.columns.map((c) => c.name)).toEqual(["id", "label"])
      expect(select.parameterTypeOids).toEqual([23])
    }),
  )

  it.live("bad arguments and bad SQL fail typed and the connection stays usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const bad = failureOf(yield* Effect.exit(conn.prepare("SELEC 1")))
      expect(bad._tag === "PgServerError" && bad.condition).toBe("syntax_error")
      const stmt = yield* conn.prepare("SELECT $1::int4 + 1")
      expect(
        failureOf(yield* Effect.exit(Effect.map(stmt.fetchVal([{ not: "a number" }]), Option.getOrThrow)))._tag,
      ).toBe("PgEncodeError")
      expect(failureOf(yield* Effect.exit(Effect.map(stmt.fetchVal([]), Option.getOrThrow)))._tag).toBe("PgEncodeError")
      expect(Option.getOrThrow(yield* stmt.fetchVal([1]))).toBe(2)
    }),
  )

  it.live("type kinds: arrays, composites, ranges, multiranges, enums, domains", () =>
    Effect.gen(function* () {
      const { conn, schema } = yield* connectInSchema()
      yield* conn.execute(`
        CREATE TYPE mood AS ENUM ('sad', 'happy');
        CREATE DOMAIN posint AS int CHECK (VALUE > 0);
        CREATE TYPE pair AS (a int, b text)`)
      const stmt = yield* conn.prepare(
        "SELECT $1::int[] AS arr, $2::pair AS comp, int4range(1, 5) AS rng, int4multirange(int4range(1, 2)) AS mr, 'sad'::mood AS e, 1::posint AS d",
      )
      const types = (yield* stmt.getAttributes()).map((a) => [a.name, a.type.name, a.type.kind, a.type.schema])
      expect(types).toEqual([
        ["arr", "_int4", "array", "pg_catalog"],
        ["comp", "pair", "composite", schema],
        ["rng", "int4range", "range", "pg_catalog"],
        ["mr", "int4multirange", "multirange", "pg_catalog"],
        ["e", "mood", "scalar", schema],
        // A domain column is described with its base type.
        ["d", "int4", "scalar", "pg_catalog"],
      ])
      expect((yield* stmt.getParameters()).map((t) => t.kind)).toEqual(["array", "composite"])
    }),
  )

  it.live("explain with analyze runs inside a rolled-back transaction (a savepoint inside one)", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE ex (a int)")
      const insert = yield* conn.prepare("INSERT INTO ex VALUES ($1)")
      const plan = (yield* insert.explain([1], { analyze: true })) as Array<{ Plan: Record<string, unknown> }>
      expect(plan[0]!.Plan["Node Type"]).toBe("ModifyTable")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM ex"))).toBe(0n)
      yield* conn.transaction(
        Effect.gen(function* () {
          yield* insert.execute([2])
          yield* insert.explain([3], { analyze: true })
          expect(conn.transactionStatus).toBe("transaction")
        }),
      )
      expect((yield* conn.fetch("SELECT a FROM ex")).map((r) => r.a)).toEqual([2])
    }),
  )

  it.live("a statement invalidated by DDL is re-prepared transparently outside a transaction", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE ddl1 (a int)")
      yield* conn.execute("INSERT INTO ddl1 VALUES (1)")
      const stmt = yield* conn.prepare("SELECT * FROM ddl1")
      expect((yield* stmt.fetch()).map((r) => r.toObject())).toEqual([{ a: 1 }])
      yield* conn.execute("ALTER TABLE ddl1 ADD COLUMN b text DEFAULT 'x'")
      expect((yield* stmt.fetch()).map((r) => r.toObject())).toEqual([{ a: 1, b: "x" }])
      expect((yield* stmt.getAttributes()).map((a) => a.name)).toEqual(["a", "b"])
    }),
  )

  it.live("inside a transaction an invalidated statement is a typed PgInvalidCachedStatementError", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE ddl2 (a int)")
      const stmt = yield* conn.prepare("SELECT * FROM ddl2")
      yield* stmt.fetch()
      yield* conn.fetch("SELECT * FROM ddl2") // the cached statement of conn.fetch
      yield* conn.execute("ALTER TABLE ddl2 ADD COLUMN b int")
      const viaStatement = yield* Effect.exit(conn.transaction(stmt.fetch()))
      const e1 = failureOf(viaStatement)
      expect(e1._tag).toBe("PgInvalidCachedStatementError")
      if (e1._tag === "PgInvalidCachedStatementError") expect(e1.cause.code).toBe("0A000")
      const viaCache = yield* Effect.exit(conn.transaction(conn.fetch("SELECT * FROM ddl2")))
      expect(failureOf(viaCache)._tag).toBe("PgInvalidCachedStatementError")
      // Rolled back: both work again.
      expect(conn.transactionStatus).toBe("idle")
      expect((yield* stmt.fetch()).length).toBe(0)
      expect((yield* conn.transaction(conn.fetch("SELECT * FROM ddl2"))).length).toBe(0)
    }),
  )

  it.live("closing: the server-side statement goes away; a closed statement fails typed", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const name = yield* Effect.scoped(
        Effect.gen(function* () {
          yield* conn.prepare("SELECT 42")
          const names = yield* statementNames(conn)
          expect(names.some((n) => n.startsWith("pgfx_s"))).toBe(true)
          return names.find((n) => n.startsWith("pgfx_s"))!
        }),
      )
      // Closed lazily, with the next preparation.
      Option.getOrThrow(yield* conn.fetchVal("SELECT 'next statement'"))
      expect(yield* statementNames(conn)).not.toContain(name)
      const stmt = yield* conn.prepare("SELECT 1")
      yield* stmt.close
      expect(failureOf(yield* Effect.exit(stmt.fetch()))._tag).toBe("PgInterfaceError")
    }),
  )

  it.live("a per-call timeout fails typed and the statement keeps working", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const stmt = yield* conn.prepare("SELECT pg_sleep($1)")
      expect(failureOf(yield* Effect.exit(stmt.execute([10], { timeout: "50 millis" })))._tag).toBe("PgTimeoutError")
      expect(yield* stmt.execute([0])).toBe("SELECT 1")
    }),
  )
})

describe("statement cache", () => {
  it.live("a cached statement invalidated by DDL is re-prepared on the same call outside a transaction", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE cddl (a int)")
      yield* conn.execute("INSERT INTO cddl VALUES (1)")
      expect((yield* conn.fetch("SELECT * FROM cddl")).length).toBe(1)
      yield* conn.execute("ALTER TABLE cddl ADD COLUMN b text DEFAULT 'x'")
      // Concurrent callers hit the stale statement together; every one of them succeeds.
      const results = yield* Effect.forEach([1, 2, 3], () => conn.fetch("SELECT * FROM cddl"), {
        concurrency: "unbounded",
      })
      for (const rows of results) expect(rows[0]!.toObject()).toEqual({ a: 1, b: "x" })
    }),
  )

  it.live("statement names are digests of the SQL: equal on every connection, different for other SQL", () =>
    Effect.gen(function* () {
      const a = yield* connect()
      const b = yield* connect()
      const names = (conn: typeof a) =>
        Effect.map(conn.fetch("SELECT name, statement FROM pg_prepared_statements ORDER BY statement"), (rows) =>
          rows.map((r) => [String(r.get("statement")), String(r.get("name"))] as const),
        )
      for (const conn of [a, b]) {
        Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int AS one", [1]))
        Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int AS two", [2]))
      }
      const [onA, onB] = [new Map(yield* names(a)), new Map(yield* names(b))]
      const one = onA.get("SELECT $1::int AS one")
      expect(one).toMatch(/^pgfx_[A-Za-z0-9_-]{22}$/)
      expect(onB.get("SELECT $1::int AS one")).toBe(one)
      expect(onA.get("SELECT $1::int AS two")).not.toBe(one)
    }),
  )

  // Outside a transaction: re-created in the call's own batch. Inside one: a typed error naming
  // the pooler option; later transactions on that connection re-create their statements.
  it.live("a statement the server lost (DEALLOCATE ALL) is recovered, or reported with a hint", () =>
    Effect.gen(function* () {
      const sql = "SELECT $1::int + 1"
      const conn = yield* connect()
      expect(Option.getOrThrow(yield* conn.fetchVal(sql, [1]))).toBe(2)
      yield* conn.execute("DEALLOCATE ALL")
      expect(Option.getOrThrow(yield* conn.fetchVal(sql, [2]))).toBe(3)
      expect(Option.getOrThrow(yield* conn.fetchVal(sql, [3]))).toBe(4)
      // A connection that first loses a statement inside a transaction.
      const fresh = yield* connect()
      expect(Option.getOrThrow(yield* fresh.fetchVal(sql, [1]))).toBe(2)
      const lose = fresh.transaction(
        Effect.gen(function* () {
          yield* fresh.execute("DEALLOCATE ALL")
          return Option.getOrThrow(yield* fresh.fetchVal(sql, [4]))
        }),
      )
      const error = failureOf(yield* Effect.exit(lose))
      expect(error._tag).toBe("PgInvalidCachedStatementError")
      if (error._tag === "PgInvalidCachedStatementError") expect(error.cause.code).toBe("26000")
      expect(error.message).toContain("namedStatements: false")
      expect(yield* lose).toBe(5)
    }),
  )

  it.live("maxCachedStatementLifetime: an old statement is prepared again on its next use", () =>
    Effect.gen(function* () {
      const conn = yield* connect({ maxCachedStatementLifetime: "200 millis" })
      const sql = "SELECT 1 + $1::int"
      // The name is the digest of the SQL, so a re-preparation shows in prepare_time.
      const prepared = Effect.map(
        conn.fetch("SELECT name, prepare_time::text AS at FROM pg_prepared_statements WHERE statement = $1", [sql]),
        (rows) => rows.map((r) => `${String(r.get("name"))} ${String(r.get("at"))}`),
      )
      Option.getOrThrow(yield* conn.fetchVal(sql, [1]))
      const before = yield* prepared
      expect(before).toHaveLength(1)
      Option.getOrThrow(yield* conn.fetchVal(sql, [1]))
      expect(yield* prepared).toEqual(before)
      yield* Effect.sleep("300 millis")
      Option.getOrThrow(yield* conn.fetchVal(sql, [1]))
      const after = yield* prepared
      expect(after).toHaveLength(1) // the expired statement was replaced, under the same name
      expect(after[0]!.split(" ")[0]).toBe(before[0]!.split(" ")[0])
      expect(after).not.toEqual(before)
    }),
  )

  it.live("maxCacheableStatementSize: longer SQL is never prepared under a name", () =>
    Effect.gen(function* () {
      const conn = yield* connect({ maxCacheableStatementSize: 40 })
      const long = `SELECT $1::int AS value /* ${"x".repeat(60)} */`
      expect(Option.getOrThrow(yield* conn.fetchVal(long, [5]))).toBe(5)
      expect(Option.getOrThrow(yield* conn.fetchVal(long, [6]))).toBe(6)
      const short = "SELECT $1::int"
      expect(Option.getOrThrow(yield* conn.fetchVal(short, [7]))).toBe(7)
      const statements = yield* conn.fetch("SELECT statement FROM pg_prepared_statements")
      expect(statements.map((r) => r.statement)).toContain(short)
      expect(statements.map((r) => r.statement)).not.toContain(long)
    }),
  )

  it.live("namedStatements: false (PgBouncer mode) prepares nothing by name and still works", () =>
    Effect.gen(function* () {
      const conn = yield* connect({ namedStatements: false })
      for (let i = 0; i < 3; i++) expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int * 2", [i]))).toBe(i * 2)
      const stmt = yield* conn.prepare("SELECT $1::text || '!'")
      expect(Option.getOrThrow(yield* stmt.fetchVal(["hi"]))).toBe("hi!")
      expect(yield* stmt.getParameters()).toEqual([{ oid: 25, name: "text", kind: "scalar", schema: "pg_catalog" }])
      yield* conn.execute("CREATE TEMP TABLE pb (a int)")
      yield* conn.executeMany("INSERT INTO pb VALUES ($1)", [[1], [2], [3]])
      const all = yield* conn.transaction(
        Stream.runCollect(conn.cursor("SELECT a FROM pb ORDER BY a", [], { prefetch: 2 })),
      )
      expect(all.map((r) => r.a)).toEqual([1, 2, 3])
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM pg_prepared_statements"))).toBe(0n)
    }),
  )

  it.live("namedStatements: false decodes with the fresh description after DDL, even inside a transaction", () =>
    Effect.gen(function* () {
      const conn = yield* connect({ namedStatements: false })
      yield* conn.execute("CREATE TEMP TABLE pbd (a int)")
      yield* conn.execute("INSERT INTO pbd VALUES (7)")
      expect((yield* conn.fetch("SELECT * FROM pbd"))[0]!.toObject()).toEqual({ a: 7 })
      expect((yield* conn.fetch("SELECT * FROM pbd WHERE a = $1", [7]))[0]!.toObject()).toEqual({ a: 7 })
      yield* conn.execute("ALTER TABLE pbd ALTER COLUMN a TYPE text")
      // The result changed type: decoded with the portal's fresh description, inside a transaction too.
      const rows = yield* conn.transaction(conn.fetch("SELECT * FROM pbd"))
      expect(rows[0]!.toObject()).toEqual({ a: "7" })
      yield* conn.execute("ALTER TABLE pbd ADD COLUMN b int DEFAULT 3")
      expect((yield* conn.fetch("SELECT * FROM pbd"))[0]!.toObject()).toEqual({ a: "7", b: 3 })
      // The parameter changed type: the server refuses the kept description once, typed; the next
      // call describes the statement afresh.
      const refused = failureOf(yield* Effect.exit(conn.fetch("SELECT * FROM pbd WHERE a = $1", ["7"])))
      expect(refused._tag).toBe("PgServerError")
      expect((yield* conn.fetch("SELECT * FROM pbd WHERE a = $1", ["7"]))[0]!.toObject()).toEqual({ a: "7", b: 3 })
    }),
  )
})
