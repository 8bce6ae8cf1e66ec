/**
 * The fast path of query calls (internal/FastQuery.ts): once a statement is cached, `fetch`,
 * `fetchRow`, `fetchVal` and `execute` with arguments run as one callback on a connection, and a
 * pool's shortcuts check out, run and release inside it. These tests drive that path (every call
 * after the first of a statement) through what can go wrong: interruption, encoding failures,
 * bad column indexes, stale statements, closing, and the pool's bookkeeping afterwards.
 */
import { Connection } from "@pgfx/client/internal/connection/Connection"
import { unguard } from "@pgfx/client/internal/pool/Lease"
import { PgEncodeError, PgInterfaceError } from "@pgfx/client/PgError"
import * as PgPool from "@pgfx/client/PgPool"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option } from "effect"
import { connect } from "./support/connect.ts"
import { failureOf, poolOptions } from "./support/pool.ts"
import { untilRunning } from "./support/wait.ts"

const SLEEP = "SELECT pg_sleep($1::float8)"

/** The connection core behind a handle (whitebox: admission counters). */
const core = (conn: unknown): Connection => {
  const raw = unguard(conn as Connection)
  if (!(raw instanceof Connection)) throw new Error("not a pgfx connection")
  return raw
}

/** Writes held back by a cancel in progress (whitebox). */
const heldWrites = (conn: unknown): number => (core(conn).session as unknown as { holds: number }).holds

describe("fast path on a connection", () => {
  it.live("interrupting a cached statement cancels it; the connection stays usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      Option.getOrThrow(yield* conn.fetchVal(SLEEP, [0]))
      const started = Date.now()
      const fiber = yield* Effect.forkChild(Effect.map(conn.fetchVal(SLEEP, [30]), Option.getOrThrow))
      yield* untilRunning(conn.serverPid)
      yield* Fiber.interrupt(fiber)
      expect(Date.now() - started).toBeLessThan(10_000)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int4 + 1", [41]))).toBe(42)
      expect(conn.transactionStatus).toBe("idle")
      expect(core(conn).gate.inFlight).toBe(0)
      expect(core(conn).active).toBe(0)
    }),
  )

  it.live("an argument that cannot be encoded fails typed, nothing is sent, the connection goes on", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int4", [1]))).toBe(1)
      const error = failureOf(
        yield* Effect.exit(Effect.map(conn.fetchVal("SELECT $1::int4", [{ not: "a number" }]), Option.getOrThrow)),
      )
      expect(error).toBeInstanceOf(PgEncodeError)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int4", [2]))).toBe(2)
      expect(core(conn).active).toBe(0)
    }),
  )

  it.live("fetchVal of a column out of range is a PgInterfaceError, also once the statement is cached", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      for (let i = 0; i < 2; i++) {
        const error = failureOf(
          yield* Effect.exit(Effect.map(conn.fetchVal("SELECT $1::int4", [1], { column: 3 }), Option.getOrThrow)),
        )
        expect(error).toBeInstanceOf(PgInterfaceError)
      }
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int4, 'b'", [1], { column: 1 }))).toBe("b")
    }),
  )

  it.live("parameters in mixed formats (a string sent as text next to binary values)", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      for (let i = 0; i < 2; i++) {
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int4 + $2::int4", ["40", 2]))).toBe(42)
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int4 + $2::int4", [40, "2"]))).toBe(42)
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int4 + $2::int4", ["40", "2"]))).toBe(42)
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT coalesce($1::int4, $2::int4)", [null, 5]))).toBe(5)
      }
    }),
  )

  it.live("fetch, fetchRow and execute with arguments answer the same on the fast path", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE fp (a int, b text)")
      for (let i = 1; i <= 3; i++)
        expect(yield* conn.execute("INSERT INTO fp VALUES ($1, $2)", [i, `v${i}`])).toBe("INSERT 0 1")
      for (let i = 0; i < 2; i++) {
        const rows = yield* conn.fetch("SELECT a, b FROM fp WHERE a >= $1 ORDER BY a", [2])
        expect(rows.map((r) => r.toObject())).toEqual([
          { a: 2, b: "v2" },
          { a: 3, b: "v3" },
        ])
        const row = yield* conn.fetchRow("SELECT b FROM fp WHERE a = $1", [9])
        expect(Option.isNone(row)).toBe(true)
      }
    }),
  )

  it.live("a statement made stale by DDL is prepared again transparently", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE fs (a int)")
      yield* conn.execute("INSERT INTO fs VALUES (1)")
      const sql = "SELECT * FROM fs WHERE a = $1"
      expect((yield* conn.fetch(sql, [1]))[0]!.toObject()).toEqual({ a: 1 })
      yield* conn.execute("ALTER TABLE fs ADD COLUMN b text DEFAULT 'x'")
      expect((yield* conn.fetch(sql, [1]))[0]!.toObject()).toEqual({ a: 1, b: "x" })
    }),
  )

  it.live.each([
    ["fast path", undefined],
    ["general path (a timeout)", { timeout: "10 seconds" }],
  ] as const)("a request withdrawn while a cancel holds writes back returns its admission (%s)", ([, options]) =>
    Effect.gen(function* () {
      const conn = yield* connect()
      Option.getOrThrow(yield* conn.fetchVal(SLEEP, [0]))
      Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int4", [0]))
      const sleeping = yield* Effect.forkChild(Effect.map(conn.fetchVal(SLEEP, [30]), Option.getOrThrow))
      yield* untilRunning(conn.serverPid)
      // The interruption sends a cancel and holds later writes until it is confirmed.
      const interrupting = yield* Effect.forkChild(Fiber.interrupt(sleeping))
      const deadline = Date.now() + 5000
      while (heldWrites(conn) === 0 && Date.now() < deadline) yield* Effect.yieldNow
      expect(heldWrites(conn)).toBeGreaterThan(0)
      // Written while writes are held: it waits in the held queue; interrupting it withdraws it.
      const queued = yield* Effect.forkChild(
        Effect.map(conn.fetchVal("SELECT $1::int4", [1], options), Option.getOrThrow),
        {
          startImmediately: true,
        },
      )
      expect(core(conn).gate.inFlight).toBe(2)
      yield* Fiber.interrupt(queued)
      yield* Fiber.join(interrupting)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int4", [7]))).toBe(7)
      expect(core(conn).gate.inFlight).toBe(0)
    }),
  )
})

