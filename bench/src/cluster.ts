/**
 * The benchmark's PostgreSQL: a TempCluster (embedded PostgreSQL 18) with settings for
 * benchmarking, a SCRAM role `bench` owning the database `bench`, and the workload tables.
 * With `--url` an existing server is used instead (its user and database for everything).
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import * as TempCluster from "@pgfx/testing/TempCluster"
import { Effect, Option, type Scope } from "effect"
import type { ConnInfo } from "./protocol.ts"
import { setupStatements } from "./workloads.ts"

export const benchRole = { name: "bench", password: "bench-scram-secret" } as const

/**
 * Server settings, on top of TempCluster's own (fsync, synchronous_commit and full_page_writes
 * off: no disk flushes, the client is what we measure). Documented in docs/benchmarks.md.
 */
export const serverSettings = {
  // Every table fits in memory, so reads never wait for the disk.
  shared_buffers: "512MB",
  work_mem: "64MB",
  maintenance_work_mem: "256MB",
  // No checkpoint in the middle of a bulk insert.
  max_wal_size: "8GB",
  checkpoint_timeout: "30min",
  // No background work competing for the two cores during a run; the harness VACUUMs itself.
  autovacuum: "off",
  // No JIT compilation of the 1M-row scans (it adds a variable start-up cost), no parallel
  // workers (they would take the client's core).
  jit: "off",
  max_parallel_workers_per_gather: "0",
  password_encryption: "scram-sha-256",
} as const

export interface Server {
  readonly conn: ConnInfo
  readonly catalogConn: ConnInfo
  readonly version: string
  readonly source: string
  readonly settings: Readonly<Record<string, string>>
}

const start = (): Effect.Effect<Server, TempCluster.TempClusterError, Scope.Scope> =>
  Effect.gen(function* () {
    const cluster = yield* TempCluster.make({
      url: false,
      users: [{ name: benchRole.name, password: benchRole.password, passwordEncryption: "scram-sha-256" }],
      databases: [{ name: "bench", owner: benchRole.name }],
      hba: [
        { type: "host", database: "all", user: benchRole.name, address: "127.0.0.1/32", method: "scram-sha-256" },
        { type: "local", database: "all", user: "all", method: "trust" },
        { type: "host", database: "all", user: "all", address: "127.0.0.1/32", method: "trust" },
      ],
      settings: serverSettings,
    })
    const conn: ConnInfo = {
      host: cluster.host,
      port: cluster.port,
      user: benchRole.name,
      password: benchRole.password,
      database: "bench",
    }
    return {
      conn,
      // W2 reads pg_type of a database without the bench tables, so the row count is PostgreSQL's own.
      catalogConn: { ...conn, database: "postgres" },
      version: cluster.versionString,
      source: cluster.source,
      settings: serverSettings,
    }
  })

const external = (url: string): Server => {
  const parsed = new URL(url)
  const conn: ConnInfo = {
    host: parsed.hostname || "127.0.0.1",
    port: parsed.port === "" ? 5432 : Number(parsed.port),
    user: decodeURIComponent(parsed.username) || "postgres",
    password: decodeURIComponent(parsed.password),
    database: decodeURIComponent(parsed.pathname.slice(1)) || "postgres",
  }
  return { conn, catalogConn: conn, version: "external", source: "external", settings: {} }
}

/** Creates and fills the workload tables (as the bench role, in its database). */
const populate = (conn: ConnInfo, w1Rows: number, w3Rows: number): Effect.Effect<string, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const session = yield* PgConnection.make({ ...conn })
    for (const statement of setupStatements(w1Rows, w3Rows)) yield* session.execute(statement)
    return String(Option.getOrThrow(yield* session.fetchVal("SELECT version()")))
  })

/** The server for this run, ready: started (or given), tables created and filled. */
export const prepare = (options: {
  readonly url: string | undefined
  readonly w1Rows: number
  readonly w3Rows: number
}): Effect.Effect<Server, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const server = options.url === undefined ? yield* start() : external(options.url)
    const version = yield* Effect.scoped(populate(server.conn, options.w1Rows, options.w3Rows))
    return { ...server, version }
  })
