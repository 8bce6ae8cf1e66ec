/**
 * Runs one (driver, workload) in a fresh process and reads its result line.
 */
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { repoRoot } from "./drivers.ts"
import { resultMarker, type RunRequest, type RunResult } from "./protocol.ts"

export interface RunOutcome {
  readonly result: RunResult
  readonly wallMs: number
  /** The child's output other than the result line (for failed runs). */
  readonly log: string
}

const tail = (text: string, max = 1500) => (text.length > max ? `...${text.slice(-max)}` : text)

/** Spawns `argv` with the request, waits (at most `timeoutMs`), returns the parsed result. */
export const runOnce = (
  argv: ReadonlyArray<string>,
  request: Omit<RunRequest, "tmpDir">,
  timeoutMs: number,
): Promise<RunOutcome> => {
  const tmpDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "pgfx-bench-"))
  const full: RunRequest = { ...request, tmpDir }
  const started = performance.now()
  return new Promise<RunOutcome>((resolve) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: repoRoot,
      env: { ...process.env, PGFX_BENCH_REQUEST: JSON.stringify(full) },
      stdio: ["ignore", "pipe", "pipe"],
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill("SIGKILL")
    }, timeoutMs)
    const finish = (code: number | null, spawnError?: Error) => {
      clearTimeout(timer)
      Fs.rmSync(tmpDir, { recursive: true, force: true })
      const wallMs = performance.now() - started
      const line = stdout.split("\n").find((l) => l.startsWith(resultMarker))
      const log = tail(`${stdout.split(resultMarker)[0]}${stderr}`.trim())
      let result: RunResult
      if (line !== undefined) {
        result = JSON.parse(line.slice(resultMarker.length)) as RunResult
      } else if (spawnError !== undefined) {
        result = { status: "unavailable", reason: `cannot start ${argv[0]}: ${spawnError.message}` }
      } else {
        const why = timedOut ? `timed out after ${Math.round(timeoutMs / 1000)} s` : `exited with ${code} and no result`
        result = { status: "error", reason: `${why}: ${tail(stderr.trim(), 600)}` }
      }
      resolve({ result, wallMs, log })
    }
    child.on("error", (error) => finish(null, error))
    child.on("close", (code) => finish(code))
  })
}
