/**
 * Bounds on what one reply may bring (`maxResultRows`, `maxResultBytes`, `maxMessageSize`) against
 * the real server: every result path fails typed (`PgLimitError`) past a limit, the rest of the
 * reply is drained without being kept (client memory stays bounded), and the next query on the
 * same connection works. A huge ErrorResponse keeps a few KiB of each field, marked truncated.
 */
import * as Backend from "@pgfx/protocol/Backend"
import * as PgCopy from "@pgfx/client/PgCopy"
import type * as PgNotifications from "@pgfx/client/PgNotifications"
import * as PgPool from "@pgfx/client/PgPool"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Stream, Option } from "effect"
import { connect, tcpOptions } from "./support/connect.ts"
import { failureOf } from "./support/failure.ts"

const rows = (n: number) => `SELECT g FROM generate_series(1, ${n}) AS g`

/** The connection still answers, and answers its own query. */
const stillWorks = (conn: {
  fetchVal: (sql: string, args?: ReadonlyArray<unknown>) => Effect.Effect<Option.Option<unknown>, unknown>
}) =>
  Effect.gen(function* () {
    expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int + 1", [41]))).toBe(42)
  })

describe("maxResultRows", () => {
  it.live("fetch, prepared statements, fetchMany, simple queries, cursors: typed failure past the limit", () =>
    Effect.gen(function* () {
      const conn = yield* connect({ maxResultRows: 100 })
      expect(yield* conn.fetch(rows(100))).toHaveLength(100)

      const error = failureOf(yield* Effect.exit(conn.fetch(rows(101))))
      expect(error).toMatchObject({ _tag: "PgLimitError", limit: "rows", max: 100 })
      yield* stillWorks(conn)

      // With arguments (extended protocol), and again (the cached statement).
      for (let i = 0; i < 2; i++) {
        expect(failureOf(yield* Effect.exit(conn.fetch("SELECT generate_series(1, $1::int)", [500])))).toMatchObject({
          _tag: "PgLimitError",
          limit: "rows",
        })
      }
      expect(failureOf(yield* Effect.exit(conn.execute(rows(1000))))).toMatchObject({ _tag: "PgLimitError" })

      const stmt = yield* conn.prepare("SELECT generate_series(1, $1::int)")
      expect(yield* stmt.fetch([100])).toHaveLength(100)
      expect(failureOf(yield* Effect.exit(stmt.fetch([101])))).toMatchObject({ _tag: "PgLimitError", limit: "rows" })

      // A batch counts as one reply: 2 × 60 rows.
      expect(yield* conn.fetchMany("SELECT generate_series(1, $1::int)", [[50], [50]])).toHaveLength(2)
      expect(
        failureOf(yield* Effect.exit(conn.fetchMany("SELECT generate_series(1, $1::int)", [[60], [60]]))),
      ).toMatchObject({ _tag: "PgLimitError", limit: "rows" })

      // A simple query (several statements) counts as one reply.
      expect(failureOf(yield* Effect.exit(conn.simpleQuery(`${rows(60)}; ${rows(60)}`)))).toMatchObject({
        _tag: "PgLimitError",
      })

      // A cursor's limit applies per fetch: 1,000 rows 50 at a time pass, 200 at a time do not.
      const all = yield* Stream.runCollect(conn.cursor(rows(1000), [], { prefetch: 50 }))
      expect(all).toHaveLength(1000)
      const tooMany = yield* Effect.exit(Stream.runCollect(conn.cursor(rows(1000), [], { prefetch: 200 })))
      expect(failureOf(tooMany)).toMatchObject({ _tag: "PgLimitError", limit: "rows" })

      yield* stillWorks(conn)
    }).pipe(Effect.scoped),
  )

  it.live("pipelined queries: only the one over the limit fails, the others get their own rows", () =>
    Effect.gen(function* () {
      const conn = yield* connect({ maxResultRows: 100 })
      const results = yield* Effect.all(
        [10, 5000, 20, 100, 101, 30].map((n) =>
          Effect.exit(conn.fetch("SELECT generate_series(1, $1::int) AS g", [n])),
        ),
        { concurrency: "unbounded" },
      )
      const outcome = results.map((r) => (Exit.isSuccess(r) ? r.value.map((row) => row.g).at(-1) : failureOf(r)._tag))
      expect(outcome).toEqual([10, "PgLimitError", 20, 100, "PgLimitError", 30])
    }).pipe(Effect.scoped),
  )

  it.live("a pool's connections have the limit, on the shortcuts' fast path too", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make({ ...tcpOptions({ maxResultRows: 10 }), min: 0, max: 1 })
      for (let i = 0; i < 3; i++) {
        expect(failureOf(yield* Effect.exit(pool.fetch("SELECT generate_series(1, $1::int)", [11])))).toMatchObject({
          _tag: "PgLimitError",
        })
        expect(yield* pool.fetch("SELECT generate_series(1, $1::int)", [10])).toHaveLength(10)
      }
    }).pipe(Effect.scoped),
  )
})

