/**
 * The child side of a benchmark run, shared by every JavaScript driver: read the request, run the
 * one workload, print the result line, exit. Plus the measuring helpers, so every driver is timed
 * by the same code:
 *
 * - {@link runCallers}: N callers loop over one call each until a deadline; completions are
 *   counted only inside the measured window (after the warm-up).
 * - {@link latencies}: serial calls, one `performance.now()` pair around each.
 * - {@link RssProbe}: baseline and peak resident set size around a streaming run.
 * - {@link Tally}: touches every cell of a result and keeps the checks the harness compares.
 */
import { performance } from "node:perf_hooks"
import { type Gap, type OkResult, resultMarker, type RunRequest, type RunResult, type WorkloadId } from "./protocol.ts"

export type Handler = (request: RunRequest) => Promise<OkResult>

/** A driver: one entry per workload, either a handler or the reason it is not run. */
export type Driver = Readonly<Partial<Record<WorkloadId, Handler | Gap>>>

const print = (result: RunResult): void => {
  process.stdout.write(`\n${resultMarker}${JSON.stringify(result)}\n`)
}

const describeError = (error: unknown): string => {
  if (error instanceof Error) return `${error.name}: ${error.message}`
  if (typeof error === "object" && error !== null) {
    const tagged = error as { _tag?: unknown; message?: unknown }
    if (typeof tagged._tag === "string") return `${tagged._tag}: ${String(tagged.message ?? "")}`
  }
  return String(error)
}

/** Reads the request from the environment. */
export const request = (): RunRequest => {
  const raw = process.env.PGFX_BENCH_REQUEST
  if (raw === undefined) throw new Error("PGFX_BENCH_REQUEST is not set: run this file through bench/src/main.ts")
  return JSON.parse(raw) as RunRequest
}

/** Runs the requested workload of `driver`, prints the result line and exits the process. */
export const runChild = async (driver: Driver | (() => Promise<Driver>)): Promise<never> => {
  let result: RunResult
  try {
    const req = request()
    const resolved = typeof driver === "function" ? await driver() : driver
    const entry = resolved[req.workload]
    if (entry === undefined) result = { status: "unsupported", reason: `no ${req.workload} implementation` }
    else if (typeof entry === "function") result = await entry(req)
    else result = entry
  } catch (error) {
    result =
      error instanceof PeerUnavailable
        ? { status: "unavailable", reason: error.message }
        : { status: "error", reason: describeError(error) }
  }
  if (result.status === "ok" && windowCpuUsPerOp !== undefined) {
    result = { ...result, extra: { ...result.extra, cpuUsPerOp: windowCpuUsPerOp } }
  }
  print(result)
  // Pools and sockets left open by a failed run must not keep the process alive.
  process.exit(0)
}

/** Thrown when a peer package cannot be loaded on this machine. */
export class PeerUnavailable extends Error {}

/** Loads a peer package, turning failure into {@link PeerUnavailable}. */
export const loadPeer = async <A>(name: string, load: () => Promise<A>): Promise<A> => {
  try {
    return await load()
  } catch (error) {
    const message = describeError(error).split("\n")[0] ?? ""
    throw new PeerUnavailable(`cannot load ${name}: ${message}`)
  }
}

/** Shared state of a duration-based run: the callers poll it, timers drive it. */
export interface Window {
  stop: boolean
  measuring: boolean
  count: number
}

/**
 * Starts the clock of a duration-based run: after `warmupMs` completions start to count; after
 * `durationMs` more, the window closes and the callers stop. Resolves to completions per second
 * inside the window.
 */
export const openWindow = (warmupMs: number, durationMs: number): { window: Window; done: Promise<number> } => {
  const window: Window = { stop: false, measuring: false, count: 0 }
  const done = new Promise<number>((resolve) => {
    setTimeout(() => {
      window.measuring = true
      window.count = 0
      const start = performance.now()
      const cpu = process.cpuUsage()
      setTimeout(() => {
        const counted = window.count
        const seconds = (performance.now() - start) / 1000
        const used = process.cpuUsage(cpu)
        if (counted > 0) windowCpuUsPerOp = (used.user + used.system) / counted
        window.stop = true
        window.measuring = false
        resolve(counted / seconds)
      }, durationMs)
    }, warmupMs)
  })
  return { window, done }
}

/**
 * The client process's CPU time (user + system, all threads) per completion inside the last
 * measured window: what the driver costs on the client, which the server's share of the two
 * cores does not blur. Added to the result as `cpuUsPerOp`.
 */
let windowCpuUsPerOp: number | undefined

/**
 * Promise-based callers: `callers` loops, each awaiting `call(caller, iteration)` until the window
 * closes. Returns completions per second in the measured window.
 */
export const runCallers = async (
  callers: number,
  warmupMs: number,
  durationMs: number,
  call: (caller: number, iteration: number) => Promise<void>,
): Promise<number> => {
  const { window, done } = openWindow(warmupMs, durationMs)
  const loop = async (caller: number) => {
    for (let i = 0; !window.stop; i++) {
      await call(caller, i)
      if (window.measuring) window.count++
    }
  }
  const [rate] = await Promise.all([done, ...Array.from({ length: callers }, (_, c) => loop(c))])
  return rate
}

/** Deterministic spread of primary keys over 1..range, different per caller. */
export const pickId = (caller: number, iteration: number, range: number): number =>
  ((iteration * 7919 + caller * 104_729) % range) + 1

