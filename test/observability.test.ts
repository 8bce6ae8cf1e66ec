/**
 * Query loggers, spans (captured with an in-memory tracer) and metrics: what they record, and
 * that no password or argument value ever reaches a span.
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgMetrics from "@pgfx/client/PgMetrics"
import type { LoggedQuery } from "@pgfx/client/PgNotifications"
import * as PgTracing from "@pgfx/client/PgTracing"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, Metric, Option, Redacted, Tracer } from "effect"
import { authUser, testCluster } from "./support/cluster.ts"
import { connect, tcpOptions, unixOptions } from "./support/connect.ts"
import { recordingTracer } from "./support/tracer.ts"
import { untilRunning } from "./support/wait.ts"

const attributesOf = (span: Tracer.NativeSpan) => Object.fromEntries(span.attributes)

const serialized = (value: unknown) =>
  JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v instanceof Map ? [...v] : v))

describe("query loggers", () => {
  it.live("see every query with its arguments, timeout, elapsed time and error; never the password", () =>
    Effect.gen(function* () {
      const scram = authUser("scram")
      const conn = yield* connect({ user: scram.name, password: scram.password! })
      const records: Array<LoggedQuery> = []
      const logger = (q: LoggedQuery) => records.push(q)
      yield* conn.addQueryLogger(logger)

      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int4 + $2::int4", [1, 2]))).toBe(3)
      const failed = yield* Effect.exit(conn.execute("SELEC 1"))
      expect(Exit.isFailure(failed)).toBe(true)
      const timedOut = yield* Effect.exit(
        Effect.map(conn.fetchVal("SELECT pg_sleep(10)", [], { timeout: "200 millis" }), Option.getOrThrow),
      )
      expect(Exit.isFailure(timedOut)).toBe(true)
      yield* conn.execute("SELECT 1")

      expect(records.map((r) => [r.query, r.error?._tag])).toEqual([
        ["SELECT $1::int4 + $2::int4", undefined],
        ["SELEC 1", "PgServerError"],
        ["SELECT pg_sleep(10)", "PgTimeoutError"],
        ["SELECT 1", undefined],
      ])
      const [ok, syntax, timeout] = records
      expect(ok!.args).toEqual([1, 2])
      expect(ok!.timeout).toBeUndefined()
      expect(Duration.toMillis(ok!.elapsed)).toBeGreaterThan(0)
      expect(ok!.interrupted).toBe(false)
      expect(syntax!.error?._tag === "PgServerError" && syntax!.error.code).toBe("42601")
      expect(Duration.toMillis(timeout!.timeout!)).toBe(200)
      expect(Duration.toMillis(timeout!.elapsed)).toBeGreaterThanOrEqual(150)
      const pg = testCluster()
      expect(ok!.address).toEqual({ _tag: "tcp", host: pg.host, port: pg.port })
      expect(ok!.parameters.user).toBe(scram.name)
      expect(ok!.parameters.database).toBe(pg.database)
      expect(serialized(records)).not.toContain(scram.password)

      yield* conn.removeQueryLogger(logger)
      yield* conn.execute("SELECT 2")
      expect(records.length).toBe(4)
    }),
  )

  it.live("an interrupted query is logged as interrupted", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const records: Array<LoggedQuery> = []
      yield* conn.addQueryLogger((q) => records.push(q))
      const fiber = yield* Effect.forkChild(Effect.map(conn.fetchVal("SELECT pg_sleep(10)"), Option.getOrThrow))
      yield* untilRunning(conn.serverPid)
      yield* Fiber.interrupt(fiber)
      expect(records.map((r) => [r.query, r.interrupted, r.error])).toEqual([["SELECT pg_sleep(10)", true, undefined]])
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1"))).toBe(1)
    }),
  )

  it.live("redactArgs wraps arguments in Redacted", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const records: Array<LoggedQuery> = []
      yield* conn.addQueryLogger((q) => records.push(q), { redactArgs: true })
      Option.getOrThrow(yield* conn.fetchVal("SELECT $1::text", ["card 4111-1111"]))
      const arg = records[0]!.args[0]
      expect(Redacted.isRedacted(arg)).toBe(true)
      expect(String(arg)).not.toContain("4111")
      expect(serialized(records[0])).not.toContain("4111")
      expect(Redacted.value(arg as Redacted.Redacted<string>)).toBe("card 4111-1111")
    }),
  )

  it.live("the scoped form logs only inside its scope; a throwing logger is harmless", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const seen: Array<string> = []
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* conn.addQueryLoggerScoped((q) => seen.push(q.query))
          yield* conn.addQueryLoggerScoped(() => {
            throw new Error("logger bug")
          })
          yield* conn.execute("SELECT 'inside'")
        }),
      )
      yield* conn.execute("SELECT 'outside'")
      expect(seen).toEqual(["SELECT 'inside'"])
    }),
  )
})

describe("spans", () => {
  it.live("one client span per query with the database attributes, and none carries a secret", () =>
    Effect.gen(function* () {
      const { spans, tracer } = recordingTracer()
      const scram = authUser("scram")
      const pg = testCluster()
      yield* Effect.gen(function* () {
        const conn = yield* PgConnection.make(tcpOptions({ user: scram.name, password: scram.password! }))
        Option.getOrThrow(yield* conn.fetchVal("SELECT $1::text", ["s3cr3t-argument"]))
        const rows = yield* conn.fetch("SELECT g FROM generate_series(1, 1000) g")
        expect(rows.length).toBe(1000)
        yield* Effect.exit(conn.execute("SELEC 1"))
        yield* conn.execute("SELECT 1").pipe(Effect.withSpan("outer"))
      }).pipe(Effect.scoped, Effect.withTracer(tracer))

      const db = pg.database
      expect(spans.map((s) => s.name)).toEqual([
        `connect ${db}`,
        `SELECT ${db}`,
        `SELECT ${db}`, // 1000 rows, one span
        `SELEC ${db}`,
        "outer",
        `SELECT ${db}`,
      ])
      const [connectSpan, fetchVal, , failed, outer, inner] = spans
      const server = { "server.address": pg.host, "server.port": pg.port }
      expect(connectSpan!.kind).toBe("client")
      expect(attributesOf(connectSpan!)).toEqual({ "db.system.name": "postgresql", "db.namespace": db, ...server })
      expect(fetchVal!.kind).toBe("client")
      expect(attributesOf(fetchVal!)).toEqual({
        "db.system.name": "postgresql",
        "db.namespace": db,
        "db.operation.name": "SELECT",
        "db.query.text": "SELECT $1::text",
        ...server,
      })
      expect(attributesOf(failed!)).toMatchObject({
        "db.operation.name": "SELEC",
        "db.response.status_code": "42601",
        "error.type": "42601",
      })
      expect(failed!.status._tag === "Ended" && Exit.isFailure(failed!.status.exit)).toBe(true)
      expect(fetchVal!.status._tag === "Ended" && Exit.isSuccess(fetchVal!.status.exit)).toBe(true)
      expect(inner!.parent._tag === "Some" && inner!.parent.value).toBe(outer)
      const everything = serialized(spans.map((s) => [s.name, attributesOf(s), s.events]))
      expect(everything).not.toContain(scram.password!)
      expect(everything).not.toContain(scram.name)
      expect(everything).not.toContain("s3cr3t-argument")
    }),
  )

  it.live("the query text can be summarised, sanitised, omitted, or spans turned off", () =>
    Effect.gen(function* () {
      const { spans, tracer } = recordingTracer()
      const sql = "SELECT relname FROM pg_catalog.pg_class WHERE relname = 'secret literal'"
      yield* Effect.gen(function* () {
        const conn = yield* connect()
        yield* conn.fetch(sql).pipe(PgTracing.withTracingOptions({ queryText: "summary" }))
        yield* conn.fetch(sql).pipe(PgTracing.withTracingOptions({ queryText: (q) => q.replace(/'[^']*'/g, "?") }))
        yield* conn.fetch(sql).pipe(PgTracing.withTracingOptions({ queryText: "omit" }))
        yield* conn.fetch(sql).pipe(PgTracing.withTracingOptions({ enabled: false }))
        yield* conn.fetch(sql).pipe(Effect.withTracerEnabled(false))
      }).pipe(Effect.scoped, Effect.withTracer(tracer))
      const queries = spans.slice(1)
      expect(queries.length).toBe(3)
      const [summary, sanitised, omitted] = queries.map(attributesOf)
      expect(queries[0]!.name).toBe("SELECT pg_catalog.pg_class")
      expect(summary!["db.query.summary"]).toBe("SELECT pg_catalog.pg_class")
      expect(summary!["db.query.text"]).toBeUndefined()
      expect(sanitised!["db.query.text"]).toBe("SELECT relname FROM pg_catalog.pg_class WHERE relname = ?")
      expect(omitted!["db.query.text"]).toBeUndefined()
      expect(omitted!["db.query.summary"]).toBeUndefined()
      expect(serialized(queries.map(attributesOf))).not.toContain("secret literal")
    }),
  )

  it.live("over a unix socket, server.address is the socket path", () =>
    Effect.gen(function* () {
      const { spans, tracer } = recordingTracer()
      const pg = testCluster()
      yield* Effect.gen(function* () {
        const conn = yield* PgConnection.make(unixOptions())
        yield* conn.execute("SELECT 1")
      }).pipe(Effect.scoped, Effect.withTracer(tracer))
      const attributes = attributesOf(spans[1]!)
      expect(attributes["server.address"]).toBe(`${pg.socketDir}/.s.PGSQL.${pg.port}`)
      expect(attributes["server.port"]).toBeUndefined()
    }),
  )
})

describe("metrics", () => {
  it.live("queries, errors by SQLSTATE class, pipeline depth and connections", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE m (id int PRIMARY KEY)")
      yield* conn.execute("INSERT INTO m VALUES ($1)", [1])
      yield* Effect.exit(conn.execute("INSERT INTO m VALUES ($1)", [1]))
      yield* Effect.exit(
        Effect.map(conn.fetchVal("SELECT pg_sleep(10)", [], { timeout: "100 millis" }), Option.getOrThrow),
      )
      yield* Effect.forEach(
        Array.from({ length: 20 }, (_, i) => i),
        (i) => Effect.map(conn.fetchVal("SELECT $1::int4", [i]), Option.getOrThrow),
        { concurrency: "unbounded" },
      )
      const queries = yield* Metric.value(PgMetrics.queries)
      expect(queries.count).toBe(24)
      const unique = yield* Metric.value(PgMetrics.queryErrorsFor("PgServerError", "23505"))
      expect(unique.count).toBe(1)
      const timeouts = yield* Metric.value(PgMetrics.queryErrorsFor("PgTimeoutError", undefined))
      expect(timeouts.count).toBe(1)
      const depth = yield* Metric.value(PgMetrics.pipelineDepth)
      expect(depth.count).toBe(24)
      expect(depth.max).toBeGreaterThan(1)
      const duration = yield* Metric.value(PgMetrics.operationDuration)
      expect(duration.count).toBe(24)
      expect(duration.max).toBeGreaterThanOrEqual(0.09)
      const opened = yield* Metric.value(PgMetrics.connectionsOpened)
      expect(opened.count).toBe(1)

      const failedConnect = yield* Effect.exit(Effect.scoped(connect({ database: "no_such_database" })))
      expect(Exit.isFailure(failedConnect)).toBe(true)
      const connectErrors = yield* Metric.value(PgMetrics.connectErrorsFor("PgServerError"))
      expect(connectErrors.count).toBe(1)

      yield* Effect.provideService(Effect.map(conn.fetchVal("SELECT 1"), Option.getOrThrow), PgMetrics.Enabled, false)
      expect((yield* Metric.value(PgMetrics.queries)).count).toBe(24)
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())),
  )
})
