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
 * - `pgfx-pool-txonly` (`--pool --reset=transactionOnly`, only when asked for): the same pool
 *   with `sessionReset: "transactionOnly"`, which resets what the other JavaScript pools reset
 *   (nothing but an open transaction): what the sound default reset costs, in the same run.
 *
 * Both call shapes (../calls.ts): Effect loops, or (`--promise`) the sessions built once into a
 * `ManagedRuntime` and one `runtime.runPromise(...)` per query. W4's COPY runs the same in both.
 */
import * as PgClient from "@pgfx/client/PgClient"
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgCopy from "@pgfx/client/PgCopy"
import type { CursorOptions } from "@pgfx/client/PgCursor"
import type { PgRecord } from "@pgfx/client/PgRecord"
import { Context, Effect, Layer, ManagedRuntime, Option, type Scope, Stream } from "effect"
import { performance } from "node:perf_hooks"
import {
  type Call,
  concurrentCalls,
  oneCall,
  promiseShape,
  type RunPromise,
  serialCalls,
  withoutServices,
} from "../calls.ts"
import {
  type Driver,
  ingestCheckSql,
  ingestResult,
  ingestRows,
  pickId,
  RssProbe,
  runChild,
  selectColumns,
  streamResult,
  Tally,
} from "../child.ts"
import { type ConnInfo, type OkResult, type RunRequest, type Spec, unsupported } from "../protocol.ts"

const pooled = process.argv.includes("--pool")
/** `--reset=<scope>`: the pool's `sessionReset` (default: the pool's default, `"full"`). */
const sessionReset = process.argv.find((arg) => arg.startsWith("--reset="))?.slice("--reset=".length) as
  PgClient.PgClientOptions["sessionReset"] | undefined

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
    ? Effect.map(
        PgClient.make({
          ...options(conn),
          min: connections,
          max: connections,
          ...(sessionReset === undefined ? {} : { sessionReset }),
        }),
        (client): Array<Session> => Array.from({ length: count }, () => client),
      )
    : Effect.map(
        Effect.forEach(Array.from({ length: connections }), () => PgConnection.make(options(conn)), {
          concurrency: "unbounded",
        }),
        (opened) => Array.from({ length: count }, (_, i) => opened[i % opened.length]),
      )

/** Runs a scoped program (one run of a workload) to its result. */
const scoped = <A>(effect: Effect.Effect<A, unknown, Scope.Scope>): Promise<A> =>
  Effect.runPromise(Effect.scoped(effect) as Effect.Effect<A>)

/** The promise shape's services: the sessions, built once as an application builds its layer. */
class Sessions extends Context.Service<Sessions, ReadonlyArray<Session>>()("bench/Sessions") {}

/**
 * `count` sessions on `connections` connections and, in the promise shape, how to run one call:
 * there the sessions are built into a `ManagedRuntime` (left open: the child process exits after
 * the run) and every call is one `runtime.runPromise`.
 */
const sessionsFor = (
  conn: ConnInfo,
  connections: number,
  count: number,
): Effect.Effect<{ sessions: ReadonlyArray<Session>; run: RunPromise | undefined }, unknown, Scope.Scope> =>
  promiseShape
    ? Effect.promise(async () => {
        const runtime = ManagedRuntime.make(Layer.effect(Sessions, openSessions(conn, connections, count)))
        const sessions = Context.get(await runtime.context(), Sessions)
        return { sessions, run: (effect) => runtime.runPromise(effect) }
      })
    : Effect.map(openSessions(conn, connections, count), (sessions) => ({ sessions, run: undefined }))

/** W1, W1p, W2: `spec.callers` callers on `spec.connections` connections; calls per second. */
const callers = <A>(conn: ConnInfo, spec: Spec, call: Call<Session, A>): Promise<number> =>
  scoped(
    Effect.flatMap(sessionsFor(conn, spec.connections, spec.callers), ({ sessions, run }) =>
      concurrentCalls(sessions, spec.warmupMs, spec.durationMs, call, run),
    ),
  )

