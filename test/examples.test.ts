/**
 * Every program in examples/ runs here against the test cluster, so examples cannot rot.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFile, spawn } from "node:child_process"
import * as net from "node:net"
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

/** The quickstart's output after its first line, exactly (the version and pid vary). */
const expectQuickstartLines = (lines: ReadonlyArray<string>) => {
  expect(lines[0]).toMatch(/^connected to PostgreSQL \d+(\.\d+)? \(backend pid \d+\)$/)
  expect(lines.slice(1)).toEqual([
    "{ id: 1n, name: 'espresso', price: '2.50' }",
    "{ id: 2n, name: 'flat white', price: '3.80' }",
    "{ id: 3n, name: 'filter', price: null }",
    "3 rows",
    "",
  ])
}

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
      // Exactly the program's own lines: no notice ("table ... does not exist, skipping") or other log.
      expectQuickstartLines(result.stdout.split("\n"))
    }),
  )

  it.live(
    "quickstart.ts as `npm run example` runs it: an embedded server, only its own lines",
    () =>
      Effect.gen(function* () {
        const unset = ["DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGFX_TEST_URL"]
        const result = yield* runExample("quickstart.ts", Object.fromEntries(unset.map((k) => [k, ""])))
        expect(result.stderr).toBe("")
        expect(result.code).toBe(0)
        const [first, ...rest] = result.stdout.split("\n")
        expect(first).toBe("no connection settings given: starting an embedded PostgreSQL")
        expectQuickstartLines(rest)
      }),
    90_000,
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

  it.live("typed-queries.ts: declared queries checked at start, run, and a mismatch reported", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const result = yield* runExample("typed-queries.ts", {
        DATABASE_URL: `postgres://${pg.user}@${pg.host}:${pg.port}/${pg.database}`,
      })
      expect(result.stderr).toBe("")
      expect(result.code).toBe(0)
      expect(result.stdout).toContain(
        "by id: espresso 2.50 { _id: 'Option', _tag: 'Some', value: '2025-01-31T12:00:00.000Z' }",
      )
      expect(result.stdout).toContain("missing: none")
      expect(result.stdout).toContain("cold: iced tea, cold brew")
      expect(result.stdout).toContain("streamed coffee: espresso, cold brew")
      expect(result.stdout).toContain("template: espresso, cold brew")
      expect(result.stdout).toContain("query wrong does not match the server:")
      expect(result.stdout).toContain('column "price": the server returns numeric (decoded as string)')
      expect(result.stdout).toContain('column "discontinued" can be NULL')
      expect(result.stdout).toContain("all declared queries match the database")
    }),
  )

  it.live("effect-sql.ts: migrations, SqlSchema, transactions and streams through @pgfx/sql", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const result = yield* runExample("effect-sql.ts", {
        DATABASE_URL: `postgres://${pg.user}@${pg.host}:${pg.port}/${pg.database}`,
      })
      expect(result.stderr).toBe("")
      expect(result.code).toBe(0)
      expect(result.stdout).toContain("migrations applied: 1_create_accounts, 2_seed")
      expect(result.stdout).toContain("overdraft: ConstraintError")
      expect(result.stdout).toContain("ada: 70")
      expect(result.stdout).toContain("balances: ada=70 grace=80")
    }),
  )

  it.live(
    "web-service.ts serves 2 ^ power from the pool on a loopback port",
    () =>
      Effect.gen(function* () {
        const pg = testCluster()
        const port = yield* freePort
        const server = yield* startExample("web-service.ts", {
          PGHOST: pg.host,
          PGPORT: String(pg.port),
          PGUSER: pg.user,
          PGDATABASE: pg.database,
          PORT: String(port),
        })
        yield* server.waitFor("Listening on")
        const get = (p: string) =>
          Effect.promise(async () => {
            const response = await fetch(`http://127.0.0.1:${port}${p}`)
            return { status: response.status, body: await response.text() }
          })
        expect(yield* get("/")).toEqual({ status: 200, body: "2 ^ 10 is 1024" })
        expect(yield* get("/16")).toEqual({ status: 200, body: "2 ^ 16 is 65536" })
        expect((yield* get("/sixteen")).status).toBe(404)
        // a server error caught by its SQLSTATE class (PgError.catchClass)
        expect(yield* get("/5000")).toEqual({ status: 400, body: "cannot compute: value out of range: overflow" })
        const many = yield* Effect.all(
          Array.from({ length: 30 }, (_, n) => get(`/${n}`)),
          { concurrency: "unbounded" },
        )
        expect(many.map((r) => r.body)).toEqual(Array.from({ length: 30 }, (_, n) => `2 ^ ${n} is ${2 ** n}`))
        const exit = yield* server.stop
        expect(exit.stderr).toBe("")
        expect(exit.stdout).not.toContain("ERROR")
      }),
    90_000,
  )
})

/** A free TCP port on the loopback interface. */
const freePort = Effect.callback<number>((resume) => {
  const probe = net.createServer()
  probe.listen(0, "127.0.0.1", () => {
    const port = (probe.address() as net.AddressInfo).port
    probe.close(() => resume(Effect.succeed(port)))
  })
})

/** Starts a long-running example; `stop` sends SIGINT and waits for it to exit. */
const startExample = (file: string, env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(process.execPath, [path.join(root, "examples", file)], {
        cwd: root,
        env: { ...process.env, ...env },
      })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
      const waitFor = (text: string) =>
        Effect.gen(function* () {
          const deadline = Date.now() + 60_000
          while (!stdout.includes(text)) {
            if (child.exitCode !== null || Date.now() > deadline) {
              return yield* Effect.die(new Error(`${file} never printed "${text}":\n${stdout}\n${stderr}`))
            }
            yield* Effect.sleep("50 millis")
          }
        })
      const stop = Effect.promise(async () => {
        child.kill("SIGINT")
        const code = await exited
        return { code, stdout, stderr }
      })
      return { child, waitFor, stop }
    }),
    ({ child }) => Effect.sync(() => child.kill("SIGKILL")),
  )
