/**
 * Span helpers shared by every pgfx operation (queries, connect, and for their owners COPY,
 * transactions and pool acquire), so all spans carry the same OpenTelemetry database
 * attributes and never a secret.
 *
 * - {@link isTracing}: whether a span would be seen at all. With Effect's default in-memory
 *   tracer nobody can observe our spans, so we skip them (no cost on untraced programs).
 * - {@link withSpan}: wraps an operation in a client span that is the parent of whatever runs
 *   inside (use for COPY, transactions, acquire).
 * - {@link querySpan}: name and attributes of a query span (used by `Instrument.observe`).
 * - {@link recordFailure}: `db.response.status_code` and `error.type` from a failure.
 *
 * @example
 * ```ts
 * // in a COPY implementation:
 * Tracing.withSpan(copyEffect, `COPY ${table}`, conn.config, { "db.operation.name": "COPY" })
 * ```
 *
 * @internal
 */
import { Cause, Effect, type Exit, type Fiber, Option, Tracer } from "effect"
import type { ResolvedConfig } from "../../PgConfig.ts"
import { PgServerError } from "../../PgError.ts"
import * as PgTracing from "../../PgTracing.ts"

type Attributes = Record<string, unknown>

/** True when pgfx should create spans in this fiber: a real tracer is installed and tracing is on. */
export const isTracing = (fiber: Fiber.Fiber<unknown, unknown>): boolean => {
  if (!fiber.cache.tracerEnabled) return false
  const tracer = fiber.cache.tracer
  if (tracer === undefined || tracer === Tracer.nativeTracer) return false
  return fiber.getRef(PgTracing.TracingOptions).enabled
}

const connectionAttributesCache = new WeakMap<ResolvedConfig, Readonly<Attributes>>()

/**
 * The attributes every span of a connection carries: system, database, server address and port.
 * Deliberately a short allow-list: no user, no password, no settings.
 */
export const connectionAttributes = (config: ResolvedConfig): Readonly<Attributes> => {
  let attributes = connectionAttributesCache.get(config)
  if (attributes === undefined) {
    const target = config.target
    attributes =
      target._tag === "tcp"
        ? {
            [PgTracing.Attributes.systemName]: "postgresql",
            [PgTracing.Attributes.namespace]: config.database,
            [PgTracing.Attributes.serverAddress]: target.host,
            [PgTracing.Attributes.serverPort]: target.port,
          }
        : {
            [PgTracing.Attributes.systemName]: "postgresql",
            [PgTracing.Attributes.namespace]: config.database,
            [PgTracing.Attributes.serverAddress]: target.path,
          }
    connectionAttributesCache.set(config, attributes)
  }
  return attributes
}

/** Sets `db.response.status_code` and `error.type` on `span` from a failed exit. */
export const recordFailure = (span: Tracer.Span, exit: Exit.Exit<unknown, unknown>): void => {
  if (exit._tag === "Success") return
  const error = Cause.findErrorOption(exit.cause)
  if (Option.isNone(error)) return
  const e = error.value
  if (e instanceof PgServerError) {
    span.attribute(PgTracing.Attributes.statusCode, e.code)
    span.attribute(PgTracing.Attributes.errorType, e.code)
  } else if (typeof e === "object" && e !== null && "_tag" in e && typeof e._tag === "string") {
    span.attribute(PgTracing.Attributes.errorType, e._tag)
  }
}

/**
 * Runs `self` in a client span named `name` with the connection's attributes plus `attributes`,
 * as the parent span of everything inside; records failure attributes. Does nothing when
 * {@link isTracing} is false.
 */
export const withSpan = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  name: string,
  config: ResolvedConfig,
  attributes?: Attributes,
): Effect.Effect<A, E, R> =>
  Effect.withFiber((fiber) => {
    if (!isTracing(fiber)) return self
    return Effect.useSpan(
      name,
      { kind: "client", attributes: { ...connectionAttributes(config), ...attributes } },
      (span) =>
        Effect.onExit(Effect.withParentSpan(self, span), (exit) => {
          recordFailure(span, exit)
          return Effect.void
        }),
    )
  })

interface QuerySpan {
  readonly name: string
  readonly attributes: Readonly<Attributes>
}

const querySpanCacheSize = 256
const querySpanCache = new WeakMap<ResolvedConfig, Map<string, QuerySpan>>()

/**
 * The name and attributes of the span of one query. Cached per connection settings, SQL text and
 * text mode (statements repeat), except for a custom sanitiser.
 */
export const querySpan = (config: ResolvedConfig, sql: string, options: PgTracing.PgTracingOptions): QuerySpan => {
  const mode = options.queryText
  if (typeof mode === "function") return buildQuerySpan(config, sql, mode)
  let cache = querySpanCache.get(config)
  if (cache === undefined) {
    cache = new Map()
    querySpanCache.set(config, cache)
  }
  const key = `${mode}\0${sql}`
  let span = cache.get(key)
  if (span === undefined) {
    if (cache.size >= querySpanCacheSize) cache.clear()
    span = buildQuerySpan(config, sql, mode)
    cache.set(key, span)
  }
  return span
}

const buildQuerySpan = (config: ResolvedConfig, sql: string, mode: PgTracing.QueryTextMode): QuerySpan => {
  const attributes: Attributes = { ...connectionAttributes(config) }
  const operation = PgTracing.operationName(sql)
  if (operation !== undefined) attributes[PgTracing.Attributes.operationName] = operation
  let name: string
  if (mode === "summary") {
    const summary = PgTracing.summarize(sql)
    attributes[PgTracing.Attributes.querySummary] = summary
    name = summary
  } else {
    if (mode === "full") attributes[PgTracing.Attributes.queryText] = sql
    else if (typeof mode === "function") {
      const text = mode(sql)
      if (text !== undefined) attributes[PgTracing.Attributes.queryText] = text
    }
    name = operation === undefined ? config.database : `${operation} ${config.database}`
  }
  return { name, attributes }
}
