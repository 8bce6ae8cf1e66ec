/**
 * What the pool's checkout + release costs per query, reset included: for each row, 10 fibers run
 * `SELECT $1::int` with one checkout per query (W1's shape), and the row reports the median over
 * interleaved rounds of wall µs/query, client CPU µs/query (`process.cpuUsage`) and server CPU
 * µs/query (the backends' `/proc/<pid>/schedstat`, Linux with the server on this machine; "-"
 * elsewhere). Server CPU is the steadiest number on a shared machine.
 *
 * - `direct`: 10 fibers, each with its own connection (no pool, no reset),
 * - `pool <sessionReset>`: 10 fibers through `PgPool.fetchVal`, for each `sessionReset` scope
 *   (`full` is the default; the reset is written with each release and answered ahead of the next
 *   query, no round trip of its own),
 * - `pool+fullReset`: `reset: PgPool.fullReset`, a hook the pool waits for on every release.
 *
 * `CACHED=n` first runs n other statements on every connection, so the statement cache holds them:
 * the default reset's look for SQL-level prepared statements reads every prepared statement of
 * the session, and its cost grows with them.
 *
 * Run: `node bench/pool-reset.ts [queries per run]` (starts a throwaway PostgreSQL;
 * `PGFX_BENCH_URL` to use an existing server). `ROUNDS` (default 5); `ONLY=regex` keeps the rows
 * whose label matches.
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgPool from "@pgfx/client/PgPool"
import { Effect } from "effect"
import * as fs from "node:fs"
import { benchServer, median } from "./server.ts"

const total = Number(process.argv[2] ?? 10_000)
const rounds = Number(process.env.ROUNDS ?? 5)
const cached = Number(process.env.CACHED ?? 0)
const fibers = 10

type Query = (worker: number, i: number) => Effect.Effect<unknown, unknown>

/** `fibers` workers, worker `w` running queries w, w + fibers, ... */
const run = (count: number, query: Query) =>
  Effect.forEach(
    Array.from({ length: fibers }, (_, w) => w),
    (w) =>
      Effect.gen(function* () {
        for (let i = w; i < count; i += fibers) yield* query(w, i)
      }),
    { concurrency: "unbounded", discard: true },
  )

/** CPU time (µs) the processes `pids` have used so far, or undefined where /proc cannot tell. */
const serverCpu = (pids: ReadonlyArray<number>): number | undefined => {
  try {
    return pids.reduce(
      (sum, pid) => sum + Number(fs.readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]) / 1000,
      0,
    )
  } catch {
    return undefined
  }
}

interface Row {
  readonly label: string
  readonly query: Query
  readonly pids: ReadonlyArray<number>
  readonly wall: Array<number>
  readonly client: Array<number>
  readonly server: Array<number>
}

const program = Effect.gen(function* () {
  const options = yield* benchServer
  const admin = yield* PgConnection.make(options)
  const backends = (name: string) =>
    Effect.map(admin.fetch("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [name]), (rows) =>
      rows.map((r) => Number(r.get("pid"))),
    )
  const others = Array.from({ length: cached }, (_, k) => `SELECT $1::int + ${k} AS v${k}`)
  const rows: Array<Row> = []
  const add = (label: string, query: Query, pids: ReadonlyArray<number>) =>
    rows.push({ label, query, pids, wall: [], client: [], server: [] })

  const conns = yield* Effect.forEach(Array.from({ length: fibers }), () =>
    PgConnection.make({ ...options, applicationName: "bench_direct" }),
  )
  for (const conn of conns) for (const sql of others) yield* conn.fetchVal(sql, [1])
  add("direct", (w, i) => conns[w]!.fetchVal("SELECT $1::int", [i]), yield* backends("bench_direct"))

  const pools: Array<[string, PgPool.PgPoolOptions]> = [
    ["pool full", { sessionReset: "full" }],
    ["pool noPreparedScan", { sessionReset: "noPreparedScan" }],
    ["pool transactionOnly", { sessionReset: "transactionOnly" }],
    ["pool+fullReset", { reset: PgPool.fullReset }],
  ]
  for (const [label, extra] of pools) {
    const name = `bench_${label.replace(/\W/g, "_")}`
    const pool = yield* PgPool.make({ ...options, ...extra, applicationName: name, min: fibers, max: fibers })
    // Every connection of the pool runs the other statements once (a checkout each, all at once).
    yield* Effect.forEach(
      Array.from({ length: fibers }),
      () => pool.withConnection((conn) => Effect.forEach(others, (sql) => conn.fetchVal(sql, [1]), { discard: true })),
      { concurrency: "unbounded", discard: true },
    )
    add(label, (_, i) => pool.fetchVal("SELECT $1::int", [i]), yield* backends(name))
  }

  const only = new RegExp(process.env.ONLY ?? "")
  rows.splice(0, rows.length, ...rows.filter((row) => only.test(row.label)))
  for (const row of rows) yield* run(1_000, row.query) // warm up: statement cache, JIT
  for (let round = 0; round < rounds; round++) {
    for (const row of rows) {
      const server = serverCpu(row.pids)
      const cpu = process.cpuUsage()
      const started = performance.now()
      yield* run(total, row.query)
      row.wall.push(((performance.now() - started) * 1000) / total)
      const used = process.cpuUsage(cpu)
      row.client.push((used.user + used.system) / total)
      const after = serverCpu(row.pids)
      if (server !== undefined && after !== undefined) row.server.push((after - server) / total)
    }
  }
  console.log(
    `${total} queries (SELECT $1::int) per run, ${fibers} fibers, ${cached} other cached statements, ` +
      `medians of ${rounds} interleaved rounds, µs per query`,
  )
  console.log(`${"".padEnd(22)} ${"wall".padStart(7)} ${"client".padStart(7)} ${"server".padStart(7)}`)
  const show = (x: number | undefined) => (x === undefined ? "-" : x.toFixed(1)).padStart(7)
  for (const row of rows) {
    console.log(
      `${row.label.padEnd(22)} ${show(median(row.wall))} ${show(median(row.client))} ${show(median(row.server))}`,
    )
  }
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
