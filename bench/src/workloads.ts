/**
 * The workloads, defined once for every driver: their SQL, their sizes per preset, and how the
 * table reads them. See docs/benchmarks.md for the reasoning behind each choice.
 */
import type { Spec, WorkloadId } from "./protocol.ts"

export type Preset = "full" | "quick" | "smoke"

export interface WorkloadInfo {
  readonly id: WorkloadId
  readonly title: string
  readonly unit: string
  /** Whether a bigger number is better (throughput) or a smaller one (latency, memory). */
  readonly better: "higher" | "lower"
}

export const workloads: ReadonlyArray<WorkloadInfo> = [
  { id: "W1", title: "point query by primary key, 10 callers on 10 connections", unit: "q/s", better: "higher" },
  { id: "W1p", title: "point query, 10 callers pipelined on 1 connection", unit: "q/s", better: "higher" },
  { id: "W2", title: "pg_type (all rows x 12 columns), 10 callers on 10 connections", unit: "q/s", better: "higher" },
  { id: "W3", title: "mixed-type result on 1 connection, every value decoded", unit: "rows/s", better: "higher" },
  { id: "W4", title: "bulk insert (int4, text, timestamptz, float8) via COPY", unit: "rows/s", better: "higher" },
  { id: "W5", title: "serial SELECT $1::int round trip, 1 connection (median)", unit: "us", better: "lower" },
  { id: "W6", title: "stream rows through a cursor: peak RSS growth", unit: "MiB", better: "lower" },
  {
    id: "W7",
    title: "connection set-up with SCRAM-SHA-256 (connect, SELECT 1, close)",
    unit: "conn/s",
    better: "higher",
  },
  { id: "W8", title: "executeMany: one INSERT, many parameter sets, 1 transaction", unit: "rows/s", better: "higher" },
]

/** The tables the harness creates in the benchmark database, and how it fills them. */
export const setupStatements = (w1Rows: number, w3Rows: number): ReadonlyArray<string> => [
  "DROP TABLE IF EXISTS bench_w1, bench_w3, bench_ingest",
  `CREATE TABLE bench_w1 (id int4 PRIMARY KEY, name text NOT NULL, score float8 NOT NULL, created timestamptz NOT NULL)`,
  `INSERT INTO bench_w1 SELECT i, 'user-' || i, i * 0.5, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute'
     FROM generate_series(1, ${w1Rows}) AS s(i)`,
  // W3: one column per type of the issue: int4, int8, text, float8, numeric, timestamptz, bool, uuid.
  `CREATE TABLE bench_w3 (a int4 NOT NULL, b int8 NOT NULL, c text NOT NULL, d float8 NOT NULL,
     e numeric(12, 2) NOT NULL, f timestamptz NOT NULL, g bool NOT NULL, h uuid NOT NULL)`,
  `INSERT INTO bench_w3 SELECT i, i::int8 * 1000003, 'row-' || i, i * 1.5, (i % 100000) / 100.0,
     timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second', i % 2 = 0, md5(i::text)::uuid
     FROM generate_series(1, ${w3Rows}) AS s(i)`,
  // W4 and W8 insert into this table; each run truncates it first (untimed).
  "CREATE TABLE bench_ingest (a int4 NOT NULL, b text NOT NULL, c timestamptz NOT NULL, d float8 NOT NULL)",
  "VACUUM (FREEZE, ANALYZE) bench_w1, bench_w3, bench_ingest",
]

/** W2's twelve pg_type columns: oids, a name, an int2, bools and "char"s. */
export const W2_SQL =
  "SELECT oid, typname, typnamespace, typowner, typlen, typbyval, typtype, typcategory, typispreferred, typdelim, typelem, typarray FROM pg_type"

export const W3_SQL = "SELECT a, b, c, d, e, f, g, h FROM bench_w3"

const w6Sql = (rows: number) =>
  `SELECT i AS a, i::int8 * 7 AS b, 'row-' || i AS c, i * 0.5::float8 AS d FROM generate_series(1, ${rows}) AS s(i)`

