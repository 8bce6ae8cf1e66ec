/**
 * A query Effect is a description: running the same value again (Effect.repeat, retry, a value
 * kept in a constant) runs the query again, with the statement cache consulted on each run.
 */
import { describe, expect, it } from "@effect/vitest"
import * as PgQuery from "@pgfx/client/PgQuery"
import { Effect, Option, Schedule, Schema, Stream } from "effect"
import { connect } from "./support/connect.ts"

describe("query Effects are re-runnable", () => {
  it.live("fetch, fetchRow, fetchVal, execute and cursor values run again", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const fetch = conn.fetch("SELECT 1 AS x WHERE $1::int > 0", [1])
      const fetchRow = conn.fetchRow("SELECT 2 AS x WHERE $1::int > 0", [1])
      const fetchVal = Effect.map(conn.fetchVal("SELECT $1::int + 1", [2]), Option.getOrThrow)
      const execute = conn.execute("SELECT $1::int", [4])
      const cursor = Stream.runCollect(conn.cursor("SELECT generate_series(1, $1::int)", [3]))
      for (let i = 0; i < 3; i++) {
        expect((yield* fetch).length).toBe(1)
        expect((yield* fetchRow)._tag).toBe("Some")
        expect(yield* fetchVal).toBe(3)
        expect(yield* execute).toBe("SELECT 1")
        expect(Array.from(yield* cursor, (r) => r.at(0))).toEqual([1, 2, 3])
        // Another statement in between takes the next statement name.
        Option.getOrThrow(yield* conn.fetchVal(`SELECT ${i}::int WHERE $1::int > 0`, [1]))
      }
      const seen: Array<unknown> = []
      yield* Effect.repeat(
        Effect.tap(fetchVal, (v) => Effect.sync(() => seen.push(v))),
        Schedule.recurs(4),
      )
      expect(seen).toEqual([3, 3, 3, 3, 3])
    }),
  )

  it.live("a typed query's Effect and Stream values run again", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const q = PgQuery.make({
        sql: "SELECT generate_series(1, :n) AS i",
        params: Schema.Struct({ n: Schema.Number }),
        row: Schema.Struct({ i: Schema.Number }),
      })
      const all = q.on(conn).all({ n: 2 })
      const stream = Stream.runCollect(q.on(conn).stream({ n: 3 }))
      for (let i = 0; i < 3; i++) {
        expect(yield* all).toEqual([{ i: 1 }, { i: 2 }])
        expect((yield* stream).length).toBe(3)
      }
    }),
  )
})
