/**
 * The drop-in promise: code written against `@effect/sql-pg` runs on pgfx by swapping one Layer.
 *
 * Every test below is one body run twice: against `@effect/sql-pg` (the reference, its latest
 * version) and against pgfx through `PgSqlClient.layer`. The bodies only ever ask for
 * `@effect/sql-pg`'s own `PgClient` tag and `effect/sql`'s `SqlClient`, as an application or a
 * library (drizzle-orm's Effect driver) written for `@effect/sql-pg` does. They cover the
 * behaviours `@effect/sql-pg`'s test suite and drizzle-orm's Effect Postgres integration tests
 * check, in our own words: statement helpers, every statement form (`unprepared`, `raw`,
 * `values`, `stream`, `withoutTransform`), name transforms, JSON, transactions and savepoints,
 * error reasons, LISTEN/NOTIFY, pool sizes, and the value types (pgfx with
 * `valueTypes: "effect-sql-pg"`).
 *
 * What does not apply, and why:
 * - `@effect/sql-pg`'s compile-only checks that `sql.json(v)` compiles to `$1` with a parameter
 *   typed jsonb (OID 3802): pgfx compiles it to `$1::jsonb` with the JSON text, so the compiled
 *   text differs by design; the value reaching the server is the same (round trips below).
 * - `PgClient.makeClient` (one connection, `acquireForStream`) and `multiplex`: `@effect/sql-pg`
 *   constructors and options with no pgfx counterpart (pgfx pipelines on a connection instead;
 *   docs/migrating.md maps the options).
 */
import { describe, expect, it } from "@effect/vitest"
import * as SqlPg from "@effect/sql-pg/PgClient"
import * as PgSqlClient from "@pgfx/sql/PgSqlClient"
import { Effect, Exit, Layer, Queue, Stream, String as Str } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { tcpOptions } from "./support/connect.ts"
import { failureOf } from "./support/failure.ts"
import { schemaConnect } from "./support/schema.ts"

interface Setup {
  /** The schema the connections use (search_path). */
  readonly schema: string
  /** camelCase in JavaScript, snake_case in SQL. */
  readonly transform?: boolean
  /** The pool's largest size. */
  readonly max?: number
}

type ClientLayer = Layer.Layer<SqlPg.PgClient | SqlClient, SqlError>

interface Implementation {
  readonly name: string
  readonly layer: (setup: Setup) => ClientLayer
}

const settings = (schema: string) => ({ search_path: `${schema}, public`, TimeZone: "UTC" })

const transforms = (setup: Setup) =>
  setup.transform ? { transformQueryNames: Str.camelToSnake, transformResultNames: Str.snakeToCamel } : {}

const implementations: ReadonlyArray<Implementation> = [
  {
    name: "@effect/sql-pg (reference)",
    layer: (setup) => {
      const o = tcpOptions()
      return SqlPg.layer({
        host: o.host as string,
        port: o.port as number,
        username: o.user,
        database: o.database,
        startupParameters: settings(setup.schema),
        maxConnections: setup.max,
        ...transforms(setup),
      })
    },
  },
  {
    name: "pgfx (PgSqlClient.layer)",
    layer: (setup) =>
      PgSqlClient.layer({
        ...tcpOptions(),
        serverSettings: settings(setup.schema),
        max: setup.max,
        valueTypes: "effect-sql-pg",
        ...transforms(setup),
      }),
  },
]

const reasonOf = (exit: Exit.Exit<unknown, unknown>) => (failureOf(exit) as SqlError).reason

