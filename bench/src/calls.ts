/**
 * The two call shapes of the Effect drivers (pgfx, @pgfx/sql, @effect/sql-pg), shared so each
 * driver states a workload's query and check once:
 *
 * - `effect`: every caller is a fiber that `yield*`s one query after another (an Effect
 *   application);
 * - `promise` (`--promise`): the driver builds its services once into a `ManagedRuntime` (as an
 *   application does at start-up), and plain async callers run each query with one
 *   `runtime.runPromise(...)` (an application calling from Promise code, e.g. a web handler).
 *
 * Kept apart from child.ts so the non-Effect drivers do not load effect.
 */
import { Effect } from "effect"
import { performance } from "node:perf_hooks"
import { latencies, latencyResult, openWindow, runCallers } from "./child.ts"
import type { OkResult } from "./protocol.ts"

export const promiseShape = process.argv.includes("--promise")

/** Runs one call to completion from plain async code: one `runPromise` on a prebuilt runtime. */
export type RunPromise = <A>(effect: Effect.Effect<A, unknown>) => Promise<A>

/** One query of a caller on its session, and the check of its result: both shapes run exactly this. */
export interface Call<S, A> {
  readonly query: (session: S, caller: number, iteration: number) => Effect.Effect<A, unknown>
  readonly check: (result: A, caller: number, iteration: number) => void
}

/**
 * Duration-based (W1, W1p, W2): caller i loops over `sessions[i]` until the window closes, as
 * fibers (`run` undefined) or as async functions with one `run` per call. Returns calls per second.
 */
export const concurrentCalls = <S, A>(
  sessions: ReadonlyArray<S>,
  warmupMs: number,
  durationMs: number,
  call: Call<S, A>,
  run: RunPromise | undefined,
): Effect.Effect<number, unknown> => {
  if (run !== undefined) {
    return Effect.promise(() =>
      runCallers(sessions.length, warmupMs, durationMs, async (caller, i) =>
        call.check(await run(call.query(sessions[caller], caller, i)), caller, i),
      ),
    )
  }
  return Effect.gen(function* () {
    const { window, done } = openWindow(warmupMs, durationMs)
    yield* Effect.forEach(
      sessions,
      (session, caller) =>
        Effect.gen(function* () {
          for (let i = 0; !window.stop; i++) {
            call.check(yield* call.query(session, caller, i), caller, i)
            if (window.measuring) window.count++
          }
        }),
      { concurrency: "unbounded", discard: true },
    )
    return yield* Effect.promise(() => done)
  })
}

/** W5: `warmup` untimed, then `count` timed serial calls on one session (microseconds each). */
export const serialCalls = <S, A>(
  session: S,
  warmup: number,
  count: number,
  call: Call<S, A>,
  run: RunPromise | undefined,
): Effect.Effect<OkResult, unknown> => {
  if (run !== undefined) {
    return Effect.promise(() =>
      latencies(warmup, count, async (i) => call.check(await run(call.query(session, 0, i)), 0, i)),
    )
  }
  return Effect.gen(function* () {
    for (let i = 0; i < warmup; i++) call.check(yield* call.query(session, 0, i), 0, i)
    const samples = new Float64Array(count)
    for (let i = 0; i < count; i++) {
      const t0 = performance.now()
      const result = yield* call.query(session, 0, i)
      samples[i] = (performance.now() - t0) * 1000
      call.check(result, 0, i)
    }
    return latencyResult(samples)
  })
}

/**
 * A call of a one-call step (W3's big query, W7's connect) in the shape asked for: the effect
 * itself, or one `run` of it awaited from the enclosing loop.
 */
export const oneCall = <A>(
  effect: Effect.Effect<A, unknown>,
  run: RunPromise | undefined,
): Effect.Effect<A, unknown> => (run === undefined ? effect : Effect.promise(() => run(effect)))

/** The `run` of calls that need no services (W7's connect): a plain `Effect.runPromise` in the promise shape. */
export const withoutServices: RunPromise | undefined = promiseShape ? (effect) => Effect.runPromise(effect) : undefined
