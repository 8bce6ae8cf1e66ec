/**
 * PgClient's and PgPool's batch shortcuts (`executeMany`, `fetchMany`), the client's `cursor`
 * Stream (one checkout for the Stream's lifetime), and `prepare` / `openCursor` on a checkout held
 * for the caller's Scope — each also joining the current transaction.
 */
import * as PgClient from "@pgfx/client/PgClient"
import * as PgPool from "@pgfx/client/PgPool"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Option, Stream } from "effect"
import { tcpOptions, withAdmin } from "./support/connect.ts"
import { failureOf, poolOptions } from "./support/pool.ts"

let counter = 0

/** A fresh schema with table `t (a int primary key, b text)` and a client whose connections use it. */
const clientInSchema = (overrides: PgPool.PgPoolOptions = {}) =>
  Layer.unwrap(
    Effect.gen(function* () {
      const schema = `pgfx_cs${process.pid}_${++counter}_${Math.floor(Math.random() * 1e6)}`
      yield* withAdmin((admin) => admin.execute(`CREATE SCHEMA ${schema}`))
      yield* Effect.addFinalizer(() =>
        Effect.ignore(
          withAdmin((admin) => admin.execute(`SET client_min_messages = warning; DROP SCHEMA ${schema} CASCADE`)),
        ),
      )
      yield* withAdmin((admin) => admin.execute(`CREATE TABLE ${schema}.t (a int PRIMARY KEY, b text)`))
      return PgClient.layer({
        ...tcpOptions(),
        min: 0,
        max: 2,
        serverSettings: { search_path: schema },
        ...overrides,
      })
    }),
  )

const inUse = Effect.map(PgClient.stats, (s) => s.inUse)
const rowsOfT = Effect.map(PgClient.fetch("SELECT a, b FROM t ORDER BY a"), (rows) => rows.map((r) => r.toObject()))

describe("executeMany / fetchMany", () => {
  it.live("on PgClient: pipelined, atomic, RETURNING rows per set", () =>
    Effect.gen(function* () {
      yield* PgClient.executeMany("INSERT INTO t VALUES ($1, $2)", [
        [1, "a"],
        [2, "b"],
      ])
      expect(yield* rowsOfT).toEqual([
        { a: 1, b: "a" },
        { a: 2, b: "b" },
      ])
      // One set fails (duplicate key): none is kept.
      const exit = yield* Effect.exit(
        PgClient.executeMany("INSERT INTO t VALUES ($1, $2)", [
          [3, "c"],
          [1, "dup"],
        ]),
      )
      expect(failureOf(exit)).toMatchObject({ _tag: "PgServerError", code: "23505" })
      expect((yield* rowsOfT).length).toBe(2)
      const returned = yield* PgClient.fetchMany("INSERT INTO t VALUES ($1, $2) RETURNING a * 10 AS x", [
        [4, "d"],
        [5, "e"],
      ])
      expect(returned.map((rows) => rows.map((r) => r.get("x")))).toEqual([[40], [50]])
      expect(yield* inUse).toBe(0)
      // An empty list does nothing.
      yield* PgClient.executeMany("INSERT INTO t VALUES ($1, $2)", [])
      expect(yield* PgClient.fetchMany("SELECT $1::int", [])).toEqual([])
    }).pipe(Effect.provide(clientInSchema())),
  )

  it.live("inside a client transaction they join it (and roll back with it)", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        PgClient.transaction(
          Effect.gen(function* () {
            const pid = Option.getOrThrow(yield* PgClient.fetchVal("SELECT pg_backend_pid()"))
            const pids = yield* PgClient.fetchMany("SELECT pg_backend_pid() AS p, $1::int AS n", [[1], [2]])
            expect(pids.map((rows) => rows[0]!.get("p"))).toEqual([pid, pid])
            yield* PgClient.executeMany("INSERT INTO t VALUES ($1, $2)", [
              [1, "a"],
              [2, "b"],
            ])
            expect((yield* rowsOfT).length).toBe(2)
            return yield* Effect.fail("undo")
          }),
        ),
      )
      expect(failureOf(exit)).toBe("undo")
      expect(yield* rowsOfT).toEqual([])
    }).pipe(Effect.provide(clientInSchema())),
  )

  it.live("on PgPool", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1 }))
      const table = `pool_many_${process.pid}_${Math.floor(Math.random() * 1e6)}`
      yield* pool.execute(`CREATE TABLE ${table} (a int)`)
      yield* Effect.addFinalizer(() => Effect.ignore(withAdmin((admin) => admin.execute(`DROP TABLE ${table}`))))
      yield* pool.executeMany(`INSERT INTO ${table} VALUES ($1)`, [[1], [2], [3]])
      const rows = yield* pool.fetchMany(`SELECT count(*) AS n FROM ${table} WHERE a <= $1`, [[1], [3]])
      expect(rows.map((r) => r[0]!.get("n"))).toEqual([1n, 3n])
      const exit = yield* Effect.exit(pool.executeMany(`INSERT INTO ${table} VALUES ($1)`, [[4], ["x"]]))
      expect(failureOf(exit)).toMatchObject({ _tag: "PgServerError", code: "22P02" })
      expect(Option.getOrThrow(yield* pool.fetchVal(`SELECT count(*) FROM ${table}`))).toBe(3n)
      expect(pool.stats.inUse).toBe(0)
    }).pipe(Effect.scoped),
  )
})

