/**
 * A benchmark server that stays up, for bench/profile-w1.ts: the harness's PostgreSQL
 * (bench/src/cluster.ts: a throwaway cluster with the benchmark settings and the W1 table) whose
 * connection is printed as one JSON line and written to the file given, until the process is
 * stopped. Many short profiling runs can then share one server.
 *
 *   node --conditions=@pgfx/source bench/profile-server.ts .tmp/bench-conn.json &
 *   node --conditions=@pgfx/source bench/profile-w1.ts "$(cat .tmp/bench-conn.json)"
 */
import { Effect } from "effect"
import { writeFileSync } from "node:fs"
import { prepare } from "./src/cluster.ts"

const out = process.argv[2]

await Effect.runPromise(
  Effect.scoped(
    Effect.gen(function* () {
      // W3's table is not used here: a small one keeps the start-up short.
      const server = yield* prepare({ url: undefined, w1Rows: 100_000, w3Rows: 1000 })
      const json = JSON.stringify(server.conn)
      if (out !== undefined) writeFileSync(out, json)
      console.log(json)
      return yield* Effect.never
    }),
  ),
)
