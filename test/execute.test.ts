/**
 * Running queries: the simple protocol (several statements), the extended protocol with
 * parameters, every fetch form, records, errors followed by successful queries, pipelining,
 * timeouts, the statement cache.
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgError from "@pgfx/client/PgError"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option } from "effect"
import { connect, withAdmin } from "./support/connect.ts"
import { failureOf } from "./support/failure.ts"

describe("execute", () => {
  it.live("runs several statements and returns the last status", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const status = yield* conn.execute(`
        CREATE TEMP TABLE multi (a int);
        INSERT INTO multi VALUES (1), (2), (3)`)
      expect(status).toBe("INSERT 0 3")
      expect(yield* conn.execute("UPDATE multi SET a = a + 1 WHERE a > 1")).toBe("UPDATE 2")
      expect(yield* conn.execute("DELETE FROM multi; SELECT 1")).toBe("SELECT 1")
    }),
  )

  it.live("with parameters uses the extended protocol", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE params (a int, b text)")
      expect(yield* conn.execute("INSERT INTO params VALUES ($1, $2)", [1, "x"])).toBe("INSERT 0 1")
      expect(yield* conn.execute("INSERT INTO params SELECT g, $1 FROM generate_series(1, $2) g", ["y", 4])).toBe(
        "INSERT 0 4",
      )
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM params WHERE b = $1", ["y"]))).toBe(4n)
    }),
  )

  it.live("an empty query string returns an empty status", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      expect(yield* conn.execute("")).toBe("")
      expect(yield* conn.execute("  ;  ")).toBe("")
    }),
  )

  it.live("COPY FROM STDIN through execute is refused and the session stays usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE c (a int)")
      const error = failureOf(yield* Effect.exit(conn.execute("COPY c FROM STDIN")))
      expect(error._tag).toBe("PgServerError")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 7"))).toBe(7)
    }),
  )
})

describe("fetch forms", () => {
  it.live("fetch returns every row as a record", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const rows = yield* conn.fetch("SELECT g AS n, 'r' || g AS label FROM generate_series(1, $1) g", [3])
      expect(rows.length).toBe(3)
      expect(rows.map((r) => r.toObject())).toEqual([
        { n: 1, label: "r1" },
        { n: 2, label: "r2" },
        { n: 3, label: "r3" },
      ])
      const row = rows[1]!
      expect(row.n).toBe(2)
      expect(row[1]).toBe("r2")
      expect(row.get("label")).toBe("r2")
      expect(row.get(0)).toBe(2)
      expect(row.at(-1)).toBe("r2")
      expect(row.length).toBe(2)
      expect([...row]).toEqual([2, "r2"])
      expect(row.keys()).toEqual(["n", "label"])
      expect(row.entries()).toEqual([
        ["n", 2],
        ["label", "r2"],
      ])
      expect(row.columns.map((c) => [c.name, c.typeOid])).toEqual([
        ["n", 23],
        ["label", 25],
      ])
      expect(JSON.stringify(row)).toBe('{"n":2,"label":"r2"}')
    }),
  )

  it.live("records keep table metadata and handle odd column names", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute('CREATE TEMP TABLE meta (id int, "get" text, "two words" text)')
      yield* conn.execute("INSERT INTO meta VALUES (1, 'g', 'w')")
      const row = Option.getOrThrow(yield* conn.fetchRow('SELECT id, "get", "two words", 5 AS id FROM meta'))
      expect(row.columns[0]!.tableOid).toBeGreaterThan(0)
      expect(row.columns[0]!.columnAttribute).toBe(1)
      expect(row.get("get")).toBe("g")
      expect(row["two words"]).toBe("w")
      expect(row.id).toBe(1) // the first of duplicate names wins
      expect(row.at(3)).toBe(5)
    }),
  )

  it.live("fetchRow returns the first row, or none", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const some = yield* conn.fetchRow("SELECT g FROM generate_series(5, 10) g")
      expect(Option.map(some, (r) => r.g)).toEqual(Option.some(5))
      const none = yield* conn.fetchRow("SELECT 1 WHERE false")
      expect(Option.isNone(none)).toBe(true)
    }),
  )

  it.live("fetchVal returns one value, by column: None without rows, Some(null) for a NULL", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      expect(yield* conn.fetchVal("SELECT 1, 2, 3")).toEqual(Option.some(1))
      expect(yield* conn.fetchVal("SELECT 1, 2, 3", [], { column: 2 })).toEqual(Option.some(3))
      expect(yield* conn.fetchVal("SELECT 1 WHERE false")).toEqual(Option.none())
      expect(yield* conn.fetchVal("SELECT NULL::int")).toEqual(Option.some(null))
      const error = failureOf(
        yield* Effect.exit(Effect.map(conn.fetchVal("SELECT 1", [], { column: 5 }), Option.getOrThrow)),
      )
      expect(error._tag).toBe("PgInterfaceError")
    }),
  )

  it.live("fetch of a command without rows returns no rows", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE nr (a int)")
      expect(yield* conn.fetch("INSERT INTO nr VALUES ($1)", [1])).toEqual([])
      const returning = yield* conn.fetch("INSERT INTO nr VALUES ($1), ($2) RETURNING a", [2, 3])
      expect(returning.map((r) => r.a)).toEqual([2, 3])
    }),
  )
})

describe("errors", () => {
  it.live("a server error carries every field, and the next query works", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE uniq (id int CONSTRAINT uniq_pk PRIMARY KEY)")
      yield* conn.execute("INSERT INTO uniq VALUES (1)")
      const error = failureOf(yield* Effect.exit(conn.execute("INSERT INTO uniq VALUES ($1)", [1])))
      expect(error._tag).toBe("PgServerError")
      if (error._tag !== "PgServerError") return
      expect(error.code).toBe("23505")
      expect(error.condition).toBe("unique_violation")
      expect(error.conditionClass).toBe("integrity_constraint_violation")
      expect(error.severity).toBe("ERROR")
      expect(error.constraint).toBe("uniq_pk")
      expect(error.table).toBe("uniq")
      expect(error.detail).toContain("already exists")
      expect(error.query).toBe("INSERT INTO uniq VALUES ($1)")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM uniq"))).toBe(1n)
    }),
  )

  it.live("syntax errors carry a position, in both protocols", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const simple = failureOf(yield* Effect.exit(conn.execute("SELEC 1")))
      expect(simple._tag === "PgServerError" && simple.condition).toBe("syntax_error")
      expect(simple._tag === "PgServerError" && simple.position).toBe("1")
      const extended = failureOf(yield* Effect.exit(conn.fetch("SELECT $1 FROM nowhere_at_all", [1])))
      expect(extended._tag === "PgServerError" && extended.condition).toBe("undefined_table")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 'still fine'"))).toBe("still fine")
    }),
  )

  it.live("catchCondition recovers by condition name or SQLSTATE", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const byName = yield* conn
        .fetchVal("SELECT 1/0")
        .pipe(PgError.catchCondition("division_by_zero", () => Effect.succeed("recovered")))
      expect(byName).toBe("recovered")
      const byCode = yield* conn
        .fetchVal("SELECT 1/0")
        .pipe(PgError.catchCondition("22012", () => Effect.succeed("code")))
      expect(byCode).toBe("code")
      const other = yield* Effect.exit(
        conn.fetchVal("SELECT 1/0").pipe(PgError.catchCondition("unique_violation", () => Effect.succeed("no"))),
      )
      expect(Exit.isFailure(other)).toBe(true)
    }),
  )

  it.live("an unencodable parameter fails before sending; the connection stays usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const error = failureOf(
        yield* Effect.exit(
          Effect.map(conn.fetchVal("SELECT $1::int4 + $2::int4", [1, { not: "a number" }]), Option.getOrThrow),
        ),
      )
      expect(error._tag).toBe("PgEncodeError")
      if (error._tag !== "PgEncodeError") return
      expect(error.parameter).toBe(2)
      expect(error.typeName).toBe("int4")
      expect(error.actualType).toBe("Object")
      const count = failureOf(yield* Effect.exit(Effect.map(conn.fetchVal("SELECT $1::int4", []), Option.getOrThrow)))
      expect(count._tag).toBe("PgEncodeError")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int4 + $2::int4", [1, 2]))).toBe(3)
    }),
  )

  it.live("a failure inside a transaction leaves it failed until rollback", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("BEGIN")
      yield* Effect.exit(Effect.map(conn.fetchVal("SELECT 1/0"), Option.getOrThrow))
      const blocked = failureOf(yield* Effect.exit(Effect.map(conn.fetchVal("SELECT 1"), Option.getOrThrow)))
      expect(blocked._tag === "PgServerError" && blocked.condition).toBe("in_failed_sql_transaction")
      yield* conn.execute("ROLLBACK")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1"))).toBe(1)
    }),
  )
})

describe("pipelining and timeouts", () => {
  it.live("concurrent queries on one connection are answered in order; a failure stays local", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const results = yield* Effect.forEach(
        Array.from({ length: 200 }, (_, i) => i),
        (i) =>
          i % 37 === 5
            ? Effect.exit(Effect.map(conn.fetchVal("SELECT 1/0"), Option.getOrThrow)).pipe(
                Effect.map((e) => (Exit.isFailure(e) ? -1 : -2)),
              )
            : Effect.map(conn.fetchVal("SELECT $1::int4 * 2", [i]), Option.getOrThrow),
        { concurrency: "unbounded" },
      )
      results.forEach((r, i) => expect(r).toBe(i % 37 === 5 ? -1 : i * 2))
    }),
  )

  it.live("a timed-out query fails typed within a second and the connection stays usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const started = Date.now()
      const error = failureOf(yield* Effect.exit(conn.execute("SELECT pg_sleep(10)", [], { timeout: "50 millis" })))
      expect(error._tag).toBe("PgTimeoutError")
      expect(Date.now() - started).toBeLessThan(1_000)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1"))).toBe(1)
      // A timeout on the simple protocol too.
      const simple = failureOf(yield* Effect.exit(conn.execute("SELECT pg_sleep(10)", undefined, { timeout: 50 })))
      expect(simple._tag).toBe("PgTimeoutError")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 2"))).toBe(2)
    }),
  )

  it.live("a query interrupted inside a transaction leaves it failed, not committed", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE tx_int (a int)")
      yield* conn.execute("BEGIN")
      yield* conn.execute("INSERT INTO tx_int VALUES (1)")
      yield* Effect.exit(conn.execute("SELECT pg_sleep(10)", [], { timeout: "50 millis" }))
      expect(conn.transactionStatus).toBe("failed")
      yield* Effect.exit(conn.execute("COMMIT"))
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM tx_int"))).toBe(0n)
    }),
  )
})

describe("statement cache", () => {
  it.live("evicts beyond its size and closes evicted statements on the server", () =>
    Effect.gen(function* () {
      const conn = yield* connect({ statementCacheSize: 2 })
      for (let i = 0; i < 6; i++) Option.getOrThrow(yield* conn.fetchVal(`SELECT $1::int4 + ${i}`, [1]))
      const named = Option.getOrThrow(
        yield* conn.fetchVal("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'pgfx_%'"),
      )
      expect(Number(named)).toBeLessThanOrEqual(3)
    }),
  )

  it.live("size 0 uses only the unnamed statement, also under concurrency", () =>
    Effect.gen(function* () {
      const conn = yield* connect({ statementCacheSize: 0 })
      const results = yield* Effect.forEach(
        Array.from({ length: 50 }, (_, i) => i),
        (i) =>
          Effect.map(
            conn.fetchVal(i % 2 === 0 ? "SELECT $1::int4 + 1" : "SELECT $1::text || 'x'", [
              i % 2 === 0 ? i : String(i),
            ]),
            Option.getOrThrow,
          ),
        { concurrency: "unbounded" },
      )
      results.forEach((r, i) => expect(r).toBe(i % 2 === 0 ? i + 1 : `${i}x`))
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM pg_prepared_statements"))).toBe(0n)
    }),
  )

  it.live("a statement invalidated by DDL is re-prepared on the next call", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE ddl (a int)")
      yield* conn.execute("INSERT INTO ddl VALUES (1)")
      expect((yield* conn.fetch("SELECT * FROM ddl")).length).toBe(1)
      yield* conn.execute("ALTER TABLE ddl ADD COLUMN b text DEFAULT 'x'")
      // The cached plan's result type changed: the first call may fail, the next one works.
      const first = yield* Effect.exit(conn.fetch("SELECT * FROM ddl"))
      const rows = Exit.isSuccess(first) ? first.value : yield* conn.fetch("SELECT * FROM ddl")
      expect(rows[0]!.toObject()).toEqual({ a: 1, b: "x" })
    }),
  )
})

describe("observed from the server", () => {
  it.live("parameters are sent in binary and rows decoded from binary", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const [row] = yield* conn.fetch("SELECT $1::int8 AS big, $2::bytea AS bin", [2n ** 62n, new Uint8Array([0, 255])])
      expect(row!.big).toBe(2n ** 62n)
      expect(row!.bin).toEqual(new Uint8Array([0, 255]))
      expect(row!.columns.every((c) => c.format === 1)).toBe(true)
      const pid = conn.serverPid
      const app = yield* withAdmin((admin) =>
        Effect.map(
          admin.fetchVal("SELECT application_name FROM pg_stat_activity WHERE pid = $1", [pid]),
          Option.getOrThrow,
        ),
      )
      expect(app).toBe("")
    }),
  )
})

export type { PgConnection }
