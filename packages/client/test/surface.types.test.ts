/**
 * Type-level tests (checked by `tsc`) of the even surface: `acquire` and its `acquireTimeout`
 * (not a connection's query option), fragments where SQL text goes, data-last `transaction`,
 * and pool hooks whose services become the Layer's requirements. Each `@ts-expect-error` line is
 * a call that must NOT compile.
 */
import { describe, expect, it } from "@effect/vitest"
import * as PgClient from "@pgfx/client/PgClient"
import type { PgConnection } from "@pgfx/client/PgConnection"
import type { PgQueryError, PgTransactionError } from "@pgfx/client/PgError"
import * as PgPool from "@pgfx/client/PgPool"
import { sql } from "@pgfx/client/PgSql"
import * as PgTransaction from "@pgfx/client/PgTransaction"
import { Context, Effect, Layer, type Scope } from "effect"

type Equals<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false
const same = <X, Y>(_proof: Equals<X, Y>) => {}
type Failure<T> = T extends Effect.Effect<infer _A, infer E, infer _R> ? E : never
type Needs<T> = T extends Effect.Effect<infer _A, infer _E, infer R> ? R : never

class Tenant extends Context.Service<Tenant, { readonly id: string }>()("test/Tenant") {}

/** Compile-time only: never called. */
const acquiring = (pool: PgPool.PgPool, conn: PgConnection) => {
  const checkout = pool.acquire({ acquireTimeout: "1 second" })
  same<Needs<typeof checkout>, Scope.Scope>(true)
  const viaClient = PgClient.acquire({ acquireTimeout: 500 })
  same<Needs<typeof viaClient>, PgClient.PgClient | Scope.Scope>(true)
  return [
    checkout,
    viaClient,
    pool.withConnection((c) => c.execute("SELECT 1"), { acquireTimeout: "1 second" }),
    pool.fetch("SELECT 1", [], { acquireTimeout: "1 second", timeout: "2 seconds" }),
    PgClient.fetchVal(sql`SELECT 1`, { acquireTimeout: "1 second" }),
    PgClient.execute("SELECT $1::int", [1], { acquireTimeout: "1 second" }),
    PgClient.transaction(Effect.void, { isolation: "serializable", acquireTimeout: "1 second" }),
    // @ts-expect-error a connection checks nothing out: acquireTimeout is not its query option
    conn.fetch("SELECT 1", [], { acquireTimeout: "1 second" }),
    // @ts-expect-error acquire is a function now (it takes options)
    Effect.scoped(pool.acquire),
  ]
}

const fragments = (conn: PgConnection, client: PgClient.PgClientShape) => [
  conn.executeMany(sql`INSERT INTO ${sql.id("t")} VALUES ($1)`, [[1]]),
  conn.fetchMany(sql`SELECT * FROM ${sql.id("t")} WHERE id = $1`, [[1]]),
  conn.prepare(sql`SELECT * FROM ${sql.id("t")} WHERE id = $1`),
  conn.openCursor(sql`SELECT ${1}`, { timeout: "1 second" }),
  client.cursor(sql`SELECT ${1}`, { prefetch: 10 }),
  client.openCursor(sql`SELECT ${1}`),
  PgClient.cursor(sql`SELECT ${1}`, { prefetch: 10, acquireTimeout: "1 second" }),
  PgClient.executeMany(sql`INSERT INTO ${sql.id("t")} VALUES ($1)`, [[1]], { acquireTimeout: 100 }),
  // @ts-expect-error a fragment carries its own arguments
  client.openCursor(sql`SELECT ${1}`, [1]),
  // @ts-expect-error a fragment carries its own arguments
  PgClient.cursor(sql`SELECT ${1}`, [1]),
]

const dataLast = (conn: PgConnection) => {
  const piped = PgClient.fetch("SELECT 1").pipe(PgClient.transaction({ isolation: "serializable" }))
  const direct = PgClient.transaction(PgClient.fetch("SELECT 1"), { isolation: "serializable" })
  same<Needs<typeof piped>, Needs<typeof direct>>(true)
  same<Failure<typeof piped>, Failure<typeof direct>>(true)
  const onConnection = conn.execute("SELECT 1").pipe(PgTransaction.transaction(conn, { rollbackOnly: true }))
  same<Failure<typeof onConnection>, PgQueryError | PgTransactionError>(true)
  same<Needs<typeof onConnection>, never>(true)
  // @ts-expect-error the data-last form takes options, not an Effect, after the connection
  const wrong = PgClient.fetch("SELECT 1").pipe(PgTransaction.transaction(conn, PgClient.fetch("SELECT 1")))
  return [piped, direct, onConnection, wrong]
}

const hooks = () => {
  const live = PgClient.layer({
    setup: (conn) => Effect.flatMap(Effect.service(Tenant), (t) => conn.execute("SELECT $1::text", [t.id])),
  })
  const needsTenant: Layer.Layer<PgClient.PgClient, PgPool.PgPoolError, Tenant> = live
  // @ts-expect-error the Layer needs what the hooks need
  const needsNothing: Layer.Layer<PgClient.PgClient, PgPool.PgPoolError> = live
  const plain: Layer.Layer<PgClient.PgClient, PgPool.PgPoolError> = PgClient.layer({ max: 2 })
  const pool = PgPool.make({ init: () => Effect.service(Tenant) })
  same<Needs<typeof pool>, Scope.Scope | Tenant>(true)
  return [needsTenant, needsNothing, plain, pool]
}

describe("an even surface (types)", () => {
  it("the typed forms build without running", () => {
    expect([acquiring, fragments, dataLast, hooks].every((f) => typeof f === "function")).toBe(true)
    expect(Layer.isLayer(PgClient.layer({ setup: () => Effect.service(Tenant) }))).toBe(true)
  })
})
