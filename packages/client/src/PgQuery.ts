/**
 * Typed queries: declare a statement once with an Effect Schema for its parameters and one for
 * its row, run it as `all` / `one` / `option` / `stream` / `execute`, and get domain values.
 *
 * - Parameters are encoded by the `params` Schema, then by the wire codecs of the types the
 *   server asked for. With a `Schema.Tuple` the SQL uses `$1`, `$2`, ...; with a `Schema.Struct`
 *   it uses **named parameters** `:name` (rewritten to `$n`; a name used twice is one
 *   parameter; `::casts`, strings, quoted identifiers, comments and dollar quotes are left alone).
 * - Rows are decoded by the wire codecs, then by the `row` Schema once per row (never per cell).
 * - **Checked against the server.** The first time a query runs on a connection or client, its
 *   statement is prepared and described, and the declaration is compared with the server's
 *   ParameterDescription and RowDescription: parameter count and types, column names, order and
 *   types, and nullability (`pg_attribute.attnotnull` for columns that come from a table). Any
 *   difference fails the call with {@link PgQueryMismatchError} listing all of them, before a
 *   row is decoded. {@link check} runs the same comparison on demand (in a test, at layer start,
 *   or with the `pgfx check` CLI).
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import * as PgQuery from "@pgfx/client/PgQuery"
 *
 * const User = Schema.Struct({ id: Schema.Number, name: Schema.String, email: Schema.NullOr(Schema.String) })
 * const userById = PgQuery.make({
 *   sql: "SELECT id, name, email FROM users WHERE id = :id",
 *   params: Schema.Struct({ id: Schema.Number }),
 *   row: User,
 * })
 *
 * const program = Effect.gen(function* () {
 *   const user = yield* userById.option({ id: 1 })        // Option<User>, through PgClient
 *   const same = yield* userById.on(conn).one({ id: 1 })  // on one connection
 * })
 * ```
 *
 * Gotchas: type comparison knows the built-in types (what their codecs decode to and accept);
 * json, enums, composites and extension types are compared by name and nullability only. A
 * NOT NULL column read through an outer join can still be NULL: the server does not say so,
 * declare it nullable yourself. Turn checking off per query with `check: false` (e.g. with a
 * custom codec that changes a built-in type's representation).
 *
 * @since 0.1.0
 */
import { Cause, Effect, Exit, Layer, Option, Schema, type SchemaAST, Stream } from "effect"
import { compileNamed } from "./internal/query/NamedParams.ts"
import * as Route from "./internal/pool/Route.ts"
import * as QueryCheck from "./internal/query/QueryCheck.ts"
import * as RowSchema from "./internal/query/RowSchema.ts"
import type { PgClientError, PgClientShape } from "./PgClient.ts"
import { PgClient } from "./PgClient.ts"
import type { PgConnection, QueryOptions } from "./PgConnection.ts"
import type { CursorOptions } from "./PgCursor.ts"
import { PgInterfaceError, PgNoRowError, PgQueryMismatchError, PgSchemaError } from "./PgError.ts"
import type { PgRecord } from "./PgRecord.ts"

export type { Difference } from "./internal/query/QueryCheck.ts"
export { PgNoRowError, PgQueryMismatchError } from "./PgError.ts"

export {
  /**
   * A parameter value did not encode through the `params` Schema, or a row did not decode through
   * the `row` Schema (see `PgSchema.PgSchemaError`).
   * @since 0.1.0
   */
  PgSchemaError,
} from "./PgSchema.ts"

/** Every failure of a typed query run. @since 0.1.0 */
export type PgTypedQueryError = PgClientError | PgQueryMismatchError | PgSchemaError

/** Where a query runs: one connection, or a client (its pool, or its current connection). @since 0.1.0 */
export type PgExecutor = PgConnection | PgClientShape

