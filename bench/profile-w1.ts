/**
 * W1 of the harness (bench/src/drivers/pgfx.ts), standalone: 10 callers, each looping
 * `fetch(point query, [id])` and checking the row, on 10 `PgConnection`s or through one
 * `PgClient` pool of 10. Unlike the harness's child process it ends normally, so
 * `node --cpu-prof` writes its profile. Prints one JSON line: queries/s and client CPU µs per
 * query (`process.cpuUsage`) inside the measured window.
 *
 *   node --conditions=@pgfx/source bench/profile-w1.ts '{"host":"127.0.0.1","port":5432,...}' [options]
 *   node --conditions=@pgfx/source --cpu-prof --cpu-prof-dir=.tmp/prof bench/profile-w1.ts ...
 *
 * The first argument is the connection (JSON, as bench/src/protocol.ts's ConnInfo) of a server
 * holding the harness's bench_w1 table (bench/src/cluster.ts), e.g. the one bench/profile-server.ts
 * keeps running. Options:
 *
 * - `--pool`: through `PgClient`'s shortcuts (a checkout and a release per query);
 *   `--reset=transactionOnly` sets the pool's `sessionReset`.
 * - `--promise`: every call is its own `Effect.runPromise` (as Promise code calls it) instead
 *   of the harness's Effect-native loop.
 * - `--fake`: no server round trip after the set-up (see {@link answerLocally}): the client's
 *   JavaScript alone.
 * - `--ms=N` (measured window, default 3000), `--warmup=N` (default 1000), `--callers=N`,
 *   `--connections=N` (default 10 each), `--sql=...` (e.g. `SELECT $1::int4`).
 */
import * as PgClient from "@pgfx/client/PgClient"
import * as PgConnection from "@pgfx/client/PgConnection"
import { Effect, type Scope } from "effect"
import type { Socket } from "node:net"

