/**
 * W1 and W1p (the point query of `bench/src/workloads.ts`) through PgBouncer in transaction
 * mode, next to the same workloads directly against the server:
 *
 * - `direct`: default options, straight to PostgreSQL;
 * - `pgbouncer`: default options through PgBouncer (transaction mode, a pool of 10 server
 *   connections, so W1's 10 client connections are not starved);
 * - `pgbouncer, namedStatements: false`: every query re-parsed in its own batch.
 *
 * W1: 10 callers on 10 connections; W1p: 10 callers pipelined on 1 connection. Each
 * configuration runs a 1 s warm-up and a `seconds` window per round, rounds interleaved;
 * the medians are printed. Needs Debian's `pgbouncer`.
 *
 * Run: `node bench/poolers.ts [rounds] [seconds]` (default 3 rounds of 4 s).
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import * as TempCluster from "@pgfx/testing/TempCluster"
import * as TempPooler from "@pgfx/testing/TempPooler"
import { Effect } from "effect"
import { setupStatements } from "./src/workloads.ts"

const rounds = Number(process.argv[2] ?? 3)
const seconds = Number(process.argv[3] ?? 4)
const rows = 100_000
const sql = "SELECT id, name, score, created FROM bench_w1 WHERE id = $1"

/** Queries per second of 10 callers over `connections` connections during the window. */
const measure = (options: PgConnection.PgConnectionOptions, connections: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const conns = yield* Effect.forEach(Array.from({ length: connections }), () => PgConnection.make(options))
      let counting = false
      let done = 0
      let stop = false
      const caller = (c: number) =>
        Effect.gen(function* () {
          let id = c + 1
          while (!stop) {
            const row = yield* conns[c % connections]!.fetchRow(sql, [id])
            if (row._tag === "None") return yield* Effect.die(new Error(`no row ${id}`))
            if (counting) done++
            id = ((id * 7919 + 13) % rows) + 1
          }
        })
      const started = { at: 0 }
      const clock = Effect.gen(function* () {
        yield* Effect.sleep("1 second")
        counting = true
        started.at = performance.now()
        yield* Effect.sleep(`${seconds} seconds`)
        counting = false
        stop = true
        return (done / (performance.now() - started.at)) * 1000
      })
      const [rate] = yield* Effect.all(
        [
          clock,
          Effect.forEach(
            Array.from({ length: 10 }, (_, c) => c),
            caller,
            { concurrency: 10, discard: true },
          ),
        ],
        { concurrency: 2 },
      )
      return rate
    }),
  )

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const program = Effect.gen(function* () {
  const cluster = yield* TempCluster.make({ settings: { max_connections: 100 } })
  const setup = yield* PgConnection.make({ url: cluster.url, environment: {} })
  for (const statement of setupStatements(rows, 1)) yield* setup.execute(statement)
  yield* setup.close()
  const bouncer = yield* TempPooler.pgbouncer(cluster, { poolMode: "transaction", poolSize: 10 })
  const configs: ReadonlyArray<readonly [string, PgConnection.PgConnectionOptions]> = [
    ["direct", { url: cluster.url, environment: {} }],
    ["pgbouncer", { url: bouncer.url(), environment: {} }],
    ["pgbouncer, namedStatements: false", { url: bouncer.url(), environment: {}, namedStatements: false }],
  ]
  const results = new Map<string, Array<number>>()
  for (let round = 0; round < rounds; round++) {
    for (const [workload, connections] of [
      ["W1", 10],
      ["W1p", 1],
    ] as const) {
      for (let i = 0; i < configs.length; i++) {
        const [label, options] = configs[(i + round) % configs.length]!
        const rate = yield* measure(options, connections)
        const key = `${workload} | ${label}`
        results.set(key, [...(results.get(key) ?? []), rate])
        console.log(`[round ${round + 1}/${rounds}] ${key}: ${Math.round(rate)} q/s`)
      }
    }
  }
  console.log("\n| workload | configuration | median q/s | min..max |\n| --- | --- | ---: | --- |")
  for (const [key, rates] of results) {
    const [workload, label] = key.split(" | ")
    console.log(
      `| ${workload} | ${label} | ${Math.round(median(rates))} | ${Math.round(Math.min(...rates))}..${Math.round(Math.max(...rates))} |`,
    )
  }
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((e) => {
  console.error(e)
  process.exit(1)
})
