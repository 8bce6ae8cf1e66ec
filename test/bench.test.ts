/**
 * The benchmark harness (bench/, issue 10) is not part of the test suite, but its code must not
 * rot: this runs it end to end (parent, one fresh child per run, report, JSON) on the smallest
 * preset, for pgfx (an Effect loop on PgConnections) and pgfx-pool-promise (a PgClient in a
 * ManagedRuntime, one runPromise per query) only, against the test cluster. It measures nothing.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { testCluster } from "./support/cluster.ts"

const root = Path.resolve(import.meta.dirname, "..")

interface Report {
  readonly preset: string
  readonly runs: ReadonlyArray<{
    readonly workload: string
    readonly driver: string
    readonly result: {
      readonly status: string
      readonly value?: number
      readonly reason?: string
      readonly check?: Readonly<Record<string, number>>
    }
  }>
}

const runHarness = (args: ReadonlyArray<string>) =>
  Effect.callback<{ stdout: string; stderr: string; code: number }>((resume) => {
    const child = execFile(
      process.execPath,
      [Path.join(root, "bench", "src", "main.ts"), ...args],
      { cwd: root, timeout: 90_000 },
      (error, stdout, stderr) =>
        resume(
          Effect.succeed({
            stdout,
            stderr,
            code: error === null ? 0 : typeof error.code === "number" ? error.code : 1,
          }),
        ),
    )
    return Effect.sync(() => child.kill())
  })

describe("bench harness", () => {
  it.live("runs pgfx in both call shapes on the smoke preset and writes a report", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const out = Fs.mkdtempSync(Path.join(Os.tmpdir(), "pgfx-bench-smoke-"))
      try {
        const result = yield* runHarness([
          "--smoke",
          "--drivers",
          "pgfx,pgfx-pool-promise",
          "--only",
          "W1,W5,W6,W8",
          "--url",
          `postgres://${pg.user}@${pg.host}:${pg.port}/${pg.database}`,
          "--out",
          out,
        ])
        expect(result.stderr).toBe("")
        expect(result.code).toBe(0)
        expect(result.stdout).toContain("W1  point query by primary key")
        const report = JSON.parse(Fs.readFileSync(Path.join(out, "latest.json"), "utf8")) as Report
        expect(report.preset).toBe("smoke")
        expect(report.runs.map((r) => `${r.driver}/${r.workload}/${r.result.status}`).sort()).toEqual([
          "pgfx-pool-promise/W1/ok",
          "pgfx-pool-promise/W5/ok",
          "pgfx-pool-promise/W6/ok",
          "pgfx-pool-promise/W8/ok",
          "pgfx/W1/ok",
          "pgfx/W5/ok",
          "pgfx/W6/ok",
          "pgfx/W8/ok",
        ])
        // W6's value is the RSS growth, which can be 0 on the smoke preset; the others are rates.
        for (const run of report.runs) {
          expect(run.result.value).toBeGreaterThanOrEqual(run.workload === "W6" ? 0 : Number.MIN_VALUE)
        }
        // Every row streamed (W6: the smoke preset's 5,000) and inserted (W8: 500).
        for (const run of report.runs) {
          if (run.workload === "W6") expect(run.result.check?.rows).toBe(5000)
          if (run.workload === "W8") expect(run.result.check?.rows).toBe(500)
        }
        expect(result.stdout).not.toContain("MISMATCH")
        const markdown = Fs.readFileSync(Path.join(out, "latest.md"), "utf8")
        expect(markdown).toContain("| W1 point query")
        expect(markdown).toContain("| client CPU per W1 query")
        expect(markdown).toContain("| pgfx (PgClient, promise) |")
      } finally {
        Fs.rmSync(out, { recursive: true, force: true })
      }
    }),
  )
})
