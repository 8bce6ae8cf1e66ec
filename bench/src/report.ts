/**
 * Turns the runs of one harness invocation into medians, ratios and targets, printed as text
 * tables, Markdown (for docs/benchmarks.md) and JSON.
 *
 * Ratios are "advantages": x / other for throughput, other / x for latency, memory and CPU, so
 * above 1.00x always means x is better. Every driver's ratio is against the best JavaScript peer;
 * the targets are judged for pgfx in each call shape (an Effect loop, one `runPromise` per call).
 */
import type { CallShape, DriverInfo } from "./drivers.ts"
import type { RunResult, WorkloadId } from "./protocol.ts"
import type { WorkloadInfo } from "./workloads.ts"

export interface RunRecord {
  readonly round: number
  readonly workload: WorkloadId
  readonly driver: string
  readonly result: RunResult
  readonly wallMs: number
}

export interface Cell {
  readonly driver: string
  readonly label: string
  readonly status: RunResult["status"]
  readonly runs: number
  readonly okRuns: number
  readonly median: number | undefined
  readonly min: number | undefined
  readonly max: number | undefined
  /** Medians of the numeric extras (p99, rows/s of W6, ...), and the string extras of the last run. */
  readonly extra: Readonly<Record<string, number | string>>
  /** Why it did not run (or the first failure). */
  readonly reason: string | undefined
}

export interface Target {
  readonly text: string
  /** undefined when it cannot be judged (pgfx or the peer has no number). */
  readonly met: boolean | undefined
}

/** pgfx in one call shape: the driver that stands for it, its number, its ratio and targets. */
export interface ShapeSummary {
  readonly shape: CallShape
  readonly driver: string | undefined
  readonly label: string | undefined
  readonly value: number | undefined
  readonly vsBestJs: number | undefined
  /** Client CPU per query (W1, W1p, W2), and its advantage over the JS peer using the least. */
  readonly cpuUsPerOp: number | undefined
  readonly cpuVsBestJs: number | undefined
  readonly targets: ReadonlyArray<Target>
}

export interface WorkloadSummary {
  readonly workload: WorkloadInfo
  readonly cells: ReadonlyArray<Cell>
  readonly bestJs: { readonly driver: string; readonly label: string; readonly value: number } | undefined
  /** The JS peer with the least client CPU per query (duration-based workloads). */
  readonly bestJsCpu: { readonly driver: string; readonly label: string; readonly value: number } | undefined
  readonly shapes: ReadonlyArray<ShapeSummary>
  /** Drivers whose checks (row counts, sums) disagree: a driver did not do the same work. */
  readonly mismatches: ReadonlyArray<string>
}

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** pgfx's advantage over `other` (above 1 = pgfx better); undefined when a number is 0 (no ratio). */
export const advantage = (workload: WorkloadInfo, pgfx: number, other: number): number | undefined => {
  const value = workload.better === "higher" ? pgfx / other : other / pgfx
  return Number.isFinite(value) && value > 0 ? value : undefined
}

type Condition =
  | { readonly against: "bestJs"; readonly min: number; readonly issue: number }
  | { readonly against: "driver"; readonly driver: string; readonly min: number; readonly issue: number }
  | { readonly against: "absolute"; readonly max: number; readonly issue: number }
  | { readonly against: "bestJsCpu"; readonly min: number; readonly issue: number }

/** The targets: issue 25's (the latest peers, both call shapes), and issue 10's for W6 and W8. */
const targetsOf: Readonly<Partial<Record<WorkloadId, ReadonlyArray<Condition>>>> = {
  W1: [
    { against: "bestJs", min: 1.2, issue: 25 },
    // Client CPU per query at most 0.8x the best JS peer's: an advantage of 1 / 0.8.
    { against: "bestJsCpu", min: 1.25, issue: 25 },
  ],
  W1p: [{ against: "bestJs", min: 1.1, issue: 25 }],
  W2: [{ against: "bestJs", min: 1.3, issue: 25 }],
  W3: [{ against: "bestJs", min: 1.2, issue: 25 }],
  W4: [{ against: "driver", driver: "asyncpg", min: 1, issue: 25 }],
  W5: [{ against: "bestJs", min: 1, issue: 25 }],
  W6: [{ against: "absolute", max: 64, issue: 10 }],
  W8: [{ against: "bestJs", min: 3, issue: 10 }],
}

/**
 * Which driver stands for pgfx in each shape: the application path (a `PgClient` pool) first; a
 * `PgConnection` where the pool has no number (W1p: a checkout is exclusive; W7: the same connect).
 */
