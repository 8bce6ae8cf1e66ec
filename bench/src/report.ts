/**
 * Turns the runs of one harness invocation into medians, ratios and targets, printed as text
 * tables, a Markdown table (for docs/benchmarks.md) and JSON.
 *
 * Ratios are "pgfx's advantage": pgfx / other for throughput, other / pgfx for latency and memory,
 * so above 1.00x always means pgfx is better.
 */
import type { DriverInfo } from "./drivers.ts"
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

export interface WorkloadSummary {
  readonly workload: WorkloadInfo
  readonly cells: ReadonlyArray<Cell>
  readonly bestJs: { readonly driver: string; readonly label: string; readonly value: number } | undefined
  readonly pgfxVsBestJs: number | undefined
  readonly targets: ReadonlyArray<Target>
  /** Drivers whose checks (row counts, sums) disagree: a driver did not do the same work. */
  readonly mismatches: ReadonlyArray<string>
}

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** pgfx's advantage over `other` (above 1 = pgfx better). */
export const advantage = (workload: WorkloadInfo, pgfx: number, other: number): number =>
  workload.better === "higher" ? pgfx / other : other / pgfx

type Condition =
  | { readonly against: "bestJs"; readonly min: number }
  | { readonly against: "driver"; readonly driver: string; readonly min: number }
  | { readonly against: "absolute"; readonly max: number }

/** The targets of issue 10. */
const targetsOf: Readonly<Partial<Record<WorkloadId, ReadonlyArray<Condition>>>> = {
  W1: [
    { against: "bestJs", min: 1.2 },
    { against: "driver", driver: "asyncpg", min: 1 },
  ],
  W1p: [{ against: "bestJs", min: 1.1 }],
  W2: [
    { against: "bestJs", min: 1.3 },
    { against: "driver", driver: "asyncpg", min: 1 },
  ],
  W3: [{ against: "bestJs", min: 1.2 }],
  W4: [{ against: "driver", driver: "asyncpg", min: 1 }],
  W5: [{ against: "driver", driver: "libpq", min: 1 }],
  W6: [{ against: "absolute", max: 64 }],
  W8: [{ against: "bestJs", min: 3 }],
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
    const valueOf = (id: string) => cells.find((c) => c.driver === id)?.median
    const js = cells.filter(
      (c) => drivers.find((d) => d.id === c.driver)?.kind === "js" && c.median !== undefined,
    ) as Array<Cell & { median: number }>
    const best = js.reduce<(Cell & { median: number }) | undefined>(
      (acc, c) =>
        acc === undefined || (workload.better === "higher" ? c.median > acc.median : c.median < acc.median) ? c : acc,
      undefined,
    )
    const pgfx = valueOf("pgfx")
    const pgfxVsBestJs = pgfx !== undefined && best !== undefined ? advantage(workload, pgfx, best.median) : undefined
    const targets = (targetsOf[workload.id] ?? []).map((condition): Target => {
      switch (condition.against) {
        case "bestJs":
          return {
            text: `>= ${condition.min.toFixed(1)}x best JS peer`,
            met: pgfxVsBestJs === undefined ? undefined : pgfxVsBestJs >= condition.min,
          }
        case "driver": {
          const other = valueOf(condition.driver)
          const label = drivers.find((d) => d.id === condition.driver)?.label ?? condition.driver
          return {
            text: `>= ${condition.min.toFixed(1)}x ${label}`,
            met:
              pgfx === undefined || other === undefined ? undefined : advantage(workload, pgfx, other) >= condition.min,
          }
        }
        case "absolute":
          return {
            text: `< ${condition.max} ${workload.unit}`,
            met: pgfx === undefined ? undefined : pgfx < condition.max,
          }
      }
    })
    return {
      workload,
      cells,
      bestJs: best === undefined ? undefined : { driver: best.driver, label: best.label, value: best.median },
      pgfxVsBestJs,
      targets,
      mismatches: mismatchesOf(mine),
    }
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

const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length))
const padLeft = (s: string, n: number) => (s.length >= n ? s : " ".repeat(n - s.length) + s)