interface Sizes {
  /** Rows of the W1 table (ids 1..w1Rows). */
  readonly w1Rows: number
  readonly warmupMs: number
  readonly durationMs: number
  readonly w3Rows: number
  readonly w3Repeats: number
  readonly w4Rows: number
  readonly w5Queries: number
  readonly w6Rows: number
  readonly w7Connects: number
  readonly w8Sets: number
  readonly rounds: number
}

export const presets: Readonly<Record<Preset, Sizes>> = {
  full: {
    w1Rows: 100_000,
    warmupMs: 1000,
    durationMs: 5000,
    w3Rows: 1_000_000,
    w3Repeats: 2,
    w4Rows: 1_000_000,
    w5Queries: 20_000,
    w6Rows: 5_000_000,
    w7Connects: 300,
    w8Sets: 100_000,
    rounds: 3,
  },
  quick: {
    w1Rows: 100_000,
    warmupMs: 250,
    durationMs: 1000,
    w3Rows: 100_000,
    w3Repeats: 1,
    w4Rows: 100_000,
    w5Queries: 2000,
    w6Rows: 500_000,
    w7Connects: 40,
    w8Sets: 10_000,
    rounds: 2,
  },
  // For the test suite's smoke test: proves the harness runs, measures nothing.
  smoke: {
    w1Rows: 1000,
    warmupMs: 50,
    durationMs: 200,
    w3Rows: 2000,
    w3Repeats: 1,
    w4Rows: 2000,
    w5Queries: 200,
    w6Rows: 5000,
    w7Connects: 5,
    w8Sets: 500,
    rounds: 1,
  },
}

export const sizesOf = (preset: Preset): Sizes => presets[preset]

const base = {
  sql: "",
  warmupSql: "",
  callers: 0,
  connections: 0,
  warmupMs: 0,
  durationMs: 0,
  count: 0,
  warmupCount: 0,
  repeats: 0,
  fetchSize: 0,
  idRange: 0,
  table: "",
  columns: [],
} satisfies Omit<Spec, "id">

/** The full specification of each workload for a preset. */
export const specs = (preset: Preset): Readonly<Record<WorkloadId, Spec>> => {
  const s = presets[preset]
  const pointQuery = "SELECT id, name, score, created FROM bench_w1 WHERE id = $1"
  const insert = "INSERT INTO bench_ingest (a, b, c, d) VALUES ($1, $2, $3, $4)"
  const ingest = { table: "bench_ingest", columns: ["a", "b", "c", "d"] }
  const timedWindow = { warmupMs: s.warmupMs, durationMs: s.durationMs }
  return {
    W1: { ...base, ...timedWindow, id: "W1", sql: pointQuery, callers: 10, connections: 10, idRange: s.w1Rows },
    W1p: { ...base, ...timedWindow, id: "W1p", sql: pointQuery, callers: 10, connections: 1, idRange: s.w1Rows },
    W2: { ...base, ...timedWindow, id: "W2", sql: W2_SQL, callers: 10, connections: 10 },
    W3: {
      ...base,
      id: "W3",
      sql: W3_SQL,
      warmupSql: `${W3_SQL} LIMIT ${Math.min(100_000, s.w3Rows)}`,
      count: s.w3Rows,
      repeats: s.w3Repeats,
    },
    W4: {
      ...base,
      ...ingest,
      id: "W4",
      sql: "COPY bench_ingest (a, b, c, d) FROM STDIN",
      count: s.w4Rows,
      warmupCount: Math.min(10_000, s.w4Rows),
    },
    W5: { ...base, id: "W5", sql: "SELECT $1::int", count: s.w5Queries, warmupCount: Math.ceil(s.w5Queries / 10) },
    W6: { ...base, id: "W6", sql: w6Sql(s.w6Rows), warmupSql: w6Sql(10_000), count: s.w6Rows, fetchSize: 1000 },
    W7: { ...base, id: "W7", sql: "SELECT 1", count: s.w7Connects, warmupCount: Math.ceil(s.w7Connects / 10) },
    W8: { ...base, ...ingest, id: "W8", sql: insert, count: s.w8Sets, warmupCount: Math.min(1000, s.w8Sets) },
  }
}
