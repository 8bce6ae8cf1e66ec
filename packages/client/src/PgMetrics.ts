/**
 * The metrics pgfx records, as Effect `Metric`s. They live in Effect's `MetricRegistry`, so
 * `Metric.snapshot` reads them and an exporter (e.g. `@effect/opentelemetry`'s metrics) publishes
 * them. Names follow the OpenTelemetry database conventions where one exists.
 *
 * | metric | kind | recorded |
 * | --- | --- | --- |
 * | `db.client.operation.duration` | histogram, seconds | after each query call |
 * | `pgfx.client.queries` | counter | after each query call |
 * | `pgfx.client.query.errors` | counter, by `error.type` and `db.sqlstate.class` | after each failed query |
 * | `pgfx.client.pipeline.depth` | histogram | when a query is sent: requests in flight on its connection, itself included |
 * | `pgfx.client.connections.opened` | counter | after each successful connect |
 * | `pgfx.client.connect.errors` | counter, by `error.type` | after each failed connect |
 * | `pgfx.client.notifications` | counter | per notification received |
 * | `pgfx.client.notifications.dropped` | counter | per notification a full `sliding`/`dropping` buffer discarded |
 * | `db.client.connection.wait_time` | histogram, seconds, by `db.client.connection.pool.name` | by the pool, per successful acquire (waiting, or connecting and `init`) |
 *
 * Recording can be turned off with {@link Enabled}.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import * as PgMetrics from "@pgfx/client/PgMetrics"
 *
 * const report = Effect.gen(function* () {
 *   const queries = yield* Metric.value(PgMetrics.queries)
 *   console.log(`queries so far: ${queries.count}`)
 * })
 * ```
 * @since 0.1.0
 */
import { Context, Metric } from "effect"

/**
 * Whether pgfx records its metrics (default `true`); read from the context of each operation.
 * @since 0.1.0
 */
export const Enabled: Context.Reference<boolean> = Context.Reference<boolean>("@pgfx/client/PgMetrics/Enabled", {
  defaultValue: () => true,
})

const system = { "db.system.name": "postgresql" }

/** Duration of query calls, in seconds (from the call to its result, prepare included). @since 0.1.0 */
export const operationDuration: Metric.Histogram<number> = Metric.histogram("db.client.operation.duration", {
  description: "Duration of database client operations, in seconds",
  attributes: system,
  boundaries: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10],
})

/** Query calls completed (succeeded or failed). @since 0.1.0 */
export const queries: Metric.Counter<number> = Metric.counter("pgfx.client.queries", {
  description: "Query calls completed",
  attributes: system,
  incremental: true,
})

/** Failed query calls; see {@link queryErrorsFor} for the attributes. @since 0.1.0 */
export const queryErrors: Metric.Counter<number> = Metric.counter("pgfx.client.query.errors", {
  description: "Query calls that failed, by error type and SQLSTATE class",
  attributes: system,
  incremental: true,
})

const series = new Map<string, Metric.Counter<number>>()

const seriesOf = (
  metric: Metric.Counter<number>,
  attributes: Readonly<Record<string, string>>,
): Metric.Counter<number> => {
  const key = `${metric.id}|${Object.entries(attributes).join("|")}`
  let found = series.get(key)
  if (found === undefined) {
    found = Metric.withAttributes(metric, attributes)
    series.set(key, found)
  }
  return found
}

/**
 * The {@link queryErrors} series for one error: `error.type` is the error's tag
 * (`PgServerError`, `PgTimeoutError`, ...) and, for server errors, `db.sqlstate.class` is the
 * first two characters of the SQLSTATE (`23` for integrity violations).
 * @since 0.1.0
 */
export const queryErrorsFor = (errorType: string, sqlstate: string | undefined): Metric.Counter<number> =>
  seriesOf(
    queryErrors,
    sqlstate === undefined || sqlstate.length < 2
      ? { "error.type": errorType }
      : { "error.type": errorType, "db.sqlstate.class": sqlstate.slice(0, 2) },
  )

/** Requests in flight on a connection when a query is sent, itself included. @since 0.1.0 */
export const pipelineDepth: Metric.Histogram<number> = Metric.histogram("pgfx.client.pipeline.depth", {
  description: "Requests in flight on the connection when a query is sent (itself included)",
  attributes: system,
  boundaries: [1, 2, 4, 8, 16, 32, 64, 128, 256],
})

/** Connections opened (startup and authentication completed). @since 0.1.0 */
export const connectionsOpened: Metric.Counter<number> = Metric.counter("pgfx.client.connections.opened", {
  description: "Connections opened",
  attributes: system,
  incremental: true,
})

/** Connection attempts that failed, by `error.type`. @since 0.1.0 */
export const connectErrors: Metric.Counter<number> = Metric.counter("pgfx.client.connect.errors", {
  description: "Connection attempts that failed",
  attributes: system,
  incremental: true,
})

/** The {@link connectErrors} series for one error tag. @since 0.1.0 */
export const connectErrorsFor = (errorType: string): Metric.Counter<number> =>
  seriesOf(connectErrors, { "error.type": errorType })

/** Notifications (LISTEN/NOTIFY) received. @since 0.1.0 */
export const notifications: Metric.Counter<number> = Metric.counter("pgfx.client.notifications", {
  description: "Notifications received",
  attributes: system,
  incremental: true,
})

/** Notifications discarded by a full `sliding` or `dropping` subscriber buffer. @since 0.1.0 */
export const notificationsDropped: Metric.Counter<number> = Metric.counter("pgfx.client.notifications.dropped", {
  description: "Notifications discarded because a subscriber's buffer was full",
  attributes: system,
  incremental: true,
})

/**
 * Time spent waiting for a pooled connection, in seconds. Defined here for the pool to record.
 * @since 0.1.0
 */
export const connectionWaitTime: Metric.Histogram<number> = Metric.histogram("db.client.connection.wait_time", {
  description: "Time to obtain a connection from the pool, in seconds",
  attributes: system,
  boundaries: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
})

const waitSeries = new Map<string, Metric.Histogram<number>>()

/**
 * The {@link connectionWaitTime} series of one pool (`db.client.connection.pool.name`, the pool's
 * `name` option).
 * @since 0.1.0
 */
export const connectionWaitTimeFor = (poolName: string): Metric.Histogram<number> => {
  let found = waitSeries.get(poolName)
  if (found === undefined) {
    found = Metric.withAttributes(connectionWaitTime, { "db.client.connection.pool.name": poolName })
    waitSeries.set(poolName, found)
  }
  return found
}