for (const impl of implementations) {
  /** Runs `body` with the implementation's layer on a fresh schema. */
  const run = <A, E>(body: Effect.Effect<A, E, SqlPg.PgClient | SqlClient>, options: Omit<Setup, "schema"> = {}) =>
    Effect.gen(function* () {
      const { schema } = yield* schemaConnect()
      return yield* body.pipe(Effect.provide(impl.layer({ schema, ...options })))
    })

  describe(`drop-in for @effect/sql-pg: ${impl.name}`, () => {
    it.live("the PgClient tag and SqlClient are the same client; onDialect is pg", () =>
      run(
        Effect.gen(function* () {
          const sql = yield* SqlPg.PgClient
          expect(yield* SqlClient).toBe(sql)
          expect(sql[SqlPg.TypeId]).toBe(SqlPg.TypeId)
          expect(sql.onDialectOrElse({ pg: () => "pg", orElse: () => "other" })).toBe("pg")
        }),
      ),
    )

    it.live("insert, update, updateValues, in and and helpers against a table", () =>
      run(
        Effect.gen(function* () {
          const sql = yield* SqlPg.PgClient
          yield* sql`CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL, age int)`
          const inserted = yield* sql`INSERT INTO people ${sql.insert([
            { name: "Tim", age: 10 },
            { name: "John", age: 20 },
          ])} RETURNING id, name`
          expect(inserted).toEqual([
            { id: 1, name: "Tim" },
            { id: 2, name: "John" },
          ])
          yield* sql`UPDATE people SET ${sql.update({ age: 11 })} WHERE ${sql.in("id", [1])}`
          // VALUES parameters have no type context (the server types them text): strings, cast where used
          const updated = yield* sql`UPDATE people SET name = data.name FROM ${sql.updateValues(
            [{ id: "2", name: "Jon" }],
            "data",
          )} WHERE people.id = data.id::int RETURNING people.id, people.name`
          expect(updated).toEqual([{ id: 2, name: "Jon" }])
          expect(
            yield* sql`SELECT name, age FROM people WHERE ${sql.and([sql.in("name", ["Tim", "Nobody"]), sql`age > ${5}`])}`,
          ).toEqual([{ name: "Tim", age: 11 }])
          expect(yield* sql`SELECT * FROM people WHERE ${sql.in("id", [])}`).toEqual([])
        }),
      ),
    )

    it.live("unprepared returns the rows the server sends, whatever the text looks like", () =>
      run(
        Effect.gen(function* () {
          const sql = yield* SqlPg.PgClient
          expect(yield* sql.unsafe("/* c */ select 1 as x").unprepared).toEqual([{ x: 1 }])
          expect(yield* sql.unsafe("-- c\nselect 1 as x").unprepared).toEqual([{ x: 1 }])
          expect(yield* sql.unsafe("(select 1 as x) union all (select 2)").unprepared).toEqual([{ x: 1 }, { x: 2 }])
          yield* sql.unsafe("CREATE PROCEDURE answer(INOUT x int) LANGUAGE plpgsql AS $$ BEGIN x := 42; END $$")
            .unprepared
          expect(yield* sql.unsafe("call answer(null)").unprepared).toEqual([{ x: 42 }])
          expect(yield* sql.unsafe("select $1::int + 1 as y", [1]).unprepared).toEqual([{ y: 2 }])
          expect(yield* sql.unsafe("create table t (a int)").unprepared).toEqual([])
          expect(yield* sql.unsafe("/* c */ select 1 as x, 'a' as y").values).toEqual([[1, "a"]])
        }),
      ),
    )

    it.live("raw returns the result object: rows, command, affected-row count, fields", () =>
      run(
        Effect.gen(function* () {
          const sql = yield* SqlPg.PgClient
          yield* sql`CREATE TABLE t (id int, name text)`
          const insert = (yield* sql`INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')`.raw) as Record<string, unknown>
          expect(insert).toMatchObject({ command: "INSERT", rowCount: 3, rows: [] })
          const update = (yield* sql`UPDATE t SET name = 'x' WHERE id > ${1}`.raw) as Record<string, unknown>
          expect(update).toMatchObject({ command: "UPDATE", rowCount: 2 })
          const select = (yield* sql`SELECT id, name FROM t ORDER BY id LIMIT 2`.raw) as Record<string, unknown>
          expect(select).toMatchObject({
            command: "SELECT",
            rowCount: 2,
            rows: [
              { id: 1, name: "a" },
              { id: 2, name: "x" },
            ],
          })
          expect((select.fields as Array<{ name: string }>).map((f) => f.name)).toEqual(["id", "name"])
          const deleted = (yield* sql`DELETE FROM t`.raw) as Record<string, unknown>
          expect(deleted).toMatchObject({ command: "DELETE", rowCount: 3 })
          const ddl = (yield* sql`CREATE INDEX ON t (id)`.raw) as Record<string, unknown>
          expect(ddl).toMatchObject({ command: "CREATE", rowCount: 0, rows: [] })
        }),
      ),
    )

    it.live("values, stream and withoutTransform; result and query names transformed", () =>
      run(
        Effect.gen(function* () {
          const sql = yield* SqlPg.PgClient
          yield* sql`CREATE TABLE people (first_name text, meta jsonb)`
          yield* sql`INSERT INTO people ${sql.insert({ firstName: "Ada", meta: sql.json({ someKey: { innerKey: 1 } }) })}`
          expect(yield* sql`SELECT first_name, meta FROM people`).toEqual([
            { firstName: "Ada", meta: { someKey: { innerKey: 1 } } },
          ])
          expect(yield* sql`SELECT meta->'some_key' AS v FROM people`).toEqual([{ v: { innerKey: 1 } }])
          expect(yield* sql`SELECT first_name FROM people`.withoutTransform).toEqual([{ first_name: "Ada" }])
          expect(yield* sql`SELECT first_name, 2 AS n FROM people`.values).toEqual([["Ada", 2]])
          const streamed = yield* Stream.runCollect(sql`SELECT n AS row_number FROM generate_series(1, 120) n`.stream)
          expect(streamed.length).toBe(120)
          expect(streamed[119]).toEqual({ rowNumber: 120 })
        }),
        { transform: true },
      ),
    )

    it.live("json helper: a jsonb parameter, in a select and in a column", () =>
      run(
        Effect.gen(function* () {
          const sql = yield* SqlPg.PgClient
          expect(yield* sql`SELECT ${sql.json({ a: 1, b: [true, null, "x"] })} AS j`).toEqual([
            { j: { a: 1, b: [true, null, "x"] } },
          ])
          expect(yield* sql`SELECT ${sql.json("text")} AS j, ${sql.json(null)}::text AS n`).toEqual([
            { j: "text", n: null },
          ])
          expect(yield* sql`SELECT jsonb_typeof(${sql.json([1])}) AS t`).toEqual([{ t: "array" }])
        }),
      ),
    )

    it.live("transactions commit, roll back on failure, and nest as savepoints", () =>
      run(
        Effect.gen(function* () {
          const sql = yield* SqlPg.PgClient
          yield* sql`CREATE TABLE t (n int)`
          yield* sql.withTransaction(sql`INSERT INTO t VALUES (1)`)
          const failed = yield* Effect.exit(
            sql.withTransaction(Effect.andThen(sql`INSERT INTO t VALUES (2)`, Effect.fail("boom" as const))),
          )
          expect(Exit.isFailure(failed)).toBe(true)
          yield* sql.withTransaction(
            Effect.gen(function* () {
              yield* sql`INSERT INTO t VALUES (3)`
              yield* Effect.ignore(
                sql.withTransaction(Effect.andThen(sql`INSERT INTO t VALUES (4)`, Effect.fail("inner" as const))),
              )
              yield* sql.withTransaction(sql`INSERT INTO t VALUES (5)`)
            }),
          )
          expect(yield* sql`SELECT n FROM t ORDER BY n`).toEqual([{ n: 1 }, { n: 3 }, { n: 5 }])
          // a failed statement inside aborts the transaction; its COMMIT must not look like success
          const aborted = yield* Effect.exit(
            sql.withTransaction(Effect.andThen(Effect.ignore(sql`SELECT 1/0`), sql`SELECT 1`)),
          )
          expect(Exit.isFailure(aborted)).toBe(true)
        }),
      ),
    )

    it.live("errors carry effect/sql reasons; a unique violation names its constraint", () =>
      run(
        Effect.gen(function* () {
          const sql = yield* SqlPg.PgClient
          yield* sql`CREATE TABLE u (id int CONSTRAINT " u_pk " PRIMARY KEY, n int CHECK (n > 0))`
          yield* sql`INSERT INTO u VALUES (1, 1)`
          const unique = reasonOf(yield* Effect.exit(sql`INSERT INTO u VALUES (1, 1)`))
          expect(unique._tag).toBe("UniqueViolation")
          expect((unique as { constraint: string }).constraint).toBe("u_pk")
          expect(reasonOf(yield* Effect.exit(sql`INSERT INTO u VALUES (2, -1)`))._tag).toBe("ConstraintError")
          expect(reasonOf(yield* Effect.exit(sql`SELEC 1`))._tag).toBe("SqlSyntaxError")
          expect(reasonOf(yield* Effect.exit(sql.unsafe("SELEC 1").unprepared))._tag).toBe("SqlSyntaxError")
          expect(reasonOf(yield* Effect.exit(sql`SELECT 1/0`))._tag).toBe("UnknownError")
        }),
      ),
    )

    it.live("listen delivers notifications sent with notify", () =>
      run(
        Effect.gen(function* () {
          const sql = yield* SqlPg.PgClient
          const queue = yield* sql.listen("dropin_events")
          yield* sql.notify("dropin_events", "hello")
          const received = yield* Queue.take(queue).pipe(Effect.timeout("10 seconds"))
          expect(received).toMatchObject({ channel: "dropin_events", payload: "hello" })
          expect(typeof received.processId).toBe("number")
          const tooLong = yield* Effect.exit(sql.notify("x".repeat(64), ""))
          expect(Exit.isFailure(tooLong)).toBe(true)
        }).pipe(Effect.scoped),
      ),
    )

    it.live("a pool of one connection works (transactions wait for it)", () =>
      run(
        Effect.gen(function* () {
          const sql = yield* SqlPg.PgClient
          const pids = yield* Effect.all(
            Array.from({ length: 4 }, () => sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`),
            { concurrency: "unbounded" },
          )
          expect(new Set(pids.map((r) => r[0]!.pid)).size).toBe(1)
          expect(yield* sql.withTransaction(sql`SELECT 1 AS one`)).toEqual([{ one: 1 }])
        }),
        { max: 1 },
      ),
    )

    it.live("value types: integers, bigint, numeric, text, bool, bytea, uuid, timestamps as Date, dates as text", () =>
      run(
        Effect.gen(function* () {
          const sql = yield* SqlPg.PgClient
          const [row] = yield* sql`SELECT 1::int2 AS i2, 2::int4 AS i4, 9007199254740993::int8 AS i8,
            1.50::numeric AS num, 1.5::float8 AS f8, true AS b, 'x'::text AS t, '\\x0102'::bytea AS bytes,
            'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS id,
            '2024-01-02 03:04:05.678901+00'::timestamptz AS tz, '2024-01-02 03:04:05.678'::timestamp AS ts,
            '2024-01-02'::date AS d, ARRAY['2024-01-02 00:00:00+00'::timestamptz] AS tzs, NULL::int AS nothing`
          expect(row).toEqual({
            i2: 1,
            i4: 2,
            i8: 9007199254740993n,
            num: "1.50",
            f8: 1.5,
            b: true,
            t: "x",
            bytes: new Uint8Array([1, 2]),
            id: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            tz: new Date("2024-01-02T03:04:05.678Z"),
            ts: new Date("2024-01-02T03:04:05.678Z"),
            d: "2024-01-02",
            tzs: [new Date("2024-01-02T00:00:00Z")],
            nothing: null,
          })
          yield* sql`CREATE TABLE ev (at timestamptz, big int8)`
          const at = new Date("2030-05-06T07:08:09.123Z")
          yield* sql`INSERT INTO ev ${sql.insert({ at, big: 12345678901234567n })}`
          expect(yield* sql`SELECT at, big FROM ev WHERE at = ${at}`).toEqual([{ at, big: 12345678901234567n }])
        }),
      ),
    )
  })
}
