/**
 * A server restarted under the pool (its own TempCluster, stopped and started for real): while
 * the server is down every call fails fast with a typed error and nothing hangs; once it is back,
 * acquiring works again without any intervention; the pool's bookkeeping stays exact.
 */
import * as PgPool from "@pgfx/client/PgPool"
import * as ServerControl from "@pgfx/testing/ServerControl"
import * as TempCluster from "@pgfx/testing/TempCluster"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Option } from "effect"
import { eventually, failureOf } from "./support/pool.ts"

const poolOn = (cluster: TempCluster.TempClusterShape, overrides: PgPool.PgPoolOptions = {}) =>
  PgPool.make({
    host: cluster.host,
    port: cluster.port,
    user: cluster.user,
    database: cluster.database,
    connectTimeout: "2 seconds",
    ...overrides,
  })

describe("a server restarted under the pool", () => {
  it.live(
    "fails fast while the server is down, recovers by itself once it is back",
    () =>
      Effect.gen(function* () {
        const cluster = yield* TempCluster.make({ url: false })
        const pool = yield* poolOn(cluster, { min: 3, max: 3 })
        const pidsBefore = yield* Effect.forEach([1, 2, 3], () =>
          Effect.map(pool.fetchVal("SELECT pg_backend_pid()"), Option.getOrThrow),
        )
        expect(pool.stats).toMatchObject({ size: 3, idle: 3 })

        // A connection checked out across the restart.
        const gate = yield* Deferred.make<void>()
        const holder = yield* Effect.forkChild(
          pool.withConnection((conn) =>
            Effect.andThen(Deferred.await(gate), Effect.exit(Effect.map(conn.fetchVal("SELECT 1"), Option.getOrThrow))),
          ),
        )
        yield* eventually("held", () => pool.stats.inUse === 1)

        yield* ServerControl.stop(cluster)
        yield* eventually("the pool dropped every closed connection", () => pool.size === 0)
        expect(pool.stats).toMatchObject({ idle: 0, inUse: 1 })

        // Down: typed failures, quickly (connection refused), for shortcuts and scoped acquires.
        const started = Date.now()
        const shortcut = failureOf(yield* Effect.exit(Effect.map(pool.fetchVal("SELECT 1"), Option.getOrThrow)))
        expect(shortcut).toMatchObject({ _tag: "PgConnectionError", reason: "ConnectFailed" })
        const scoped = failureOf(yield* Effect.exit(Effect.scoped(pool.acquire())))
        expect(scoped).toMatchObject({ _tag: "PgConnectionError" })
        const many = yield* Effect.all(
          Array.from({ length: 10 }, () => Effect.exit(Effect.map(pool.fetchVal("SELECT 1"), Option.getOrThrow))),
          { concurrency: "unbounded" },
        )
        for (const exit of many) expect(failureOf(exit)).toMatchObject({ _tag: "PgConnectionError" })
        expect(Date.now() - started).toBeLessThan(10_000)
        expect(pool.stats).toMatchObject({ size: 0, waiting: 0, inUse: 1 })

        // The connection held across the restart fails typed, and its release is quiet.
        yield* Deferred.succeed(gate, undefined)
        const held = yield* Fiber.join(holder)
        expect(failureOf(held)).toMatchObject({ _tag: "PgConnectionError" })
        expect(pool.stats.inUse).toBe(0)

        yield* ServerControl.start(cluster)
        const pidsAfter = yield* Effect.all(
          [1, 2, 3].map(() => pool.withConnection((c) => Effect.as(Effect.sleep("20 millis"), c.serverPid))),
          { concurrency: "unbounded" },
        )
        expect(pidsAfter.filter((p) => pidsBefore.includes(p))).toEqual([])
        expect(Option.getOrThrow(yield* pool.fetchVal("SELECT 40 + 2"))).toBe(42)
        expect(pool.stats).toMatchObject({ size: 3, idle: 3, inUse: 0, waiting: 0 })
      }).pipe(Effect.scoped),
    120_000,
  )

  it.live(
    "a crash-like immediate restart while idle: the next acquire gets a fresh connection",
    () =>
      Effect.gen(function* () {
        const cluster = yield* TempCluster.make({ url: false })
        const pool = yield* poolOn(cluster, { min: 2, max: 2 })
        const before = Option.getOrThrow(yield* pool.fetchVal("SELECT pg_backend_pid()"))
        yield* ServerControl.restart(cluster, { mode: "immediate" })
        // No waiting for the pool to notice: acquire right away.
        const after = Option.getOrThrow(yield* pool.fetchVal("SELECT pg_backend_pid()"))
        expect(after).not.toBe(before)
        // The two old connections left the pool; one new one was opened for this acquire.
        expect(pool.stats).toMatchObject({ size: 1, idle: 1, inUse: 0, waiting: 0 })
      }).pipe(Effect.scoped),
    120_000,
  )
})