interface Session {
  fetch(sql: string, args?: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<{ readonly id?: unknown }>, unknown>
}

const conn = JSON.parse(process.argv[2] ?? "") as PgConnection.PgConnectionOptions
const flag = (name: string): string | undefined =>
  process.argv
    .find((a) => a === `--${name}` || a.startsWith(`--${name}=`))
    ?.split("=")
    .slice(1)
    .join("=")
const has = (name: string) => process.argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`))
const pooled = has("pool")
const promise = has("promise")
const durationMs = Number(flag("ms") ?? 3000)
const warmupMs = Number(flag("warmup") ?? 1000)
const callers = Number(flag("callers") ?? 10)
const connections = Number(flag("connections") ?? 10)
const reset = flag("reset")
const sql = flag("sql") ?? "SELECT id, name, score, created FROM bench_w1 WHERE id = $1"
const fake = has("fake")
const pointQuery = sql.includes("bench_w1") && !fake
const idRange = 100_000

const pickId = (caller: number, iteration: number): number => ((iteration * 7919 + caller * 104_729) % idRange) + 1

const open = (): Effect.Effect<Array<Session>, unknown, Scope.Scope> =>
  pooled
    ? Effect.map(
        PgClient.make({
          ...conn,
          min: connections,
          max: connections,
          ...(reset === undefined ? {} : { sessionReset: reset }),
        } as PgClient.PgClientOptions),
        (client) => Array.from({ length: callers }, () => client as unknown as Session),
      )
    : Effect.map(
        Effect.forEach(Array.from({ length: connections }), () => PgConnection.make(conn), {
          concurrency: "unbounded",
        }),
        (opened) => Array.from({ length: callers }, (_, i) => opened[i % opened.length] as unknown as Session),
      )

/**
 * `--fake`: after one real query per connection, the socket's writes no longer reach the server:
 * each is answered (in a later macrotask, as a socket read would be) with the bytes the server
 * sent for that real query. What is left is the client's JavaScript per query, without the
 * kernel's share and the server's scheduling, so a CPU figure that the machine's load blurs far
 * less (the row's id no longer matches the query's, so only the row count is checked).
 */
const answerLocally = (session: Session): Effect.Effect<void, unknown> =>
  Effect.gen(function* () {
    const socket = (session as unknown as { session: { socket: Socket } }).session.socket
    const [onData] = socket.listeners("data") as Array<(chunk: Buffer) => void>
    yield* session.fetch(sql, [1]) // prepares and caches the statement
    let reply: Buffer | undefined
    const capture = (chunk: Buffer) => (reply = reply === undefined ? chunk : Buffer.concat([reply, chunk]))
    socket.prependListener("data", capture)
    yield* session.fetch(sql, [1])
    socket.off("data", capture)
    const answer = reply!
    socket.write = ((_bytes: Uint8Array) => {
      setImmediate(() => onData!(answer))
      return true
    }) as typeof socket.write
  })

const window = { stop: false, measuring: false, count: 0 }
/** The measured window on the monotonic clock (µs), which V8's CPU profile timestamps use. */
const profileWindow = { from: 0, to: 0 }
/** Starts the clock once the sessions are open (as the harness's `openWindow`): warm-up, then the measured window. */
const openWindow = () =>
  new Promise<{ rate: number; cpuUs: number; sysUs: number; mainUs: number }>((resolve) => {
    setTimeout(() => {
      window.measuring = true
      window.count = 0
      const start = performance.now()
      const cpu = process.cpuUsage()
      const main = process.threadCpuUsage()
      profileWindow.from = Number(process.hrtime.bigint() / 1000n)
      setTimeout(() => {
        const used = process.cpuUsage(cpu)
        const usedMain = process.threadCpuUsage(main)
        profileWindow.to = Number(process.hrtime.bigint() / 1000n)
        const seconds = (performance.now() - start) / 1000
        window.stop = true
        window.measuring = false
        resolve({
          rate: window.count / seconds,
          cpuUs: (used.user + used.system) / window.count,
          sysUs: used.system / window.count,
          mainUs: (usedMain.user + usedMain.system) / window.count,
        })
      }, durationMs)
    }, warmupMs)
  })

const check = (rows: ReadonlyArray<{ readonly id?: unknown }>, id: number): void => {
  if (rows.length !== 1 || (pointQuery && rows[0]!.id !== id)) throw new Error(`W1: wrong row for id ${id}`)
}

/** The harness's loop: one fiber per caller, each yielding its calls. */
const effectLoop = (sessions: ReadonlyArray<Session>) =>
  Effect.forEach(
    sessions,
    (session, caller) =>
      Effect.gen(function* () {
        for (let i = 0; !window.stop; i++) {
          const id = pickId(caller, i)
          yield* Effect.map(session.fetch(sql, [id]), (rows) => check(rows, id))
          if (window.measuring) window.count++
        }
      }),
    { concurrency: "unbounded", discard: true },
  )

/** Promise code: one `runPromise` per call. */
const promiseLoop = (sessions: ReadonlyArray<Session>) =>
  Promise.all(
    sessions.map(async (session, caller) => {
      for (let i = 0; !window.stop; i++) {
        const id = pickId(caller, i)
        check(await Effect.runPromise(session.fetch(sql, [id])), id)
        if (window.measuring) window.count++
      }
    }),
  )

const result = await Effect.runPromise(
  Effect.scoped(
    Effect.gen(function* () {
      const sessions = yield* open()
      if (fake) {
        if (pooled) throw new Error("--fake runs on connections, not through the pool")
        yield* Effect.forEach(new Set(sessions), answerLocally, { discard: true })
      }
      const done = openWindow()
      if (promise) yield* Effect.promise(() => promiseLoop(sessions))
      else yield* effectLoop(sessions)
      return yield* Effect.promise(() => done)
    }),
  ) as Effect.Effect<{ rate: number; cpuUs: number; sysUs: number; mainUs: number }>,
)
console.log(
  JSON.stringify({
    pooled,
    promise,
    reset,
    rate: Math.round(result.rate),
    cpuUs: +result.cpuUs.toFixed(2),
    sysUs: +result.sysUs.toFixed(2),
    // The main thread's share (without V8's background threads: GC, compilers).
    mainUs: +result.mainUs.toFixed(2),
    // For bench/profile-summary.ts: the queries of the window and its bounds.
    queries: window.count,
    from: profileWindow.from,
    to: profileWindow.to,
  }),
)