export const pgfxOfShape: Readonly<Record<CallShape, ReadonlyArray<string>>> = {
  effect: ["pgfx-pool", "pgfx"],
  promise: ["pgfx-pool-promise", "pgfx-promise"],
}

const summarizeCell = (driver: DriverInfo, runs: ReadonlyArray<RunRecord>): Cell => {
  const ok = runs.flatMap((r) => (r.result.status === "ok" ? [r.result] : []))
  const failed = runs.find((r) => r.result.status !== "ok")
  const values = ok.map((r) => r.value)
  const extra: Record<string, number | string> = {}
  for (const key of new Set(ok.flatMap((r) => Object.keys(r.extra ?? {})))) {
    const numbers = ok.flatMap((r) => (typeof r.extra?.[key] === "number" ? [r.extra[key]] : []))
    const last = ok.map((r) => r.extra?.[key]).findLast((v) => v !== undefined)
    extra[key] = numbers.length > 0 ? median(numbers) : String(last)
  }
  const status: RunResult["status"] = ok.length > 0 ? "ok" : (failed?.result.status ?? "error")
  return {
    driver: driver.id,
    label: driver.label,
    status,
    runs: runs.length,
    okRuns: ok.length,
    median: values.length > 0 ? median(values) : undefined,
    min: values.length > 0 ? Math.min(...values) : undefined,
    max: values.length > 0 ? Math.max(...values) : undefined,
    extra,
    reason: failed !== undefined && failed.result.status !== "ok" ? failed.result.reason : undefined,
  }
}

const mismatchesOf = (runs: ReadonlyArray<RunRecord>): Array<string> => {
  const seen = new Map<string, Map<number, Set<string>>>()
  for (const run of runs) {
    if (run.result.status !== "ok") continue
    for (const [key, value] of Object.entries(run.result.check)) {
      const byValue = seen.get(key) ?? new Map<number, Set<string>>()
      const drivers = byValue.get(value) ?? new Set<string>()
      drivers.add(run.driver)
      byValue.set(value, drivers)
      seen.set(key, byValue)
    }
  }
  const out: Array<string> = []
  for (const [key, byValue] of seen) {
    if (byValue.size > 1) {
      out.push(`${key}: ${[...byValue].map(([value, drivers]) => `${[...drivers].join("/")}=${value}`).join(", ")}`)
    }
  }
  return out
}

type Best = { readonly driver: string; readonly label: string; readonly value: number }

/** The best of `cells` by `valueOf`, in the workload's direction (or lowest, for CPU). */
const bestOf = (cells: ReadonlyArray<Cell>, valueOf: (c: Cell) => number | undefined, higher: boolean) =>
  cells.reduce<Best | undefined>((acc, c) => {
    const value = valueOf(c)
    if (value === undefined) return acc
    return acc === undefined || (higher ? value > acc.value : value < acc.value)
      ? { driver: c.driver, label: c.label, value }
      : acc
  }, undefined)

const cpuOf = (c: Cell): number | undefined => (typeof c.extra.cpuUsPerOp === "number" ? c.extra.cpuUsPerOp : undefined)

/** Lower is better for CPU: the advantage of `mine` over `other`. */
const cpuAdvantage = (mine: number | undefined, other: Best | undefined) =>
  mine === undefined || other === undefined || mine === 0 ? undefined : other.value / mine

const judge = (
  condition: Condition,
  workload: WorkloadInfo,
  value: number | undefined,
  vsBestJs: number | undefined,
  cpuVsBestJs: number | undefined,
  valueOf: (id: string) => number | undefined,
  labelOf: (id: string) => string,
): Target => {
  const issue = ` (issue ${condition.issue})`
  switch (condition.against) {
    case "bestJs":
      return {
        text: `>= ${condition.min.toFixed(1)}x best JS peer${issue}`,
        met: vsBestJs === undefined ? undefined : vsBestJs >= condition.min,
      }
    case "bestJsCpu":
      return {
        text: `client CPU per query <= ${(1 / condition.min).toFixed(1)}x best JS peer's${issue}`,
        met: cpuVsBestJs === undefined ? undefined : cpuVsBestJs >= condition.min,
      }
    case "driver": {
      const other = valueOf(condition.driver)
      return {
        text: `>= ${condition.min.toFixed(1)}x ${labelOf(condition.driver)}${issue}`,
        met:
          value === undefined || other === undefined
            ? undefined
            : (advantage(workload, value, other) ?? 0) >= condition.min,
      }
    }
    case "absolute":
      return {
        text: `< ${condition.max} ${workload.unit}${issue}`,
        met: value === undefined ? undefined : value < condition.max,
      }
  }
}

