/**
 * Typed queries (`PgQuery`): a round trip through a table with every common column type, the
 * check against the server's description (each kind of mismatch, all listed at once), nullable
 * columns as Option or `| null`, schema failures, and running through PgClient.
 */
import { describe, expect, it } from "@effect/vitest"
import * as PgClient from "@pgfx/client/PgClient"
import * as PgCurrentConnection from "@pgfx/client/PgCurrentConnection"
import * as PgQuery from "@pgfx/client/PgQuery"
import * as PgSchema from "@pgfx/client/PgSchema"
import { Effect, Exit, Layer, Option, Schema, Stream } from "effect"
import { failureOf } from "./support/failure.ts"
import { poolOptions } from "./support/pool.ts"
import { schemaConnect } from "./support/schema.ts"

const createTable = `CREATE TABLE everything (
  id int4 PRIMARY KEY,
  flag bool NOT NULL,
  small int2 NOT NULL,
  big int8 NOT NULL,
  ratio float8 NOT NULL,
  price numeric(10, 2) NOT NULL,
  label text NOT NULL,
  code varchar(8) NOT NULL,
  uid uuid NOT NULL,
  blob bytea NOT NULL,
  day date NOT NULL,
  at timestamptz NOT NULL,
  doc jsonb NOT NULL,
  tags text[] NOT NULL,
  scores int4[] NOT NULL,
  note text,
  maybe_at timestamptz
)`

const Everything = Schema.Struct({
  id: Schema.Number,
  flag: Schema.Boolean,
  small: Schema.Number,
  big: Schema.BigInt,
  ratio: Schema.Number,
  price: Schema.String,
  label: Schema.String,
  code: Schema.String,
  uid: Schema.String,
  blob: Schema.Uint8Array,
  day: PgSchema.CalendarDate,
  at: PgSchema.DateFromTimestamp,
  doc: Schema.Struct({ k: Schema.Array(Schema.Number) }),
  tags: Schema.Array(Schema.String),
  scores: Schema.Array(Schema.Number),
  note: Schema.OptionFromNullOr(Schema.String),
  maybe_at: Schema.NullOr(PgSchema.DateFromTimestamp),
})

const insertEverything = PgQuery.make({
  name: "insertEverything",
  sql: `INSERT INTO everything VALUES (:id, :flag, :small, :big, :ratio, :price, :label, :code, :uid, :blob,
        :day, :at, :doc, :tags, :scores, :note, :maybe_at)`,
  params: Everything,
})

const selectEverything = PgQuery.make({
  name: "selectEverything",
  sql: "SELECT * FROM everything WHERE id >= $1 ORDER BY id",
  params: Schema.Tuple([Schema.Number]),
  row: Everything,
})

