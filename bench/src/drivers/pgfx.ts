/**
 * pgfx, called the way an application calls it.
 *
 * Callers reach the database through a {@link Session}:
 *
 * - `pgfx`: one `PgConnection` per connection, callers spread over them (caller i uses
 *   connection i mod n; W1p: all callers on one connection, which pipelines them);
 * - `pgfx-pool` (`--pool`): the shortcuts of one `PgClient` whose pool has `connections`
 *   connections, so every query is a checkout and a release, as in an application (W1p: a pool
 *   of one, so the ten callers take turns: a checkout is exclusive, nothing is pipelined).
 */
import * as PgClient from "@pgfx/client/PgClient"
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgCopy from "@pgfx/client/PgCopy"
import type { CursorOptions } from "@pgfx/client/PgCursor"
import type { PgRecord } from "@pgfx/client/PgRecord"
import { Effect, Option, type Scope, Stream } from "effect"
import { performance } from "node:perf_hooks"
import {
  type Driver,
  ingestCheckSql,
  ingestResult,
  ingestRows,
  latencyResult,
  openWindow,
  pickId,
  RssProbe,
  runChild,
  selectColumns,
  streamResult,
  Tally,
} from "../child.ts"
import { type ConnInfo, type OkResult, type RunRequest, unsupported } from "../protocol.ts"

const pooled = process.argv.includes("--pool")

/** What a caller needs: what PgConnection and PgClient both offer. */
interface Session {
  fetch(sql: string, args?: ReadonlyArray<unknown>): Effect.Effect<Array<PgRecord>, unknown>
  fetchVal(sql: string, args?: ReadonlyArray<unknown>): Effect.Effect<Option.Option<unknown>, unknown>
  fetchRow(sql: string, args?: ReadonlyArray<unknown>): Effect.Effect<unknown, unknown>
  execute(sql: string, args?: ReadonlyArray<unknown>): Effect.Effect<string, unknown>
  executeMany(sql: string, argsList: ReadonlyArray<ReadonlyArray<unknown>>): Effect.Effect<void, unknown>
  cursor(sql: string, args?: ReadonlyArray<unknown>, options?: CursorOptions): Stream.Stream<PgRecord, unknown>
  transaction<A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, unknown>
}

const options = (conn: ConnInfo): PgConnection.PgConnectionOptions => ({
  host: conn.host,
  port: conn.port,
  user: conn.user,
  password: conn.password,
  database: conn.database,
})

/**
 * `count` sessions on `connections` connections: caller i gets connection i mod n, or, pooled,
 * every caller gets the same client (a pool of `connections`, all opened up front).
 */
const openSessions = (
  conn: ConnInfo,
  connections: number,
  count: number,
): Effect.Effect<Array<Session>, unknown, Scope.Scope> =>
  pooled
    ? Effect.map(PgClient.make({ ...options(conn), min: connections, max: connections }), (client): Array<Session> =>
        Array.from({ length: count }, () => client),
      )
    : Effect.map(
        Effect.forEach(Array.from({ length: connections }), () => PgConnection.make(options(conn)), {
          concurrency: "unbounded",
        }),
        (opened) => Array.from({ length: count }, (_, i) => opened[i % opened.length]),
      )

const run = <A>(effect: Effect.Effect<A, unknown, Scope.Scope>): Promise<A> =>
  Effect.runPromise(Effect.scoped(effect) as Effect.Effect<A>)

/** Duration-based: every caller loops `call` until the window closes; returns calls per second. */
const callersFor = (
  sessions: ReadonlyArray<Session>,
  warmupMs: number,
  durationMs: number,
  call: (session: Session, caller: number, iteration: number) => Effect.Effect<void, unknown>,
): Effect.Effect<number, unknown> =>
  Effect.gen(function* () {
    const { window, done } = openWindow(warmupMs, durationMs)
    yield* Effect.forEach(
      sessions,
      (session, caller) =>
        Effect.gen(function* () {
          for (let i = 0; !window.stop; i++) {
            yield* call(session, caller, i)
            if (window.measuring) window.count++
          }
        }),
      { concurrency: "unbounded", discard: true },
    )
    return yield* Effect.promise(() => done)
  })

const pointQueries = (req: RunRequest): Promise<OkResult> =>
  run(
    Effect.gen(function* () {
      const { spec } = req
      const sessions = yield* openSessions(req.conn, spec.connections, spec.callers)
      const rate = yield* callersFor(sessions, spec.warmupMs, spec.durationMs, (session, caller, i) => {
        const id = pickId(caller, i, spec.idRange)
        return Effect.map(session.fetch(spec.sql, [id]), (rows) => {
          if (rows.length !== 1 || rows[0].id !== id) throw new Error(`W1: wrong row for id ${id}`)
        })
      })
      return { status: "ok", value: rate, check: {} } satisfies OkResult
    }),
  )

