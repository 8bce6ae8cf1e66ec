/**
 * An even surface: `sql` fragments wherever SQL text goes (`executeMany`, `fetchMany`, `prepare`,
 * the client's `cursor` and `openCursor`; a fragment whose values would be lost is refused),
 * data-last (pipeable) `transaction` on `PgClient` and `PgTransaction`, and pool hooks that use
 * services provided where the pool (or the client's Layer) is made.
 */
import { describe, expect, it } from "@effect/vitest"
import * as PgClient from "@pgfx/client/PgClient"
import * as PgPool from "@pgfx/client/PgPool"
import { sql } from "@pgfx/client/PgSql"
import * as PgTransaction from "@pgfx/client/PgTransaction"
import { Context, Effect, Layer, Option, Stream } from "effect"
import { connect, withAdmin } from "./support/connect.ts"
import { failureOf, poolOptions } from "./support/pool.ts"

let counter = 0
/** A fresh table name in the test database, dropped afterwards. */
const freshTable = Effect.gen(function* () {
  const name = `pgfx_surface_${process.pid}_${++counter}`
  yield* withAdmin((admin) => admin.execute(`CREATE TABLE ${name} (id int PRIMARY KEY, label text)`))
  yield* Effect.addFinalizer(() => Effect.ignore(withAdmin((admin) => admin.execute(`DROP TABLE ${name}`))))
  return name
})

class Tenant extends Context.Service<Tenant, { readonly id: string }>()("test/Tenant") {}

describe("sql fragments everywhere SQL text goes", () => {
  it.live("executeMany, fetchMany and prepare take a fragment without values; one with values is refused", () =>
    Effect.gen(function* () {
      const table = yield* freshTable
      const pool = yield* PgPool.make(poolOptions({ max: 2 }))
      const client = PgClient.fromPool(pool)
      const conn = yield* connect()
      const insert = sql`INSERT INTO ${sql.id(table)} (id, label) VALUES ($1, $2)`
      yield* conn.executeMany(insert, [
        [1, "a"],
        [2, "b"],
      ])
      yield* client.executeMany(insert, [[3, "c"]])
      const returned = yield* pool.fetchMany(sql`SELECT label FROM ${sql.id(table)} WHERE id = $1`, [[1], [3]])
      expect(returned.map((rows) => rows.map((r) => r.get("label")))).toEqual([["a"], ["c"]])
      const stmt = yield* client.prepare(sql`SELECT label FROM ${sql.id(table)} WHERE id = $1`)
      expect(yield* stmt.fetchVal([2])).toEqual(Option.some("b"))
      for (const attempt of [
        conn.executeMany(sql`INSERT INTO ${sql.id(table)} VALUES (${9}, $2)`, [[9, "x"]]),
        client.fetchMany(sql`SELECT ${1}`, [[]]),
        Effect.scoped(conn.prepare(sql`SELECT ${1}`)),
      ]) {
        const error = failureOf(yield* Effect.exit(attempt))
        expect(error._tag).toBe("PgInterfaceError")
        expect(error.message).toContain("no interpolated values")
      }
      expect(yield* conn.fetchVal(`SELECT count(*)::int FROM ${table}`)).toEqual(Option.some(3))
    }).pipe(Effect.scoped),
  )

  it.live("the client's cursor and openCursor, and a connection's openCursor, take a fragment", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 2 }))
      const client = PgClient.fromPool(pool)
      const rows = yield* Stream.runCollect(
        client.cursor(sql`SELECT g FROM generate_series(1, ${5}::int) g`, { prefetch: 2 }),
      )
      expect(rows.map((r) => r.get("g"))).toEqual([1, 2, 3, 4, 5])
      const viaAccessor = yield* Stream.runCollect(PgClient.cursor(sql`SELECT ${"x"}::text AS v`)).pipe(
        Effect.provideService(PgClient.PgClient, client),
      )
      expect(viaAccessor.map((r) => r.get("v"))).toEqual(["x"])
      const fetched = yield* Effect.scoped(
        Effect.flatMap(client.openCursor(sql`SELECT g FROM generate_series(1, ${4}::int) g`), (cursor) =>
          cursor.fetch(3),
        ),
      )
      expect(fetched.map((r) => r.get("g"))).toEqual([1, 2, 3])
      const conn = yield* connect()
      const onConnection = yield* conn.transaction(
        Effect.scoped(Effect.flatMap(conn.openCursor(sql`SELECT ${7}::int AS n`), (cursor) => cursor.fetchRow())),
      )
      expect(Option.map(onConnection, (r) => r.get("n"))).toEqual(Option.some(7))
      expect(pool.stats.inUse).toBe(0)
    }).pipe(Effect.scoped),
  )
})