export const summarize = (
  workloads: ReadonlyArray<WorkloadInfo>,
  drivers: ReadonlyArray<DriverInfo>,
  runs: ReadonlyArray<RunRecord>,
): Array<WorkloadSummary> =>
  workloads.map((workload) => {
    const mine = runs.filter((r) => r.workload === workload.id)
    const cells = drivers.map((d) =>
      summarizeCell(
        d,
        mine.filter((r) => r.driver === d.id),
      ),
    )
    const cellOf = (id: string) => cells.find((c) => c.driver === id)
    const labelOf = (id: string) => drivers.find((d) => d.id === id)?.label ?? id
    const js = cells.filter((c) => drivers.find((d) => d.id === c.driver)?.kind === "js")
    const bestJs = bestOf(js, (c) => c.median, workload.better === "higher")
    const bestJsCpu = bestOf(js, cpuOf, false)
    const shapes = (["effect", "promise"] as const).map((shape): ShapeSummary => {
      const cell = pgfxOfShape[shape].map(cellOf).find((c) => c?.median !== undefined)
      const value = cell?.median
      const vsBestJs =
        value !== undefined && bestJs !== undefined ? advantage(workload, value, bestJs.value) : undefined
      const cpuUsPerOp = cell === undefined ? undefined : cpuOf(cell)
      const cpuVsBestJs = cpuAdvantage(cpuUsPerOp, bestJsCpu)
      const targets = (targetsOf[workload.id] ?? []).map((condition) =>
        judge(condition, workload, value, vsBestJs, cpuVsBestJs, (id) => cellOf(id)?.median, labelOf),
      )
      return { shape, driver: cell?.driver, label: cell?.label, value, vsBestJs, cpuUsPerOp, cpuVsBestJs, targets }
    })
    return { workload, cells, bestJs, bestJsCpu, shapes, mismatches: mismatchesOf(mine) }
  })