describe("typed query round trip", () => {
  it.live("every common column type, named parameters in, domain values out", () =>
    Effect.gen(function* () {
      const { conn } = yield* schemaConnect()
      yield* conn.execute(createTable)
      const { PgDate } = yield* Effect.promise(() => import("@pgfx/types/PgDate"))
      const row1 = {
        id: 1,
        flag: true,
        small: -3,
        big: 9007199254740993n,
        ratio: 0.25,
        price: "12.50",
        label: 'it\'s "quoted"',
        code: "ab",
        uid: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        blob: new Uint8Array([0, 1, 255]),
        day: PgDate.make(2024, 2, 29),
        at: new Date("2024-05-06T07:08:09.123Z"),
        doc: { k: [1, 2] },
        tags: ["a", "b"],
        scores: [3, 4],
        note: Option.some("n"),
        maybe_at: null,
      }
      const row2 = { ...row1, id: 2, note: Option.none(), maybe_at: new Date(0), tags: [], scores: [] }
      const runner = insertEverything.on(conn)
      expect(yield* runner.execute(row1)).toBe("INSERT 0 1")
      expect(yield* runner.execute(row2)).toBe("INSERT 0 1")

      const select = selectEverything.on(conn)
      const all = yield* select.all([0])
      expect(all).toEqual([row1, row2])
      expect(yield* select.one([2])).toEqual(row2)
      expect(yield* select.option([3])).toEqual(Option.none())
      expect(Array.from(yield* Stream.runCollect(select.stream([0], { prefetch: 1 })))).toEqual([row1, row2])
      const none = failureOf(yield* Effect.exit(select.one([3])))
      expect(none._tag).toBe("PgNoRowError")
    }),
  )

  it.live("columns named like PgRecord members or not plain identifiers decode by name too", () =>
    Effect.gen(function* () {
      const { conn } = yield* schemaConnect()
      const q = PgQuery.make({
        sql: `SELECT 1 AS values, 2 AS length, 3 AS "get", 4 AS "two words", 5 AS plain`,
        row: Schema.Struct({
          values: Schema.Number,
          length: Schema.Number,
          get: Schema.Number,
          "two words": Schema.Number,
          plain: Schema.Number,
        }),
      })
      expect(yield* q.on(conn).one()).toEqual({ values: 1, length: 2, get: 3, "two words": 4, plain: 5 })
      const plain = PgQuery.make({
        sql: "SELECT 1 AS a, 'x' AS b",
        row: Schema.Struct({ a: Schema.Number, b: Schema.String }),
      })
      const row = yield* plain.on(conn).one()
      expect(row).toEqual({ a: 1, b: "x" })
      expect(Object.getPrototypeOf(row)).toBe(Object.prototype)
    }),
  )

  it.live("through PgClient in context and bound to a client", () =>
    Effect.gen(function* () {
      const { conn, schema } = yield* schemaConnect()
      yield* conn.execute("CREATE TABLE kv (k text PRIMARY KEY, v int4)")
      yield* conn.execute("INSERT INTO kv VALUES ('a', 1), ('b', NULL)")
      const client = yield* PgClient.make(poolOptions({ serverSettings: { search_path: schema } }))
      const q = PgQuery.make({
        sql: "SELECT k, v FROM kv WHERE k = :k",
        params: Schema.Struct({ k: Schema.String }),
        row: Schema.Struct({ k: Schema.String, v: Schema.NullOr(Schema.Number) }),
      })
      const viaContext = yield* q.all({ k: "b" }).pipe(Effect.provideService(PgClient.PgClient, client))
      expect(viaContext).toEqual([{ k: "b", v: null }])
      expect(yield* q.on(client).one({ k: "a" })).toEqual({ k: "a", v: 1 })
      const streamed = yield* Stream.runCollect(q.on(client).stream({ k: "a" }))
      expect(Array.from(streamed)).toEqual([{ k: "a", v: 1 }])
      yield* PgQuery.check(q).pipe(Effect.provideService(PgClient.PgClient, client))
      const bad = PgQuery.make({ sql: "SELECT k FROM kv", row: Schema.Struct({ k: Schema.Number }) })
      const started = yield* Effect.exit(
        Layer.build(PgQuery.layerCheck([q, bad])).pipe(Effect.scoped, Effect.provideService(PgClient.PgClient, client)),
      )
      expect(failureOf(started)._tag).toBe("PgQueryMismatchError")
    }),
  )
})

describe("typed queries on a client's current connection", () => {
  it.live("the first-run check uses the current connection (a one-connection pool does not deadlock)", () =>
    Effect.gen(function* () {
      const client = yield* PgClient.make(poolOptions({ max: 1 }))
      const q = PgQuery.make({
        sql: "SELECT pg_backend_pid() AS pid",
        row: Schema.Struct({ pid: Schema.Number }),
      })
      const conn = yield* client.acquire()
      const pid = Option.getOrThrow(yield* conn.fetchVal("SELECT pg_backend_pid()"))
      const row = yield* q.on(client).one().pipe(PgCurrentConnection.provide(conn), Effect.timeout("20 seconds"))
      expect(row).toEqual({ pid })
    }),
  )
})

