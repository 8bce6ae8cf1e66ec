/**
 * Throughput of a simple `fetchVal` loop, to check what per-query instrumentation (spans,
 * metrics, query loggers) costs on the hot path.
 *
 *   node --conditions=@pgfx/source bench/query-instrumentation.ts                  # starts a throwaway PostgreSQL
 *   PGFX_BENCH_URL=postgres://... node --conditions=@pgfx/source bench/query-instrumentation.ts
 *   PGFX_BENCH_CLIENTS=.tmp/baseline/src,packages/client/src node --conditions=@pgfx/source bench/query-instrumentation.ts
 *
 * Two figures per scenario: throughput (wall clock, sensitive to a loaded machine) and client CPU
 * time per query (`process.cpuUsage`, which excludes time spent waiting for the server and is the
 * better measure of what instrumentation costs on a shared machine).
 *
 * `PGFX_BENCH_CLIENTS` lists copies of `packages/client/src` (e.g. the code before a change,
 * copied to `.tmp/`) so versions are compared in one process, on the same server. Rounds of
 * every scenario and client are interleaved and the best round is reported, which is the least
 * noisy figure on a shared machine.
 */
import * as TempCluster from "@pgfx/testing/TempCluster"
import { Effect, Option, Tracer } from "effect"
import * as PgMetrics from "../packages/client/src/PgMetrics.ts"
import * as path from "node:path"

type PgConnectionModule = typeof import("../packages/client/src/PgConnection.ts")
const root = path.resolve(import.meta.dirname, "..")
const clients: ReadonlyArray<{ readonly dir: string; readonly module: PgConnectionModule }> = await Promise.all(
  (process.env.PGFX_BENCH_CLIENTS ?? "packages/client/src").split(",").map(async (dir) => ({
    dir,
    module: (await import(path.resolve(root, dir, "PgConnection.ts"))) as PgConnectionModule,
  })),
)

const N = Number(process.env.N ?? 20_000)
const ROUNDS = Number(process.env.ROUNDS ?? 5)
const CONCURRENCY = 16

const recordingTracer = Tracer.make({ span: (options) => new Tracer.NativeSpan(options) })

type Conn = import("../packages/client/src/PgConnection.ts").PgConnection
type Scenario = {
  readonly name: string
  readonly run: (conn: Conn) => Effect.Effect<unknown, unknown>
}

const sequential = (conn: Conn) =>
  Effect.gen(function* () {
    for (let i = 0; i < N; i++) Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int4", [i]))
  })

const pipelined = (conn: Conn) =>
  Effect.forEach(
    Array.from({ length: N }, (_, i) => i),
    (i) => Effect.map(conn.fetchVal("SELECT $1::int4", [i]), Option.getOrThrow),
    { concurrency: CONCURRENCY, discard: true },
  )

const scenarios: ReadonlyArray<Scenario> = [
  { name: "sequential", run: sequential },
  { name: `pipelined x${CONCURRENCY}`, run: pipelined },
  { name: "sequential, metrics off", run: (c) => Effect.provideService(sequential(c), PgMetrics.Enabled, false) },
  { name: "sequential, recording tracer", run: (c) => Effect.withTracer(sequential(c), recordingTracer) },
]

const time = (effect: Effect.Effect<unknown, unknown>) =>
  Effect.gen(function* () {
    const start = performance.now()
    const cpu = process.cpuUsage()
    yield* effect
    const used = process.cpuUsage(cpu)
    return { ms: performance.now() - start, cpuUs: used.user + used.system }
  })

const bench = (options: { host: string; port: number; user: string; database: string } | { url: string }) =>
  Effect.gen(function* () {
    const conns: Array<Conn> = []
    for (const client of clients) {
      const conn = yield* client.module.make(options)
      yield* sequential(conn) // warm-up
      conns.push(conn)
    }
    const best = new Map<string, number>()
    const bestCpu = new Map<string, number>()
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of scenarios) {
        for (let c = 0; c < clients.length; c++) {
          const key = `${c} ${s.name}`
          const { ms, cpuUs } = yield* time(s.run(conns[c]!))
          best.set(key, Math.min(best.get(key) ?? Infinity, ms))
          bestCpu.set(key, Math.min(bestCpu.get(key) ?? Infinity, cpuUs))
        }
      }
    }
    console.log(`${N} fetchVal per round, best of ${ROUNDS} rounds`)
    for (const s of scenarios) {
      for (let c = 0; c < clients.length; c++) {
        const ms = best.get(`${c} ${s.name}`)!
        const rate = Math.round((N / ms) * 1000)
        const cpu = (bestCpu.get(`${c} ${s.name}`)! / N).toFixed(2)
        console.log(
          `${s.name.padEnd(30)} ${clients[c]!.dir.padEnd(24)} ${rate.toString().padStart(8)} queries/s ` +
            `${cpu.padStart(7)} µs CPU/query`,
        )
      }
    }
  }).pipe(Effect.scoped)

const url = process.env.PGFX_BENCH_URL
const program =
  url !== undefined
    ? bench({ url })
    : Effect.gen(function* () {
        const cluster = yield* TempCluster.make({})
        yield* bench({ host: cluster.host, port: cluster.port, user: cluster.user, database: cluster.database })
      }).pipe(Effect.scoped)

Effect.runPromise(program).catch((e) => {
  console.error(e)
  process.exitCode = 1
})
