/**
 * The per-query hot path: `fetchVal` on one `PgConnection` and through `PgClient`'s shortcuts (a
 * pool checkout and release per query), serially and with 10 concurrent callers (W1's shape).
 *
 *   node --conditions=@pgfx/source bench/hotpath.ts                          # starts a throwaway PostgreSQL
 *   PGFX_BENCH_URL=postgres://... node --conditions=@pgfx/source bench/hotpath.ts
 *   PGFX_BENCH_CLIENTS=.tmp/baseline/src,packages/client/src node --conditions=@pgfx/source bench/hotpath.ts   # A/B
 *
 * Reports wall µs/query and client CPU µs/query (`process.cpuUsage`: excludes waiting for the
 * server, the better signal on a shared machine), the median over ROUNDS interleaved rounds.
 * `PGFX_BENCH_CLIENTS` lists copies of `packages/client/src` compared in the same process.
 */
import * as TempCluster from "@pgfx/testing/TempCluster"
import { Effect, Option } from "effect"
import * as path from "node:path"

type ConnModule = typeof import("../packages/client/src/PgConnection.ts")
type ClientModule = typeof import("../packages/client/src/PgClient.ts")
type Conn = import("../packages/client/src/PgConnection.ts").PgConnection
type Client = import("../packages/client/src/PgClient.ts").PgClient["Service"]

const root = path.resolve(import.meta.dirname, "..")
const versions = await Promise.all(
  (process.env.PGFX_BENCH_CLIENTS ?? "packages/client/src").split(",").map(async (dir) => ({
    dir,
    conn: (await import(path.resolve(root, dir, "PgConnection.ts"))) as ConnModule,
    client: (await import(path.resolve(root, dir, "PgClient.ts"))) as ClientModule,
  })),
)

const N = Number(process.env.N ?? 10_000)
const ROUNDS = Number(process.env.ROUNDS ?? 5)
const CALLERS = 10
const SQL = "SELECT $1::int4"

interface Target {
  readonly fetchVal: (sql: string, args: ReadonlyArray<unknown>) => Effect.Effect<Option.Option<unknown>, unknown>
}
const serial = (t: Target, n: number) =>
  Effect.gen(function* () {
    for (let i = 0; i < n; i++) Option.getOrThrow(yield* t.fetchVal(SQL, [i]))
  })
const concurrent = (targets: ReadonlyArray<Target>) =>
  Effect.forEach(targets, (t) => serial(t, N / CALLERS), { concurrency: "unbounded", discard: true })

type Scenario = { readonly name: string; readonly run: (v: number) => Effect.Effect<unknown, unknown> }

const time = (effect: Effect.Effect<unknown, unknown>) =>
  Effect.gen(function* () {
    const start = performance.now()
    const cpu = process.cpuUsage()
    yield* effect
    const used = process.cpuUsage(cpu)
    return { us: ((performance.now() - start) * 1000) / N, cpuUs: (used.user + used.system) / N, userUs: used.user / N }
  })

/** Message bytes: type, length, body. */
const frame = (type: string, ...parts: Array<Buffer>) => {
  const body = Buffer.concat(parts)
  const head = Buffer.alloc(5)
  head.write(type, 0, "latin1")
  head.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([head, body])
}
const cstr = (s: string) => Buffer.from(`${s}\0`)
const i16 = (...ns: Array<number>) => Buffer.from(new Int16Array(ns.length).map((_, i) => ns[i]!).buffer).swap16()
const i32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n)
  return b
}

/**
 * The floor for Node: Bind/Execute/Sync of a prepared statement, pre-built bytes written on the
 * connection's socket, the next one when the ReadyForQuery arrives; no decoding, no Effect.
 */
