import { spawn } from "node:child_process"
import * as Path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as DevDatabase from "@pgfx/testing/DevDatabase"
import { sslProbe } from "../src/internal/probe.ts"

const SLOW = 120_000
const bin = Path.resolve(import.meta.dirname, "..", "bin", "pgfx-dev-db.js")

describe("DevDatabase.parseArgs", () => {
  it("reads options and the command after --", () => {
    expect(DevDatabase.parseArgs([])).toEqual({ port: undefined, password: undefined, command: [] })
    expect(DevDatabase.parseArgs(["--port", "5433", "--password=s3=cret", "--", "npm", "run", "--port", "1"])).toEqual({
      port: 5433,
      password: "s3=cret",
      command: ["npm", "run", "--port", "1"],
    })
  })

  it("refuses what it does not understand", () => {
    expect(DevDatabase.parseArgs(["--port", "http"])).toMatch(/^--port: not a port number: http\nusage: /)
    expect(DevDatabase.parseArgs(["--port", "70000"])).toMatch(/^--port: not a port number/)
    expect(DevDatabase.parseArgs(["--password"])).toMatch(/^--password: missing value/)
    expect(DevDatabase.parseArgs(["npm"])).toMatch(/^unknown argument: npm/)
  })
})

describe("DevDatabase.main", () => {
  it.live("usage errors exit 2 without starting anything", () =>
    Effect.gen(function* () {
      const err: Array<string> = []
      expect(
        yield* DevDatabase.main(
          ["--bogus"],
          () => {},
          (s) => err.push(s),
        ),
      ).toBe(2)
      expect(err.join("\n")).toContain("usage: pgfx-dev-db")
    }),
  )

  it.live(
    "runs the command with DATABASE_URL of a server it started, returns its status, then removes the server",
    () =>
      Effect.gen(function* () {
        const out: Array<string> = []
        // The child connects to the URL it was given: exit 3 when the server accepts a TCP connection.
        const child = `const u = new URL(process.env.DATABASE_URL); require("node:net").connect(+u.port, u.hostname).on("connect", () => process.exit(3)).on("error", () => process.exit(4))`
        const code = yield* DevDatabase.main(["--", process.execPath, "-e", child], (s) => out.push(s))
        expect(code).toBe(3)
        const url = new URL(out[0]!.replace(/^DATABASE_URL=/, ""))
        expect(url.protocol).toBe("postgres:")
        expect(yield* sslProbe({ host: url.hostname, port: Number(url.port) }, 500)).toBeUndefined()
      }),
    SLOW,
  )

  it.live(
    "without a command: prints the URL, serves until SIGINT, exits 0 (PGFX_TEST_URL ignored)",
    () =>
      Effect.callback<{ code: number | null; stdout: string }>((resume) => {
        const child = spawn(process.execPath, ["--conditions=@pgfx/source", bin], {
          stdio: ["ignore", "pipe", "pipe"],
          env: { ...process.env, PGFX_TEST_URL: "postgres://nobody@127.0.0.1:1/none" },
        })
        let stdout = ""
        child.stdout.on("data", (chunk: Buffer) => {
          stdout += chunk.toString()
          if (stdout.includes("\n")) child.kill("SIGINT")
        })
        child.on("exit", (code) => resume(Effect.succeed({ code, stdout })))
        return Effect.sync(() => child.kill("SIGKILL"))
      }).pipe(
        Effect.tap(({ code, stdout }) =>
          Effect.gen(function* () {
            expect(stdout).toMatch(/^DATABASE_URL=postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres\n$/)
            expect(code).toBe(0)
            const url = new URL(stdout.trim().replace(/^DATABASE_URL=/, ""))
            expect(yield* sslProbe({ host: url.hostname, port: Number(url.port) }, 500)).toBeUndefined()
          }),
        ),
      ),
    SLOW,
  )
})
