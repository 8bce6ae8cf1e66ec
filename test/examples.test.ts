/**
 * Every program in examples/ runs here against the test cluster, so examples cannot rot.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import * as path from "node:path"
import { testCluster } from "./support/cluster.ts"

const root = path.resolve(import.meta.dirname, "..")

const runExample = (file: string, env: Record<string, string>) =>
  Effect.callback<{ stdout: string; stderr: string; code: number }>((resume) => {
    const child = execFile(
      process.execPath,
      [path.join(root, "examples", file)],
      { cwd: root, env: { ...process.env, ...env }, timeout: 60_000 },
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

describe("examples", () => {
  it.live("quickstart.ts against an existing server (PG* variables)", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const result = yield* runExample("quickstart.ts", {
        PGHOST: pg.host,
        PGPORT: String(pg.port),
        PGUSER: pg.user,
        PGDATABASE: pg.database,
      })
      expect(result.stderr).toBe("")
      expect(result.code).toBe(0)
      expect(result.stdout).toContain("connected to PostgreSQL")
      expect(result.stdout).toContain("{ id: 1n, name: 'espresso', price: '2.50' }")
      expect(result.stdout).toContain("{ id: 3n, name: 'filter', price: null }")
      expect(result.stdout).toContain("3 rows")
    }),
  )

  it.live("quickstart.ts against an existing server (DATABASE_URL)", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const result = yield* runExample("quickstart.ts", {
        DATABASE_URL: `postgres://${pg.user}@${pg.host}:${pg.port}/${pg.database}`,
      })
      expect(result.code).toBe(0)
      expect(result.stdout).toContain("3 rows")
    }),
  )
})
