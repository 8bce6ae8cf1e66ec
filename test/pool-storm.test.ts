/**
 * A pool larger than the server allows: a cluster of its own with `max_connections = 20`, a pool
 * of max 50, 500 concurrent queries of 50 ms each. The refusals (53300) are retried while the
 * pool has working connections and every query is served by a released connection: no failure,
 * never more than 20 server connections, within the acquire timeout. Also: what does not pass
 * (a database that does not exist) fails at once, with one attempt; a `min` the server cannot give
 * does not fail `make`.
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgPool from "@pgfx/client/PgPool"
import * as TempCluster from "@pgfx/testing/TempCluster"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option } from "effect"
import { failureOf } from "./support/pool.ts"

const connectionOptions = (cluster: TempCluster.TempClusterShape) => ({
  host: cluster.host,
  port: cluster.port,
  user: cluster.user,
  database: cluster.database,
  sslMode: "disable" as const,
})

describe("a pool larger than max_connections", () => {
  it.live(
    "500 concurrent queries, pool max 50, max_connections 20: no failure, at most 20 server connections",
    () =>
      Effect.gen(function* () {
        const cluster = yield* TempCluster.make({ url: false, settings: { max_connections: 20 } })
        // The sampler's own connection is one of the 20.
        const sampler = yield* PgConnection.make(connectionOptions(cluster))
        const pool = yield* PgPool.make({
          ...connectionOptions(cluster),
          min: 0,
          max: 50,
          acquireTimeout: "60 seconds",
        })
        let peakServer = 0
        let peakOpen = 0
        const sampling = yield* Effect.forkChild(
          Effect.forever(
            Effect.gen(function* () {
              const n = Option.getOrThrow(
                yield* sampler.fetchVal(
                  "SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend'",
                ),
              )
              peakServer = Math.max(peakServer, Number(n))
              peakOpen = Math.max(peakOpen, pool.stats.inUse + pool.stats.idle)
              yield* Effect.sleep("5 millis")
            }),
          ),
        )
        const started = Date.now()
        const results = yield* Effect.all(
          Array.from({ length: 500 }, (_, i) => Effect.exit(pool.fetchVal("SELECT $1::int FROM pg_sleep(0.05)", [i]))),
          { concurrency: "unbounded" },
        )
        const elapsed = Date.now() - started
        yield* Fiber.interrupt(sampling)
        const failures = results.filter(Exit.isFailure)
        expect(failures.map((f) => String(f.cause)).slice(0, 3)).toEqual([])
        expect(results.map((r) => (Exit.isSuccess(r) ? r.value : undefined))).toEqual(
          Array.from({ length: 500 }, (_, i) => Option.some(i)),
        )
        expect(peakServer).toBeLessThanOrEqual(20)
        expect(peakOpen).toBeLessThanOrEqual(19)
        expect(peakOpen).toBeGreaterThanOrEqual(10)
        expect(elapsed).toBeLessThan(60_000)
        // The refused attempts, from the server's log: the first wave, then a few probes, not one
        // attempt per waiter (386 refusals, each failing a query, before the retries existed).
        const log = yield* cluster.serverLog({ maxBytes: 16 * 1024 * 1024 })
        const refused = log.split("too many clients already").length - 1
        expect(refused).toBeGreaterThanOrEqual(1)
        expect(refused).toBeLessThan(100)
        console.log(
          `storm: 500 queries in ${elapsed} ms, peak ${peakServer} server connections, peak ${peakOpen} pooled, ${refused} refused attempts`,
        )

        // What does not pass fails at once, with one attempt, although the pool has connections.
        yield* pool.withConnection((held) =>
          Effect.gen(function* () {
            yield* pool.setConnectArgs({ ...connectionOptions(cluster), database: "no_such_database" })
            yield* pool.expireConnections
            const before = Date.now()
            const error = failureOf(yield* Effect.exit(pool.fetchVal("SELECT 1")))
            expect(error).toMatchObject({ _tag: "PgServerError", code: "3D000", connectAttempts: 1 })
            expect(Date.now() - before).toBeLessThan(5_000)
            expect(Option.getOrThrow(yield* held.fetchVal("SELECT 1"))).toBe(1)
          }),
        )
        yield* pool.close
        // Until the closed pool's backends have exited (only the sampler is left).
        while (
          Number(
            Option.getOrThrow(
              yield* sampler.fetchVal("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"),
            ),
          ) > 1
        ) {
          yield* Effect.sleep("20 millis")
        }

        // A `min` the server cannot give: the refused warm-up connections do not fail `make`, the
        // pool starts with what it got and serves.
        const second = yield* PgPool.make({ ...connectionOptions(cluster), min: 25, max: 25 })
        expect(second.size).toBeGreaterThanOrEqual(10)
        expect(second.size).toBeLessThanOrEqual(19)
        const answers = yield* Effect.all(
          Array.from({ length: 100 }, (_, i) => second.fetchVal("SELECT $1::int", [i])),
          { concurrency: "unbounded" },
        )
        expect(answers).toEqual(Array.from({ length: 100 }, (_, i) => Option.some(i)))
      }).pipe(Effect.scoped),
    180_000,
  )
})