describe("checking declarations against the server", () => {
  const setup = Effect.gen(function* () {
    const { conn } = yield* schemaConnect()
    yield* conn.execute("CREATE TABLE users (id int4 PRIMARY KEY, name text NOT NULL, email text, age int4)")
    yield* conn.execute("INSERT INTO users VALUES (1, 'ada', NULL, 36)")
    return conn
  })

  const mismatch = (exit: Exit.Exit<unknown, unknown>) => {
    const error = failureOf(exit) as PgQuery.PgQueryMismatchError
    expect(error._tag).toBe("PgQueryMismatchError")
    return error
  }

  it.live("a matching declaration passes, on first run and on demand", () =>
    Effect.gen(function* () {
      const conn = yield* setup
      const q = PgQuery.make({
        sql: "SELECT id, name, email FROM users WHERE id = $1",
        params: Schema.Tuple([Schema.Number]),
        row: Schema.Struct({ id: Schema.Number, name: Schema.String, email: Schema.NullOr(Schema.String) }),
      })
      yield* q.checkOn(conn)
      expect(yield* q.on(conn).one([1])).toEqual({ id: 1, name: "ada", email: null })
    }),
  )

  it.live("parameter count and type", () =>
    Effect.gen(function* () {
      const conn = yield* setup
      const count = PgQuery.make({
        sql: "SELECT id FROM users WHERE id = $1 AND name = $2",
        params: Schema.Tuple([Schema.Number]),
        row: Schema.Struct({ id: Schema.Number }),
      })
      const e1 = mismatch(yield* Effect.exit(count.on(conn).all([1])))
      expect(e1.differences.map((d) => d.kind)).toEqual(["ParameterCount"])
      expect(e1.message).toContain("the statement takes 2 parameter(s) (int4, text), but 1 are declared")

      const type = PgQuery.make({
        sql: "SELECT id FROM users WHERE id = $1",
        params: Schema.Tuple([Schema.String]),
        row: Schema.Struct({ id: Schema.Number }),
      })
      const e2 = mismatch(yield* Effect.exit(type.checkOn(conn)))
      expect(e2.differences).toEqual([
        {
          kind: "ParameterType",
          message:
            "parameter $1: the server expects int4 (number or bigint), but the declared Schema encodes to string",
        },
      ])
    }),
  )

  it.live("named parameters: used but undeclared, declared but unused", () =>
    Effect.gen(function* () {
      const conn = yield* setup
      const q = PgQuery.make({
        sql: "SELECT id FROM users WHERE id = :id AND name = :name",
        params: Schema.Struct({ id: Schema.Number, nmae: Schema.String }),
        row: Schema.Struct({ id: Schema.Number }),
      })
      const e = mismatch(yield* Effect.exit(q.checkOn(conn)))
      expect(e.differences.map((d) => d.message)).toEqual([
        "parameter :name is used in the SQL but not declared",
        "parameter :nmae is declared but the SQL does not use it",
      ])
    }),
  )

  it.live("columns: missing, undeclared, order, type, nullability, all listed in one error", () =>
    Effect.gen(function* () {
      const conn = yield* setup
      const q = PgQuery.make({
        name: "badUsers",
        sql: "SELECT id, name, email, age FROM users",
        row: Schema.Struct({
          name: Schema.String,
          id: Schema.String,
          email: Schema.String,
          nickname: Schema.String,
        }),
      })
      const e = mismatch(yield* Effect.exit(q.on(conn).all()))
      expect(e.differences).toEqual([
        {
          kind: "ColumnType",
          message: 'column "id": the server returns int4 (decoded as number), but the declared Schema expects string',
        },
        {
          kind: "Nullability",
          message:
            'column "email" can be NULL (a nullable table column), but the declared Schema does not accept null (use Schema.NullOr or Schema.OptionFromNullOr)',
        },
        {
          kind: "MissingColumn",
          message:
            'column "nickname" is declared but the statement does not return it (it returns "id", "name", "email", "age")',
        },
        { kind: "UndeclaredColumn", message: 'column "age" (int4) is returned but not declared' },
        {
          kind: "ColumnOrder",
          message: 'columns are returned in the order "id", "name", "email" but declared as "name", "id", "email"',
        },
      ])
      expect(e.message.split("\n")).toHaveLength(6)
      expect(e.message).toMatch(/^query badUsers does not match the server:/)
    }),
  )

  it.live("nullability: NOT NULL columns, expressions, Option and | null", () =>
    Effect.gen(function* () {
      const conn = yield* setup
      const ok = PgQuery.make({
        sql: "SELECT name, email, age, count(*) OVER () AS n FROM users",
        row: Schema.Struct({
          name: Schema.String,
          email: Schema.OptionFromNullOr(Schema.String),
          age: Schema.NullOr(Schema.Number),
          n: Schema.BigInt,
        }),
      })
      expect(yield* ok.on(conn).all()).toEqual([{ name: "ada", email: Option.none(), age: 36, n: 1n }])
      // A view's columns have unknown nullability (views carry no NOT NULL): not reported.
      yield* conn.execute("CREATE VIEW user_ages AS SELECT id, age FROM users")
      const view = PgQuery.make({ sql: "SELECT age FROM user_ages", row: Schema.Struct({ age: Schema.Number }) })
      yield* view.checkOn(conn)
      const bad = PgQuery.make({ sql: "SELECT age FROM users", row: Schema.Struct({ age: Schema.Number }) })
      expect(mismatch(yield* Effect.exit(bad.checkOn(conn))).differences.map((d) => d.kind)).toEqual(["Nullability"])
    }),
  )

  it.live("a statement that returns rows without a row Schema, and one that cannot be prepared", () =>
    Effect.gen(function* () {
      const conn = yield* setup
      const q = PgQuery.make({ sql: "SELECT id FROM users" })
      expect(mismatch(yield* Effect.exit(q.on(conn).execute())).differences[0]!.message).toBe(
        'the statement returns 1 column(s) ("id") but no row Schema is declared',
      )
      const broken = PgQuery.make({ sql: "SELECT nope FROM users", row: Schema.Struct({ nope: Schema.Number }) })
      const error = failureOf(yield* Effect.exit(broken.on(conn).all()))
      expect(error._tag).toBe("PgServerError")
      const report = yield* PgQuery.checkAll(conn, [
        q,
        broken,
        PgQuery.make({ sql: "SELECT 1 AS one", row: Schema.Struct({ one: Schema.Number }) }),
      ])
      expect(report.map((r) => [r.name, r.differences.length, r.error?._tag])).toEqual([
        ["SELECT id FROM users", 1, undefined],
        ["SELECT nope FROM users", 0, "PgServerError"],
        ["SELECT 1 AS one", 0, undefined],
      ])
      // The connection is still usable.
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1"))).toBe(1)
    }),
  )

  it.live("schema failures: parameters that do not encode, rows that do not decode", () =>
    Effect.gen(function* () {
      const conn = yield* setup
      const q = PgQuery.make({
        sql: "SELECT name FROM users WHERE id = $1",
        params: Schema.Tuple([Schema.Int]),
        row: Schema.Struct({ name: Schema.Literal("bob") }),
        check: false,
      })
      const params = failureOf(yield* Effect.exit(q.on(conn).all([1.5]))) as PgQuery.PgSchemaError
      expect(params._tag).toBe("PgSchemaError")
      expect(params.direction).toBe("params")
      const row = failureOf(yield* Effect.exit(q.on(conn).all([1]))) as PgQuery.PgSchemaError
      expect(row.direction).toBe("row")
      expect(row.row).toBe(0)
      expect(row.message).toContain("row 0 does not decode")
    }),
  )
})
