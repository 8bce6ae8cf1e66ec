/**
 * Rows through a Schema: the one mechanism behind `PgQuery`'s `row` Schema and the `schema`
 * option of `fetch`, `fetchRow` and `fetchVal` (on a connection, a pool, a client). The wire
 * codecs decode the cells; the Schema then decodes each row once (never per cell), synchronously,
 * into the call's value. A row that does not decode is a `PgSchemaError` naming the query, the
 * row's index and (through the Schema's issue) the column.
 *
 * The decoders are {@link Pick}s (internal/query/FastQuery.ts): they run where the raw picks run, on the
 * fast path and on the general path alike, and throw `PgSchemaError`, which fails the call.
 *
 * @internal
 */
import { Cause, type Effect, Exit, Option, Schema } from "effect"
import type { FetchValOptions } from "../Options.ts"
import { type PgQueryError, PgSchemaError } from "../../PgError.ts"
import { type PgColumn, type PgRecord, recordMembers } from "../../PgRecord.ts"
import type { Fragment } from "../../PgSql.ts"
import { type Pick, type PickError, pickFirstRow, pickRows, pickValue, valueAt } from "./FastQuery.ts"
import type { ExecuteResult } from "../wire/Handlers.ts"

/** A Schema a row (or a value) decodes through: any decoder that needs no services. */
export type RowSchema = Schema.Decoder<unknown>

/** Options that may carry a row Schema (`{ schema }`). */
export interface WithSchema {
  readonly schema?: RowSchema | undefined
}

type Decode = (input: unknown) => Exit.Exit<unknown, Schema.SchemaError>

const decoders = new WeakMap<RowSchema, Decode>()

/** The Schema's synchronous decoder, built once per Schema. */
const decoderOf = (schema: RowSchema): Decode => {
  let decode = decoders.get(schema)
  if (decode === undefined) {
    decode = Schema.decodeUnknownExit(schema)
    decoders.set(schema, decode)
  }
  return decode
}

/**
 * Decodes rows of one query: `decode(record, index)` fails with `PgSchemaError`. A record whose
 * columns are all plain property names that no `PgRecord` member shadows is given to the Schema
 * as it is (its columns are its own properties, no copy); otherwise as `toObject()`. Which one is
 * decided once per result (the rows of a result share their `columns`).
 */
export const rowDecoder = (schema: RowSchema, query: string) => {
  const decode = decoderOf(schema)
  let plainColumns: ReadonlyArray<PgColumn> | undefined
  const input = (record: PgRecord): unknown => {
    const columns = record.columns
    if (columns === plainColumns) return record
    if (columns.every((c) => PLAIN_NAME.test(c.name) && !SHADOWED.has(c.name))) {
      plainColumns = columns
      return record
    }
    return record.toObject()
  }
  return (record: PgRecord, index: number): Exit.Exit<unknown, PgSchemaError> => {
    const exit = decode(input(record))
    // The common case allocates nothing more than the Schema's own result.
    if (Exit.isSuccess(exit)) return exit as Exit.Exit<unknown, never>
    return orSchemaError(exit, (error) => ({
      message: `query ${query}: row ${index} does not decode: ${error.message}`,
      query,
      row: index,
    }))
  }
}

/** `exit`, its Schema failure (if any) turned into a `PgSchemaError` with `fields`. */
const orSchemaError = <A>(
  exit: Exit.Exit<A, Schema.SchemaError>,
  fields: (error: Schema.SchemaError) => {
    readonly message: string
    readonly query: string
    readonly row?: number
    readonly column?: string
  },
): Exit.Exit<A, PgSchemaError> => {
  if (Exit.isSuccess(exit)) return exit as Exit.Exit<A, never>
  const error = Cause.findErrorOption(exit.cause)
  if (Option.isNone(error)) return exit as Exit.Exit<never>
  return Exit.fail(new PgSchemaError({ ...fields(error.value), direction: "row", cause: error.value }))
}