describe("PgClient.cursor", () => {
  it.live("streams every row through one checkout held for the Stream's lifetime", () =>
    Effect.gen(function* () {
      const seen: Array<number> = []
      const rows = yield* PgClient.cursor("SELECT g, pg_backend_pid() AS pid FROM generate_series(1, $1) g", [1000], {
        prefetch: 64,
      }).pipe(
        Stream.tap(() =>
          Effect.map(inUse, (n) => {
            seen.push(n)
          }),
        ),
        Stream.runCollect,
      )
      const list = Chunk.toReadonlyArray(Chunk.fromIterable(rows))
      expect(list.length).toBe(1000)
      expect(list.map((r) => r.get("g"))).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1))
      expect(new Set(list.map((r) => r.get("pid"))).size).toBe(1)
      expect(new Set(seen)).toEqual(new Set([1]))
      expect(yield* inUse).toBe(0)
      // A consumer that stops early releases it too.
      const firstFive = yield* PgClient.cursor("SELECT g FROM generate_series(1, 100000) g").pipe(
        Stream.take(5),
        Stream.runCollect,
      )
      expect(Chunk.toReadonlyArray(Chunk.fromIterable(firstFive)).map((r) => r.get("g"))).toEqual([1, 2, 3, 4, 5])
      expect(yield* inUse).toBe(0)
      // A failing query fails the Stream, typed, and releases the checkout.
      const exit = yield* Effect.exit(Stream.runDrain(PgClient.cursor("SELECT 1/0")))
      expect(failureOf(exit)).toMatchObject({ _tag: "PgServerError", code: "22012" })
      expect(yield* inUse).toBe(0)
    }).pipe(Effect.provide(clientInSchema())),
  )

  it.live("inside a client transaction it reads on the transaction's connection and sees its writes", () =>
    Effect.gen(function* () {
      yield* PgClient.transaction(
        Effect.gen(function* () {
          const pid = Option.getOrThrow(yield* PgClient.fetchVal("SELECT pg_backend_pid()"))
          yield* PgClient.executeMany("INSERT INTO t VALUES ($1, 'x')", [[1], [2], [3]])
          const rows = yield* Stream.runCollect(
            PgClient.cursor("SELECT a, pg_backend_pid() AS pid FROM t ORDER BY a", [], { prefetch: 2 }),
          )
          const list = Chunk.toReadonlyArray(Chunk.fromIterable(rows))
          expect(list.map((r) => [r.get("a"), r.get("pid")])).toEqual([
            [1, pid],
            [2, pid],
            [3, pid],
          ])
          expect(yield* inUse).toBe(1)
        }),
      )
    }).pipe(Effect.provide(clientInSchema())),
  )
})

describe("PgClient.prepare / openCursor", () => {
  it.live("a prepared statement holds its checkout for the Scope and fails typed afterwards", () =>
    Effect.gen(function* () {
      const stmt = yield* Effect.scoped(
        Effect.gen(function* () {
          const stmt = yield* PgClient.prepare("SELECT $1::int * 2 AS doubled, pg_backend_pid() AS pid")
          const a = Option.getOrThrow(yield* stmt.fetchRow([2]))
          const b = Option.getOrThrow(yield* stmt.fetchRow([5]))
          expect([a.get("doubled"), b.get("doubled")]).toEqual([4, 10])
          expect(a.get("pid")).toBe(b.get("pid"))
          expect((yield* stmt.getParameters()).map((p) => p.name)).toEqual(["int4"])
          expect(yield* inUse).toBe(1)
          return stmt
        }),
      )
      expect(yield* inUse).toBe(0)
      const exit = yield* Effect.exit(Effect.map(stmt.fetchVal([1]), Option.getOrThrow))
      expect(failureOf(exit)).toMatchObject({ _tag: "PgInterfaceError" })
    }).pipe(Effect.provide(clientInSchema())),
  )

  it.live("asyncpg's manual cursor example through the client (forward 10, fetchRow, fetch 5)", () =>
    Effect.gen(function* () {
      const result = yield* Effect.scoped(
        Effect.gen(function* () {
          const cur = yield* PgClient.openCursor("SELECT generate_series(0, 100) AS n")
          yield* cur.forward(10)
          const row = Option.getOrThrow(yield* cur.fetchRow())
          const five = yield* cur.fetch(5)
          expect(yield* inUse).toBe(1)
          return { row: row.get("n"), five: five.map((r) => r.get("n")) }
        }),
      )
      expect(result).toEqual({ row: 10, five: [11, 12, 13, 14, 15] })
      expect(yield* inUse).toBe(0)
      // Inside a client transaction, both use the transaction's connection.
      yield* PgClient.transaction(
        Effect.scoped(
          Effect.gen(function* () {
            const pid = Option.getOrThrow(yield* PgClient.fetchVal("SELECT pg_backend_pid()"))
            const stmt = yield* PgClient.prepare("SELECT pg_backend_pid()")
            expect(Option.getOrThrow(yield* stmt.fetchVal())).toBe(pid)
            const cur = yield* PgClient.openCursor("SELECT pg_backend_pid() AS p")
            expect(Option.getOrThrow(yield* cur.fetchRow()).get("p")).toBe(pid)
            expect(yield* inUse).toBe(1)
          }),
        ),
      )
    }).pipe(Effect.provide(clientInSchema())),
  )
})
