/**
 * Tracing settings and the attribute names pgfx puts on its spans.
 *
 * pgfx creates one client span per query call (never per row), one per connection attempt, and
 * (added by their modules) per COPY, transaction and pool acquire. Spans go to Effect's current
 * `Tracer`, so `@effect/opentelemetry` (or any tracer you install) exports them. Attributes
 * follow the OpenTelemetry database conventions:
 *
 * | attribute | value |
 * | --- | --- |
 * | `db.system.name` | `"postgresql"` |
 * | `db.namespace` | the database name |
 * | `db.operation.name` | the first keyword of the statement (`SELECT`, `INSERT`, ...) |
 * | `db.query.text` | the SQL text as sent (parameters stay out: they are sent separately) |
 * | `db.query.summary` | a short low-cardinality summary (`SELECT users`), in `"summary"` mode |
 * | `server.address`, `server.port` | host and port (or the unix socket path) |
 * | `db.response.status_code` | the SQLSTATE of a server error |
 * | `error.type` | the SQLSTATE of a server error, else the error's tag |
 *
 * Spans never carry the password, the user name or parameter values.
 *
 * **Details**
 *
 * When no tracer is installed (Effect's default in-memory `nativeTracer`), pgfx skips span
 * creation entirely, so untraced programs pay nothing for it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as PgTracing from "@pgfx/client/PgTracing"
 *
 * // Record a short summary instead of the SQL text (e.g. when literals may hold personal data):
 * program.pipe(PgTracing.withTracingOptions({ queryText: "summary" }))
 * ```
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"

/** How the SQL text appears on query spans. @since 0.1.0 */
export type QueryTextMode =
  /** `db.query.text` holds the SQL as sent (the default). */
  | "full"
  /** Only `db.query.summary` (e.g. `SELECT users`), which also names the span. */
  | "summary"
  /** Neither text nor summary. */
  | "omit"
  /** Your own sanitiser: its result becomes `db.query.text` (`undefined` leaves it out). */
  | ((sql: string) => string | undefined)

/** Tracing settings read from the context of each query. @since 0.1.0 */
export interface PgTracingOptions {
  /** `false` turns pgfx's spans off (default `true`). */
  readonly enabled: boolean
  /** How SQL text is recorded (default `"full"`). */
  readonly queryText: QueryTextMode
}

/**
 * The tracing settings in effect; provide another value to change them.
 * @since 0.1.0
 */
export const TracingOptions: Context.Reference<PgTracingOptions> = Context.Reference<PgTracingOptions>(
  "@pgfx/client/PgTracing/TracingOptions",
  { defaultValue: () => ({ enabled: true, queryText: "full" }) },
)

/**
 * Runs an effect with some tracing settings changed.
 *
 * @example
 * ```ts
 * conn.fetch("SELECT * FROM users WHERE email = 'a@b.c'").pipe(
 *   PgTracing.withTracingOptions({ queryText: "summary" }),
 * )
 * ```
 * @since 0.1.0
 */
export const withTracingOptions =
  (options: Partial<PgTracingOptions>) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.updateService(self, TracingOptions, (current) => ({ ...current, ...options }))

/**
 * A layer that sets the tracing settings for everything built on it.
 * @since 0.1.0
 */
export const layer = (options: Partial<PgTracingOptions>): Layer.Layer<never> =>
  Layer.succeed(TracingOptions)({ ...TracingOptions.defaultValue(), ...options })

/** Attribute names used on pgfx spans. @since 0.1.0 */
export const Attributes = {
  systemName: "db.system.name",
  namespace: "db.namespace",
  operationName: "db.operation.name",
  queryText: "db.query.text",
  querySummary: "db.query.summary",
  statusCode: "db.response.status_code",
  errorType: "error.type",
  serverAddress: "server.address",
  serverPort: "server.port",
} as const

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13)
const isWordStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c > 127
const isWord = (c: number) => isWordStart(c) || (c >= 48 && c <= 57) || c === 36

/**
 * Splits SQL into words and punctuation, skipping whitespace, comments, and the contents of
 * string literals (which become a single `?`). Quoted identifiers keep their text.
 */