/** The ways to run a query, with parameters of type `P` and rows of type `A`. @since 0.1.0 */
export interface PgQueryRunner<P, A, R> {
  /** All rows, decoded. */
  all(params: P, options?: QueryOptions): Effect.Effect<Array<A>, PgTypedQueryError, R>
  /** The first row; fails with `PgNoRowError` when there is none. */
  one(params: P, options?: QueryOptions): Effect.Effect<A, PgTypedQueryError | PgNoRowError, R>
  /** The first row, if any. */
  option(params: P, options?: QueryOptions): Effect.Effect<Option.Option<A>, PgTypedQueryError, R>
  /** The rows as a Stream, through a cursor (see `PgCursor`). */
  stream(params: P, options?: CursorOptions): Stream.Stream<A, PgTypedQueryError, R>
  /** Runs the statement; returns its status tag (`"INSERT 0 1"`). */
  execute(params: P, options?: QueryOptions): Effect.Effect<string, PgTypedQueryError, R>
}

/**
 * A declared query. Its methods run through the `PgClient` in context; {@link PgQuery.on} binds
 * it to a connection or client instead.
 * @since 0.1.0
 */
export interface PgQuery<P, A> extends PgQueryRunner<P, A, PgClient> {
  /** The name given to `make`, or the SQL. */
  readonly name: string
  /** The SQL as declared. */
  readonly sql: string
  /** The SQL sent to the server (named parameters rewritten to `$n`). */
  readonly text: string
  /** The parameter names in `$n` order, for named parameters. */
  readonly parameterNames: ReadonlyArray<string> | undefined
  /** Whether the first run on each connection or client checks the declaration. */
  readonly checked: boolean
  /** The query bound to a connection or client. */
  on(executor: PgExecutor): PgQueryRunner<P, A, never>
  /** Compares the declaration with the server's description (see {@link check}). */
  checkOn(executor: PgExecutor): Effect.Effect<void, PgQueryMismatchError | PgClientError>
}

/** Options of {@link make}. @since 0.1.0 */
export interface MakeOptions<P, PE, A, AE> {
  /** The SQL: `$n` placeholders with a `Schema.Tuple` of params, `:name` ones with a `Schema.Struct`. */
  readonly sql: string
  /** The parameters' Schema (omit for a statement without parameters). */
  readonly params?: Schema.Codec<P, PE> | undefined
  /** The row's Schema, a `Schema.Struct` keyed by column name (omit for a statement without rows). */
  readonly row?: Schema.Codec<A, AE> | undefined
  /** A name for reports and errors (default: the SQL). */
  readonly name?: string | undefined
  /** Check the declaration the first time the query runs on each connection or client (default true). */
  readonly check?: boolean | undefined
}

/** Any declared query, whatever its types. @since 0.1.0 */
export type AnyPgQuery = PgQuery<never, unknown>

const isClient = (executor: PgExecutor): executor is PgClientShape => "pool" in executor && "acquire" in executor

/**
 * Declares a typed query. Throws `PgInterfaceError` when `params` is neither a tuple nor a
 * struct, or when `:name` and `$n` placeholders are mixed.
 *
 * @example
 * ```ts
 * const insertUser = PgQuery.make({
 *   name: "insertUser",
 *   sql: "INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id",
 *   params: Schema.Tuple([Schema.String, Schema.NullOr(Schema.String)]),
 *   row: Schema.Struct({ id: Schema.Number }),
 * })
 * const { id } = yield* insertUser.one(["ada", null])
 * ```
 * @since 0.1.0
 */
