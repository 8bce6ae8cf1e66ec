/**
 * The effect/sql adapter (`@pgfx/sql`) against the test cluster, porting a representative set of
 * @effect/sql-pg's behaviours: statements and helpers, transactions with savepoints, streams,
 * error reasons, SqlSchema / SqlResolver / SqlModel, and Migrator running migration files.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as PgClient from "@pgfx/client/PgClient"
import * as PgQuery from "@pgfx/client/PgQuery"
import * as PgSqlClient from "@pgfx/sql/PgSqlClient"
import { ConfigProvider, Effect, Exit, Layer, Option, Queue, Schema, Stream, String as Str } from "effect"
import { Model } from "effect/schema"
import * as Migrator from "effect/sql/Migrator"
import { fromFileSystem } from "effect/sql/MigratorFileSystem"
import { SqlClient } from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import * as SqlModel from "effect/sql/SqlModel"
import * as SqlResolver from "effect/sql/SqlResolver"
import * as SqlSchema from "effect/sql/SqlSchema"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { testCluster } from "./support/cluster.ts"
import { failureOf } from "./support/failure.ts"
import { poolOptions } from "./support/pool.ts"
import { schemaConnect } from "./support/schema.ts"

/** A fresh schema and an adapter layer whose connections use it. */
const withSql = <A, E>(
  body: Effect.Effect<A, E, SqlClient | PgClient.PgClient | PgSqlClient.PgSqlClient>,
  options: PgSqlClient.PgSqlClientOptions = {},
) =>
  Effect.gen(function* () {
    const { schema } = yield* schemaConnect()
    const layer = PgSqlClient.layer({ ...poolOptions({ serverSettings: { search_path: schema } }), ...options })
    return yield* body.pipe(Effect.provide(layer))
  })

const reasonOf = (exit: Exit.Exit<unknown, unknown>) => (failureOf(exit) as SqlError).reason