/** A number in the workload's unit, compact (34.1k, 1.05M, 76 us, 12.3 MiB). */
export const formatValue = (unit: string, value: number): string => {
  if (unit === "us") return `${value.toFixed(value < 100 ? 1 : 0)} us`
  if (unit === "MiB") return `${value.toFixed(1)} MiB`
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)}k`
  if (value >= 100) return value.toFixed(0)
  return value.toFixed(1)
}

const statusLabel: Readonly<Record<RunResult["status"], string>> = {
  ok: "ok",
  "not-implemented": "not implemented yet",
  unsupported: "n/a",
  unavailable: "NOT AVAILABLE",
  error: "ERROR",
}

const ratio = (r: number | undefined) => (r === undefined ? "-" : `${r.toFixed(2)}x`)
const cpuText = (us: number | undefined) => (us === undefined ? "-" : us.toFixed(1))

const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length))
const padLeft = (s: string, n: number) => (s.length >= n ? s : " ".repeat(n - s.length) + s)

const verdict = (met: boolean | undefined, missed: string) =>
  met === undefined ? "not measurable" : met ? "met" : missed

/** The advantage of a cell over the best JS peer (undefined without numbers). */
const vsBest = (s: WorkloadSummary, c: Cell) =>
  c.median === undefined || s.bestJs === undefined ? undefined : advantage(s.workload, c.median, s.bestJs.value)

const hasCpu = (s: WorkloadSummary) => s.cells.some((c) => cpuOf(c) !== undefined)

const notesOf = (extra: Readonly<Record<string, number | string>>) =>
  Object.entries(extra)
    .filter(([key]) => key === "p99Us" || key === "rowsPerSec" || key === "loop" || key === "asyncpg")
    .map(([key, v]) =>
      typeof v === "number"
        ? `${key}=${key === "rowsPerSec" ? formatValue("rows/s", v) : v.toFixed(0)}`
        : `${key}=${v}`,
    )
    .join(" ")

const shapeName: Readonly<Record<CallShape, string>> = { effect: "Effect loop", promise: "runPromise per call" }

/** The text report: one block per workload (every driver, its ratio to the best JS peer), then pgfx per shape. */
export const renderText = (summaries: ReadonlyArray<WorkloadSummary>): string => {
  const lines: Array<string> = []
  for (const s of summaries) {
    const w = s.workload
    const cpu = hasCpu(s)
    lines.push("", `${w.id}  ${w.title}  [${w.unit}, ${w.better} is better]`)
    lines.push(
      `  ${pad("driver", 28)}${padLeft("median", 12)}  ${pad("min..max", 22)}${pad("runs", 6)}${padLeft("vs best JS", 11)}${cpu ? padLeft("CPU us/q", 10) : ""}  notes`,
    )
    for (const c of s.cells) {
      if (c.median === undefined) {
        lines.push(`  ${pad(c.label, 28)}${padLeft(statusLabel[c.status], 12)}  ${c.reason ?? ""}`)
        continue
      }
      const spread = `${formatValue(w.unit, c.min ?? 0)}..${formatValue(w.unit, c.max ?? 0)}`
      const failures = c.okRuns < c.runs ? ` ${c.runs - c.okRuns} FAILED: ${c.reason ?? ""}` : ""
      lines.push(
        `  ${pad(c.label, 28)}${padLeft(formatValue(w.unit, c.median), 12)}  ${pad(spread, 22)}${pad(`${c.okRuns}/${c.runs}`, 6)}${padLeft(ratio(vsBest(s, c)), 11)}${cpu ? padLeft(cpuText(cpuOf(c)), 10) : ""}  ${notesOf(c.extra)}${failures}`,
      )
    }
    const best = s.bestJs === undefined ? "no JS peer" : `${s.bestJs.label} ${formatValue(w.unit, s.bestJs.value)}`
    lines.push(`  -> best JS peer: ${best}`)
    for (const shape of s.shapes) {
      const targets = shape.targets.map((t) => `${t.text}: ${verdict(t.met, "MISSED")}`).join("; ")
      lines.push(
        `  -> pgfx, ${shapeName[shape.shape]} (${shape.label ?? "no number"}): ${ratio(shape.vsBestJs)}` +
          (shape.cpuVsBestJs === undefined ? "" : `, CPU ${ratio(shape.cpuVsBestJs)}`) +
          (targets === "" ? "" : `; ${targets}`),
      )
    }
    for (const m of s.mismatches) lines.push(`  !! CHECK MISMATCH (drivers did different work) ${m}`)
  }
  return lines.join("\n")
}

const mdCell = (unit: string, c: Cell): string => {
  if (c.median !== undefined) return formatValue(unit, c.median) + (c.okRuns < c.runs ? " (some runs failed)" : "")
  return c.status === "not-implemented"
    ? "not implemented yet"
    : c.status === "unsupported"
      ? "n/a"
      : c.status === "unavailable"
        ? "not available"
        : "error"
}

/** A Markdown table; `align` has one letter per column, `l` or `r`. */
const table = (
  header: ReadonlyArray<string>,
  align: string,
  rows: ReadonlyArray<ReadonlyArray<string>>,
): Array<string> => [
  `| ${header.join(" | ")} |`,
  `| ${header.map((_, i) => (align[i] === "r" ? "--:" : "---")).join(" | ")} |`,
  ...rows.map((row) => `| ${row.join(" | ")} |`),
]

/** The targets table: per workload, pgfx in each shape against the best JS peer, asyncpg and C. */
const targetsTable = (summaries: ReadonlyArray<WorkloadSummary>): Array<string> => {
  const rows: Array<Array<string>> = []
  const fallbacks = new Set<string>()
  const pgfxValue = (s: WorkloadSummary, shape: ShapeSummary, unit: string, value: number | undefined) => {
    if (value === undefined) return "-"
    if (shape.driver !== pgfxOfShape[shape.shape][0]) fallbacks.add(`${s.workload.id}: ${shape.label}`)
    return formatValue(unit, value) + (shape.driver !== pgfxOfShape[shape.shape][0] ? "*" : "")
  }
  const met = (targets: ReadonlyArray<Target>) =>
    targets.length === 0 ? "-" : targets.map((t) => verdict(t.met, "**missed**")).join("; ")
  for (const s of summaries) {
    const w = s.workload
    const [effect, promise] = s.shapes
    const other = (id: string) => {
      const cell = s.cells.find((c) => c.driver === id)
      return cell?.median === undefined ? "-" : formatValue(w.unit, cell.median)
    }
    const plain = (shape: ShapeSummary) => shape.targets.filter((t) => !t.text.startsWith("client CPU"))
    rows.push([
      `${w.id} ${w.title} (${w.unit}${w.better === "lower" ? ", lower is better" : ""})`,
      pgfxValue(s, effect, w.unit, effect.value),
      pgfxValue(s, promise, w.unit, promise.value),
      s.bestJs === undefined ? "-" : `${s.bestJs.label} ${formatValue(w.unit, s.bestJs.value)}`,
      `**${ratio(effect.vsBestJs)}**`,
      `**${ratio(promise.vsBestJs)}**`,
      other("asyncpg"),
      other("libpq"),
      plain(effect)
        .map((t) => t.text)
        .join("; ") || "-",
      met(plain(effect)),
      met(plain(promise)),
    ])
    const cpuTargets = (shape: ShapeSummary) => shape.targets.filter((t) => t.text.startsWith("client CPU"))
    if (cpuTargets(effect).length > 0) {
      const cpuOfDriver = (id: string) => {
        const cell = s.cells.find((c) => c.driver === id)
        return cell === undefined ? "-" : cpuText(cpuOf(cell))
      }
      rows.push([
        `client CPU per ${w.id} query (us, lower is better)`,
        cpuText(effect.cpuUsPerOp),
        cpuText(promise.cpuUsPerOp),
        s.bestJsCpu === undefined ? "-" : `${s.bestJsCpu.label} ${cpuText(s.bestJsCpu.value)}`,
        `**${ratio(effect.cpuVsBestJs)}**`,
        `**${ratio(promise.cpuVsBestJs)}**`,
        cpuOfDriver("asyncpg"),
        cpuOfDriver("libpq"),
        cpuTargets(effect)
          .map((t) => t.text)
          .join("; "),
        met(cpuTargets(effect)),
        met(cpuTargets(promise)),
      ])
    }
  }
  const header = [
    "workload",
    "pgfx, Effect loop",
    "pgfx, runPromise per call",
    "best JS peer",
    "Effect ÷ best JS",
    "promise ÷ best JS",
    "asyncpg",
    "C reference",
    "target",
    "Effect",
    "promise",
  ]
  const out = table(header, "lrrlrrrrlll", rows)
  if (fallbacks.size > 0) {
    out.push("", `\\* no \`PgClient\` number, so the \`PgConnection\` row: ${[...fallbacks].join(", ")}.`)
  }
  return out
}

