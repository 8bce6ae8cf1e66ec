/**
 * Schemas for PostgreSQL values in typed queries (`PgQuery`, and the `schema` option of `fetch`,
 * `fetchRow` and `fetchVal`): the value classes the wire codecs produce (`PgTimestamp`,
 * `PgDate`), transformations to plain JavaScript values, and {@link PgSchemaError}, the failure of
 * a value that does not fit its Schema.
 *
 * @example
 * ```ts
 * const Event = Schema.Struct({ id: Schema.Number, at: PgSchema.DateFromTimestamp })
 * // timestamptz column -> Date, and a Date parameter encodes to a timestamptz
 * ```
 * @since 0.1.0
 */
import { PgDate } from "@pgfx/types/PgDate"
import { PgTimestamp } from "@pgfx/types/PgTimestamp"
import { Schema, SchemaTransformation } from "effect"
import { PgSchemaError } from "./PgError.ts"
export { PgSchemaError } from "./PgError.ts"

/** A `PgTimestamp` as decoded from `timestamp` / `timestamptz` columns. @since 0.1.0 */
export const Timestamp = Schema.instanceOf(PgTimestamp)

/** A `PgDate` as decoded from `date` columns. @since 0.1.0 */
export const CalendarDate = Schema.declare((u): u is PgDate => u instanceof PgDate)

/**
 * A JS `Date` from a `timestamptz` (or `timestamp`, read as UTC) column, millisecond precision.
 * Decoding `infinity` fails (a `Date` cannot hold it).
 * @since 0.1.0
 */
export const DateFromTimestamp = Timestamp.pipe(
  Schema.decodeTo(
    Schema.Date,
    SchemaTransformation.transform({
      decode: (ts: PgTimestamp) => ts.toDate(),
      encode: (date: Date) => PgTimestamp.fromDate(date),
    }),
  ),
)

/**
 * A JS `Date` (midnight UTC) from a `date` column.
 * @since 0.1.0
 */
export const DateFromCalendarDate = CalendarDate.pipe(
  Schema.decodeTo(
    Schema.Date,
    SchemaTransformation.transform({
      decode: (d: PgDate) => d.toDate(),
      encode: (date: Date) => PgDate.fromDate(date),
    }),
  ),
)
