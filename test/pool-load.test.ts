/**
 * Load: 10,000 queries from 100 fibers through a pool of 10 (loopback only). Every query is
 * answered with its own argument, the pool never grows past max, and nothing is left checked out.
 */
import * as PgPool from "@pgfx/client/PgPool"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { poolOptions } from "./support/pool.ts"

describe("pool under load", () => {
  it.live(
    "10,000 queries from 100 fibers through a pool of 10",
    () =>
      Effect.gen(function* () {
        const pool = yield* PgPool.make(poolOptions({ min: 2, max: 10 }))
        let answered = 0
        let maxSize = 0
        let maxInUse = 0
        const observe = () => {
          maxSize = Math.max(maxSize, pool.size)
          maxInUse = Math.max(maxInUse, pool.stats.inUse)
        }
        const fiber = (f: number) =>
          Effect.forEach(
            Array.from({ length: 100 }, (_, i) => f * 100 + i),
            (n) =>
              Effect.gen(function* () {
                observe()
                // Mostly shortcuts; every tenth query through a scoped checkout.
                const value =
                  n % 10 === 0
                    ? yield* Effect.scoped(
                        Effect.flatMap(pool.acquire(), (c) =>
                          Effect.map(c.fetchVal("SELECT $1::int", [n]), Option.getOrThrow),
                        ),
                      )
                    : Option.getOrThrow(yield* pool.fetchVal("SELECT $1::int", [n]))
                observe()
                if (value !== n) return yield* Effect.die(new Error(`query ${n} answered ${String(value)}`))
                answered++
              }),
            { discard: true },
          )
        yield* Effect.all(
          Array.from({ length: 100 }, (_, f) => fiber(f)),
          { concurrency: "unbounded", discard: true },
        )
        expect(answered).toBe(10_000)
        expect(maxSize).toBeLessThanOrEqual(10)
        expect(maxInUse).toBe(10)
        expect(pool.stats).toMatchObject({ inUse: 0, waiting: 0, size: 10, idle: 10 })
      }),
    120_000,
  )
})