const tokens = function* (sql: string): Generator<string> {
  const n = sql.length
  let i = 0
  while (i < n) {
    const c = sql.charCodeAt(i)
    if (isSpace(c)) {
      i++
    } else if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      // -- comment
      while (i < n && sql.charCodeAt(i) !== 10) i++
    } else if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      // /* comment */, nested as in PostgreSQL
      let depth = 0
      while (i < n) {
        if (sql.charCodeAt(i) === 47 && sql.charCodeAt(i + 1) === 42) {
          depth++
          i += 2
        } else if (sql.charCodeAt(i) === 42 && sql.charCodeAt(i + 1) === 47) {
          depth--
          i += 2
          if (depth === 0) break
        } else i++
      }
    } else if (c === 39) {
      // 'string' with '' escapes
      i++
      while (i < n) {
        if (sql.charCodeAt(i) === 39) {
          if (sql.charCodeAt(i + 1) === 39) i += 2
          else break
        } else i++
      }
      i++
      yield "?"
    } else if (c === 34) {
      // "identifier"
      const start = i
      i++
      while (i < n) {
        if (sql.charCodeAt(i) === 34) {
          if (sql.charCodeAt(i + 1) === 34) i += 2
          else break
        } else i++
      }
      i++
      yield sql.slice(start, i)
    } else if (c === 36 && /^\$[A-Za-z_]*\$/.test(sql.slice(i, i + 64))) {
      // $tag$ ... $tag$
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i, i + 64))![0]
      const end = sql.indexOf(tag, i + tag.length)
      i = end < 0 ? n : end + tag.length
      yield "?"
    } else if (isWordStart(c)) {
      const start = i
      while (i < n && isWord(sql.charCodeAt(i))) i++
      yield sql.slice(start, i)
    } else {
      i++
      yield sql[i - 1]!
    }
  }
}

const isIdentifier = (t: string) => t.startsWith('"') || isWordStart(t.charCodeAt(0))

/**
 * The operation of a statement for `db.operation.name`: its first keyword, upper-cased
 * (`SELECT`, `INSERT`, `WITH`, `BEGIN`, ...), or `undefined` for an empty statement.
 *
 * @example
 * ```ts
 * PgTracing.operationName("  /* hi *\/ select 1") // "SELECT"
 * ```
 * @since 0.1.0
 */
export const operationName = (sql: string): string | undefined => {
  for (const t of tokens(sql)) {
    if (t === "(") continue
    return isIdentifier(t) && !t.startsWith('"') ? t.toUpperCase() : undefined
  }
  return undefined
}

const targetKeywords = new Set(["FROM", "INTO", "UPDATE", "JOIN", "TABLE", "COPY"])
const skippedAfterTarget = new Set(["ONLY", "IF", "NOT", "EXISTS", "LATERAL"])

/**
 * A short, low-cardinality summary of a statement for `db.query.summary` and span names: the
 * operation followed by the first table it names, e.g. `SELECT users`, `INSERT orders`,
 * `UPDATE public.accounts`. Literals never appear in it.
 *
 * @example
 * ```ts
 * PgTracing.summarize("SELECT * FROM users WHERE email = 'a@b.c'") // "SELECT users"
 * ```
 * @since 0.1.0
 */
export const summarize = (sql: string): string => {
  let operation: string | undefined
  let expectTarget = false
  let target = ""
  for (const t of tokens(sql)) {
    const upper = isIdentifier(t) && !t.startsWith('"') ? t.toUpperCase() : t
    if (operation === undefined) {
      if (t === "(") continue
      if (!isIdentifier(t)) break
      operation = upper
      expectTarget = upper === "UPDATE" || upper === "COPY"
      continue
    }
    if (target !== "") {
      // qualified names: schema.table
      if (t === "." || (target.endsWith(".") && isIdentifier(t))) {
        target += t
        continue
      }
      break
    }
    if (expectTarget) {
      if (skippedAfterTarget.has(upper)) continue
      if (isIdentifier(t)) {
        target = t
        continue
      }
      expectTarget = false
    }
    if (targetKeywords.has(upper)) expectTarget = true
  }
  if (operation === undefined) return "EMPTY"
  return target === "" ? operation : `${operation} ${target}`
}
