/**
 * Retry safety under connection cuts around COMMIT: 1,000 connections cut at seeded random
 * points (after N bytes in either direction, or right after the client's COMMIT), through
 * `@pgfx/testing`'s FaultProxy, in three shapes of work:
 *
 * - `transaction`: `conn.transaction(INSERT)` (the combinator's own COMMIT);
 * - `implicit`: a single INSERT outside a transaction block (its implicit commit);
 * - `retry`: `PgClient.transaction(INSERT, { retry })` through a pool (a safe failure is retried
 *   on a new connection).
 *
 * After every connection is gone, each reported outcome is checked against the table:
 * success ⇒ the row exists; `PgConnectionError` ("not committed") ⇒ it does not, and the request
 * that could commit was never written; `PgCommitUnknownError` ⇒ that request was written (on the
 * wire) and not answered. The proxy also counts COMMIT messages: never more than one per unit of
 * work, so a COMMIT is never sent twice.
 */
import * as PgClient from "@pgfx/client/PgClient"
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgError from "@pgfx/client/PgError"
import { describe, expect, it } from "@effect/vitest"
import * as FaultProxy from "@pgfx/testing/FaultProxy"
import { Cause, Effect, Exit, Option, Schedule } from "effect"
import { testCluster } from "./support/cluster.ts"
import { tcpOptions, withAdmin } from "./support/connect.ts"
import { sessionOf } from "./support/pool.ts"

const TABLE = "fault_commit"
const APP = "pgfx-fault-commit"
const INSERT = `INSERT INTO ${TABLE} VALUES ($1)`
const CUTS = 1000

type Mode = "transaction" | "implicit" | "retry"
type Cut =
  | { readonly kind: "bytes"; readonly direction: FaultProxy.Direction; readonly bytes: number }
  | { readonly kind: "commit" }
type Outcome = "ok" | "notCommitted" | "unknown"

interface Run {
  readonly id: number
  readonly mode: Mode
  readonly cut: Cut
  readonly outcome: Outcome
  /** The client wrote (part of) the request that could commit (seen by the proxy for `retry`). */
  readonly commitWritten: boolean
  /** COMMIT messages the proxy received during the run, over every connection. */
  readonly commitsSeen: number
}

const proxyFor = () => {
  const pg = testCluster()
  return FaultProxy.make({ host: pg.host, port: pg.port })
}

const viaProxy = (proxy: FaultProxy.FaultProxy) =>
  tcpOptions({
    host: proxy.host,
    port: proxy.port,
    sslMode: "disable",
    connectTimeout: "5 seconds",
    applicationName: APP,
  })

const isCommitMessage = (m: FaultProxy.FrontendMessage) => FaultProxy.sqlOf(m) === "COMMIT"

const commitsOf = (proxy: FaultProxy.FaultProxy) =>
  proxy.connections.reduce((n, c) => n + c.messages.filter(isCommitMessage).length, 0)

/** The work of one run, on a connection whose socket writes are watched. */
const work = (conn: PgConnection.PgConnection, mode: Exclude<Mode, "retry">, id: number) =>
  mode === "transaction" ? conn.transaction(conn.execute(INSERT, [id])) : conn.execute(INSERT, [id])

/**
 * Watches what the client writes: whether it wrote (part of) the request that can commit — the
 * COMMIT query for `transaction`, the Bind of the INSERT for `implicit` (the Parse before it
 * executes nothing).
 */
const watchWrites = (conn: PgConnection.PgConnection, mode: Exclude<Mode, "retry">) => {
  const socket = sessionOf(conn).socket
  const write = socket.write.bind(socket) as (chunk: Uint8Array) => boolean
  const seen = { commitWritten: false }
  socket.write = ((chunk: Uint8Array, ...rest: Array<unknown>) => {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (mode === "transaction" ? bytes.includes("COMMIT\u0000") : bytes[0] === 0x42) seen.commitWritten = true
    return (write as (...args: Array<unknown>) => boolean)(chunk, ...rest)
  }) as typeof socket.write
  return seen
}

const classify = <A, E>(exit: Exit.Exit<A, E>): Outcome => {
  if (Exit.isSuccess(exit)) return "ok"
  const error = Cause.findErrorOption(exit.cause)
  if (error._tag === "Some") {
    const e = error.value as { _tag?: string }
    if (e._tag === "PgCommitUnknownError") {
      expect(PgError.isSafeToRetry(e)).toBe(false)
      return "unknown"
    }
    if (e._tag === "PgConnectionError") {
      expect(PgError.isSafeToRetry(e)).toBe(true)
      return "notCommitted"
    }
  }
  throw new Error(`unexpected outcome: ${Cause.pretty(exit.cause)}`)
}

/** Stream offsets of one uncut run: after connecting, and after the work. */
interface Shape {
  readonly start: Record<FaultProxy.Direction, number>
  readonly end: Record<FaultProxy.Direction, number>
}

const calibrate = (mode: Mode) =>
  Effect.scoped(
    Effect.gen(function* () {
      const proxy = yield* proxyFor()
      // The startup exchange is the same for every connection; the pool connects inside the work.
      const conn = yield* PgConnection.make(viaProxy(proxy))
      const start = { ...proxy.connections[0]!.forwarded }
      if (mode === "retry") {
        const client = yield* PgClient.make({ ...viaProxy(proxy), min: 0, max: 1 })
        yield* client.transaction(client.execute(INSERT, [-3]), { retry: Schedule.recurs(3) })
        return { start, end: { ...proxy.connections[1]!.forwarded } } satisfies Shape
      }
      yield* work(conn, mode, mode === "transaction" ? -1 : -2)
      return { start, end: { ...proxy.connections[0]!.forwarded } } satisfies Shape
    }),
  )