describe("@pgfx/sql statements", () => {
  it.live("insert, select, update helpers and values", () =>
    withSql(
      Effect.gen(function* () {
        const sql = yield* SqlClient
        expect(sql.driver).toBe("pgfx")
        yield* sql`CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL, age int)`
        const inserted = yield* sql`INSERT INTO people ${sql.insert([
          { name: "Tim", age: 10 },
          { name: "Bob", age: 20 },
        ])} RETURNING id, name`
        expect(inserted).toEqual([
          { id: 1, name: "Tim" },
          { id: 2, name: "Bob" },
        ])
        yield* sql`UPDATE people SET ${sql.update({ age: 11 })} WHERE ${sql.in("id", [1])}`
        // VALUES parameters have no context to infer a type from: PostgreSQL types them text, and
        // pgfx's text codec takes strings only (as asyncpg): send strings, cast where they are used.
        yield* sql`UPDATE people SET age = data.age::int FROM ${sql.updateValues([{ id: "2", age: "21" }], "data")} WHERE people.id = data.id::int`
        expect(yield* sql`SELECT name, age FROM ${sql("people")} ORDER BY id`).toEqual([
          { name: "Tim", age: 11 },
          { name: "Bob", age: 21 },
        ])
        expect(yield* sql`SELECT id, name FROM people ORDER BY id`.values).toEqual([
          [1, "Tim"],
          [2, "Bob"],
        ])
        // unsafe text without parameters may hold several statements (simple protocol)
        yield* sql.unsafe("CREATE TABLE a (x int); CREATE TABLE b (y int)").unprepared
        expect(yield* sql`SELECT count(*)::int AS n FROM a`).toEqual([{ n: 0 }])
        const evil = "'; DROP TABLE people; --"
        yield* sql`INSERT INTO people ${sql.insert({ name: evil })}`
        expect(yield* sql`SELECT name FROM people WHERE name = ${evil}`).toEqual([{ name: evil }])
      }),
    ),
  )

  it.live("layerConfig reads DATABASE_URL / PG* through the ConfigProvider; a bad value is a ConfigError", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const env = { PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGDATABASE: pg.database }
      const program = Effect.gen(function* () {
        const sql = yield* SqlClient
        return yield* sql`SELECT current_user AS u`
      })
      const rows = yield* program.pipe(
        Effect.provide(PgSqlClient.layerConfig()),
        Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromUnknown(env)),
      )
      expect(rows).toEqual([{ u: pg.user }])
      const bad = yield* Effect.exit(
        program.pipe(
          Effect.provide(PgSqlClient.layerConfig()),
          Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromUnknown({ ...env, PGPORT: "nope" })),
        ),
      )
      expect(failureOf(bad)._tag).toBe("ConfigError")
      const unreachable = yield* Effect.exit(
        program.pipe(
          Effect.provide(PgSqlClient.layerConfig()),
          Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromUnknown({ ...env, PGPORT: "1" })),
        ),
      )
      expect(reasonOf(unreachable)._tag).toBe("ConnectionError")
    }),
  )

  it.live("transformed names (camelCase <-> snake_case)", () =>
    withSql(
      Effect.gen(function* () {
        const sql = yield* SqlClient
        yield* sql`CREATE TABLE people (first_name text)`
        yield* sql`INSERT INTO people ${sql.insert({ firstName: "Ada" })}`
        expect(yield* sql`SELECT first_name FROM people`).toEqual([{ firstName: "Ada" }])
      }),
      { transformQueryNames: Str.camelToSnake, transformResultNames: Str.snakeToCamel },
    ),
  )

  it.live("streams read through a cursor", () =>
    withSql(
      Effect.gen(function* () {
        const sql = yield* SqlClient
        const rows = yield* Stream.runCollect(sql`SELECT generate_series(1, 120) AS n`.stream)
        expect(rows.length).toBe(120)
        expect(rows[119]).toEqual({ n: 120 })
        const firstThree = yield* Stream.runCollect(Stream.take(sql`SELECT generate_series(1, 1000000) AS n`.stream, 3))
        expect(Array.from(firstThree)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }])
      }),
      { streamPrefetch: 7 },
    ),
  )

  it.live("errors map to SqlError reasons", () =>
    withSql(
      Effect.gen(function* () {
        const sql = yield* SqlClient
        yield* sql`CREATE TABLE u (id int CONSTRAINT u_pk PRIMARY KEY, n int CHECK (n > 0))`
        yield* sql`INSERT INTO u VALUES (1, 1)`
        const unique = reasonOf(yield* Effect.exit(sql`INSERT INTO u VALUES (1, 1)`))
        expect(unique._tag).toBe("UniqueViolation")
        expect((unique as { constraint: string }).constraint).toBe("u_pk")
        expect(reasonOf(yield* Effect.exit(sql`INSERT INTO u VALUES (2, -1)`))._tag).toBe("ConstraintError")
        expect(reasonOf(yield* Effect.exit(sql`SELEC 1`))._tag).toBe("SqlSyntaxError")
        expect(reasonOf(yield* Effect.exit(sql`SELECT 1/0`))._tag).toBe("UnknownError")
        const timeout = reasonOf(
          yield* Effect.exit(
            sql`SET statement_timeout = 50`.pipe(Effect.andThen(sql`SELECT pg_sleep(5)`), sql.withTransaction),
          ),
        )
        expect(timeout._tag).toBe("StatementTimeoutError")
        expect(timeout.isRetryable).toBe(true)
        expect(yield* sql`SELECT 1 AS ok`).toEqual([{ ok: 1 }])
      }),
    ),
  )
})

