/**
 * pgfx, called the way an application calls it.
 *
 * Callers reach the database through a {@link Session}:
 *
 * - `pgfx`: one `PgConnection` per connection, callers spread over them (caller i uses
 *   connection i mod n; W1p: all callers on one connection, which pipelines them);
 * - `pgfx-pool` (`--pool`): the shortcuts of one `PgClient` whose pool has `connections`
 *   connections, so every query is a checkout and a release, as in an application. It has no W1p:
 *   a checkout is exclusive, so a pool of one cannot pipeline (the `pgfx` rows show W1p).
 *
 * Two call shapes: by default every caller is an Effect loop (`yield*` per query); with
 * `--promise` the sessions are built once into a `ManagedRuntime` and plain async callers run
 * each query with one `runtime.runPromise(...)`, as an application calling from Promise code does.
 * W4, W6 and W8 are one call per run, so their promise shape is that one call through `runPromise`.
 */
import * as PgClient from "@pgfx/client/PgClient"
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgCopy from "@pgfx/client/PgCopy"
import type { CursorOptions } from "@pgfx/client/PgCursor"
import type { PgRecord } from "@pgfx/client/PgRecord"
import { Context, Effect, Layer, ManagedRuntime, Option, type Scope, Stream } from "effect"
import { performance } from "node:perf_hooks"
import {
  type Driver,
  ingestCheckSql,
  ingestResult,
  ingestRows,
  latencies,
  latencyResult,
  openWindow,
  pickId,
  RssProbe,
  runCallers,
  runChild,
  selectColumns,
  streamResult,
  Tally,
} from "../child.ts"
import { type ConnInfo, type OkResult, type Spec, unsupported } from "../protocol.ts"

const pooled = process.argv.includes("--pool")
const promiseShape = process.argv.includes("--promise")

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

/** The promise shape's services: the sessions, built once as an application builds its layer. */
class Sessions extends Context.Service<Sessions, ReadonlyArray<Session>>()("bench/Sessions") {}

/** The promise shape: `count` sessions in a runtime built once, and one `runPromise` per call. */
const promiseSessions = async (
  conn: ConnInfo,
  connections: number,
  count: number,
): Promise<{ sessions: ReadonlyArray<Session>; run: <A>(effect: Effect.Effect<A, unknown>) => Promise<A> }> => {
  // Left open: the child process exits after the run.
  const runtime = ManagedRuntime.make(Layer.effect(Sessions, openSessions(conn, connections, count)))
  const sessions = Context.get(await runtime.context(), Sessions)
  return { sessions, run: (effect) => runtime.runPromise(effect) }
}

/** One query of a caller and the check of its result: both shapes run exactly this. */
interface Call<A> {
  readonly query: (session: Session, caller: number, iteration: number) => Effect.Effect<A, unknown>
  readonly check: (result: A, caller: number, iteration: number) => void
}