/** A seeded generator (same cuts on every run). */
const seeded = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
}

const pickCut = (random: () => number, mode: Mode, shape: Shape): Cut => {
  const r = random()
  if (mode !== "implicit" && r < 0.15) return { kind: "commit" }
  // The retry shape cuts only toward the server: what the proxy received is then exactly what the
  // client wrote (the client never writes COMMIT after a cut that the proxy saw before it).
  const direction: FaultProxy.Direction = mode === "retry" || random() < 0.5 ? "toServer" : "toClient"
  // From the first byte after the connection is established to the last byte of the work.
  const from = shape.start[direction] + 1
  const to = shape.end[direction]
  return { kind: "bytes", direction, bytes: from + Math.floor(random() * (to - from + 1)) }
}

const arm = (proxy: FaultProxy.FaultProxy, cut: Cut) =>
  proxy.onConnection((c) => {
    proxy.onConnection(undefined)
    if (cut.kind === "commit") c.cutAfterMessage(isCommitMessage)
    else c.cutAfterBytes(cut.bytes, cut.direction)
  })

const runOne = (id: number, mode: Mode, cut: Cut) =>
  Effect.scoped(
    Effect.gen(function* () {
      const proxy = yield* proxyFor()
      arm(proxy, cut)
      if (mode === "retry") {
        const client = yield* PgClient.make({ ...viaProxy(proxy), min: 0, max: 1 })
        const exit = yield* Effect.exit(client.transaction(client.execute(INSERT, [id]), { retry: Schedule.recurs(3) }))
        const first = proxy.connections[0]
        return {
          id,
          mode,
          cut,
          outcome: classify(exit),
          commitWritten: first !== undefined && first.messages.some(isCommitMessage),
          commitsSeen: commitsOf(proxy),
        } satisfies Run
      }
      const conn = yield* PgConnection.make(viaProxy(proxy))
      const seen = watchWrites(conn, mode)
      const exit = yield* Effect.exit(work(conn, mode, id))
      return {
        id,
        mode,
        cut,
        outcome: classify(exit),
        commitWritten: seen.commitWritten,
        commitsSeen: commitsOf(proxy),
      } satisfies Run
    }),
  )

/** Waits until every backend of the runs has ended (so no late COMMIT can still land). */
const awaitBackendsGone = withAdmin((admin) =>
  Effect.gen(function* () {
    for (let i = 0; i < 500; i++) {
      const n = Option.getOrThrow(
        yield* admin.fetchVal("SELECT count(*)::int FROM pg_stat_activity WHERE application_name = $1", [APP]),
      )
      if (n === 0) return
      yield* Effect.sleep("20 millis")
    }
    throw new Error("backends of the cut connections are still running")
  }),
)

describe("cuts around COMMIT", () => {
  it.live(
    `${CUTS} seeded cuts: 0 misclassified, COMMIT never sent twice`,
    () =>
      Effect.gen(function* () {
        yield* withAdmin((admin) =>
          admin.execute(`DROP TABLE IF EXISTS ${TABLE}; CREATE TABLE ${TABLE} (id int PRIMARY KEY)`),
        )
        const shapes = {
          transaction: yield* calibrate("transaction"),
          implicit: yield* calibrate("implicit"),
          retry: yield* calibrate("retry"),
        }
        const random = seeded(16)
        const plan = Array.from({ length: CUTS }, (_, id) => {
          const r = random()
          const mode: Mode = r < 0.4 ? "transaction" : r < 0.75 ? "implicit" : "retry"
          return { id, mode, cut: pickCut(random, mode, shapes[mode]) }
        })
        const started = Date.now()
        const runs = yield* Effect.forEach(plan, ({ id, mode, cut }) => runOne(id, mode, cut), { concurrency: 8 })
        const elapsed = Date.now() - started
        yield* awaitBackendsGone
        const rows = yield* withAdmin((admin) => admin.fetch(`SELECT id FROM ${TABLE} WHERE id >= 0`))
        const exists = new Set(rows.map((r) => r.get("id") as number))

        const misclassified = runs.filter((run) => {
          const present = exists.has(run.id)
          switch (run.outcome) {
            case "ok":
              return !present
            case "notCommitted":
              // Never "not committed" for a row that exists, nor once the committing request was written.
              return present || run.commitWritten
            case "unknown":
              // "unknown" only when the committing request was on the wire.
              return !run.commitWritten
          }
        })
        expect(misclassified).toEqual([])
        // COMMIT is never sent twice for one unit of work (retries happen only before it was sent).
        expect(runs.filter((run) => run.commitsSeen > 1)).toEqual([])
        // A retried transaction whose COMMIT was never sent ends committed.
        expect(runs.filter((run) => run.mode === "retry" && run.outcome === "notCommitted")).toEqual([])

        // Every kind of outcome was exercised, including unknown outcomes of both fates.
        const count = (f: (run: Run) => boolean) => runs.filter(f).length
        expect(count((run) => run.outcome === "ok")).toBeGreaterThan(50)
        expect(count((run) => run.outcome === "notCommitted")).toBeGreaterThan(50)
        expect(count((run) => run.outcome === "unknown" && exists.has(run.id))).toBeGreaterThan(10)
        expect(count((run) => run.outcome === "unknown" && !exists.has(run.id))).toBeGreaterThan(0)
        expect(
          count((run) => run.mode === "retry" && run.outcome === "ok" && run.cut.kind === "bytes"),
        ).toBeGreaterThan(20)
        expect(elapsed).toBeLessThan(120_000)
      }),
    240_000,
  )
})
