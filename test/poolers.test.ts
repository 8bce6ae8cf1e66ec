/**
 * pgfx behind real poolers, with DEFAULT options (the recipes of docs/poolers.md):
 *
 * - PgBouncer (Debian's `pgbouncer`) in transaction mode with a pool of 2 server connections,
 *   so consecutive transactions of one client connection run on different server connections:
 *   10,000 queries from 20 fibers through a PgClient of 10, from several distinct statements
 *   (their names would have collided under the old counter scheme) whose rows say which
 *   statement and which call produced them; the same pipelined on one connection; transactions,
 *   executeMany, cursors inside transactions, COPY both ways, cancel through the pooler.
 * - PgBouncer in session mode: the same queries, and LISTEN/NOTIFY.
 * - pgpool-II (Debian's `pgpool2`) in its default mode: the same suite, LISTEN included.
 *
 * A missing pooler binary fails these suites (TempPooler's `BinariesNotFound`); they are never
 * skipped. `.ci/run` installs both packages when they are missing.
 */
import * as PgClient from "@pgfx/client/PgClient"
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgCopy from "@pgfx/client/PgCopy"
import type { PgRecord } from "@pgfx/client/PgRecord"
import { expect, layer, type Vitest } from "@effect/vitest"
import * as TempPooler from "@pgfx/testing/TempPooler"
import { Context, Effect, Layer, Option, type Scope, Stream } from "effect"
import { testCluster } from "./support/cluster.ts"
import { failureOf } from "./support/failure.ts"

class Pooler extends Context.Service<Pooler, TempPooler.TempPoolerShape>()("test/Pooler") {}

const backend = (): TempPooler.Backend => ({ host: testCluster().host, port: testCluster().port })

/** Default options: nothing but where to connect (and no PG* variables from the environment). */
const defaults = (pooler: TempPooler.TempPoolerShape) => ({ url: pooler.url(), environment: {} })

/**
 * Ten statements with the same parameter types and different results (half of them text):
 * statement k answers call i with `i + 1000 * k` and its own number.
 */
const statements = Array.from({ length: 10 }, (_, k) =>
  k % 2 === 0 ? `SELECT $1::int + ${1000 * k} AS v, ${k} AS k` : `SELECT ($1::int + ${1000 * k})::text AS v, ${k} AS k`,
)

/** Whether `row` is what call `i` of statement `k` must return. */
const isAnswer = (row: PgRecord | undefined, i: number, k: number): boolean =>
  row !== undefined && row.get("k") === k && String(row.get("v")) === String(i + 1000 * k)

interface Tally {
  ok: number
  wrong: number
  errors: number
  firstError: unknown
}