/** Duration-based: every caller loops `call` until the window closes; returns calls per second. */
const callersFor = <A>(
  sessions: ReadonlyArray<Session>,
  warmupMs: number,
  durationMs: number,
  call: Call<A>,
): Effect.Effect<number, unknown> =>
  Effect.gen(function* () {
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

/** W1, W1p, W2: `spec.callers` callers on `spec.connections` connections, in the shape asked for. */
const concurrentCalls = async <A>(conn: ConnInfo, spec: Spec, call: Call<A>): Promise<number> => {
  if (!promiseShape) {
    return run(
      Effect.flatMap(openSessions(conn, spec.connections, spec.callers), (sessions) =>
        callersFor(sessions, spec.warmupMs, spec.durationMs, call),
      ),
    )
  }
  const { sessions, run: runOne } = await promiseSessions(conn, spec.connections, spec.callers)
  return runCallers(spec.callers, spec.warmupMs, spec.durationMs, async (caller, i) =>
    call.check(await runOne(call.query(sessions[caller], caller, i)), caller, i),
  )
}

/** W5: serial calls on one connection, each timed, in the shape asked for. */
const serialCalls = async <A>(conn: ConnInfo, spec: Spec, call: Call<A>): Promise<OkResult> => {
  if (promiseShape) {
    const { sessions, run: runOne } = await promiseSessions(conn, 1, 1)
    return latencies(spec.warmupCount, spec.count, async (i) =>
      call.check(await runOne(call.query(sessions[0], 0, i)), 0, i),
    )
  }
  return run(
    Effect.gen(function* () {
      const [session] = yield* openSessions(conn, 1, 1)
      for (let i = 0; i < spec.warmupCount; i++) call.check(yield* call.query(session, 0, i), 0, i)
      const samples = new Float64Array(spec.count)
      for (let i = 0; i < spec.count; i++) {
        const t0 = performance.now()
        const result = yield* call.query(session, 0, i)
        samples[i] = (performance.now() - t0) * 1000
        call.check(result, 0, i)
      }
      return latencyResult(samples)
    }),
  )
}

/**
 * W3: `repeats` executions of one big query on one connection. In the promise shape each execution
 * is one `runPromise` (awaited from the timing loop).
 */
const repeatedFetch = async (conn: ConnInfo, spec: Spec): Promise<OkResult> => {
  const columns = selectColumns(spec.sql)
  const measure = (fetch: (sql: string) => Effect.Effect<Array<PgRecord>, unknown>) =>
    Effect.gen(function* () {
      new Tally(columns).all(yield* fetch(spec.warmupSql))
      let tally = new Tally(columns)
      const t0 = performance.now()
      for (let r = 0; r < spec.repeats; r++) {
        tally = new Tally(columns)
        tally.all(yield* fetch(spec.sql))
      }
      const seconds = (performance.now() - t0) / 1000
      return { status: "ok", value: (spec.count * spec.repeats) / seconds, check: tally.check() } satisfies OkResult
    })
  if (!promiseShape)
    return run(Effect.flatMap(openSessions(conn, 1, 1), ([session]) => measure((sql) => session.fetch(sql))))
  const { sessions, run: runOne } = await promiseSessions(conn, 1, 1)
  return run(measure((sql) => Effect.promise(() => runOne(sessions[0].fetch(sql)))))
}

const pointQuery = (spec: Spec): Call<Array<PgRecord>> => ({
  query: (session, caller, i) => session.fetch(spec.sql, [pickId(caller, i, spec.idRange)]),
  check: (rows, caller, i) => {
    const id = pickId(caller, i, spec.idRange)
    if (rows.length !== 1 || rows[0].id !== id) throw new Error(`W1: wrong row for id ${id}`)
  },
})

const driver: Driver = {
  W1: async (req) => ({
    status: "ok",
    value: await concurrentCalls(req.conn, req.spec, pointQuery(req.spec)),
    check: {},
  }),
  W1p: pooled
    ? unsupported("a PgClient checkout is exclusive: no pipelining on one connection (the pgfx rows show W1p)")
    : async (req) => ({
        status: "ok",
        value: await concurrentCalls(req.conn, req.spec, pointQuery(req.spec)),
        check: {},
      }),
  W2: async (req) => {
    const { spec } = req
    const tally = new Tally(selectColumns(spec.sql))
    let rows = 0
    const value = await concurrentCalls(req.catalogConn, spec, {
      query: (session) => session.fetch(spec.sql),
      check: (result) => {
        tally.all(result)
        rows = result.length
      },
    })
    return { status: "ok", value, check: { rows } }
  },
  W3: (req) => repeatedFetch(req.conn, req.spec),
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
    serialCalls(req.conn, req.spec, {
      query: (session, _, i) => session.fetchVal(req.spec.sql, [i]),
      check: (value, _, i) => {
        if (Option.getOrThrow(value) !== i) throw new Error(`W5: got ${String(value)} for ${i}`)
      },
    }),
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
            // The promise shape: one `runPromise` per connect, awaited in a plain loop.
            const connects = (count: number) =>
              promiseShape
                ? Effect.promise(async () => {
                    for (let i = 0; i < count; i++) await Effect.runPromise(once)
                  })
                : Effect.gen(function* () {
                    for (let i = 0; i < count; i++) yield* once
                  })
            yield* connects(spec.warmupCount)
            const t0 = performance.now()
            yield* connects(spec.count)
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
