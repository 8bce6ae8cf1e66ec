/**
 * Streams 5,000,000 rows through `conn.cursor(...)` and reports the peak growth of the process's
 * resident memory (RSS) over the baseline measured after a warm-up, plus the throughput.
 * Target: peak growth under +64 MiB (the cursor keeps at most `prefetch` rows in memory).
 *
 *   node --expose-gc bench/cursor-memory.ts                 (starts an embedded TempCluster)
 *   node --expose-gc bench/cursor-memory.ts --prefetch 1000 --rows 5000000
 *   PGFX_TEST_URL=postgres://postgres@127.0.0.1:5432/postgres node --expose-gc bench/cursor-memory.ts
 *
 * `--expose-gc` lets the baseline be taken after a full collection (recommended, not required).
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import * as TempCluster from "@pgfx/testing/TempCluster"
import { Effect, Stream } from "effect"
import { parseArgs } from "node:util"

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "5000000" },
    prefetch: { type: "string", default: "50" },
  },
})
const rows = Number(values.rows)
const prefetch = Number(values.prefetch)
const MiB = 1024 * 1024
const gc = (globalThis as { gc?: () => void }).gc

const run = (options: PgConnection.PgConnectionOptions) =>
  Effect.gen(function* () {
    const conn = yield* PgConnection.make(options)
    const sql = "SELECT g AS id, 'row number ' || g AS label, g * 0.5 AS half FROM generate_series(1, $1) g"
    // Warm up: JIT, codecs, the statement cache, the socket buffers.
    yield* conn.cursor(sql, [200_000], { prefetch }).pipe(Stream.runDrain)
    gc?.()
    yield* Effect.sleep("200 millis")
    gc?.()
    const baseline = process.memoryUsage().rss
    let peak = baseline
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss)
    }, 20)
    const started = performance.now()
    let count = 0
    let checksum = 0
    yield* conn.cursor(sql, [rows], { prefetch }).pipe(
      Stream.runForEach((row) =>
        Effect.sync(() => {
          count++
          checksum += row.id as number
        }),
      ),
    )
    const seconds = (performance.now() - started) / 1000
    clearInterval(sampler)
    peak = Math.max(peak, process.memoryUsage().rss)
    if (count !== rows || checksum !== (rows * (rows + 1)) / 2) {
      throw new Error(`wrong result: ${count} rows, checksum ${checksum}`)
    }
    const growth = (peak - baseline) / MiB
    console.log(
      JSON.stringify({
        rows: count,
        prefetch,
        seconds: Number(seconds.toFixed(2)),
        rowsPerSecond: Math.round(count / seconds),
        baselineRssMiB: Number((baseline / MiB).toFixed(1)),
        peakRssMiB: Number((peak / MiB).toFixed(1)),
        peakGrowthMiB: Number(growth.toFixed(1)),
        gcExposed: gc !== undefined,
        targetMet: growth < 64,
      }),
    )
  }).pipe(Effect.scoped)

const url = process.env["PGFX_TEST_URL"]
const main =
  url !== undefined
    ? run({ url })
    : Effect.gen(function* () {
        const cluster = yield* TempCluster.make()
        yield* run({ host: cluster.host, port: cluster.port, user: cluster.user, database: cluster.database })
      }).pipe(Effect.scoped)

Effect.runPromise(main).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