const pointQueries = async (req: RunRequest): Promise<OkResult> => {
  const { spec } = req
  const value = await callers(req.conn, spec, {
    query: (session, caller, i) => session.fetch(spec.sql, [pickId(caller, i, spec.idRange)]),
    check: (rows, caller, i) => {
      const id = pickId(caller, i, spec.idRange)
      if (rows.length !== 1 || rows[0].id !== id) throw new Error(`W1: wrong row for id ${id}`)
    },
  })
  return { status: "ok", value, check: {} }
}

const driver: Driver = {
  W1: pointQueries,
  W1p: pooled
    ? unsupported("a PgClient checkout is exclusive: no pipelining on one connection (the pgfx rows show W1p)")
    : pointQueries,
  W2: async (req) => {
    const { spec } = req
    const tally = new Tally(selectColumns(spec.sql))
    let rows = 0
    const value = await callers(req.catalogConn, spec, {
      query: (session) => session.fetch(spec.sql),
      check: (result) => {
        tally.all(result)
        rows = result.length
      },
    })
    return { status: "ok", value, check: { rows } }
  },
  W3: (req) =>
    scoped(
      Effect.gen(function* () {
        const { spec } = req
        const {
          sessions: [session],
          run,
        } = yield* sessionsFor(req.conn, 1, 1)
        const columns = selectColumns(spec.sql)
        new Tally(columns).all(yield* oneCall(session.fetch(spec.warmupSql), run))
        let tally = new Tally(columns)
        const t0 = performance.now()
        for (let r = 0; r < spec.repeats; r++) {
          tally = new Tally(columns)
          tally.all(yield* oneCall(session.fetch(spec.sql), run))
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
    scoped(
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
    scoped(
      Effect.flatMap(sessionsFor(req.conn, 1, 1), ({ sessions: [session], run }) =>
        serialCalls(
          session,
          req.spec.warmupCount,
          req.spec.count,
          {
            query: (session, _, i) => session.fetchVal(req.spec.sql, [i]),
            check: (value, _, i) => {
              if (Option.getOrThrow(value) !== i) throw new Error(`W5: got ${String(value)} for ${i}`)
            },
          },
          run,
        ),
      ),
    ),
  W6: (req) =>
    scoped(
      Effect.gen(function* () {
        const { spec } = req
        const {
          sessions: [session],
          run,
        } = yield* sessionsFor(req.conn, 1, 1)
        const columns = selectColumns(spec.sql)
        // The Stream's rows arrive in arrays of up to `prefetch`: tally them array by array.
        const stream = (sql: string, tally: Tally) =>
          oneCall(
            Stream.runForEachArray(session.cursor(sql, [], { prefetch: spec.fetchSize }), (rows) =>
              Effect.sync(() => tally.all(rows)),
            ),
            run,
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
        scoped(
          Effect.gen(function* () {
            const { spec } = req
            const once = Effect.scoped(
              Effect.flatMap(PgConnection.make(options(req.conn)), (conn) =>
                Effect.map(conn.fetchVal(spec.sql), Option.getOrThrow),
              ),
            )
            for (let i = 0; i < spec.warmupCount; i++) yield* oneCall(once, withoutServices)
            const t0 = performance.now()
            for (let i = 0; i < spec.count; i++) yield* oneCall(once, withoutServices)
            const seconds = (performance.now() - t0) / 1000
            return { status: "ok", value: spec.count / seconds, check: { connects: spec.count } } satisfies OkResult
          }),
        ),
  W8: (req) =>
    scoped(
      Effect.gen(function* () {
        // As the peers: every parameter set in one transaction (BEGIN; the batch; COMMIT). The
        // batch is one pipelined round trip (Bind/Execute per set, one Sync).
        const { spec } = req
        const {
          sessions: [session],
          run,
        } = yield* sessionsFor(req.conn, 1, 1)
        const many = (count: number) =>
          Effect.gen(function* () {
            const rows = ingestRows(count)
            const t0 = performance.now()
            yield* oneCall(session.transaction(session.executeMany(spec.sql, rows)), run)
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