describe("fast path through a pool", () => {
  it.live("interrupting a shortcut cancels it and returns the connection", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ min: 1, max: 1 }))
      Option.getOrThrow(yield* pool.fetchVal(SLEEP, [0]))
      const pid = Option.getOrThrow(yield* pool.fetchVal("SELECT pg_backend_pid()")) as number
      const fiber = yield* Effect.forkChild(Effect.map(pool.fetchVal(SLEEP, [30]), Option.getOrThrow))
      yield* untilRunning(pid)
      expect(pool.stats.inUse).toBe(1)
      yield* Fiber.interrupt(fiber)
      expect(pool.stats.inUse).toBe(0)
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT $1::int4", [5]))).toBe(5)
      expect(pool.stats.size).toBe(1)
    }),
  )

  it.live("failures on the fast path release the connection", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ min: 1, max: 1 }))
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT $1::int4", [1]))).toBe(1)
      expect(
        failureOf(
          yield* Effect.exit(Effect.map(pool.fetchVal("SELECT $1::int4", [{ not: "a number" }]), Option.getOrThrow)),
        ),
      ).toBeInstanceOf(PgEncodeError)
      expect(pool.stats.inUse).toBe(0)
      const column = failureOf(
        yield* Effect.exit(Effect.map(pool.fetchVal("SELECT $1::int4", [1], { column: 2 }), Option.getOrThrow)),
      )
      expect(column).toBeInstanceOf(PgInterfaceError)
      expect(pool.stats.inUse).toBe(0)
      const server = failureOf(
        yield* Effect.exit(Effect.map(pool.fetchVal("SELECT 1 / $1::int4", [0]), Option.getOrThrow)),
      )
      expect(server._tag).toBe("PgServerError")
      expect(
        failureOf(yield* Effect.exit(Effect.map(pool.fetchVal("SELECT 1 / $1::int4", [0]), Option.getOrThrow)))._tag,
      ).toBe("PgServerError")
      expect(pool.stats.inUse).toBe(0)
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT 1 / $1::int4", [1]))).toBe(1)
      expect(pool.stats.size).toBe(1)
    }),
  )

  it.live("many concurrent shortcuts on a small pool: every call answered, nothing left checked out", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ min: 0, max: 3 }))
      const results = yield* Effect.forEach(
        Array.from({ length: 2000 }, (_, i) => i),
        (i) => Effect.map(pool.fetchVal("SELECT $1::int4 * 2", [i]), Option.getOrThrow),
        { concurrency: 50 },
      )
      expect(results.every((v, i) => v === i * 2)).toBe(true)
      expect(pool.stats.inUse).toBe(0)
      expect(pool.stats.size).toBeLessThanOrEqual(3)
    }),
  )

  it.live(
    "interruptions at random moments among concurrent shortcuts leak nothing",
    () =>
      Effect.gen(function* () {
        const pool = yield* PgPool.make(poolOptions({ min: 0, max: 3 }))
        Option.getOrThrow(yield* pool.fetchVal(SLEEP, [0]))
        let seed = 7
        const random = () => {
          seed = (seed * 1103515245 + 12345) % 2147483648
          return seed / 2147483648
        }
        const outcomes = yield* Effect.forEach(
          // Deadlines spread log-uniformly over 1-400 ms: most land mid-flight, some after the
          // answer, however fast the machine is.
          Array.from({ length: 120 }, () => [random() * 0.01, Math.floor(Math.exp(random() * Math.log(400)))] as const),
          ([sleep, afterMs]) =>
            Effect.exit(
              Effect.timeout(Effect.map(pool.fetchVal(SLEEP, [sleep]), Option.getOrThrow), `${afterMs} millis`),
            ),
          { concurrency: 6 },
        )
        // Both kinds happened: calls that finished and calls interrupted mid-flight.
        expect(outcomes.filter(Exit.isSuccess).length).toBeGreaterThanOrEqual(5)
        expect(outcomes.filter(Exit.isFailure).length).toBeGreaterThanOrEqual(5)
        expect(pool.stats.inUse).toBe(0)
        expect(pool.stats.size).toBeLessThanOrEqual(3)
        // Every connection left in the pool still answers, in order.
        const answers = yield* Effect.forEach(
          Array.from({ length: 30 }, (_, i) => i),
          (i) => Effect.map(pool.fetchVal("SELECT $1::int4", [i]), Option.getOrThrow),
          { concurrency: 6 },
        )
        expect(answers).toEqual(Array.from({ length: 30 }, (_, i) => i))
        expect(pool.stats.inUse).toBe(0)
      }),
    60_000,
  )

  it.live("the reset covers a fast call that leaves session state", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ min: 1, max: 1 }))
      const sql = "SELECT set_config('application_name', $1, false)"
      Option.getOrThrow(yield* pool.fetchVal(sql, ["first"]))
      Option.getOrThrow(yield* pool.fetchVal(sql, ["second"]))
      // The reset was written with the fast call's release: the setting is gone.
      expect(
        Option.getOrThrow(yield* pool.fetchVal("SELECT current_setting('application_name') = $1", ["second"])),
      ).toBe(false)
    }),
  )

  it.live("after close, a shortcut fails typed instead of taking the fast path", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ min: 1, max: 1 }))
      Option.getOrThrow(yield* pool.fetchVal("SELECT $1::int4", [1]))
      yield* pool.close
      const exit = yield* Effect.exit(Effect.map(pool.fetchVal("SELECT $1::int4", [1]), Option.getOrThrow))
      expect(Exit.isFailure(exit)).toBe(true)
    }),
  )
})