/** Median of a sample. */
export const median = (values: Float64Array | Array<number>): number => {
  const sorted = Array.from(values).sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export const percentile = (values: Float64Array | Array<number>, p: number): number => {
  const sorted = Array.from(values).sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/** Serial latencies: `warmup` untimed calls, then `count` timed ones (microseconds). */
export const latencies = async (
  warmup: number,
  count: number,
  call: (iteration: number) => Promise<void>,
): Promise<OkResult> => {
  for (let i = 0; i < warmup; i++) await call(i)
  const samples = new Float64Array(count)
  for (let i = 0; i < count; i++) {
    const t0 = performance.now()
    await call(i)
    samples[i] = (performance.now() - t0) * 1000
  }
  return latencyResult(samples)
}

export const latencyResult = (samples: Float64Array): OkResult => {
  let sum = 0
  for (const s of samples) sum += s
  return {
    status: "ok",
    value: median(samples),
    check: { queries: samples.length },
    extra: { p99Us: percentile(samples, 99), meanUs: sum / samples.length },
  }
}

/** Wall time of `f` in seconds. */
export const timed = async (f: () => Promise<void>): Promise<number> => {
  const t0 = performance.now()
  await f()
  return (performance.now() - t0) / 1000
}

/**
 * Touches every cell of row objects (read by column name, as application code does) and keeps the
 * checks: rows, non-null cells, the sum of column `a` and the number of `true`s in column `g`.
 */
export class Tally {
  rows = 0
  cells = 0
  sumA = 0
  trues = 0
  readonly columns: ReadonlyArray<string>

  constructor(columns: ReadonlyArray<string>) {
    this.columns = columns
  }

  row(row: Readonly<Record<string, unknown>>): void {
    this.rows++
    for (const column of this.columns) {
      const value = row[column]
      if (value !== null && value !== undefined) this.cells++
    }
    const a = row.a
    if (typeof a === "number") this.sumA += a
    if (row.g === true) this.trues++
  }

  all(rows: ReadonlyArray<Readonly<Record<string, unknown>>>): void {
    for (const row of rows) this.row(row)
  }

  check(): Readonly<Record<string, number>> {
    return { rows: this.rows, cells: this.cells, sumA: this.sumA, trues: this.trues }
  }
}

/** The column names of a `SELECT a, b, ... FROM` statement (W2, W3, W6 SQL). */
export const selectColumns = (sql: string): ReadonlyArray<string> => {
  const match = /^\s*SELECT\s+([\s\S]+?)\s+FROM\s/i.exec(sql)
  if (match === null) throw new Error(`cannot read the column list of: ${sql}`)
  return match[1].split(",").map((part) => {
    const words = part.trim().split(/\s+/)
    return words[words.length - 1]
  })
}

/**
 * Peak RSS growth of a streaming run: `start` takes the baseline (after a GC when available),
 * `stop` returns the growth in MiB. RSS is sampled every 10 ms, and the kernel's high-water mark
 * (`maxRSS`) is used when the run raised it.
 */
export class RssProbe {
  #baseline = 0
  #baselineMax = 0
  #peak = 0
  #timer: ReturnType<typeof setInterval> | undefined

  start(): void {
    const gc = (globalThis as { gc?: () => void }).gc
    if (gc !== undefined) gc()
    this.#baseline = process.memoryUsage.rss()
    this.#baselineMax = process.resourceUsage().maxRSS * 1024
    this.#peak = this.#baseline
    this.#timer = setInterval(() => {
      const rss = process.memoryUsage.rss()
      if (rss > this.#peak) this.#peak = rss
    }, 10)
  }

  stop(): { growthMiB: number; baselineMiB: number } {
    clearInterval(this.#timer)
    const max = process.resourceUsage().maxRSS * 1024
    const peak = max > this.#baselineMax ? Math.max(max, this.#peak) : this.#peak
    return { growthMiB: (peak - this.#baseline) / 1048576, baselineMiB: this.#baseline / 1048576 }
  }
}

/** W4/W8 input rows: (int4, text, timestamptz, float8), the same for every driver. */
export type IngestRow = [number, string, Date, number]

export const ingestBase = Date.UTC(2024, 0, 1)

export const ingestRows = (count: number, offset = 0): Array<IngestRow> => {
  const rows = new Array<IngestRow>(count)
  for (let k = 0; k < count; k++) {
    const i = offset + k + 1
    rows[k] = [i, `name-${i}`, new Date(ingestBase + i * 1000), i * 0.25]
  }
  return rows
}

/** COPY text format of ingest rows (what pg-copy-streams, postgres.js and psql get). */
export const copyText = (rows: ReadonlyArray<IngestRow>, from: number, to: number): string => {
  let out = ""
  for (let k = from; k < to; k++) {
    const row = rows[k]
    out += `${row[0]}\t${row[1]}\t${row[2].toISOString()}\t${row[3]}\n`
  }
  return out
}

/** The untimed count that checks a W4/W8 run really inserted its rows. */
export const ingestCheckSql = (table: string): string =>
  `SELECT count(*)::int8 AS rows, sum(a)::int8 AS suma FROM ${table}`

export const ingestResult = (count: number, seconds: number, rows: number, sumA: number): OkResult => ({
  status: "ok",
  value: count / seconds,
  check: { rows, sumA },
  extra: { seconds },
})

/** W6's result: the headline is the peak RSS growth; throughput goes in `extra`. */
export const streamResult = (
  rss: { growthMiB: number; baselineMiB: number },
  tally: Tally,
  seconds: number,
): OkResult => ({
  status: "ok",
  value: rss.growthMiB,
  check: { rows: tally.rows, sumA: tally.sumA },
  extra: { rowsPerSec: tally.rows / seconds, baselineMiB: rss.baselineMiB },
})
