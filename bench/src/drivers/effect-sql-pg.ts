/**
 * `@effect/sql-pg` 4.x (its own wire-protocol client, with effect 4.1), used through
 * `effect/sql`'s `SqlClient` as an Effect application would: `sql.unsafe(text, params)` (prepared
 * and cached by default), a pool of `maxConnections`, `multiplex` for W1p (pipelined callers on
 * one connection), `Statement#stream` for W6. It has no COPY API.
 *
 * With `--pgfx` the same `SqlClient` code runs on pgfx's drop-in layer (`PgSqlClient.layer`, a
 * pgfx pool of the same size): the one-Layer switch, measured.
 */
import type * as PgClientModule from "@effect/sql-pg/PgClient"
import type * as PgConnectionModule from "@effect/sql-pg/PgConnection"
import * as PgSqlClient from "@pgfx/sql/PgSqlClient"
import { Effect, type Layer, Redacted, type Scope, Stream } from "effect"
import * as SqlClient from "effect/sql/SqlClient"
import { performance } from "node:perf_hooks"
import {
  type Driver,
  ingestCheckSql,
  ingestResult,
  ingestRows,
  latencyResult,
  loadPeer,
  openWindow,
  pickId,
  RssProbe,
  runChild,
  selectColumns,
  streamResult,
  Tally,
} from "../child.ts"
import { type ConnInfo, type OkResult, unsupported } from "../protocol.ts"

type Row = Readonly<Record<string, unknown>>

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

  /** Runs `body` with a SqlClient backed by a pool of `connections` (multiplexed when asked). */
  const withClient = <A>(
    conn: ConnInfo,
    connections: number,
    body: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown, Scope.Scope>,
    multiplex = false,
  ): Promise<A> => {
    const layer: Layer.Layer<SqlClient.SqlClient, unknown> = onPgfx
      ? PgSqlClient.layer({ ...conn, max: connections, min: connections })
      : PgClient.layer({
          ...config(conn),
          maxConnections: connections,
          minConnections: connections,
          multiplex,
        })
    const program = Effect.gen(function* () {
      return yield* body(yield* SqlClient.SqlClient)
    })
    return Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(layer)) as Effect.Effect<A>)
  }

  const callers = (
    count: number,
    warmupMs: number,
    durationMs: number,
    call: (caller: number, iteration: number) => Effect.Effect<void, unknown>,
  ): Effect.Effect<number, unknown> =>
    Effect.gen(function* () {
      const { window, done } = openWindow(warmupMs, durationMs)
      yield* Effect.forEach(
        Array.from({ length: count }, (_, c) => c),
        (caller) =>
          Effect.gen(function* () {
            for (let i = 0; !window.stop; i++) {
              yield* call(caller, i)
              if (window.measuring) window.count++
            }
          }),
        { concurrency: "unbounded", discard: true },
      )
      return yield* Effect.promise(() => done)
    })

  const ingestCheck = (sql: SqlClient.SqlClient, table: string) =>
    Effect.map(sql.unsafe<Row>(ingestCheckSql(table)), ([row]) => ({
      rows: Number(row.rows),
      sumA: Number(row.suma),
    }))

  const pointQueries: Driver["W1"] = (req) => {
    const { spec } = req
    return withClient(
      req.conn,
      spec.connections,
      (sql) =>
        Effect.map(
          callers(spec.callers, spec.warmupMs, spec.durationMs, (caller, i) => {
            const id = pickId(caller, i, spec.idRange)
            return Effect.map(sql.unsafe<Row>(spec.sql, [id]), (rows) => {
              if (rows.length !== 1 || rows[0].id !== id) throw new Error(`W1: wrong row for id ${id}`)
            })
          }),
          (value): OkResult => ({ status: "ok", value, check: {} }),
        ),
      spec.connections === 1,
    )
  }

  return {
    W1: pointQueries,
    W1p: pointQueries,
    W2: (req) => {
      const { spec } = req
      return withClient(req.catalogConn, spec.connections, (sql) =>
        Effect.gen(function* () {
          const tally = new Tally(selectColumns(spec.sql))
          let rows = 0
          const value = yield* callers(spec.callers, spec.warmupMs, spec.durationMs, () =>
            Effect.map(sql.unsafe<Row>(spec.sql), (result) => {
              tally.all(result)
              rows = result.length
            }),
          )
          return { status: "ok", value, check: { rows } } satisfies OkResult
        }),
      )
    },
    W3: (req) => {
      const { spec } = req
      return withClient(req.conn, 1, (sql) =>
        Effect.gen(function* () {
          const columns = selectColumns(spec.sql)
          new Tally(columns).all(yield* sql.unsafe<Row>(spec.warmupSql))
          let tally = new Tally(columns)
          const t0 = performance.now()
          for (let r = 0; r < spec.repeats; r++) {
            tally = new Tally(columns)
            tally.all(yield* sql.unsafe<Row>(spec.sql))
          }
          const seconds = (performance.now() - t0) / 1000
          return { status: "ok", value: (spec.count * spec.repeats) / seconds, check: tally.check() } satisfies OkResult
        }),
      )
    },
    W4: unsupported("@effect/sql-pg has no COPY API"),
    W5: (req) => {
      const { spec } = req
      return withClient(req.conn, 1, (sql) =>
        Effect.gen(function* () {
          for (let i = 0; i < spec.warmupCount; i++) yield* sql.unsafe<Row>(spec.sql, [i])
          const samples = new Float64Array(spec.count)
          for (let i = 0; i < spec.count; i++) {
            const t0 = performance.now()
            const [row] = yield* sql.unsafe<Row>(spec.sql, [i])
            samples[i] = (performance.now() - t0) * 1000
            if (row.int4 !== i) throw new Error(`W5: got ${String(row.int4)} for ${i}`)
          }
          return latencyResult(samples)
        }),
      )
    },
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
                for (let i = 0; i < spec.warmupCount; i++) yield* once
                const t0 = performance.now()
                for (let i = 0; i < spec.count; i++) yield* once
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
