/**
 * `pgfx check`: the CLI loads modules of declared queries, checks them against the test cluster,
 * prints a report and exits non-zero on a mismatch. Also the in-process helper.
 */
import { describe, expect, it } from "@effect/vitest"
import * as PgCheck from "@pgfx/client/PgCheck"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import * as path from "node:path"
import { testCluster } from "./support/cluster.ts"
import { connect, withAdmin } from "./support/connect.ts"

const root = path.resolve(import.meta.dirname, "..")
const bin = path.join(root, "packages", "client", "bin", "pgfx.js")

const runCli = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.callback<{ stdout: string; stderr: string; code: number }>((resume) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { cwd: root, env: { ...process.env, DATABASE_URL: "", ...env }, timeout: 60_000 },
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

const url = () => {
  const pg = testCluster()
  return `postgres://${encodeURIComponent(pg.user)}@${pg.host}:${pg.port}/${encodeURIComponent(pg.database)}`
}

describe("pgfx check CLI", () => {
  it.live("a module whose queries match: exit 0 and a report", () =>
    Effect.gen(function* () {
      const result = yield* runCli(["check", "test/fixtures/queries-ok.ts", "--url", url()])
      expect(result.stderr).toBe("")
      expect(result.stdout).toContain("ok   relationByName")
      expect(result.stdout).toContain("ok   queries.settingByName (SELECT name, setting FROM pg_catalog.pg_settings")
      expect(result.stdout).toContain("2 queries checked: 2 ok, 0 failed")
      expect(result.code).toBe(0)
    }),
  )

  it.live("a mismatch: exit 1, every difference listed (DATABASE_URL from the environment)", () =>
    Effect.gen(function* () {
      const result = yield* runCli(["check", "test/fixtures/queries-ok.ts", "test/fixtures/queries-bad.ts"], {
        DATABASE_URL: url(),
      })
      expect(result.code).toBe(1)
      expect(result.stdout).toContain("ok   fine")
      expect(result.stdout).toContain("FAIL wrong")
      expect(result.stdout).toContain("the statement takes 2 parameter(s) (name, char), but 1 are declared")
      expect(result.stdout).toContain(
        'column "oid": the server returns oid (decoded as number), but the declared Schema expects string',
      )
      expect(result.stdout).toContain("4 queries checked: 3 ok, 1 failed")
    }),
  )

  it.live("importing a module for its queries does not run its program (an import.meta.main guard)", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      // examples/typed-queries.ts declares queries on a table its program creates: a database of its own.
      const database = "pgfx_check_main"
      yield* withAdmin((admin) =>
        Effect.gen(function* () {
          yield* admin.execute(`DROP DATABASE IF EXISTS ${database}`)
          yield* admin.execute(`CREATE DATABASE ${database} OWNER "${pg.user}"`)
        }),
      )
      yield* Effect.scoped(
        Effect.gen(function* () {
          const conn = yield* connect({ database })
          yield* conn.execute(`CREATE TABLE pgfx_example_products (
            id int4 GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, price numeric(10, 2) NOT NULL,
            tags text[] NOT NULL DEFAULT '{}', discontinued timestamptz)`)
        }),
      )
      const dbUrl = `postgres://${encodeURIComponent(pg.user)}@${pg.host}:${pg.port}/${database}`
      const result = yield* runCli([
        "check",
        "test/fixtures/queries-main.ts",
        "examples/typed-queries.ts",
        "--url",
        dbUrl,
      ])
      // Only the report: neither module's program ran (one would print and exit 3, the other
      // would connect through DATABASE_URL, which is empty here, and print its results or an error).
      expect(result.stderr).toBe("")
      expect(result.stdout.trimEnd().split("\n")).toEqual([
        "test/fixtures/queries-main.ts:",
        "  ok   databaseName",
        "examples/typed-queries.ts:",
        // a module namespace lists its exports in alphabetical order
        "  ok   discontinue",
        "  ok   insertProduct",
        "  ok   productById",
        "  ok   productsWithTag",
        "5 queries checked: 5 ok, 0 failed",
      ])
      expect(result.code).toBe(0)
    }),
  )

  it.live("usage errors exit 2 without printing the URL", () =>
    Effect.gen(function* () {
      const noModule = yield* runCli(["check", "--url", url()])
      expect(noModule.code).toBe(2)
      expect(noModule.stderr).toContain("usage: pgfx check")
      const missing = yield* runCli(["check", "test/fixtures/nope.ts", "--url", url()])
      expect(missing.code).toBe(2)
      expect(missing.stderr).toContain("cannot load test/fixtures/nope.ts")
      const secret = "postgres://u:s3cr3t-pw@127.0.0.1:1/db"
      const unreachable = yield* runCli(["check", "test/fixtures/queries-ok.ts", "--url", secret])
      expect(unreachable.code).toBe(2)
      expect(unreachable.stderr + unreachable.stdout).not.toContain("s3cr3t-pw")
    }),
  )

  it.live("the in-process helper gives the same report", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const reports = yield* PgCheck.checkModules(conn, ["test/fixtures/queries-bad.ts"], root)
      expect(reports[0]!.results.map((r) => [r.exportName, r.differences.map((d) => d.kind)])).toEqual([
        ["fine", []],
        ["wrong", ["ParameterCount", "ColumnType"]],
      ])
      expect(PgCheck.formatReports(reports).ok).toBe(false)
    }),
  )
})
