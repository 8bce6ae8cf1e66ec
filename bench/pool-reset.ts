/**
 * What the pool's checkout + release costs per query, reset included, and what waiting for a
 * reset on every release (as asyncpg does) would cost: queries per second for
 *
 * - `direct`: 10 fibers, each with its own connection (no pool, no reset),
 * - `pool`: 10 fibers through `PgPool.fetchVal` (one checkout per query; the pool's reset is
 *   written with each release and answered ahead of the next query, no round trip of its own),
 * - `pool+fullReset`: the same with `reset: PgPool.fullReset`, a hook the pool waits for on
 *   every release (a reset round trip per release, before the pool's own).
 *
 * Run: `node bench/pool-reset.ts [queries]` (starts a throwaway PostgreSQL; `PGFX_TEST_URL` to use
 * an existing server). Numbers depend on the machine; compare the rows with each other.
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgPool from "@pgfx/client/PgPool"
import * as TempCluster from "@pgfx/testing/TempCluster"
import { Effect, Option } from "effect"

const total = Number(process.argv[2] ?? 20_000)
const fibers = 10

/** `fibers` workers, worker `w` running queries w, w + fibers, ... */
const run = (count: number, query: (worker: number, i: number) => Effect.Effect<unknown, unknown>) =>
  Effect.forEach(
    Array.from({ length: fibers }, (_, w) => w),
    (w) =>
      Effect.gen(function* () {
        for (let i = w; i < count; i += fibers) yield* query(w, i)
      }),
    { concurrency: "unbounded", discard: true },
  )

const measure = (label: string, query: (worker: number, i: number) => Effect.Effect<unknown, unknown>) =>
  Effect.gen(function* () {
    yield* run(1_000, query) // warm up: statement cache, JIT
    const started = performance.now()
    yield* run(total, query)
    const seconds = (performance.now() - started) / 1000
    console.log(
      `${label.padEnd(16)} ${Math.round(total / seconds)
        .toString()
        .padStart(7)} q/s`,
    )
  })

const program = Effect.gen(function* () {
  const cluster = yield* TempCluster.make()
  const options = { host: cluster.host, port: cluster.port, user: cluster.user, database: cluster.database }
  console.log(`${total} queries (SELECT $1::int), ${fibers} fibers, PostgreSQL ${cluster.versionString}`)

  const conns = yield* Effect.forEach(Array.from({ length: fibers }), () => PgConnection.make(options))
  yield* measure("direct", (w, i) => Effect.map(conns[w]!.fetchVal("SELECT $1::int", [i]), Option.getOrThrow))

  const pool = yield* PgPool.make({ ...options, min: fibers, max: fibers })
  yield* measure("pool", (_, i) => Effect.map(pool.fetchVal("SELECT $1::int", [i]), Option.getOrThrow))

  const resetting = yield* PgPool.make({ ...options, min: fibers, max: fibers, reset: PgPool.fullReset })
  yield* measure("pool+fullReset", (_, i) => Effect.map(resetting.fetchVal("SELECT $1::int", [i]), Option.getOrThrow))
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