const raw = (conn: Conn, n: number) =>
  Effect.callback<void>((resume) => {
    const socket = (conn as unknown as { session: { socket: import("node:net").Socket } }).session.socket
    const listeners = socket.listeners("data") as Array<(chunk: Buffer) => void>
    socket.removeAllListeners("data")
    const parse = Buffer.concat([frame("P", cstr("hp_raw"), cstr(SQL), i16(1), i32(23)), frame("S")])
    const request = Buffer.concat([
      frame("B", cstr(""), cstr("hp_raw"), i16(1, 1), i16(1), i32(4), i32(7), i16(1, 1)),
      frame("E", cstr(""), i32(0)),
      frame("S"),
    ])
    let left = n + 1
    socket.on("data", (chunk: Buffer) => {
      // Serial: every response ends with ReadyForQuery ('Z', length 5, status).
      if (chunk[chunk.length - 6] !== 0x5a) return
      if (--left > 0) socket.write(request)
      else {
        socket.write(frame("C", Buffer.from("S"), cstr("hp_raw")))
        socket.write(frame("S"))
        socket.removeAllListeners("data")
        let close = 1
        socket.on("data", (c: Buffer) => {
          if (c[c.length - 6] === 0x5a && --close === 0) {
            socket.removeAllListeners("data")
            for (const l of listeners) socket.on("data", l)
            resume(Effect.void)
          }
        })
      }
    })
    socket.write(parse)
  })

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const bench = (options: { host: string; port: number; user: string; database: string } | { url: string }) =>
  Effect.gen(function* () {
    const conns: Array<Array<Conn>> = []
    const clients: Array<Client> = []
    for (const v of versions) {
      const cs: Array<Conn> = []
      for (let i = 0; i < CALLERS; i++) cs.push(yield* v.conn.make(options))
      conns.push(cs)
      clients.push(yield* v.client.make({ ...options, max: CALLERS, min: CALLERS }))
    }
    const all: ReadonlyArray<Scenario> = [
      { name: "W5 serial, raw socket floor", run: (v) => raw(conns[v]![1]!, N) },
      { name: "W5 serial, PgConnection", run: (v) => serial(conns[v]![0]!, N) },
      { name: "W5 serial, PgClient", run: (v) => serial(clients[v]!, N) },
      {
        name: "W1 10 callers, raw socket floor",
        run: (v) => Effect.forEach(conns[v]!, (c) => raw(c, N / CALLERS), { concurrency: "unbounded", discard: true }),
      },
      { name: "W1 10 callers, 10 PgConnections", run: (v) => concurrent(conns[v]!) },
      { name: "W1p 10 callers, 1 PgConnection", run: (v) => concurrent(Array(CALLERS).fill(conns[v]![2]!)) },
      { name: "W1 10 callers, PgClient (10)", run: (v) => concurrent(Array(CALLERS).fill(clients[v]!)) },
    ]
    // ONLY=W5 (a name prefix) keeps only matching scenarios, e.g. for `node --cpu-prof`.
    const scenarios = all.filter((s) => s.name.startsWith(process.env.ONLY ?? ""))
    for (const s of scenarios) for (let v = 0; v < versions.length; v++) yield* s.run(v) // warm-up
    const wall = new Map<string, Array<number>>()
    const cpu = new Map<string, Array<number>>()
    const user = new Map<string, Array<number>>()
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of scenarios) {
        for (let v = 0; v < versions.length; v++) {
          const key = `${v} ${s.name}`
          const r = yield* time(s.run(v))
          wall.set(key, [...(wall.get(key) ?? []), r.us])
          cpu.set(key, [...(cpu.get(key) ?? []), r.cpuUs])
          user.set(key, [...(user.get(key) ?? []), r.userUs])
        }
      }
    }
    console.log(`${N} fetchVal per run, median of ${ROUNDS} interleaved rounds`)
    for (const s of scenarios) {
      for (let v = 0; v < versions.length; v++) {
        const key = `${v} ${s.name}`
        console.log(
          `${s.name.padEnd(34)} ${versions[v]!.dir.padEnd(22)} ${median(wall.get(key)!).toFixed(1).padStart(7)} µs/query ` +
            `${median(cpu.get(key)!).toFixed(1).padStart(7)} µs CPU/query (user ${median(user.get(key)!).toFixed(1)})`,
        )
      }
    }
  }).pipe(Effect.scoped)

const url = process.env.PGFX_BENCH_URL
const program =
  url !== undefined
    ? bench({ url })
    : Effect.gen(function* () {
        const cluster = yield* TempCluster.make({})
        yield* bench({ host: cluster.host, port: cluster.port, user: cluster.user, database: cluster.database })
      }).pipe(Effect.scoped)

Effect.runPromise(program).catch((e) => {
  console.error(e)
  process.exitCode = 1
})
