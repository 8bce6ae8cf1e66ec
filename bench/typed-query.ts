/**
 * What a typed query (`PgQuery`) costs over a raw `fetch`: the same 10,000-row, 6-column result
 * read as PgRecords, as plain objects (`toObject`), and decoded through a row Schema by
 * `PgQuery` (its first-run check done once before timing) and by `fetch`'s `{ schema }`. Client CPU per row is the figure to read
 * (`process.cpuUsage`), best of ROUNDS interleaved rounds.
 *
 *   node --conditions=@pgfx/source bench/typed-query.ts                    # starts a throwaway PostgreSQL
 *   PGFX_BENCH_URL=postgres://... node --conditions=@pgfx/source bench/typed-query.ts
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgQuery from "@pgfx/client/PgQuery"
import * as TempCluster from "@pgfx/testing/TempCluster"
import { Effect, Schema } from "effect"

const ROWS = Number(process.env.ROWS ?? 10_000)
const ROUNDS = Number(process.env.ROUNDS ?? 7)
const sql = `SELECT g AS id, 'name ' || g AS name, g * 1.5::float8 AS score, g % 2 = 0 AS even,
  CASE WHEN g % 3 = 0 THEN NULL ELSE 'note' END AS note, g::int8 AS big FROM generate_series(1, $1) g`

const Row = Schema.Struct({
  id: Schema.Number,
  name: Schema.String,
  score: Schema.Number,
  even: Schema.Boolean,
  note: Schema.NullOr(Schema.String),
  big: Schema.BigInt,
})

const query = PgQuery.make({ sql, params: Schema.Tuple([Schema.Number]), row: Row })

const cpuMicros = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const start = process.cpuUsage()
    yield* effect
    const used = process.cpuUsage(start)
    return used.user + used.system
  })

const run = (options: PgConnection.PgConnectionOptions) =>
  Effect.gen(function* () {
    const conn = yield* PgConnection.make(options)
    yield* query.checkOn(conn)
    const scenarios = {
      "fetch (PgRecord)": conn.fetch(sql, [ROWS]),
      "fetch + toObject": Effect.map(conn.fetch(sql, [ROWS]), (rows) => rows.map((r) => r.toObject())),
      "PgQuery.all (Schema per row)": query.on(conn).all([ROWS]),
      "fetch + { schema } (ad hoc)": conn.fetch(sql, [ROWS], { schema: Row }),
    }
    const best: Record<string, number> = {}
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, effect] of Object.entries(scenarios)) {
        const micros = yield* cpuMicros(effect)
        best[name] = Math.min(best[name] ?? Infinity, micros)
      }
    }
    for (const [name, micros] of Object.entries(best)) {
      console.log(
        `${name.padEnd(32)} ${(micros / ROWS).toFixed(2)} µs CPU/row  (${(micros / 1000).toFixed(1)} ms for ${ROWS} rows)`,
      )
    }
  }).pipe(Effect.scoped)

const main = process.env.PGFX_BENCH_URL
  ? run({ url: process.env.PGFX_BENCH_URL })
  : Effect.scoped(
      Effect.flatMap(TempCluster.make(), (c) =>
        run({ host: c.host, port: c.port, user: c.user, database: c.database }),
      ),
    )

Effect.runPromise(main).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