export function make<P = void, PE = never, A = never, AE = never>(options: MakeOptions<P, PE, A, AE>): PgQuery<P, A>
export function make(options: MakeOptions<unknown, unknown, unknown, unknown>): PgQuery<unknown, unknown> {
  const name = options.name ?? options.sql
  const paramsAst = options.params === undefined ? undefined : QueryCheck.encodedAst(options.params)
  const namedFields = paramsAst === undefined ? undefined : QueryCheck.structFields(paramsAst)
  if (paramsAst !== undefined && namedFields === undefined && paramsAst._tag !== "Arrays") {
    throw new PgInterfaceError({
      message: `query ${name}: params must be a Schema.Tuple ($n placeholders) or a Schema.Struct (:name placeholders)`,
    })
  }
  let text = options.sql
  let parameterNames: ReadonlyArray<string> | undefined
  if (namedFields !== undefined) {
    try {
      const compiled = compileNamed(options.sql)
      text = compiled.text
      parameterNames = compiled.names
    } catch (e) {
      throw new PgInterfaceError({ message: `query ${name}: ${(e as Error).message}` })
    }
  }
  const encodeParams =
    options.params === undefined ? undefined : Schema.encodeUnknownExit(options.params as Schema.Codec<unknown>)
  const checkedOn = new WeakSet<object>()
  const shouldCheck = options.check !== false

  const args = (params: unknown): Effect.Effect<ReadonlyArray<unknown>, PgSchemaError> => {
    if (encodeParams === undefined) return Effect.succeed([])
    const exit = encodeParams(params)
    if (Exit.isFailure(exit)) {
      const error = Cause.findErrorOption(exit.cause)
      return Option.isSome(error)
        ? Effect.fail(
            new PgSchemaError({
              message: `query ${name}: parameters do not encode: ${error.value.message}`,
              direction: "params",
              query: name,
              cause: error.value,
            }),
          )
        : Effect.failCause(exit.cause as Cause.Cause<never>)
    }
    const encoded = exit.value
    if (parameterNames !== undefined) {
      const record = encoded as Readonly<Record<string, unknown>>
      return Effect.succeed(parameterNames.map((n) => record[n] ?? null))
    }
    return Effect.succeed(encoded as ReadonlyArray<unknown>)
  }

  const decodeOne: (record: PgRecord, index: number) => Exit.Exit<unknown, PgSchemaError> =
    options.row === undefined ? Exit.succeed : RowSchema.rowDecoder(options.row as RowSchema.RowSchema, name)

  const decodeAll = (records: ReadonlyArray<PgRecord>): Effect.Effect<Array<unknown>, PgSchemaError> => {
    const out: Array<unknown> = new Array(records.length)
    for (let i = 0; i < records.length; i++) {
      const exit = decodeOne(records[i]!, i)
      if (Exit.isFailure(exit)) return Effect.failCause(exit.cause)
      out[i] = exit.value
    }
    return Effect.succeed(out)
  }

  const describe = (conn: PgConnection) => describeStatement(conn, text)

  const checkOn = (executor: PgExecutor): Effect.Effect<void, PgQueryMismatchError | PgClientError> =>
    Effect.flatMap(Route.withConnection(executor, describe), (description) => {
      const differences = compare(description)
      if (differences.length === 0) {
        checkedOn.add(keyOf(executor))
        return Effect.void
      }
      return Effect.fail(
        new PgQueryMismatchError({
          message: `query ${name} does not match the server:\n${differences.map((d) => `  - ${d.message}`).join("\n")}`,
          query: name,
          differences,
        }),
      )
    })

  const compare = (description: StatementDescription): Array<QueryCheck.Difference> => {
    const differences: Array<QueryCheck.Difference> = []
    let declaredParams: Array<{ readonly label: string; readonly ast: SchemaAST.AST }> | undefined
    if (namedFields !== undefined && parameterNames !== undefined) {
      const byName = new Map(namedFields.map((f) => [f.name, f]))
      declaredParams = []
      for (const n of parameterNames) {
        const field = byName.get(n)
        if (field === undefined) {
          differences.push({ kind: "ParameterName", message: `parameter :${n} is used in the SQL but not declared` })
        } else declaredParams.push({ label: ` (:${n})`, ast: field.type })
      }
      for (const field of namedFields) {
        if (!parameterNames.includes(field.name)) {
          differences.push({
            kind: "ParameterName",
            message: `parameter :${field.name} is declared but the SQL does not use it`,
          })
        }
      }
      if (differences.length > 0) declaredParams = undefined
    } else if (paramsAst !== undefined) {
      const elements = QueryCheck.tupleElements(paramsAst) ?? []
      declaredParams = elements.map((ast) => ({ label: "", ast }))
    }
    if (declaredParams !== undefined || differences.length === 0) {
      differences.push(...QueryCheck.compareParameters(declaredParams, description.parameters))
    }
    if (options.row === undefined) {
      if (description.columns.length > 0) {
        differences.push({
          kind: "UndeclaredColumn",
          message: `the statement returns ${description.columns.length} column(s) (${description.columns.map((c) => `"${c.name}"`).join(", ")}) but no row Schema is declared`,
        })
      }
    } else {
      const fields = QueryCheck.structFields(QueryCheck.encodedAst(options.row))
      if (fields === undefined) {
        differences.push({ kind: "ColumnType", message: "the row Schema must be a Schema.Struct keyed by column name" })
      } else differences.push(...QueryCheck.compareColumns(fields, description.columns))
    }
    return differences
  }

  // Lazy: whether the executor was checked, and the parameters' encoding, belong to each run.
  const ensureChecked = (executor: PgExecutor): Effect.Effect<void, PgQueryMismatchError | PgClientError> =>
    Effect.suspend(() => (!shouldCheck || checkedOn.has(keyOf(executor)) ? Effect.void : checkOn(executor)))

  const runner = (executor: PgExecutor): PgQueryRunner<unknown, unknown, never> => {
    const prepared = <X>(
      params: unknown,
      f: (args: ReadonlyArray<unknown>) => Effect.Effect<X, PgTypedQueryError | PgNoRowError>,
    ) =>
      Effect.andThen(
        ensureChecked(executor),
        Effect.flatMap(
          Effect.suspend(() => args(params)),
          f,
        ),
      )
    return {
      all: (params, opts) =>
        prepared(params, (a) => Effect.flatMap(fetch(executor, text, a, opts), decodeAll)) as Effect.Effect<
          Array<unknown>,
          PgTypedQueryError
        >,
      option: (params, opts) =>
        prepared(params, (a) =>
          Effect.flatMap(fetchRow(executor, text, a, opts), (row) =>
            Option.isNone(row) ? Effect.succeedNone : Effect.map(decodeOne(row.value, 0), Option.some),
          ),
        ) as Effect.Effect<Option.Option<unknown>, PgTypedQueryError>,
      one: (params, opts) =>
        prepared(params, (a) =>
          Effect.flatMap(
            fetchRow(executor, text, a, opts),
            (row): Effect.Effect<unknown, PgSchemaError | PgNoRowError> =>
              Option.isNone(row)
                ? Effect.fail(new PgNoRowError({ message: `query ${name} returned no row`, query: name }))
                : decodeOne(row.value, 0),
          ),
        ),
      execute: (params, opts) =>
        prepared(params, (a) => executeOn(executor, text, a, opts)) as Effect.Effect<string, PgTypedQueryError>,
      stream: (params, opts) =>
        Stream.unwrap(
          Effect.map(
            Effect.andThen(
              ensureChecked(executor),
              Effect.suspend(() => args(params)),
            ),
            (a) => {
              let index = 0
              return Stream.mapEffect(executor.cursor(text, a, opts), (record) => decodeOne(record, index++))
            },
          ),
        ),
    }
  }

  const viaClient: PgQueryRunner<unknown, unknown, PgClient> = {
    all: (params, opts) => PgClient.use((c) => runner(c).all(params, opts)),
    one: (params, opts) => PgClient.use((c) => runner(c).one(params, opts)),
    option: (params, opts) => PgClient.use((c) => runner(c).option(params, opts)),
    execute: (params, opts) => PgClient.use((c) => runner(c).execute(params, opts)),
    stream: (params, opts) => Stream.unwrap(PgClient.useSync((c) => runner(c).stream(params, opts))),
  }

  return {
    ...viaClient,
    name,
    sql: options.sql,
    text,
    parameterNames,
    checked: shouldCheck,
    on: runner,
    checkOn,
  }
}

