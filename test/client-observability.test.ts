/**
 * Pool observability: a client span per acquire (parent of the connect span when it opens a
 * connection), a span per transaction and savepoint (parent of the queries inside), and the
 * `db.client.connection.wait_time` histogram per pool — captured with an in-memory tracer and a
 * private metric registry.
 */
import * as PgClient from "@pgfx/client/PgClient"
import * as PgMetrics from "@pgfx/client/PgMetrics"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Metric, Option, Tracer } from "effect"
import { authUser, testCluster } from "./support/cluster.ts"
import { tcpOptions } from "./support/connect.ts"
import { recordingTracer } from "./support/tracer.ts"

const attributesOf = (span: Tracer.NativeSpan) => Object.fromEntries(span.attributes)
const parentOf = (span: Tracer.NativeSpan) => (span.parent._tag === "Some" ? span.parent.value : undefined)
const failed = (span: Tracer.NativeSpan) => span.status._tag === "Ended" && Exit.isFailure(span.status.exit)

describe("pool and transaction spans", () => {
  it.live("acquire, connect, transaction, savepoint and query spans nest; no secret in any of them", () =>
    Effect.gen(function* () {
      const { spans, tracer } = recordingTracer()
      const scram = authUser("scram")
      const pg = testCluster()
      const db = pg.database
      yield* Effect.gen(function* () {
        Option.getOrThrow(yield* PgClient.fetchVal("SELECT $1::text", ["s3cr3t-argument"]))
        yield* PgClient.transaction(
          Effect.gen(function* () {
            yield* PgClient.execute("SELECT 2")
            yield* PgClient.transaction(PgClient.execute("SELECT 3"))
          }),
        )
        yield* Effect.exit(PgClient.transaction(PgClient.execute("SELECT 1/0")))
      }).pipe(
        Effect.provide(
          PgClient.layer({
            ...tcpOptions({ user: scram.name, password: scram.password! }),
            min: 0,
            max: 1,
            name: "traced",
          }),
        ),
        Effect.withTracer(tracer),
      )

      expect(spans.map((s) => s.name)).toEqual([
        `acquire ${db}`,
        `connect ${db}`, // the first acquire opened the connection
        `SELECT ${db}`,
        `acquire ${db}`, // the next ones reuse it
        `transaction ${db}`,
        `SELECT ${db}`,
        `savepoint ${db}`,
        `SELECT ${db}`,
        `acquire ${db}`,
        `transaction ${db}`,
        `SELECT ${db}`,
      ])
      const [acquire1, connect, select1, , tx, select2, savepoint, select3, , failedTx, division] = spans
      expect(acquire1!.kind).toBe("client")
      expect(attributesOf(acquire1!)).toEqual({
        "db.system.name": "postgresql",
        "db.namespace": db,
        "server.address": pg.host,
        "server.port": pg.port,
        "db.client.connection.pool.name": "traced",
      })
      expect(parentOf(connect!)).toBe(acquire1)
      expect(parentOf(select1!)).not.toBe(acquire1)
      expect(parentOf(select2!)).toBe(tx)
      expect(parentOf(savepoint!)).toBe(tx)
      expect(parentOf(select3!)).toBe(savepoint)
      expect(attributesOf(tx!)).toMatchObject({ "db.system.name": "postgresql", "db.namespace": db })
      expect(failed(tx!)).toBe(false)
      expect(failed(failedTx!)).toBe(true)
      expect(attributesOf(failedTx!)).toMatchObject({ "db.response.status_code": "22012", "error.type": "22012" })
      expect(parentOf(division!)).toBe(failedTx)
      const everything = JSON.stringify(spans.map((s) => [s.name, attributesOf(s), s.events]))
      expect(everything).not.toContain(scram.password!)
      expect(everything).not.toContain(scram.name)
      expect(everything).not.toContain("s3cr3t-argument")
    }),
  )

  it.live("a failed acquire ends its span with the error type", () =>
    Effect.gen(function* () {
      const { spans, tracer } = recordingTracer()
      const exit = yield* Effect.exit(
        Effect.map(PgClient.fetchVal("SELECT 1"), Option.getOrThrow).pipe(
          Effect.provide(PgClient.layer({ ...tcpOptions({ database: "no_such_database" }), min: 0 })),
          Effect.withTracer(tracer),
        ),
      )
      expect(Exit.isFailure(exit)).toBe(true)
      const acquire = spans.find((s) => s.name === "acquire no_such_database")!
      expect(failed(acquire)).toBe(true)
      expect(attributesOf(acquire)["error.type"]).toBe("3D000")
    }),
  )
})

describe("pool metrics", () => {
  it.live("db.client.connection.wait_time records each acquire, per pool, including time spent waiting", () =>
    Effect.gen(function* () {
      const waitTime = PgMetrics.connectionWaitTimeFor("waited")
      yield* Effect.gen(function* () {
        Option.getOrThrow(yield* PgClient.fetchVal("SELECT 1"))
        Option.getOrThrow(yield* PgClient.fetchVal("SELECT 1"))
        // One fiber holds the only connection for a while; another waits for it.
        const holding = yield* Deferred.make<void>()
        const holder = yield* Effect.forkChild(
          PgClient.withConnection(() =>
            Effect.andThen(Deferred.succeed(holding, undefined), Effect.sleep("300 millis")),
          ),
        )
        yield* Deferred.await(holding)
        Option.getOrThrow(yield* PgClient.fetchVal("SELECT 1"))
        yield* Fiber.join(holder)
        yield* PgClient.transaction(PgClient.execute("SELECT 1"))
      }).pipe(Effect.provide(PgClient.layer({ ...tcpOptions(), min: 0, max: 1, name: "waited" })))
      const value = yield* Metric.value(waitTime)
      expect(value.count).toBe(5)
      expect(value.max).toBeGreaterThanOrEqual(0.2) // the waiting acquire
      expect(value.min).toBeLessThan(0.2)
      // Metrics off: nothing recorded.
      yield* Effect.map(PgClient.fetchVal("SELECT 1"), Option.getOrThrow).pipe(
        Effect.provide(PgClient.layer({ ...tcpOptions(), min: 0, max: 1, name: "waited" })),
        Effect.provideService(PgMetrics.Enabled, false),
      )
      expect((yield* Metric.value(waitTime)).count).toBe(5)
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())),
  )
})
