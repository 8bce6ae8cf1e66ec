/**
 * Waiting on conditions instead of fixed sleeps: poll a check (in memory or on the server) until it
 * holds, with a bound that fails the test loudly. The poll interval only sets how soon a met
 * condition is seen; no test result depends on it.
 */
import type * as PgConnection from "@pgfx/client/PgConnection"
import { Effect, Option } from "effect"
import { withAdmin } from "./connect.ts"

/** Polls `check` every 10 ms (real time) until it is true; the test dies after `timeoutMs`. */
export const waitUntil = <E, R>(
  what: string,
  check: Effect.Effect<boolean, E, R>,
  timeoutMs = 10_000,
): Effect.Effect<void, E, R> =>
  Effect.gen(function* () {
    const deadline = Date.now() + timeoutMs
    while (!(yield* check)) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`timed out waiting until ${what}`))
      yield* Effect.sleep("10 millis")
    }
  })

/** {@link waitUntil} for a synchronous check. */
export const eventually = (what: string, check: () => boolean, timeoutMs = 10_000): Effect.Effect<void> =>
  waitUntil(what, Effect.sync(check), timeoutMs)

/** Whether backend `pid` is running a statement (`pg_stat_activity`), as seen from `observer`. */
export const isRunning = (observer: PgConnection.PgConnection, pid: number) =>
  Effect.map(
    observer.fetchVal("SELECT state = 'active' FROM pg_stat_activity WHERE pid = $1", [pid]),
    (active) => Option.getOrElse(active, () => false) === true,
  )

/**
 * Until backend `pid` runs a statement, as the server reports it: a request sent by a forked
 * fiber has reached the server and is executing there.
 */
export const untilRunning = (pid: number) =>
  withAdmin((admin) => waitUntil(`backend ${pid} runs a statement`, isRunning(admin, pid)))

/** Until backend `pid` waits on `event` (`pg_stat_activity.wait_event`, e.g. `ClientWrite`). */
export const untilWaitEvent = (pid: number, event: string) =>
  withAdmin((admin) =>
    waitUntil(
      `backend ${pid} waits on ${event}`,
      Effect.map(
        admin.fetchVal("SELECT wait_event FROM pg_stat_activity WHERE pid = $1", [pid]),
        (waiting) => Option.getOrUndefined(waiting) === event,
      ),
    ),
  )
