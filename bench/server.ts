/**
 * What the standalone bench scripts share: the server they talk to and the median of a run's
 * figures.
 */
import type { PgConnectionOptions } from "@pgfx/client/PgConnection"
import * as TempCluster from "@pgfx/testing/TempCluster"
import { Effect } from "effect"

/**
 * The server of a bench script: `PGFX_BENCH_URL` when set, otherwise a throwaway PostgreSQL
 * that lives as long as the caller's scope.
 */
export const benchServer = Effect.suspend(() => {
  const url = process.env.PGFX_BENCH_URL
  return url !== undefined
    ? Effect.succeed<PgConnectionOptions>({ url })
    : Effect.map(TempCluster.make(), (c): PgConnectionOptions => ({
        host: c.host,
        port: c.port,
        user: c.user,
        database: c.database,
      }))
})

/** The median of `xs` (the upper one of an even count). */
export const median = (xs: ReadonlyArray<number>): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