/** The key the "already checked" memory uses: a client's pool, or the connection. */
const keyOf = (executor: PgExecutor): object => (isClient(executor) ? executor.pool : executor)

const fetch = (executor: PgExecutor, text: string, args: ReadonlyArray<unknown>, options?: QueryOptions) =>
  executor.fetch(text, args, options)
const fetchRow = (executor: PgExecutor, text: string, args: ReadonlyArray<unknown>, options?: QueryOptions) =>
  executor.fetchRow(text, args, options)
const executeOn = (executor: PgExecutor, text: string, args: ReadonlyArray<unknown>, options?: QueryOptions) =>
  executor.execute(text, args, options)

/** What the server says about a statement. */
interface StatementDescription {
  readonly parameters: ReadonlyArray<QueryCheck.DescribedType>
  readonly columns: ReadonlyArray<QueryCheck.DescribedColumn>
}

/**
 * Prepares `text` (closed again at once), and reads the nullability of its table columns. Views
 * carry no NOT NULL information, so their columns (like expressions) count as unknown.
 */
const describeStatement = (conn: PgConnection, text: string): Effect.Effect<StatementDescription, PgClientError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const stmt = yield* conn.prepare(text)
      const parameters = yield* stmt.getParameters()
      const attributes = yield* stmt.getAttributes()
      const raw = stmt.columns
      const fromTables = raw.filter((c) => c.tableOid !== 0 && c.columnAttribute > 0)
      const notNull = new Map<string, boolean>()
      if (fromTables.length > 0) {
        const rows = yield* conn.fetch(
          "SELECT a.attrelid, a.attnum, a.attnotnull FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid WHERE a.attrelid = ANY($1::oid[]) AND a.attnum = ANY($2::int2[]) AND c.relkind IN ('r', 'p', 'f')",
          [fromTables.map((c) => c.tableOid), fromTables.map((c) => c.columnAttribute)],
        )
        for (const row of rows)
          notNull.set(`${row.get("attrelid")}:${row.get("attnum")}`, row.get("attnotnull") === true)
      }
      const columns = attributes.map((attribute, i) => {
        const column = raw[i]!
        const known =
          column.tableOid !== 0 && column.columnAttribute > 0
            ? notNull.get(`${column.tableOid}:${column.columnAttribute}`)
            : undefined
        return { name: attribute.name, type: attribute.type, notNull: known }
      })
      return { parameters, columns }
    }),
  )