const driver: Driver = {
  W1: pointQueries,
  W1p: pointQueries,
  W2: (req) =>
    run(
      Effect.gen(function* () {
        const { spec } = req
        const sessions = yield* openSessions(req.catalogConn, spec.connections, spec.callers)
        const tally = new Tally(selectColumns(spec.sql))
        let rows = 0
        const rate = yield* callersFor(sessions, spec.warmupMs, spec.durationMs, (session) =>
          Effect.map(session.fetch(spec.sql), (result) => {
            tally.all(result)
            rows = result.length
          }),
        )
        return { status: "ok", value: rate, check: { rows } } satisfies OkResult
      }),
    ),
  W3: (req) =>
    run(
      Effect.gen(function* () {
        const { spec } = req
        const [session] = yield* openSessions(req.conn, 1, 1)
        const columns = selectColumns(spec.sql)
        new Tally(columns).all(yield* session.fetch(spec.warmupSql))
        let tally = new Tally(columns)
        const t0 = performance.now()
        for (let r = 0; r < spec.repeats; r++) {
          tally = new Tally(columns)
          tally.all(yield* session.fetch(spec.sql))
        }
        const seconds = (performance.now() - t0) / 1000
        return {
          status: "ok",
          value: (spec.count * spec.repeats) / seconds,
          check: tally.check(),
        } satisfies OkResult
      }),
    ),
  W4: (req) =>
    run(
      Effect.gen(function* () {
        const { spec } = req
        const conn = yield* PgConnection.make(options(req.conn))
        const copyIn = (count: number) =>
          Effect.gen(function* () {
            const records = ingestRows(count)
            const t0 = performance.now()
            const status = yield* PgCopy.copyRecordsToTable(conn, spec.table, { records, columns: spec.columns })
            if (status !== `COPY ${count}`) throw new Error(`W4: got ${status}`)
            return (performance.now() - t0) / 1000
          })
        yield* conn.execute(`TRUNCATE ${spec.table}`)
        yield* copyIn(spec.warmupCount)
        yield* conn.execute(`TRUNCATE ${spec.table}`)
        const seconds = yield* copyIn(spec.count)
        const check = yield* conn.fetch(ingestCheckSql(spec.table))
        return ingestResult(spec.count, seconds, Number(check[0]!.rows), Number(check[0]!.suma))
      }),
    ),
  W5: (req) =>
    run(
      Effect.gen(function* () {
        const { spec } = req
        const [session] = yield* openSessions(req.conn, 1, 1)
        for (let i = 0; i < spec.warmupCount; i++) Option.getOrThrow(yield* session.fetchVal(spec.sql, [i]))
        const samples = new Float64Array(spec.count)
        for (let i = 0; i < spec.count; i++) {
          const t0 = performance.now()
          const value = Option.getOrThrow(yield* session.fetchVal(spec.sql, [i]))
          samples[i] = (performance.now() - t0) * 1000
          if (value !== i) throw new Error(`W5: got ${String(value)} for ${i}`)
        }
        return latencyResult(samples)
      }),
    ),
  W6: (req) =>
    run(
      Effect.gen(function* () {
        const { spec } = req
        const [session] = yield* openSessions(req.conn, 1, 1)
        const columns = selectColumns(spec.sql)
        // The Stream's rows arrive in arrays of up to `prefetch`: tally them array by array.
        const stream = (sql: string, tally: Tally) =>
          Stream.runForEachArray(session.cursor(sql, [], { prefetch: spec.fetchSize }), (rows) =>
            Effect.sync(() => tally.all(rows)),
          )
        yield* stream(spec.warmupSql, new Tally(columns))
        const tally = new Tally(columns)
        const probe = new RssProbe()
        probe.start()
        const t0 = performance.now()
        yield* stream(spec.sql, tally)
        const seconds = (performance.now() - t0) / 1000
        return streamResult(probe.stop(), tally, seconds)
      }),
    ),
  W7: pooled
    ? unsupported("connection set-up is the same PgConnection.connect with or without the pool (see pgfx)")
    : (req) =>
        run(
          Effect.gen(function* () {
            const { spec } = req
            const once = Effect.scoped(
              Effect.flatMap(PgConnection.make(options(req.conn)), (conn) =>
                Effect.map(conn.fetchVal(spec.sql), Option.getOrThrow),
              ),
            )
            for (let i = 0; i < spec.warmupCount; i++) yield* once
            const t0 = performance.now()
            for (let i = 0; i < spec.count; i++) yield* once
            const seconds = (performance.now() - t0) / 1000
            return { status: "ok", value: spec.count / seconds, check: { connects: spec.count } } satisfies OkResult
          }),
        ),
  W8: (req) =>
    run(
      Effect.gen(function* () {
        // As the peers: every parameter set in one transaction (BEGIN; the batch; COMMIT). The
        // batch is one pipelined round trip (Bind/Execute per set, one Sync).
        const { spec } = req
        const [session] = yield* openSessions(req.conn, 1, 1)
        const many = (count: number) =>
          Effect.gen(function* () {
            const rows = ingestRows(count)
            const t0 = performance.now()
            yield* session.transaction(session.executeMany(spec.sql, rows))
            return (performance.now() - t0) / 1000
          })
        yield* session.execute(`TRUNCATE ${spec.table}`)
        yield* many(spec.warmupCount)
        yield* session.execute(`TRUNCATE ${spec.table}`)
        const seconds = yield* many(spec.count)
        const check = (yield* session.fetch(ingestCheckSql(spec.table)))[0]!
        return ingestResult(spec.count, seconds, Number(check.get("rows")), Number(check.get("suma")))
      }),
    ),
}

await runChild(driver)