/** `total` calls from `fibers` fibers of `query(sql, [i])`, each call checked. */
const hammer = <E>(
  query: (sql: string, args: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<PgRecord>, E>,
  total: number,
  fibers: number,
): Effect.Effect<Tally> =>
  Effect.gen(function* () {
    const tally: Tally = { ok: 0, wrong: 0, errors: 0, firstError: undefined }
    const perFiber = total / fibers
    yield* Effect.forEach(
      Array.from({ length: fibers }, (_, f) => f),
      (f) =>
        Effect.gen(function* () {
          for (let j = 0; j < perFiber; j++) {
            const i = f * perFiber + j
            const k = i % statements.length
            const result = yield* Effect.result(query(statements[k]!, [i]))
            if (result._tag === "Failure") {
              tally.errors++
              tally.firstError ??= result.failure
            } else if (isAnswer(result.success[0], i, k)) tally.ok++
            else tally.wrong++
          }
        }),
      { concurrency: fibers, discard: true },
    )
    return tally
  })

const expectClean = (tally: Tally, total: number) => {
  expect({ ...tally, firstError: tally.firstError === undefined ? undefined : String(tally.firstError) }).toEqual({
    ok: total,
    wrong: 0,
    errors: 0,
    firstError: undefined,
  })
}

/** A fresh table for one test. */
let tables = 0
const freshTable = (client: PgClient.PgClientShape, columns: string) =>
  Effect.gen(function* () {
    const name = `pooler_${process.pid}_${++tables}_${Math.floor(Math.random() * 1e6)}`
    yield* client.execute(`CREATE TABLE ${name} (${columns})`)
    return name
  })

const clientOf = (pooler: TempPooler.TempPoolerShape): Effect.Effect<PgClient.PgClientShape, unknown, Scope.Scope> =>
  PgClient.make({ ...defaults(pooler), max: 10 })

/** The suite every pooler passes; `listen` when LISTEN works through it (not in transaction mode). */
const suite = (it: Vitest.MethodsNonLive<Pooler>, options: { listen: boolean }) => {
  it.effect(
    "10,000 queries from 20 fibers through a PgClient of 10: no wrong result, no error",
    () =>
      Effect.gen(function* () {
        const client = yield* clientOf(yield* Pooler)
        expectClean(yield* hammer((sql, args) => client.fetch(sql, args), 10_000, 20), 10_000)
      }),
    240_000,
  )

  it.effect(
    "10,000 pipelined queries from 20 fibers on one connection: no wrong result, no error",
    () =>
      Effect.gen(function* () {
        const conn = yield* PgConnection.make(defaults(yield* Pooler))
        expectClean(yield* hammer((sql, args) => conn.fetch(sql, args), 10_000, 20), 10_000)
      }),
    240_000,
  )

  it.effect(
    "transactions from 20 fibers: each sees its own writes, all commit, no error",
    () =>
      Effect.gen(function* () {
        const client = yield* clientOf(yield* Pooler)
        const table = yield* freshTable(client, "tx int, n int")
        const results = yield* Effect.forEach(
          Array.from({ length: 200 }, (_, tx) => tx),
          (tx) =>
            Effect.result(
              client.transaction(
                Effect.gen(function* () {
                  yield* client.execute(`INSERT INTO ${table} VALUES ($1, 1)`, [tx])
                  yield* client.execute(`INSERT INTO ${table} VALUES ($1, 2)`, [tx])
                  const mine = Option.getOrThrow(
                    yield* client.fetchVal(`SELECT sum(n)::int FROM ${table} WHERE tx = $1`, [tx]),
                  )
                  // Another statement inside, so the transaction uses several cached statements.
                  const row = (yield* client.fetch(statements[tx % 10]!, [tx]))[0]
                  return mine === 3 && isAnswer(row, tx, tx % 10)
                }),
              ),
            ),
          { concurrency: 20 },
        )
        const failures = results.filter((r) => r._tag === "Failure").map((r) => String(r.failure))
        expect(failures).toEqual([])
        expect(results.every((r) => r._tag === "Success" && r.success)).toBe(true)
        expect(Option.getOrThrow(yield* client.fetchVal(`SELECT count(*)::int FROM ${table}`))).toBe(400)
      }),
    120_000,
  )

  it.effect("executeMany outside and inside a transaction", () =>
    Effect.gen(function* () {
      const client = yield* clientOf(yield* Pooler)
      const table = yield* freshTable(client, "id int, label text")
      const rows = (from: number) => Array.from({ length: 50 }, (_, i) => [from + i, `row ${from + i}`])
      for (let round = 0; round < 5; round++) {
        yield* client.executeMany(`INSERT INTO ${table} VALUES ($1, $2)`, rows(round * 100))
        yield* client.transaction(client.executeMany(`INSERT INTO ${table} VALUES ($1, $2)`, rows(round * 100 + 50)))
      }
      expect(Option.getOrThrow(yield* client.fetchVal(`SELECT count(DISTINCT id)::int FROM ${table}`))).toBe(500)
      expect(Option.getOrThrow(yield* client.fetchVal(`SELECT label FROM ${table} WHERE id = 451`))).toBe("row 451")
    }),
  )

  it.effect("cursors inside transactions (and outside)", () =>
    Effect.gen(function* () {
      const client = yield* clientOf(yield* Pooler)
      const sums = yield* Effect.forEach(
        [100, 200, 300, 400],
        (n) =>
          client.transaction(
            Stream.runFold(
              client.cursor("SELECT g FROM generate_series(1, $1::int) g", [n], { prefetch: 7 }),
              () => 0,
              (sum, row) => sum + Number(row.get("g")),
            ),
          ),
        { concurrency: 4 },
      )
      expect(sums).toEqual([5050, 20100, 45150, 80200])
      // Outside a transaction a cursor holds one for its lifetime: pinned to one server connection.
      const outside = yield* Stream.runFold(
        client.cursor("SELECT g FROM generate_series(1, $1::int) g", [100], { prefetch: 7 }),
        () => 0,
        (sum, row) => sum + Number(row.get("g")),
      )
      expect(outside).toBe(5050)
    }),
  )

  it.effect("COPY in and out", () =>
    Effect.gen(function* () {
      const client = yield* clientOf(yield* Pooler)
      const table = yield* freshTable(client, "id int, label text")
      const lines = Array.from({ length: 1000 }, (_, i) => `${i},label ${i}\n`)
      expect(yield* PgCopy.copyToTable(client, table, { source: lines, format: "csv" })).toBe("COPY 1000")
      const chunks: Array<Uint8Array> = []
      const status = yield* PgCopy.copyFromTable(client, table, {
        format: "csv",
        output: (chunk: Uint8Array) => Effect.sync(() => void chunks.push(chunk)),
      })
      expect(status).toBe("COPY 1000")
      const text = Buffer.concat(chunks).toString("utf8")
      expect(text.split("\n").filter((l) => l !== "")).toHaveLength(1000)
      expect(text).toContain("999,label 999\n")
    }),
  )

  it.effect("cancel through the pooler: a timed-out statement is cancelled, the client stays usable", () =>
    Effect.gen(function* () {
      const client = yield* clientOf(yield* Pooler)
      const started = Date.now()
      const error = failureOf(
        yield* Effect.exit(
          Effect.map(client.fetchVal("SELECT pg_sleep(30)", [], { timeout: "300 millis" }), Option.getOrThrow),
        ),
      )
      expect(error._tag).toBe("PgTimeoutError")
      // The statement was cancelled on the server, not waited for.
      expect(Date.now() - started).toBeLessThan(15_000)
      expect(Option.getOrThrow(yield* client.fetchVal("SELECT $1::int", [7]))).toBe(7)
    }),
  )

  if (options.listen) {
    it.effect("LISTEN / NOTIFY", () =>
      Effect.gen(function* () {
        const pooler = yield* Pooler
        const client = yield* clientOf(pooler)
        const channel = `pooler_${process.pid}`
        const events = yield* client.subscribe(channel)
        yield* client.notify(channel, "one")
        yield* client.notify(channel, "two")
        const got = yield* Stream.runCollect(Stream.take(events, 2))
        expect(Array.from(got).map((e) => (e._tag === "PgNotification" ? e.payload : e._tag))).toEqual(["one", "two"])
      }),
    )
  }
}

// excludeTestServices: the real clock, since these tests wait on real servers.
const run = { timeout: 60_000, excludeTestServices: true } as const

layer(Layer.effect(Pooler, TempPooler.pgbouncer(backend(), { poolMode: "transaction", poolSize: 2 })), run)(
  "PgBouncer, transaction mode, pool of 2, default options",
  (it) => suite(it, { listen: false }),
)

layer(Layer.effect(Pooler, TempPooler.pgbouncer(backend(), { poolMode: "session", poolSize: 12 })), run)(
  "PgBouncer, session mode, default options",
  (it) => {
    it.effect("2,000 queries from 20 fibers through a PgClient of 10, and LISTEN / NOTIFY", () =>
      Effect.gen(function* () {
        const pooler = yield* Pooler
        const client = yield* clientOf(pooler)
        expectClean(yield* hammer((sql, args) => client.fetch(sql, args), 2_000, 20), 2_000)
        const channel = `bouncer_${process.pid}`
        const events = yield* client.subscribe(channel)
        yield* client.notify(channel, "hello")
        const got = yield* Stream.runCollect(Stream.take(events, 1))
        expect(Array.from(got).map((e) => (e._tag === "PgNotification" ? e.payload : e._tag))).toEqual(["hello"])
      }),
    )
  },
)

layer(Layer.effect(Pooler, TempPooler.pgpool(backend())), run)("pgpool-II, default mode, default options", (it) =>
  suite(it, { listen: true }),
)