/**
 * Compares a query's declaration with the server's description of its statement, through the
 * `PgClient` in context. Succeeds when they match; fails with {@link PgQueryMismatchError}
 * listing every difference.
 *
 * @example
 * ```ts
 * it.effect("queries match the schema", () => PgQuery.check(userById).pipe(Effect.provide(PgClient.layer(url))))
 * ```
 * @since 0.1.0
 */
export const check = (query: AnyPgQuery): Effect.Effect<void, PgQueryMismatchError | PgClientError, PgClient> =>
  PgClient.use((client) => query.checkOn(client))

/** One query's outcome in a {@link checkAll} report. @since 0.1.0 */
export interface CheckResult {
  readonly name: string
  readonly differences: ReadonlyArray<QueryCheck.Difference>
  /** Set when the statement could not even be prepared (syntax error, unknown table, ...). */
  readonly error?: PgClientError | undefined
}

/**
 * Checks every query against one connection or client and reports each outcome; never fails
 * for a mismatch (read `differences` / `error`).
 * @since 0.1.0
 */
export const checkAll = (executor: PgExecutor, queries: ReadonlyArray<AnyPgQuery>): Effect.Effect<Array<CheckResult>> =>
  Effect.forEach(queries, (query) =>
    query.checkOn(executor).pipe(
      Effect.as<CheckResult>({ name: query.name, differences: [] }),
      Effect.catch((e) =>
        Effect.succeed<CheckResult>(
          e._tag === "PgQueryMismatchError"
            ? { name: query.name, differences: e.differences }
            : { name: query.name, differences: [], error: e },
        ),
      ),
    ),
  )

/**
 * Tests whether a value is a declared query (for tools that scan a module's exports).
 * @since 0.1.0
 */
export const isPgQuery = (u: unknown): u is AnyPgQuery =>
  typeof u === "object" &&
  u !== null &&
  "checkOn" in u &&
  "on" in u &&
  "text" in u &&
  typeof (u as { checkOn: unknown }).checkOn === "function"

/**
 * A Layer that checks queries when it is built (at application start): the app fails to start
 * with {@link PgQueryMismatchError} when a declaration does not match the database.
 *
 * @example
 * ```ts
 * const AppLayer = PgQuery.layerCheck([userById, insertUser]).pipe(Layer.provideMerge(PgClient.layer(url)))
 * ```
 * @since 0.1.0
 */
export const layerCheck = (
  queries: ReadonlyArray<AnyPgQuery>,
): Layer.Layer<never, PgQueryMismatchError | PgClientError, PgClient> =>
  Layer.effectDiscard(Effect.forEach(queries, check, { discard: true }))