/** The value of a decode, or the `PgSchemaError` thrown (a {@link Pick} throws to fail its call). */
const valueOrThrow = <A>(exit: Exit.Exit<A, PgSchemaError>): A => {
  if (Exit.isSuccess(exit)) return exit.value
  const error = Cause.findErrorOption(exit.cause)
  throw Option.isSome(error) ? error.value : Cause.squash(exit.cause)
}

/** The {@link Pick} of `fetch`: the raw rows, or with `schema` every row decoded. */
export const rows = (sql: string, options: WithSchema | undefined): Pick<ReadonlyArray<unknown>, PickError> => {
  const schema = options?.schema
  if (schema === undefined) return pickRows
  const decode = rowDecoder(schema, sql)
  return (result: ExecuteResult): Array<unknown> => {
    const records = result.rows
    const out: Array<unknown> = new Array(records.length)
    for (let i = 0; i < records.length; i++) out[i] = valueOrThrow(decode(records[i]!, i))
    return out
  }
}

/** The {@link Pick} of `fetchRow`: the first row, if any, decoded with `schema`. */
export const firstRow = (sql: string, options: WithSchema | undefined): Pick<Option.Option<unknown>, PickError> => {
  const schema = options?.schema
  if (schema === undefined) return pickFirstRow
  const decode = rowDecoder(schema, sql)
  return (result) => {
    const record = result.rows[0]
    return record === undefined ? Option.none() : Option.some(valueOrThrow(decode(record, 0)))
  }
}

/**
 * The {@link Pick} of `fetchVal`: the value of `column` in the first row (`None` without a row,
 * `Some(null)` for a NULL), decoded with `schema`.
 */
export const value = (
  sql: string,
  options: (FetchValOptions & WithSchema) | undefined,
): Pick<Option.Option<unknown>, PickError> => {
  const column = options?.column ?? 0
  const schema = options?.schema
  if (schema === undefined) return pickValue(column)
  const decode = decoderOf(schema)
  return (result) => {
    const record = result.rows[0]
    if (record === undefined) return Option.none()
    const name = record.columns[column]?.name
    const exit = orSchemaError(decode(valueAt(record, column)), (error) => ({
      message: `query ${sql}: column ${column}${name === undefined ? "" : ` ("${name}")`} of row 0 does not decode: ${error.message}`,
      query: sql,
      row: 0,
      ...(name === undefined ? {} : { column: name }),
    }))
    return Option.some(valueOrThrow(exit))
  }
}

/** The arguments every overload of `fetch` / `fetchRow` / `fetchVal` comes down to. */
export type FetchImpl = (
  query: string | Fragment,
  argsOrOptions?: ReadonlyArray<unknown> | (FetchValOptions & WithSchema),
  options?: FetchValOptions & WithSchema,
) => Effect.Effect<unknown, unknown, unknown>

/**
 * The implementation signature of a fetch method (`Fetch`, `FetchRow`, `FetchVal`), for a layer
 * that hands a call on as it came (a pool to its connection): the value and errors are the ones
 * the call's own overload promised.
 */
export const implOf = (
  method: object,
): ((
  sql: string,
  args: ReadonlyArray<unknown> | undefined,
  options: (FetchValOptions & WithSchema) | undefined,
) => Effect.Effect<unknown, PgQueryError | PgSchemaError>) => method as never

/**
 * Types the one implementation of a fetch method as its overloaded public type `M`
 * (`PgConnection.Fetch`, `FetchRow`, `FetchVal`): the overloads are the contract (checked by
 * packages/client/test/typed-fetch.types.test.ts), the implementation takes their union.
 */
export const overloaded = <M>(impl: FetchImpl): M => impl as unknown as M

const PLAIN_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/
/** Names under which a record's property is not its column: its members and `Object.prototype`'s. */
const SHADOWED = new Set([
  ...recordMembers,
  "valueOf",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
])