describe("@pgfx/sql transactions", () => {
  it.live("commit, rollback on failure, nested savepoints", () =>
    withSql(
      Effect.gen(function* () {
        const sql = yield* SqlClient
        yield* sql`CREATE TABLE t (v text)`
        yield* sql.withTransaction(sql`INSERT INTO t VALUES ('committed')`)
        const failed = yield* Effect.exit(
          sql.withTransaction(Effect.andThen(sql`INSERT INTO t VALUES ('rolled back')`, Effect.fail("boom"))),
        )
        expect(failureOf(failed)).toBe("boom")
        yield* sql.withTransaction(
          Effect.gen(function* () {
            yield* sql`INSERT INTO t VALUES ('outer')`
            yield* Effect.ignore(
              sql.withTransaction(
                Effect.andThen(sql`INSERT INTO t VALUES ('inner, rolled back')`, Effect.fail("inner")),
              ),
            )
            yield* sql.withTransaction(sql`INSERT INTO t VALUES ('inner, released')`)
            const inTx =
              yield* sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = pg_backend_pid() AND xact_start IS NOT NULL`
            expect(inTx).toEqual([{ n: 1 }])
          }),
        )
        expect((yield* sql`SELECT v FROM t ORDER BY v`).map((r) => r["v"])).toEqual([
          "committed",
          "inner, released",
          "outer",
        ])
      }),
    ),
  )

  it.live("a transaction the server aborted is not reported as committed", () =>
    withSql(
      Effect.gen(function* () {
        const sql = yield* SqlClient
        yield* sql`CREATE TABLE t (v int PRIMARY KEY)`
        const exit = yield* Effect.exit(
          sql.withTransaction(
            Effect.gen(function* () {
              yield* sql`INSERT INTO t VALUES (1)`
              yield* Effect.ignore(sql`INSERT INTO t VALUES (1)`)
            }),
          ),
        )
        expect(Exit.isFailure(exit)).toBe(true)
        expect(yield* sql`SELECT count(*)::int AS n FROM t`).toEqual([{ n: 0 }])
      }),
    ),
  )

  it.live("pgfx's PgClient and PgQuery inside an effect/sql transaction use its connection", () =>
    withSql(
      Effect.gen(function* () {
        const sql = yield* SqlClient
        yield* sql`CREATE TABLE t (v int)`
        const count = PgQuery.make({
          sql: "SELECT count(*)::int AS n FROM t",
          row: Schema.Struct({ n: Schema.Number }),
        })
        const failed = yield* Effect.exit(
          sql.withTransaction(
            Effect.gen(function* () {
              yield* sql`INSERT INTO t VALUES (1)`
              yield* PgClient.execute("INSERT INTO t VALUES ($1)", [2])
              // Both rows are visible only on the transaction's connection.
              expect(yield* count.one()).toEqual({ n: 2 })
              const pids = yield* Effect.all([
                sql`SELECT pg_backend_pid() AS pid`,
                Effect.map(PgClient.fetchVal("SELECT pg_backend_pid()"), Option.getOrThrow),
              ])
              expect(pids[0][0]!["pid"]).toBe(pids[1])
              return yield* Effect.fail("roll back")
            }),
          ),
        )
        expect(failureOf(failed)).toBe("roll back")
        expect(yield* count.one()).toEqual({ n: 0 })
      }),
    ),
  )

  it.live("notify inside a transaction is delivered when it commits, never on rollback", () =>
    withSql(
      Effect.gen(function* () {
        const sql = yield* PgSqlClient.SqlPgClient
        const queue = yield* sql.listen("tx_events")
        yield* Effect.ignore(
          sql.withTransaction(Effect.andThen(sql.notify("tx_events", "rolled back"), Effect.fail("no" as const))),
        )
        yield* sql.withTransaction(
          Effect.gen(function* () {
            yield* sql.notify("tx_events", "committed")
            // not delivered before COMMIT
            expect(Option.isNone(yield* Queue.poll(queue).pipe(Effect.delay("200 millis")))).toBe(true)
          }),
        )
        const first = yield* Queue.take(queue).pipe(Effect.timeout("10 seconds"))
        expect(first.payload).toBe("committed")
      }).pipe(Effect.scoped),
    ),
  )

  it.live("streams inside a transaction use its connection", () =>
    withSql(
      Effect.gen(function* () {
        const sql = yield* SqlClient
        yield* sql`CREATE TABLE t (v int)`
        const seen = yield* sql.withTransaction(
          Effect.andThen(
            sql`INSERT INTO t SELECT generate_series(1, 5)`,
            Stream.runCollect(sql`SELECT v FROM t`.stream),
          ),
        )
        expect(seen.length).toBe(5)
      }),
    ),
  )
})

describe("SqlSchema, SqlResolver, SqlModel", () => {
  class Person extends Model.Class<Person>("Person")({
    id: Model.Field({ select: Schema.Number, update: Schema.Number, json: Schema.Number }),
    name: Schema.String,
    age: Schema.NullOr(Schema.Number),
  }) {}

  it.live("SqlSchema.findAll / findOneOption and SqlResolver.findById", () =>
    withSql(
      Effect.gen(function* () {
        const sql = yield* SqlClient
        yield* sql`CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL, age int)`
        yield* sql`INSERT INTO people ${sql.insert([
          { name: "a", age: 1 },
          { name: "b", age: null },
        ])}`
        const Row = Schema.Struct({ id: Schema.Number, name: Schema.String, age: Schema.NullOr(Schema.Number) })
        const byName = SqlSchema.findAll({
          Request: Schema.String,
          Result: Row,
          execute: (name) => sql`SELECT * FROM people WHERE name = ${name}`,
        })
        expect(yield* byName("b")).toEqual([{ id: 2, name: "b", age: null }])
        const one = SqlSchema.findOneOption({
          Request: Schema.Number,
          Result: Row,
          execute: (id) => sql`SELECT * FROM people WHERE id = ${id}`,
        })
        expect(yield* one(3)).toEqual(Option.none())
        const resolver = SqlResolver.findById({
          Id: Schema.Number,
          Result: Row,
          ResultId: (row) => row.id,
          execute: (ids) => sql`SELECT * FROM people WHERE ${sql.in("id", ids)}`,
        })
        const load = SqlResolver.request(resolver)
        const both = yield* Effect.all([load(1), load(2)], { concurrency: "unbounded" })
        expect(both.map((p) => p.name)).toEqual(["a", "b"])
      }),
    ),
  )

  it.live("SqlModel.makeRepository", () =>
    withSql(
      Effect.gen(function* () {
        const sql = yield* SqlClient
        yield* sql`CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL, age int)`
        const repo = yield* SqlModel.makeRepository(Person, {
          tableName: "people",
          spanPrefix: "People",
          idColumn: "id",
        })
        const ada = yield* repo.insert(Person.insert.make({ name: "ada", age: 36 }))
        expect(ada.id).toBe(1)
        yield* repo.update(Person.update.make({ id: 1, name: "ada lovelace", age: 37 }))
        const found = yield* repo.findById(1)
        expect(found.name).toBe("ada lovelace")
        yield* repo.delete(1)
        expect(Exit.isFailure(yield* Effect.exit(repo.findById(1)))).toBe(true)
      }),
    ),
  )
})

describe("Migrator", () => {
  it.live("runs file-based migrations from a directory once, in order", () =>
    Effect.gen(function* () {
      const root = path.resolve(import.meta.dirname, "..")
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgfx-migrations-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
      // The migration files import `effect` like an application's would.
      fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"))
      const migrations = path.join(dir, "migrations")
      fs.mkdirSync(migrations)
      const file = (name: string, statement: string) =>
        fs.writeFileSync(
          path.join(migrations, name),
          `import { Effect } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
export default Effect.gen(function* () {
  const sql = yield* SqlClient
  yield* sql.unsafe(${JSON.stringify(statement)})
})
`,
        )
      file("0001_create_people.ts", "CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL)")
      file("0002_add_age.ts", "ALTER TABLE people ADD COLUMN age int")
      const run = Migrator.make({})({ loader: fromFileSystem(migrations) })
      yield* withSql(
        Effect.gen(function* () {
          const sql = yield* SqlClient
          expect(yield* run).toEqual([
            [1, "create_people"],
            [2, "add_age"],
          ])
          expect(yield* run).toEqual([])
          file("0003_index.ts", "CREATE INDEX people_name ON people (name)")
          expect(yield* run).toEqual([[3, "index"]])
          const applied = yield* sql`SELECT migration_id, name FROM effect_sql_migrations ORDER BY migration_id`
          expect(applied).toEqual(
            [
              { migrationId: 1, name: "create_people" },
              { migrationId: 2, name: "add_age" },
              { migrationId: 3, name: "index" },
            ].map(({ migrationId, name }) => ({ migration_id: migrationId, name })),
          )
          yield* sql`INSERT INTO people ${sql.insert({ name: "x", age: 1 })}`
        }).pipe(Effect.provide(Layer.mergeAll(NodeServices.layer))),
      )
    }),
  )
})
