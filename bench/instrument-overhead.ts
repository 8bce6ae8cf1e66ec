/**
 * CPU cost of per-query instrumentation (`internal/observe/Instrument.observe`) around a query effect,
 * without I/O: what spans, metrics and query loggers add to each call, measured in isolation
 * so that a loaded machine's network and scheduling noise stays out of it.
 *
 *   node --conditions=@pgfx/source bench/instrument-overhead.ts
 *
 * Compare with the time of a real round trip (`bench/query-instrumentation.ts`): a sequential
 * `fetchVal` on loopback costs tens of microseconds.
 */
import { Effect, Tracer } from "effect"
import type { ConnectionEvents } from "../packages/client/src/internal/connection/ConnectionEvents.ts"
import { observe } from "../packages/client/src/internal/observe/Instrument.ts"
import * as PgConfig from "../packages/client/src/PgConfig.ts"
import * as PgMetrics from "../packages/client/src/PgMetrics.ts"

const N = Number(process.env.N ?? 200_000)
const ROUNDS = Number(process.env.ROUNDS ?? 7)

const config = PgConfig.resolve({ host: "127.0.0.1", port: 5432, user: "app", database: "app" }, {})
const fake = (withLogger: boolean) =>
  ({
    session: { pending: 0 },
    config,
    queryLoggers: new Map(withLogger ? [[() => {}, undefined]] : []),
    eventContext: undefined,
  }) as unknown as ConnectionEvents

const query = Effect.succeed(1)
const recordingTracer = Tracer.make({ span: (options) => new Tracer.NativeSpan(options) })

const loop = (call: () => Effect.Effect<number, unknown>) =>
  Effect.gen(function* () {
    for (let i = 0; i < N; i++) yield* call()
  })

const plainConn = fake(false)
const loggedConn = fake(true)
const args = [1]
const scenarios: ReadonlyArray<readonly [string, Effect.Effect<void, unknown>]> = [
  ["no instrumentation", loop(() => query)],
  [
    "observe: metrics off",
    Effect.provideService(
      loop(() => observe(plainConn, "SELECT $1", args, undefined, query)),
      PgMetrics.Enabled,
      false,
    ),
  ],
  ["observe: metrics (default)", loop(() => observe(plainConn, "SELECT $1", args, undefined, query))],
  ["observe: metrics + query logger", loop(() => observe(loggedConn, "SELECT $1", args, undefined, query))],
  [
    "observe: metrics + recording tracer",
    Effect.withTracer(
      loop(() => observe(plainConn, "SELECT $1", args, undefined, query)),
      recordingTracer,
    ),
  ],
]

const best = new Map<string, number>()
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, effect] of scenarios) {
    const start = performance.now()
    Effect.runSync(effect)
    const ns = ((performance.now() - start) * 1e6) / N
    best.set(name, Math.min(best.get(name) ?? Infinity, ns))
  }
}
const base = best.get("no instrumentation")!
console.log(`${N} calls per round, best of ${ROUNDS}`)
for (const [name] of scenarios) {
  const ns = best.get(name)!
  console.log(`${name.padEnd(38)} ${ns.toFixed(0).padStart(6)} ns/call  (+${(ns - base).toFixed(0)} ns)`)
}
