/**
 * Per-query instrumentation: one span (when a tracer is installed), the query metrics, and the
 * connection's query loggers, around one query call.
 *
 * Hot path: one `Effect.withFiber` and one `Effect.onExit` per query call, nothing per row.
 * Without a tracer the span is skipped; with metrics off and no query logger the query effect
 * is returned untouched. Calls on the fast path (internal/query/FastQuery.ts: no tracer, no query
 * logger) do not come through here: they record the same metrics with {@link recordMetrics}
 * when their cycle ends.
 *
 * @internal
 */
import { Cause, Context, Duration, Effect, type Exit, Option, Redacted, type Tracer } from "effect"
import type { ResolvedConfig } from "../../PgConfig.ts"
import type { QueryOptions } from "../Options.ts"
import { PgServerError, type PgQueryError } from "../../PgError.ts"
import * as PgMetrics from "../../PgMetrics.ts"
import type { LoggedQuery, PgConnectionParameters, PgServerAddress } from "../Events.ts"
import * as PgTracing from "../../PgTracing.ts"
import { callSafely, type ConnectionEvents } from "../connection/ConnectionEvents.ts"
import { isTracing, querySpan, recordFailure, withSpan } from "./Tracing.ts"

/** What the instrumentation reads of a connection. */
type Observed = Pick<ConnectionEvents, "config" | "eventContext" | "queryLoggers" | "session">

interface Described {
  readonly address: PgServerAddress
  readonly parameters: PgConnectionParameters
}

const describedCache = new WeakMap<ResolvedConfig, Described>()

/** Address and settings for query loggers: an allow-list, so the password can never appear. */
const describe = (config: ResolvedConfig): Described => {
  let described = describedCache.get(config)
  if (described === undefined) {
    const target = config.target
    described = {
      address:
        target._tag === "tcp"
          ? { _tag: "tcp", host: target.host, port: target.port }
          : { _tag: "unix", path: target.path },
      parameters: { user: config.user, database: config.database, serverSettings: { ...config.serverSettings } },
    }
    describedCache.set(config, described)
  }
  return described
}

/** Records one finished query call in the metrics: `error` is its failure, if any (not interruptions). */
export const recordMetrics = (
  context: Context.Context<never>,
  error: PgQueryError | undefined,
  elapsedMs: number,
): void => {
  PgMetrics.queries.updateUnsafe(1, context)
  PgMetrics.operationDuration.updateUnsafe(elapsedMs / 1000, context)
  if (error !== undefined) {
    PgMetrics.queryErrorsFor(error._tag, error instanceof PgServerError ? error.code : undefined).updateUnsafe(
      1,
      context,
    )
  }
}

const callLoggers = (
  conn: Observed,
  sql: string,
  args: ReadonlyArray<unknown>,
  options: QueryOptions | undefined,
  exit: Exit.Exit<unknown, PgQueryError>,
  elapsedMs: number,
): void => {
  const described = describe(conn.config)
  const error = exit._tag === "Failure" ? Option.getOrUndefined(Cause.findErrorOption(exit.cause)) : undefined
  const base = {
    query: sql,
    timeout: options?.timeout === undefined ? undefined : Duration.fromInputUnsafe(options.timeout),
    elapsed: Duration.millis(elapsedMs),
    error,
    interrupted: exit._tag === "Failure" && error === undefined && Cause.hasInterrupts(exit.cause),
    address: described.address,
    parameters: described.parameters,
  }
  let redacted: ReadonlyArray<unknown> | undefined
  for (const [callback, loggerOptions] of conn.queryLoggers) {
    const record: LoggedQuery = {
      ...base,
      args: loggerOptions?.redactArgs === true ? (redacted ??= args.map((a) => Redacted.make(a))) : args,
    }
    callSafely(conn.eventContext, "query logger", () => callback(record))
  }
}

/**
 * Instruments one query call (`effect`, timeout included) of `conn`: span, metrics, query
 * loggers.
 */
export const observe = <A>(
  conn: Observed,
  sql: string,
  args: ReadonlyArray<unknown> | undefined,
  options: QueryOptions | undefined,
  effect: Effect.Effect<A, PgQueryError>,
): Effect.Effect<A, PgQueryError> =>
  Effect.withFiber((fiber) => {
    const tracing = isTracing(fiber)
    const metrics = fiber.getRef(PgMetrics.Enabled)
    if (!tracing && !metrics && conn.queryLoggers.size === 0) return effect
    const context = fiber.context
    if (metrics) PgMetrics.pipelineDepth.updateUnsafe(conn.session.pending + 1, context)
    const start = performance.now()
    const finish = (exit: Exit.Exit<A, PgQueryError>, span: Tracer.Span | undefined) => {
      const elapsedMs = performance.now() - start
      if (span !== undefined) recordFailure(span, exit)
      if (metrics) {
        recordMetrics(
          context,
          exit._tag === "Failure" ? Option.getOrUndefined(Cause.findErrorOption(exit.cause)) : undefined,
          elapsedMs,
        )
      }
      if (conn.queryLoggers.size > 0) callLoggers(conn, sql, args ?? [], options, exit, elapsedMs)
      return Effect.void
    }
    if (!tracing) return Effect.onExit(effect, (exit) => finish(exit, undefined))
    const { name, attributes } = querySpan(conn.config, sql, fiber.getRef(PgTracing.TracingOptions))
    return Effect.useSpan(name, { kind: "client", attributes }, (span) =>
      Effect.onExit(effect, (exit) => finish(exit, span)),
    )
  })

/** Instruments a connection attempt: a `connect <database>` span and the connect metrics. */
export const observeConnect = <A, E extends { readonly _tag: string }>(
  config: ResolvedConfig,
  effect: Effect.Effect<A, E>,
): Effect.Effect<A, E> =>
  Effect.withFiber((fiber) => {
    const metrics = fiber.getRef(PgMetrics.Enabled)
    const counted = metrics
      ? Effect.onExit(effect, (exit) => {
          if (exit._tag === "Success") PgMetrics.connectionsOpened.updateUnsafe(1, fiber.context)
          else {
            const error = Cause.findErrorOption(exit.cause)
            if (Option.isSome(error)) PgMetrics.connectErrorsFor(error.value._tag).updateUnsafe(1, fiber.context)
          }
          return Effect.void
        })
      : effect
    return withSpan(counted, `connect ${config.database}`, config)
  })
