/**
 * `@effect/sql-pg` 4.x (its own wire-protocol client, with effect 4.1), used through
 * `effect/sql`'s `SqlClient` as an Effect application would: `sql.unsafe(text, params)` (prepared
 * and cached by default), a pool of `maxConnections`, `multiplex` for W1p (pipelined callers on
 * one connection), `Statement#stream` for W6. It has no COPY API.
 *
 * With `--pgfx` the same `SqlClient` code runs on pgfx's drop-in layer (`PgSqlClient.layer`, a
 * pgfx pool of the same size): the one-Layer switch, measured.
 *
 * Both call shapes (../calls.ts): Effect loops, or (`--promise`) the layer built once into a
 * `ManagedRuntime` and one `runtime.runPromise(...)` per query.
 */
import type * as PgClientModule from "@effect/sql-pg/PgClient"
import type * as PgConnectionModule from "@effect/sql-pg/PgConnection"
import * as PgSqlClient from "@pgfx/sql/PgSqlClient"
import { Context, Effect, type Layer, ManagedRuntime, Redacted, type Scope, Stream } from "effect"
import * as SqlClient from "effect/sql/SqlClient"
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
  loadPeer,
  pickId,
  RssProbe,
  runChild,
  selectColumns,
  streamResult,
  Tally,
} from "../child.ts"
import { type ConnInfo, type OkResult, type Spec, unsupported } from "../protocol.ts"

type Row = Readonly<Record<string, unknown>>

/** One `sql.unsafe` of a caller and the check of its rows. */
type SqlCall = Call<SqlClient.SqlClient, ReadonlyArray<Row>>

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

  /**
   * Runs `body` with a SqlClient backed by a pool of `connections` (multiplexed when asked) and,
   * in the promise shape, how to run one call: there the layer is built into a `ManagedRuntime`
   * (left open: the child process exits after the run) and every call is one `runtime.runPromise`.
   */
  const withClient = async <A>(
    conn: ConnInfo,
    connections: number,
    body: (sql: SqlClient.SqlClient, run: RunPromise | undefined) => Effect.Effect<A, unknown, Scope.Scope>,
    multiplex = false,
  ): Promise<A> => {
    const layer = layerOf(conn, connections, multiplex)
    if (promiseShape) {
      const runtime = ManagedRuntime.make(layer)
      const sql = Context.get(await runtime.context(), SqlClient.SqlClient)
      return Effect.runPromise(Effect.scoped(body(sql, (effect) => runtime.runPromise(effect))) as Effect.Effect<A>)
    }
    const program = Effect.gen(function* () {
      return yield* body(yield* SqlClient.SqlClient, undefined)
    })
    return Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(layer)) as Effect.Effect<A>)
  }

  /** W1, W1p, W2: `spec.callers` callers on one pool of `spec.connections`; calls per second. */
  const callers = (conn: ConnInfo, spec: Spec, call: SqlCall): Promise<number> =>
    withClient(
      conn,
      spec.connections,
      (sql, run) =>
        concurrentCalls(
          Array.from({ length: spec.callers }, () => sql),
          spec.warmupMs,
          spec.durationMs,
          call,
          run,
        ),
      // W1p: @effect/sql-pg pipelines the callers on its one connection when multiplexed.
      spec.connections === 1,
    )

  const ingestCheck = (sql: SqlClient.SqlClient, table: string) =>
    Effect.map(sql.unsafe<Row>(ingestCheckSql(table)), ([row]) => ({
      rows: Number(row.rows),
      sumA: Number(row.suma),
    }))

  const pointQueries: Driver["W1"] = async (req) => {
    const { spec } = req
    const value = await callers(req.conn, spec, {
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
      const value = await callers(req.catalogConn, spec, {
        query: (sql) => sql.unsafe<Row>(spec.sql),
        check: (result) => {
          tally.all(result)
          rows = result.length
        },
      })
      return { status: "ok", value, check: { rows } }
    },
    W3: (req) => {
      const { spec } = req
      return withClient(req.conn, 1, (sql, run) =>
        Effect.gen(function* () {
          const columns = selectColumns(spec.sql)
          new Tally(columns).all(yield* oneCall(sql.unsafe<Row>(spec.warmupSql), run))
          let tally = new Tally(columns)
          const t0 = performance.now()
          for (let r = 0; r < spec.repeats; r++) {
            tally = new Tally(columns)
            tally.all(yield* oneCall(sql.unsafe<Row>(spec.sql), run))
          }
          const seconds = (performance.now() - t0) / 1000
          return { status: "ok", value: (spec.count * spec.repeats) / seconds, check: tally.check() } satisfies OkResult
        }),
      )
    },
    W4: unsupported("@effect/sql-pg has no COPY API"),
    W5: (req) =>
      withClient(req.conn, 1, (sql, run) =>
        serialCalls(
          sql,
          req.spec.warmupCount,
          req.spec.count,
          {
            query: (sql, _, i) => sql.unsafe<Row>(req.spec.sql, [i]),
            check: ([row], _, i) => {
              if (row.int4 !== i) throw new Error(`W5: got ${String(row.int4)} for ${i}`)
            },
          },
          run,
        ),
      ),
    W6: (req) => {
      const { spec } = req
      return withClient(req.conn, 1, (sql, run) =>
        Effect.gen(function* () {
          const columns = selectColumns(spec.sql)
          const stream = (text: string, tally: Tally) =>
            oneCall(
              Stream.runForEachArray(sql.unsafe<Row>(text).stream, (rows) => Effect.sync(() => tally.all(rows))),
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
                for (let i = 0; i < spec.warmupCount; i++) yield* oneCall(once, withoutServices)
                const t0 = performance.now()
                for (let i = 0; i < spec.count; i++) yield* oneCall(once, withoutServices)
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
      return withClient(req.conn, 1, (sql, run) =>
        Effect.gen(function* () {
          const many = (count: number) =>
            Effect.gen(function* () {
              const rows = ingestRows(count)
              const t0 = performance.now()
              yield* oneCall(
                sql.withTransaction(Effect.forEach(rows, (row) => sql.unsafe(spec.sql, row), { discard: true })),
                run,
              )
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
