/**
 * The benchmark report (bench/src/report.ts): which driver stands for pgfx in each call shape, the
 * ratios against the best JavaScript peer, the client-CPU ratio and the targets' verdicts, on
 * made-up runs.
 */
import { describe, expect, it } from "@effect/vitest"
import { drivers } from "../bench/src/drivers.ts"
import type { RunResult, WorkloadId } from "../bench/src/protocol.ts"
import { renderMarkdown, renderText, type RunRecord, summarize } from "../bench/src/report.ts"
import { workloads } from "../bench/src/workloads.ts"

const ok = (value: number, cpuUsPerOp?: number): RunResult => ({
  status: "ok",
  value,
  check: {},
  ...(cpuUsPerOp === undefined ? {} : { extra: { cpuUsPerOp } }),
})

const records = (workload: WorkloadId, results: Readonly<Record<string, ReadonlyArray<RunResult>>>) =>
  Object.entries(results).flatMap(([driver, runs]) =>
    runs.map((result, i): RunRecord => ({ round: i + 1, workload, driver, result, wallMs: 1 })),
  )

const only = (...ids: ReadonlyArray<WorkloadId>) => workloads.filter((w) => ids.includes(w.id))

describe("bench report", () => {
  it("judges pgfx per call shape against the best JS peer, by medians", () => {
    const runs = records("W1", {
      "pgfx-pool": [ok(30_000, 20), ok(36_000, 18), ok(33_000, 19)],
      "pgfx-pool-promise": [ok(24_000, 30), ok(26_000, 28), ok(25_000, 29)],
      pgfx: [ok(50_000, 10)],
      postgres: [ok(25_000, 24), ok(26_000, 25), ok(27_000, 26)],
      pg: [ok(20_000, 22)],
      // An Effect peer in the promise shape is a JS peer like the others.
      "effect-sql-pg-promise": [ok(10_000, 40)],
      asyncpg: [ok(90_000, 5)],
    })
    const [w1] = summarize(only("W1"), drivers, runs)
    expect(w1.bestJs).toEqual({ driver: "postgres", label: "postgres.js", value: 26_000 })
    // The least client CPU among the JS peers is pg's, not the fastest peer's.
    expect(w1.bestJsCpu).toEqual({ driver: "pg", label: "pg", value: 22 })
    const [effect, promise] = w1.shapes
    expect(effect).toMatchObject({ shape: "effect", driver: "pgfx-pool", value: 33_000, cpuUsPerOp: 19 })
    expect(effect.vsBestJs).toBeCloseTo(33 / 26)
    expect(effect.cpuVsBestJs).toBeCloseTo(22 / 19)
    expect(promise).toMatchObject({ shape: "promise", driver: "pgfx-pool-promise", value: 25_000 })
    expect(promise.vsBestJs).toBeCloseTo(25 / 26)
    // >= 1.2x best JS: met by 1.27x, missed by 0.96x; CPU <= 0.8x pg's: missed by both.
    expect(effect.targets.map((t) => t.met)).toEqual([true, false])
    expect(promise.targets.map((t) => t.met)).toEqual([false, false])

    const markdown = renderMarkdown([w1])
    expect(markdown).toContain("| postgres.js 26.0k | **1.27x** | **0.96x** | 90.0k |")
    expect(markdown).toContain("| client CPU per W1 query (us, lower is better) | 19.0 | 29.0 | pg 22.0 | **1.16x** |")
    expect(markdown).toContain("| pgfx (PgClient, promise) | 25.0k | 24.0k..26.0k | 0.96x | 29.0 |")
    expect(renderText([w1])).toContain("pgfx, runPromise per call (pgfx (PgClient, promise)): 0.96x")
  })

  it("falls back to the PgConnection rows where PgClient has no number, and inverts latency ratios", () => {
    const gap: RunResult = { status: "unsupported", reason: "a PgClient checkout is exclusive" }
    const runs = [
      ...records("W1p", {
        "pgfx-pool": [gap],
        "pgfx-pool-promise": [gap],
        pgfx: [ok(88_000)],
        "pgfx-promise": [ok(60_000)],
        postgres: [ok(80_000)],
      }),
      ...records("W5", { "pgfx-pool": [ok(90)], "pgfx-pool-promise": [ok(100)], postgres: [ok(95)], pg: [ok(120)] }),
    ]
    const [w1p, w5] = summarize(only("W1p", "W5"), drivers, runs)
    expect(w1p.shapes.map((s) => [s.driver, s.targets[0].met])).toEqual([
      ["pgfx", true],
      ["pgfx-promise", false],
    ])
    expect(renderMarkdown([w1p])).toContain("88.0k*")
    // W5 is a latency: lower is better, so the best JS peer is the lowest and the ratio is peer / pgfx.
    expect(w5.bestJs?.driver).toBe("postgres")
    expect(w5.shapes[0].vsBestJs).toBeCloseTo(95 / 90)
    expect(w5.shapes[1].vsBestJs).toBeCloseTo(95 / 100)
    expect(w5.shapes.map((s) => s.targets[0].met)).toEqual([true, false])
  })

  it("gives no ratio rather than NaN when both numbers are 0", () => {
    const runs = records("W6", { "pgfx-pool": [ok(0)], "pgfx-pool-promise": [ok(0)], postgres: [ok(0)] })
    const [w6] = summarize(only("W6"), drivers, runs)
    expect(w6.shapes.map((s) => s.vsBestJs)).toEqual([undefined, undefined])
    expect(w6.shapes.map((s) => s.targets[0].met)).toEqual([true, true])
    expect(renderMarkdown([w6])).not.toContain("NaN")
  })
})
