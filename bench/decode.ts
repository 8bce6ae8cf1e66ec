/**
 * Decode throughput: rows per second for a 1,000,000-row mixed-type result (int4, int8, text,
 * float8, numeric, timestamptz, bool, uuid) fetched whole with `conn.fetch`, median of several
 * runs. The time includes the server producing the rows and the socket; a second figure runs the
 * same query with `count(*)` around it to show the server's share.
 *
 *   node --conditions=@pgfx/source bench/decode.ts                 # a throwaway embedded PostgreSQL
 *   PGFX_TEST_URL=postgres://... node --conditions=@pgfx/source bench/decode.ts
 *   ROWS=200000 RUNS=7 node bench/decode.ts
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import * as TempCluster from "@pgfx/testing/TempCluster"
import { Effect, Option } from "effect"

const ROWS = Number(process.env.ROWS ?? 1_000_000)
const RUNS = Number(process.env.RUNS ?? 5)

const query = `SELECT i::int4 AS a, i::int8 * 1000003 AS b, 'row number ' || i AS c, i * 1.25::float8 AS d,
  (i / 7.0)::numeric(14, 4) AS e, timestamptz '2024-01-01 00:00:00+00' + i * interval '1.5 second' AS f,
  i % 3 = 0 AS g, md5(i::text)::uuid AS h
  FROM generate_series(1, ${ROWS}) AS i`

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

const measure = (options: PgConnection.PgConnectionOptions) =>
  Effect.gen(function* () {
    const conn = yield* PgConnection.make(options)
    const first = yield* conn.fetch(`${query} LIMIT 3`)
    console.log("sample row:", first[0]!.toObject())
    const fetchTimes: Array<number> = []
    const serverTimes: Array<number> = []
    for (let run = 0; run < RUNS; run++) {
      const t0 = performance.now()
      const rows = yield* conn.fetch(query)
      const t1 = performance.now()
      if (rows.length !== ROWS) throw new Error(`expected ${ROWS} rows, got ${rows.length}`)
      fetchTimes.push(t1 - t0)
      const t2 = performance.now()
      Option.getOrThrow(yield* conn.fetchVal(`SELECT count(*) FROM (${query}) AS q`))
      serverTimes.push(performance.now() - t2)
      console.log(
        `run ${run + 1}: fetch ${(t1 - t0).toFixed(0)} ms (${Math.round(ROWS / ((t1 - t0) / 1000)).toLocaleString("en")} rows/s), ` +
          `server alone ${serverTimes[run]!.toFixed(0)} ms`,
      )
    }
    const m = median(fetchTimes)
    console.log(
      `\n${ROWS.toLocaleString("en")} rows x 8 columns, median of ${RUNS}: ${m.toFixed(0)} ms = ` +
        `${Math.round(ROWS / (m / 1000)).toLocaleString("en")} rows/s through conn.fetch ` +
        `(server producing the rows alone: ${median(serverTimes).toFixed(0)} ms)`,
    )
  }).pipe(Effect.scoped)

const program = Effect.gen(function* () {
  const url = process.env.PGFX_TEST_URL
  if (url !== undefined) return yield* measure({ url })
  const cluster = yield* TempCluster.make({})
  console.log(`PostgreSQL ${cluster.version} (${cluster.source}) at ${cluster.host}:${cluster.port}`)
  return yield* measure({ host: cluster.host, port: cluster.port, user: cluster.user, database: cluster.database })
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