/** One table per workload: every driver's median, spread, ratio to the best JS peer (and CPU per query). */
const workloadTables = (summaries: ReadonlyArray<WorkloadSummary>): Array<string> => {
  const out: Array<string> = []
  for (const s of summaries) {
    const w = s.workload
    const cpu = hasCpu(s)
    const header = [
      "driver",
      `median (${w.unit})`,
      "min..max",
      "÷ best JS",
      ...(cpu ? ["client CPU (us/query)"] : []),
      "notes",
    ]
    const rows = s.cells.map((c) => [
      c.label,
      mdCell(w.unit, c),
      c.median === undefined ? "-" : `${formatValue(w.unit, c.min ?? 0)}..${formatValue(w.unit, c.max ?? 0)}`,
      c.driver === s.bestJs?.driver ? "1.00x (best JS)" : ratio(vsBest(s, c)),
      ...(cpu ? [cpuText(cpuOf(c))] : []),
      notesOf(c.extra) || "",
    ])
    out.push(
      "",
      `### ${w.id}: ${w.title} (${w.better} is better)`,
      "",
      ...table(header, cpu ? "lrrrrl" : "lrrrl", rows),
    )
  }
  return out
}

/**
 * The Markdown report: the targets table (pgfx in both call shapes against the best JS peer), then
 * one table per workload with every driver; reasons and check mismatches below.
 */
export const renderMarkdown = (summaries: ReadonlyArray<WorkloadSummary>): string => {
  const out = ["## Targets", "", ...targetsTable(summaries), "", "## Every driver", ...workloadTables(summaries)]
  const reasons = new Map<string, Set<string>>()
  for (const s of summaries) {
    for (const c of s.cells) {
      if (c.median === undefined && c.reason !== undefined) {
        const key = `${c.label}: ${c.reason}`
        const set = reasons.get(key) ?? new Set<string>()
        set.add(s.workload.id)
        reasons.set(key, set)
      }
    }
  }
  if (reasons.size > 0) {
    out.push("", "Not run:", "")
    for (const [reason, ids] of reasons) out.push(`- ${[...ids].join(", ")} — ${reason}`)
  }
  const mismatches = summaries.flatMap((s) => s.mismatches.map((m) => `- **check mismatch** ${s.workload.id}: ${m}`))
  if (mismatches.length > 0) out.push("", ...mismatches)
  return out.join("\n")
}
