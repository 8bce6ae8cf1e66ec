/**
 * `@effect/sql-pg` 4.x (its own wire-protocol client, with effect 4.1), used through
 * `effect/sql`'s `SqlClient` as an Effect application would: `sql.unsafe(text, params)` (prepared
 * and cached by default), a pool of `maxConnections`, `multiplex` for W1p (pipelined callers on
 * one connection), `Statement#stream` for W6. It has no COPY API.
 *
 * With `--pgfx` the same `SqlClient` code runs on pgfx's drop-in layer (`PgSqlClient.layer`, a
 * pgfx pool of the same size): the one-Layer switch, measured.
 *
 * Two call shapes: by default every caller is an Effect loop (`yield*` per query); with
 * `--promise` the layer is built once into a `ManagedRuntime` and plain async callers run each
 * query with one `runtime.runPromise(...)`, as an application calling from Promise code does.
 * W6 and W8 are one call per run, so their promise shape is that one call through `runPromise`.
 */
import type * as PgClientModule from "@effect/sql-pg/PgClient"
import type * as PgConnectionModule from "@effect/sql-pg/PgConnection"
import * as PgSqlClient from "@pgfx/sql/PgSqlClient"
import { Context, Effect, type Layer, ManagedRuntime, Redacted, type Scope, Stream } from "effect"
import * as SqlClient from "effect/sql/SqlClient"
import { performance } from "node:perf_hooks"
import {
  type Driver,
  ingestCheckSql,
  ingestResult,
  ingestRows,
  latencies,
  latencyResult,
  loadPeer,
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

type Row = Readonly<Record<string, unknown>>

/** One query of a caller and the check of its result: both shapes run exactly this. */
interface Call {
  readonly query: (
    sql: SqlClient.SqlClient,
    caller: number,
    iteration: number,
  ) => Effect.Effect<ReadonlyArray<Row>, unknown>
  readonly check: (rows: ReadonlyArray<Row>, caller: number, iteration: number) => void
}

const makeDriver = async (): Promise<Driver> => {
  const PgClient: typeof PgClientModule = await loadPeer("@effect/sql-pg", () => import("@effect/sql-pg/PgClient"))
  const PgConnection: typeof PgConnectionModule = await import("@effect/sql-pg/PgConnection")

  const config = (conn: ConnInfo) => ({
    host: conn.host,
    port: conn.port,
    username: conn.user,
    password: Redacted.make(conn.password),
    database: conn.database,
  })

  const onPgfx = process.argv.includes("--pgfx")
  const promiseShape = process.argv.includes("--promise")

  /** A SqlClient backed by a pool of `connections` (multiplexed when asked). */
  const layerOf = (
    conn: ConnInfo,
    connections: number,
    multiplex: boolean,
  ): Layer.Layer<SqlClient.SqlClient, unknown> =>
    onPgfx
      ? PgSqlClient.layer({ ...conn, max: connections, min: connections })
      : PgClient.layer({
          ...config(conn),
          maxConnections: connections,
          minConnections: connections,
          multiplex,
        })

  /** Runs `body` with a SqlClient backed by a pool of `connections` (multiplexed when asked). */
  const withClient = <A>(
    conn: ConnInfo,
    connections: number,
    body: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown, Scope.Scope>,
    multiplex = false,
  ): Promise<A> => {
    const program = Effect.gen(function* () {
      return yield* body(yield* SqlClient.SqlClient)
    })
    return Effect.runPromise(
      Effect.scoped(program).pipe(Effect.provide(layerOf(conn, connections, multiplex))) as Effect.Effect<A>,
    )
  }

  /** The promise shape: the layer built once into a runtime, and one `runPromise` per call. */
  const promiseClient = async (conn: ConnInfo, connections: number, multiplex = false) => {
    // Left open: the child process exits after the run.
    const runtime = ManagedRuntime.make(layerOf(conn, connections, multiplex))
    const sql = Context.get(await runtime.context(), SqlClient.SqlClient)
    return { sql, run: <A>(effect: Effect.Effect<A, unknown>): Promise<A> => runtime.runPromise(effect) }
  }

  const callersFor = (
    sql: SqlClient.SqlClient,
    count: number,
    warmupMs: number,
    durationMs: number,
    call: Call,
  ): Effect.Effect<number, unknown> =>
    Effect.gen(function* () {
      const { window, done } = openWindow(warmupMs, durationMs)
      yield* Effect.forEach(
        Array.from({ length: count }, (_, c) => c),
        (caller) =>
          Effect.gen(function* () {
            for (let i = 0; !window.stop; i++) {
              call.check(yield* call.query(sql, caller, i), caller, i)
              if (window.measuring) window.count++
            }
          }),
        { concurrency: "unbounded", discard: true },
      )
      return yield* Effect.promise(() => done)
    })

  /** W1, W1p, W2: `spec.callers` callers on a pool of `spec.connections`, in the shape asked for. */
  const concurrentCalls = async (conn: ConnInfo, spec: Spec, call: Call): Promise<number> => {
    // W1p: @effect/sql-pg pipelines the callers on its one connection when multiplexed.
    const multiplex = spec.connections === 1
    if (!promiseShape) {
      return withClient(
        conn,
        spec.connections,
        (sql) => callersFor(sql, spec.callers, spec.warmupMs, spec.durationMs, call),
        multiplex,
      )
    }
    const { sql, run } = await promiseClient(conn, spec.connections, multiplex)
    return runCallers(spec.callers, spec.warmupMs, spec.durationMs, async (caller, i) =>
      call.check(await run(call.query(sql, caller, i)), caller, i),
    )
  }

  /** W5: serial calls on one connection, each timed, in the shape asked for. */
  const serialCalls = async (conn: ConnInfo, spec: Spec, call: Call): Promise<OkResult> => {
    if (promiseShape) {
      const { sql, run } = await promiseClient(conn, 1)
      return latencies(spec.warmupCount, spec.count, async (i) => call.check(await run(call.query(sql, 0, i)), 0, i))
    }
    return withClient(conn, 1, (sql) =>
      Effect.gen(function* () {
        for (let i = 0; i < spec.warmupCount; i++) call.check(yield* call.query(sql, 0, i), 0, i)
        const samples = new Float64Array(spec.count)
        for (let i = 0; i < spec.count; i++) {
          const t0 = performance.now()
          const rows = yield* call.query(sql, 0, i)
          samples[i] = (performance.now() - t0) * 1000
          call.check(rows, 0, i)
        }
        return latencyResult(samples)
      }),
    )
  }

  /**
   * W3: `repeats` executions of one big query on one connection. In the promise shape each
   * execution is one `runPromise` (awaited from the timing loop).
   */
  const repeatedFetch = async (conn: ConnInfo, spec: Spec): Promise<OkResult> => {
    const columns = selectColumns(spec.sql)
    const measure = (fetch: (text: string) => Effect.Effect<ReadonlyArray<Row>, unknown>) =>
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
    if (!promiseShape) return withClient(conn, 1, (sql) => measure((text) => sql.unsafe<Row>(text)))
    const { sql, run } = await promiseClient(conn, 1)
    return Effect.runPromise(
      measure((text) => Effect.promise(() => run(sql.unsafe<Row>(text)))) as Effect.Effect<OkResult>,
    )
  }

  const ingestCheck = (sql: SqlClient.SqlClient, table: string) =>
    Effect.map(sql.unsafe<Row>(ingestCheckSql(table)), ([row]) => ({
      rows: Number(row.rows),
      sumA: Number(row.suma),
    }))

  const pointQueries: Driver["W1"] = async (req) => {
    const { spec } = req
    const value = await concurrentCalls(req.conn, spec, {
      query: (sql, caller, i) => sql.unsafe<Row>(spec.sql, [pickId(caller, i, spec.idRange)]),
      check: (rows, caller, i) => {
        const id = pickId(caller, i, spec.idRange)
        if (rows.length !== 1 || rows[0].id !== id) throw new Error(`W1: wrong row for id ${id}`)
      },
    })
    return { status: "ok", value, check: {} }
  }

  return {
    W1: pointQueries,
    W1p: pointQueries,
    W2: async (req) => {
      const { spec } = req
      const tally = new Tally(selectColumns(spec.sql))
      let rows = 0
      const value = await concurrentCalls(req.catalogConn, spec, {
        query: (sql) => sql.unsafe<Row>(spec.sql),
        check: (result) => {
          tally.all(result)
          rows = result.length
        },
      })
      return { status: "ok", value, check: { rows } }
    },
    W3: (req) => repeatedFetch(req.conn, req.spec),
    W4: unsupported("@effect/sql-pg has no COPY API"),
    W5: (req) =>
      serialCalls(req.conn, req.spec, {
        query: (sql, _, i) => sql.unsafe<Row>(req.spec.sql, [i]),
        check: ([row], _, i) => {
          if (row.int4 !== i) throw new Error(`W5: got ${String(row.int4)} for ${i}`)
        },
      }),
    W6: (req) => {
      const { spec } = req
      return withClient(req.conn, 1, (sql) =>
        Effect.gen(function* () {
          const columns = selectColumns(spec.sql)
          const stream = (text: string, tally: Tally) =>
            Stream.runForEachArray(sql.unsafe<Row>(text).stream, (rows) => Effect.sync(() => tally.all(rows)))
          yield* stream(spec.warmupSql, new Tally(columns))
          const tally = new Tally(columns)
          const probe = new RssProbe()
          probe.start()
          const t0 = performance.now()
          yield* stream(spec.sql, tally)
          const seconds = (performance.now() - t0) / 1000
          return streamResult(probe.stop(), tally, seconds)
        }),
      )
    },
    W7: onPgfx
      ? unsupported("connect time is pgfx's own (the pgfx driver's W7)")
      : (req) => {
          const { spec } = req
          const once = Effect.scoped(
            Effect.flatMap(PgConnection.make(config(req.conn)), (conn) => conn.query(spec.sql)),
          )
          return Effect.runPromise(
            Effect.orDie(
              Effect.gen(function* () {
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
          )
        },
    W8: (req) => {
      // No batch API: the inserts one after another inside withTransaction. (Forking them
      // concurrently, 10, 100 or unbounded at a time, measured slower here.)
      const { spec } = req
      return withClient(req.conn, 1, (sql) =>
        Effect.gen(function* () {
          const many = (count: number) =>
            Effect.gen(function* () {
              const rows = ingestRows(count)
              const t0 = performance.now()
              yield* sql.withTransaction(Effect.forEach(rows, (row) => sql.unsafe(spec.sql, row), { discard: true }))
              return (performance.now() - t0) / 1000
            })
          yield* sql.unsafe(`TRUNCATE ${spec.table}`)
          yield* many(spec.warmupCount)
          yield* sql.unsafe(`TRUNCATE ${spec.table}`)
          const seconds = yield* many(spec.count)
          const check = yield* ingestCheck(sql, spec.table)
          return ingestResult(spec.count, seconds, check.rows, check.sumA)
        }),
      )
    },
  }
}

await runChild(makeDriver)