const targetText = (targets: ReadonlyArray<Target>) =>
  targets.length === 0
    ? "no target"
    : targets.map((t) => `${t.text}: ${t.met === undefined ? "not measurable" : t.met ? "met" : "MISSED"}`).join("; ")

const extraText = (extra: Readonly<Record<string, number | string>>) =>
  Object.entries(extra)
    .filter(([key]) => key === "p99Us" || key === "rowsPerSec" || key === "cpuUsPerOp" || key === "loop")
    .map(([key, v]) =>
      typeof v === "number"
        ? `${key}=${key === "rowsPerSec" ? formatValue("rows/s", v) : v.toFixed(key === "cpuUsPerOp" && v < 100 ? 1 : 0)}`
        : `${key}=${v}`,
    )
    .join(" ")

/** The text report: one block per workload, then the summary line per workload. */
export const renderText = (summaries: ReadonlyArray<WorkloadSummary>): string => {
  const lines: Array<string> = []
  for (const s of summaries) {
    const w = s.workload
    lines.push("", `${w.id}  ${w.title}  [${w.unit}, ${w.better} is better]`)
    lines.push(
      `  ${pad("driver", 18)}${padLeft("median", 12)}  ${pad("min..max", 22)}${pad("runs", 6)}${padLeft("pgfx adv.", 10)}  notes`,
    )
    const pgfx = s.cells.find((c) => c.driver === "pgfx")?.median
    for (const c of s.cells) {
      if (c.median === undefined) {
        lines.push(`  ${pad(c.label, 18)}${padLeft(statusLabel[c.status], 12)}  ${c.reason ?? ""}`)
        continue
      }
      const spread = `${formatValue(w.unit, c.min ?? 0)}..${formatValue(w.unit, c.max ?? 0)}`
      const adv = pgfx === undefined ? undefined : advantage(w, pgfx, c.median)
      const failures = c.okRuns < c.runs ? ` ${c.runs - c.okRuns} FAILED: ${c.reason ?? ""}` : ""
      lines.push(
        `  ${pad(c.label, 18)}${padLeft(formatValue(w.unit, c.median), 12)}  ${pad(spread, 22)}${pad(`${c.okRuns}/${c.runs}`, 6)}${padLeft(ratio(adv), 10)}  ${extraText(c.extra)}${failures}`,
      )
    }
    const best = s.bestJs === undefined ? "no JS peer" : `${s.bestJs.label} ${formatValue(w.unit, s.bestJs.value)}`
    lines.push(`  -> pgfx vs best JS peer (${best}): ${ratio(s.pgfxVsBestJs)}; ${targetText(s.targets)}`)
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

/** One Markdown table: workloads as rows, drivers as columns, then ratios and targets; reasons below. */
export const renderMarkdown = (
  summaries: ReadonlyArray<WorkloadSummary>,
  drivers: ReadonlyArray<DriverInfo>,
): string => {
  const header = ["workload", "unit", ...drivers.map((d) => d.label), "pgfx vs best JS", "targets (issue 10)"]
  const rows = summaries.map((s) => [
    `${s.workload.id} ${s.workload.title}`,
    s.workload.unit,
    ...drivers.map((d) => {
      const cell = s.cells.find((c) => c.driver === d.id)
      return cell === undefined ? "" : mdCell(s.workload.unit, cell)
    }),
    s.pgfxVsBestJs === undefined ? "-" : `${ratio(s.pgfxVsBestJs)} (${s.bestJs?.label ?? ""})`,
    s.targets.length === 0
      ? "-"
      : s.targets.map((t) => `${t.text}: ${t.met === undefined ? "-" : t.met ? "met" : "**missed**"}`).join("; "),
  ])
  const out = [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`]
  for (const row of rows) out.push(`| ${row.join(" | ")} |`)
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
    out.push("")
    for (const [reason, ids] of reasons) out.push(`- ${[...ids].join(", ")} — ${reason}`)
  }
  const mismatches = summaries.flatMap((s) => s.mismatches.map((m) => `- **check mismatch** ${s.workload.id}: ${m}`))
  if (mismatches.length > 0) out.push("", ...mismatches)
  return out.join("\n")
}
