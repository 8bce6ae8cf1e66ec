/**
 * The pool's connect retries against a scripted server: transient refusals (57P03 starting up,
 * 53300 too many connections, a connection reset) are retried with backoff while the pool has a
 * working connection, a released connection serves a waiter whichever comes first, the final
 * error says how many attempts were made, and what does not pass (a bad password) fails at once.
 */
import * as PgPool from "@pgfx/client/PgPool"
import type { BackendMessage } from "@pgfx/protocol/Backend"
import * as MockBackend from "@pgfx/testing/MockBackend"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { failureOf } from "../../../test/support/failure.ts"
import { answerSimpleQueries, hold } from "./support/MockServer.ts"

type Refusal = "57P03" | "53300" | "28P01" | "reset"

const fatal = (code: string, message: string): BackendMessage => ({
  _tag: "ErrorResponse",
  fields: [
    ["S", "FATAL"],
    ["V", "FATAL"],
    ["C", code],
    ["M", message],
  ],
})

const messages: Record<Exclude<Refusal, "reset">, string> = {
  "57P03": "the database system is starting up",
  "53300": "sorry, too many clients already",
  "28P01": 'password authentication failed for user "u"',
}

/**
 * A server whose connection `i` is refused as `refusal(i)` says, or accepted (process id
 * 1000 + i) and answering every simple query (the pool's reset). `served` counts connections.
 */
const server = (refusal: (connection: number) => Refusal | undefined) => {
  const served = { count: 0 }
  return Effect.map(
    MockBackend.serve((i) => {
      served.count = i + 1
      const refused = refusal(i)
      if (refused === "reset") return [MockBackend.expectTag("StartupMessage"), MockBackend.resetConnection]
      if (refused !== undefined) {
        return [
          MockBackend.expectTag("StartupMessage"),
          MockBackend.send(fatal(refused, messages[refused])),
          MockBackend.closeConnection,
        ]
      }
      return [MockBackend.acceptUnauthenticatedConnection({}, { processId: 1000 + i }), answerSimpleQueries]
    }),
    (mock) => ({ mock, served }),
  )
}

const poolOn = (mock: MockBackend.MockBackend, options: PgPool.PgPoolOptions = {}) =>
  PgPool.make({
    host: mock.host,
    port: mock.port,
    user: "u",
    database: "d",
    sslMode: "disable",
    min: 0,
    max: 3,
    acquireTimeout: "10 seconds",
    ...options,
  })

describe("the pool retries transient connect failures", () => {
  it.live("57P03 twice and a reset connection, then accepted: the acquire succeeds on the fourth attempt", () =>
    Effect.gen(function* () {
      const { mock, served } = yield* server((i) => (i === 1 || i === 2 ? "57P03" : i === 3 ? "reset" : undefined))
      const pool = yield* poolOn(mock)
      const first = yield* hold(pool)
      const started = Date.now()
      const second = yield* hold(pool)
      expect(second.pid).toBe(1004)
      expect(served.count).toBe(5)
      // Three backoffs of at most 50, 100 and 200 ms.
      expect(Date.now() - started).toBeLessThan(3_000)
      expect(pool.stats).toMatchObject({ size: 2, inUse: 2, waiting: 0 })
      yield* first.release
    }).pipe(Effect.scoped),
  )

  it.live("a released connection serves the retrying waiter, and the full server is probed with backoff", () =>
    Effect.gen(function* () {
      const { mock, served } = yield* server((i) => (i === 0 ? undefined : "53300"))
      const pool = yield* poolOn(mock)
      const first = yield* hold(pool)
      const waiter = yield* Effect.forkChild(Effect.scoped(Effect.map(pool.acquire(), (c) => c.serverPid)))
      yield* Effect.sleep("600 millis")
      const refusedMeanwhile = served.count - 1
      yield* first.release
      expect(yield* Fiber.join(waiter)).toBe(1000)
      // Backoff 50, 100, 200, 400 ms (jittered down by at most half): a handful of probes in 600 ms,
      // not one attempt per event.
      expect(refusedMeanwhile).toBeGreaterThanOrEqual(2)
      expect(refusedMeanwhile).toBeLessThanOrEqual(6)
    }).pipe(Effect.scoped),
  )

  it.live("retries end at the acquire timeout: PgTimeoutError with the attempts and the last refusal", () =>
    Effect.gen(function* () {
      const { mock } = yield* server((i) => (i === 0 ? undefined : "57P03"))
      const pool = yield* poolOn(mock, { acquireTimeout: "700 millis" })
      yield* hold(pool)
      const started = Date.now()
      const error = failureOf(yield* Effect.exit(Effect.scoped(pool.acquire())))
      expect(Date.now() - started).toBeGreaterThanOrEqual(650)
      expect(Date.now() - started).toBeLessThan(3_000)
      expect(error).toMatchObject({ _tag: "PgTimeoutError", sent: false })
      const timeout = error as { connectAttempts?: number; cause?: unknown; message: string }
      expect(timeout.connectAttempts).toBeGreaterThanOrEqual(2)
      expect(timeout.cause).toMatchObject({ _tag: "PgServerError", code: "57P03" })
      expect(timeout.message).toMatch(/connect attempt\(s\) failed, the last with: the database system is starting up/)
      expect(pool.stats).toMatchObject({ size: 1, waiting: 0 })
    }).pipe(Effect.scoped),
  )

  it.live("a bad password fails at once with connectAttempts 1, working connections or not", () =>
    Effect.gen(function* () {
      const { mock, served } = yield* server((i) => (i === 0 ? undefined : "28P01"))
      const pool = yield* poolOn(mock)
      yield* hold(pool)
      const started = Date.now()
      const error = failureOf(yield* Effect.exit(Effect.scoped(pool.acquire())))
      expect(Date.now() - started).toBeLessThan(1_000)
      expect(error).toMatchObject({ _tag: "PgServerError", code: "28P01", connectAttempts: 1 })
      expect(served.count).toBe(2)
    }).pipe(Effect.scoped),
  )

  it.live("with nothing open, a transient refusal fails at once (the server is not reachable yet)", () =>
    Effect.gen(function* () {
      const { mock, served } = yield* server(() => "57P03")
      const pool = yield* poolOn(mock)
      const error = failureOf(yield* Effect.exit(pool.withConnection(() => Effect.void)))
      expect(error).toMatchObject({ _tag: "PgServerError", code: "57P03", connectAttempts: 1 })
      expect(served.count).toBe(1)
      expect(pool.stats).toMatchObject({ size: 0, waiting: 0 })
    }).pipe(Effect.scoped),
  )
})