describe("maxResultBytes", () => {
  it.live("COPY TO: the stream fails past the limit, the connection stays usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect({ maxResultBytes: 100_000 })
      const small = yield* Stream.runCollect(PgCopy.streamFromQuery(conn, rows(1000)))
      expect(small.reduce((n, c) => n + c.length, 0)).toBeLessThan(100_000)
      const big = yield* Effect.exit(Stream.runCollect(PgCopy.streamFromQuery(conn, rows(100_000))))
      expect(failureOf(big)).toMatchObject({ _tag: "PgLimitError", limit: "bytes", max: 100_000 })
      yield* stillWorks(conn)
    }).pipe(Effect.scoped),
  )

  it.live(
    "a 400 MB result is drained in bounded memory: typed failure, RSS grows far less than the result",
    () =>
      Effect.gen(function* () {
        const conn = yield* connect({ maxResultBytes: 1024 * 1024 })
        // Warm up (statement cache, codecs), then measure.
        expect(
          failureOf(yield* Effect.exit(conn.fetch("SELECT repeat('x', 1000) FROM generate_series(1, 2000)"))),
        ).toMatchObject({
          _tag: "PgLimitError",
        })
        const base = process.memoryUsage().rss
        let peak = base
        const sampler = yield* Effect.forkChild(
          Effect.forever(
            Effect.andThen(
              Effect.sync(() => {
                peak = Math.max(peak, process.memoryUsage().rss)
              }),
              Effect.sleep("10 millis"),
            ),
          ),
        )
        const error = failureOf(
          yield* Effect.exit(conn.fetch("SELECT repeat('x', 1000) FROM generate_series(1, 400000)")),
        )
        yield* Fiber.interrupt(sampler)
        expect(error).toMatchObject({ _tag: "PgLimitError", limit: "bytes", max: 1024 * 1024 })
        const growthMiB = (peak - base) / (1024 * 1024)
        console.log(`draining 400 MB past a 1 MiB limit: RSS grew ${growthMiB.toFixed(1)} MiB`)
        expect(growthMiB).toBeLessThan(160)
        yield* stillWorks(conn)
      }).pipe(Effect.scoped),
    120_000,
  )
})

describe("maxMessageSize", () => {
  it.live("a row over the limit fails typed and is skipped unread; the connection stays usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect({ maxMessageSize: 64 * 1024 })
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT repeat('x', 60000)"))).toHaveLength(60000)
      const error = failureOf(yield* Effect.exit(conn.fetchVal("SELECT repeat('x', 10 * 1024 * 1024)")))
      expect(error).toMatchObject({ _tag: "PgLimitError", limit: "message", max: 64 * 1024 })
      // The statement's other rows are dropped too; the next query gets its own answer.
      const later = failureOf(
        yield* Effect.exit(conn.fetch("SELECT repeat('x', n) FROM unnest(ARRAY[10, 100000, 10]) AS n")),
      )
      expect(later).toMatchObject({ _tag: "PgLimitError", limit: "message" })
      yield* stillWorks(conn)
      const copy = yield* Effect.exit(Stream.runCollect(PgCopy.streamFromQuery(conn, "SELECT repeat('x', 100000)")))
      expect(failureOf(copy)).toMatchObject({ _tag: "PgLimitError", limit: "message" })
      yield* stillWorks(conn)
    }).pipe(Effect.scoped),
  )

  it.live("bad values are refused as options", () =>
    Effect.gen(function* () {
      for (const bad of [{ maxResultRows: 0 }, { maxResultBytes: 1.5 }, { maxMessageSize: 10 }]) {
        expect(failureOf(yield* Effect.exit(connect(bad)))).toMatchObject({ _tag: "PgConfigError" })
      }
    }).pipe(Effect.scoped),
  )
})

describe("a huge ErrorResponse", () => {
  const raise = "DO $$ BEGIN RAISE EXCEPTION '%', repeat('x', 64 * 1024 * 1024) USING HINT = 'a hint'; END $$"

  it.live("64 MiB message: the error keeps 8 KiB of it, marked truncated; the connection stays usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const error = failureOf(yield* Effect.exit(conn.execute(raise)))
      expect(error).toMatchObject({ _tag: "PgServerError", code: "P0001", hint: "a hint" })
      const message = (error as { message: string }).message
      expect(message.endsWith(Backend.TRUNCATED_MARK)).toBe(true)
      expect(message.length).toBe(Backend.MAX_FIELD_BYTES + Backend.TRUNCATED_MARK.length)
      yield* stillWorks(conn)
    }).pipe(Effect.scoped),
  )

  it.live("a huge notice: cut and marked, over maxMessageSize too; the statement succeeds", () =>
    Effect.gen(function* () {
      for (const maxMessageSize of [undefined, 64 * 1024]) {
        const conn = yield* connect(maxMessageSize === undefined ? {} : { maxMessageSize })
        const notices: Array<PgNotifications.PgNotice> = []
        yield* conn.addLogListener((_c, n) => notices.push(n))
        yield* conn.execute("DO $$ BEGIN RAISE NOTICE '%', repeat('y', 1000000); END $$")
        expect(notices).toHaveLength(1)
        expect(notices[0]!.code).toBe("00000")
        expect(notices[0]!.message).toBe("y".repeat(Backend.MAX_FIELD_BYTES) + Backend.TRUNCATED_MARK)
        yield* stillWorks(conn)
      }
    }).pipe(Effect.scoped),
  )

  it.live("over maxMessageSize: read from its first 64 KiB, the rest skipped", () =>
    Effect.gen(function* () {
      const conn = yield* connect({ maxMessageSize: 1024 * 1024 })
      const error = failureOf(yield* Effect.exit(conn.execute(raise)))
      // The hint comes after the 64 MiB message: cut off with the rest.
      expect(error).toMatchObject({ _tag: "PgServerError", code: "P0001", severity: "ERROR" })
      expect((error as { hint?: string }).hint).toBeUndefined()
      expect((error as { message: string }).message.endsWith(Backend.TRUNCATED_MARK)).toBe(true)
      yield* stillWorks(conn)
    }).pipe(Effect.scoped),
  )
})
