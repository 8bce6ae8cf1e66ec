/**
 * What the harness (parent) and one benchmark run (a fresh child process) say to each other.
 *
 * The parent passes a {@link RunRequest} as JSON in the `PGFX_BENCH_REQUEST` environment variable;
 * the child runs exactly one workload with one driver and prints one line
 * `@@pgfx-bench-result {json}` holding a {@link RunResult}. Everything else the child prints is
 * passed through to the parent's log (and shown when the run fails). The Python child
 * (`bench/python/asyncpg_bench.py`) speaks the same protocol.
 */

/** The workloads of issue 10. */
export const workloadIds = ["W1", "W1p", "W2", "W3", "W4", "W5", "W6", "W7", "W8"] as const
export type WorkloadId = (typeof workloadIds)[number]

export const resultMarker = "@@pgfx-bench-result "

/** Where a driver connects: always TCP on loopback, as the SCRAM role `bench`. */
export interface ConnInfo {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
  readonly database: string
}

/**
 * One workload, fully specified, so every driver (JavaScript, Python, pgbench) runs the same SQL
 * with the same sizes. Fields a workload does not use are 0 or "".
 */
export interface Spec {
  readonly id: WorkloadId
  /** The statement under test. `$1..$n` placeholders (pgbench scripts substitute `:vars`). */
  readonly sql: string
  /** A cheaper statement for the warm-up (W3: a LIMIT of the same query). */
  readonly warmupSql: string
  /** Concurrent callers (W1, W1p, W2). */
  readonly callers: number
  /** Connections those callers share (W1, W2: 10; W1p: 1). */
  readonly connections: number
  /** Duration-based workloads: warm-up, then the measured window. */
  readonly warmupMs: number
  readonly durationMs: number
  /** Count-based workloads: rows per query (W3), rows (W4, W6), queries (W5), connects (W7), parameter sets (W8). */
  readonly count: number
  /** The same unit, for the warm-up. */
  readonly warmupCount: number
  /** W3: how many timed executions of the full query. */
  readonly repeats: number
  /** W6: rows fetched per cursor round trip. */
  readonly fetchSize: number
  /** W1: ids are drawn from 1..idRange. */
  readonly idRange: number
  /** W4/W8: the target table and its columns. */
  readonly table: string
  readonly columns: ReadonlyArray<string>
}

export interface RunRequest {
  readonly workload: WorkloadId
  readonly spec: Spec
  /** The benchmark database (tables bench_*). */
  readonly conn: ConnInfo
  /** The database W2 reads pg_type from (a pristine `postgres`, so the row count is PostgreSQL's own). */
  readonly catalogConn: ConnInfo
  /** A private scratch directory for this run (pgbench scripts and logs, psql COPY files). */
  readonly tmpDir: string
  /** Directory of pgbench and psql (libpq reference only). */
  readonly pgBinDir: string
}

/** Values every driver must agree on (row counts, sums): the harness compares them across drivers. */
export type Check = Readonly<Record<string, number>>

export type RunResult =
  | {
      readonly status: "ok"
      /** The headline number in the workload's unit. */
      readonly value: number
      readonly check: Check
      /** Secondary numbers (p99 latency, rows/s, peak RSS growth, versions...). */
      readonly extra?: Readonly<Record<string, number | string>> | undefined
    }
  | {
      /**
       * - `not-implemented`: pgfx lacks the feature today (the gap the table must show).
       * - `unsupported`: the peer has no such API (e.g. asyncpg pipelining).
       * - `unavailable`: the peer cannot run on this machine (not installed, does not build).
       * - `error`: the run failed.
       */
      readonly status: "not-implemented" | "unsupported" | "unavailable" | "error"
      readonly reason: string
    }

export type OkResult = Extract<RunResult, { status: "ok" }>

/** A workload a driver does not run, and why. */
export interface Gap {
  readonly status: "not-implemented" | "unsupported"
  readonly reason: string
}

export const notImplemented = (reason: string): Gap => ({ status: "not-implemented", reason })
export const unsupported = (reason: string): Gap => ({ status: "unsupported", reason })