describe("data-last transaction", () => {
  it.live("PgClient.transaction and PgTransaction.transaction pipe, and roll back the same", () =>
    Effect.gen(function* () {
      const table = yield* freshTable
      const pool = yield* PgPool.make(poolOptions({ max: 2 }))
      const client = PgClient.fromPool(pool)
      const insert = (id: number) => PgClient.execute(`INSERT INTO ${table} VALUES ($1, 'x')`, [id])
      const committed = yield* insert(1).pipe(
        Effect.as("done"),
        PgClient.transaction({ isolation: "serializable" }),
        Effect.provideService(PgClient.PgClient, client),
      )
      expect(committed).toBe("done")
      const failed = yield* Effect.andThen(insert(2), Effect.fail("boom" as const)).pipe(
        PgClient.transaction(),
        Effect.provideService(PgClient.PgClient, client),
        Effect.flip,
      )
      expect(failed).toBe("boom")
      const conn = yield* connect()
      const status = yield* conn
        .execute(`INSERT INTO ${table} VALUES ($1, 'y')`, [3])
        .pipe(PgTransaction.transaction(conn, { rollbackOnly: true }))
      expect(status).toBe("INSERT 0 1")
      const dataFirst = yield* PgTransaction.transaction(conn, conn.execute(`INSERT INTO ${table} VALUES (4, 'z')`))
      expect(dataFirst).toBe("INSERT 0 1")
      const ids = yield* conn.fetch(`SELECT id FROM ${table} ORDER BY id`)
      expect(ids.map((r) => r.get("id"))).toEqual([1, 4])
    }).pipe(Effect.scoped),
  )
})

describe("pool hooks with services", () => {
  it.live("init, setup and reset get the services of the context the pool was made in", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      const pool = yield* PgPool.make({
        ...poolOptions({ max: 1 }),
        init: () => Effect.flatMap(Effect.service(Tenant), (t) => Effect.sync(() => seen.push(`init ${t.id}`))),
        setup: (conn) =>
          Effect.flatMap(Effect.service(Tenant), (t) =>
            conn.execute("SELECT set_config('app.tenant', $1, false)", [t.id]),
          ),
        reset: () => Effect.flatMap(Effect.service(Tenant), (t) => Effect.sync(() => seen.push(`reset ${t.id}`))),
      }).pipe(Effect.provideService(Tenant, { id: "acme" }))
      // The call site does not provide Tenant: the pool's own context does.
      const tenant = yield* pool.fetchVal("SELECT current_setting('app.tenant')")
      expect(tenant).toEqual(Option.some("acme"))
      expect(seen).toEqual(["init acme", "reset acme"])
    }).pipe(Effect.scoped),
  )

  it.live("PgClient.layer requires what the hooks need and passes it to them", () =>
    Effect.gen(function* () {
      const ClientLive: Layer.Layer<PgClient.PgClient, PgPool.PgPoolError, Tenant> = PgClient.layer({
        ...poolOptions({ max: 1 }),
        setup: (conn) =>
          Effect.flatMap(Effect.service(Tenant), (t) =>
            conn.execute("SELECT set_config('app.tenant', $1, false)", [t.id]),
          ),
      })
      const tenant = yield* PgClient.fetchVal("SELECT current_setting('app.tenant')").pipe(
        Effect.provide(ClientLive.pipe(Layer.provide(Layer.succeed(Tenant, { id: "globex" })))),
      )
      expect(tenant).toEqual(Option.some("globex"))
    }),
  )
})
