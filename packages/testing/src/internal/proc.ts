/**
 * Child processes and timers for TempCluster, as interruptible Effects.
 *
 * Timers use `setTimeout` directly rather than Effect's `Clock`: a TempCluster is
 * often built inside `@effect/vitest`'s `it.effect`/`layer`, where the `TestClock`
 * would otherwise freeze every poll loop.
 *
 * @internal
 */
import { spawn } from "node:child_process"
import { Effect } from "effect"
import type { TempClusterError, TempClusterErrorReason } from "../TempClusterError.ts"
import { fail } from "./fail.ts"

/** Who a child process runs as (only set when we are root and drop privileges). */
export interface RunAs {
  readonly name: string
  readonly uid: number
  readonly gid: number
}

export interface RunOptions {
  readonly cwd?: string | undefined
  readonly env?: Readonly<Record<string, string>> | undefined
  readonly runAs?: RunAs | undefined
  readonly input?: string | undefined
}

export interface RunResult {
  readonly code: number | null
  readonly signal: string | null
  readonly stdout: string
  readonly stderr: string
}

/** Sleep on the real clock (never the TestClock); interruptible. */
export const sleep = (millis: number): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const timer = setTimeout(() => resume(Effect.void), millis)
    return Effect.sync(() => clearTimeout(timer))
  })

/** A minimal, predictable environment for PostgreSQL tools: English messages, UTC. */
export const toolEnv = (extra?: Readonly<Record<string, string>>): Record<string, string> => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  LANG: "C",
  LC_ALL: "C",
  TZ: "UTC",
  ...extra,
})

const spawnOptions = (options: RunOptions) => ({
  cwd: options.cwd,
  env: options.env ?? toolEnv(),
  ...(options.runAs === undefined ? {} : { uid: options.runAs.uid, gid: options.runAs.gid }),
})

const spawnPiped = (command: string, args: ReadonlyArray<string>, options: RunOptions) =>
  spawn(command, args, { ...spawnOptions(options), stdio: ["pipe", "pipe", "pipe"], detached: true })

/**
 * Run a program to completion, collecting its output. Fails only when the program
 * cannot be spawned; a non-zero exit is reported in the result. Interrupting the
 * effect kills the child with SIGKILL.
 */
export const run = (
  command: string,
  args: ReadonlyArray<string>,
  options: RunOptions = {},
  reason: TempClusterErrorReason = "Io",
): Effect.Effect<RunResult, TempClusterError> =>
  Effect.callback<RunResult, TempClusterError>((resume) => {
    // Its own process group, so an interruption can kill the program's children too (initdb
    // runs postgres in bootstrap mode, which would otherwise keep writing into the directory).
    let child: ReturnType<typeof spawnPiped>
    try {
      child = spawnPiped(command, args, options)
    } catch (cause) {
      // Deno throws from spawn (EPERM for a binary the account may not execute) where Node
      // reports the same through the "error" event.
      resume(Effect.fail(fail(reason, `cannot run ${command}: ${String(cause)}`, { cause })))
      return
    }
    const stdout: Array<Buffer> = []
    const stderr: Array<Buffer> = []
    let done = false
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk))
    child.on("error", (cause) => {
      if (done) return
      done = true
      resume(Effect.fail(fail(reason, `cannot run ${command}: ${cause.message}`, { cause })))
    })
    child.on("close", (code, signal) => {
      if (done) return
      done = true
      resume(
        Effect.succeed({
          code,
          signal,
          stdout: Buffer.concat(stdout).toString("utf8"),
          stderr: Buffer.concat(stderr).toString("utf8"),
        }),
      )
    })
    // A child that dies early closes stdin under us; that is reported through "close".
    child.stdin.on("error", () => {})
    child.stdin.end(options.input ?? "")
    return Effect.callback<void>((exited) => {
      done = true
      if (child.exitCode !== null || child.signalCode !== null) return exited(Effect.void)
      child.once("close", () => exited(Effect.void))
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL")
      } catch {
        child.kill("SIGKILL")
      }
    })
  })

/** Run a program and fail with `reason` unless it exits with status 0. */
export const runChecked = (
  command: string,
  args: ReadonlyArray<string>,
  options: RunOptions,
  reason: TempClusterErrorReason,
  what: string,
): Effect.Effect<RunResult, TempClusterError> =>
  Effect.flatMap(run(command, args, options, reason), (result) =>
    result.code === 0
      ? Effect.succeed(result)
      : Effect.fail(
          fail(reason, `${what} failed (${result.signal ?? `exit code ${result.code}`})`, {
            logTail: tail(`${result.stdout}\n${result.stderr}`.trim()),
          }),
        ),
  )

/** The last `maxChars` characters of a text, cut at a line start when possible. */
export const tail = (text: string, maxChars = 4000): string => {
  if (text.length <= maxChars) return text
  const cut = text.slice(text.length - maxChars)
  const newline = cut.indexOf("\n")
  return newline >= 0 && newline < cut.length - 1 ? cut.slice(newline + 1) : cut
}
