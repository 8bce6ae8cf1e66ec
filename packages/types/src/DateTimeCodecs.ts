/**
 * Codecs for `date` ↔ {@link PgDate} and `timestamp` / `timestamptz` ↔ {@link PgTimestamp}.
 *
 * Wire formats: `date` is an int32 day count since 2000-01-01, `timestamp[tz]` an int64
 * microsecond count since 2000-01-01 00:00 (UTC for timestamptz); the int32/int64 maximum and
 * minimum mean `infinity` / `-infinity`.
 *
 * Encode accepts the value class or a JS `Date` (for `date`: its UTC calendar date; for
 * `timestamp` without time zone: its UTC wall-clock reading). JS strings for these types are sent
 * in text format, so the server parses them with its own DateStyle / TimeZone. Text decoding
 * understands the ISO DateStyle only (PostgreSQL's default).
 *
 * @since 0.1.0
 */
import type { Writer } from "@pgfx/protocol/Writer"
import { checkLength, type Codec, decodeError, invalidType, invalidValue, make } from "./Codec.ts"
import { DATE_END_DAYS, DATE_MIN_DAYS } from "./internal/calendar.ts"
import { Oids } from "./Oids.ts"
import { parseDate, PgDate } from "./PgDate.ts"
import { formatTimestamp, parseTimestamp, PgTimestamp, TimestampLimits } from "./PgTimestamp.ts"

const INT32_MAX = 2147483647
const INT32_MIN = -2147483648
const { INT64_MAX, INT64_MIN, MIN_TIMESTAMP, END_TIMESTAMP, PG_EPOCH_US } = TimestampLimits
const PG_EPOCH_US_NUMBER = Number(PG_EPOCH_US)
/** |high word| below this keeps |µs since 2000| + the epoch offset under 2^53. */
const FAST_HI = 1_800_000

// ---------------------------------------------------------------------------------------------
// date

const DATE_EXPECTED = "a PgDate or a JS Date"

/** Day number since 2000-01-01 to send, INT32 max/min for ±infinity. */
const toDateDays = (value: unknown): number => {
  let date: PgDate
  if (value instanceof PgDate) {
    date = value
  } else if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw invalidValue("date", DATE_EXPECTED, value, "invalid Date")
    date = PgDate.fromDate(value)
  } else {
    throw invalidType("date", DATE_EXPECTED, value)
  }
  const days = date.days
  if (days === Infinity) return INT32_MAX
  if (days === -Infinity) return INT32_MIN
  if (days < DATE_MIN_DAYS || days >= DATE_END_DAYS) {
    throw invalidValue("date", DATE_EXPECTED, value, "out of PostgreSQL's range 4714-11-24 BC to 5874897-12-31")
  }
  return days
}

const decodeDateBinary = (_buf: Uint8Array, view: DataView, offset: number, length: number): PgDate => {
  checkLength("date", length, 4)
  const days = view.getInt32(offset)
  if (days === INT32_MAX) return PgDate.infinity
  if (days === INT32_MIN) return PgDate.negativeInfinity
  return PgDate.fromDays(days)
}

const decodeDateText = (text: string): PgDate => {
  const d = parseDate(text)
  if (d === undefined) throw decodeError("date", "unrecognized text (ISO DateStyle expected)")
  return d
}

const encodeDateBinary = (value: unknown, w: Writer): void => {
  w.int32(toDateDays(value))
}

const encodeDateText = (value: unknown): string => {
  const days = toDateDays(value)
  return days === INT32_MAX ? "infinity" : days === INT32_MIN ? "-infinity" : PgDate.fromDays(days).toString()
}

/**
 * `date` (OID 1082) ↔ {@link PgDate}.
 *
 * @since 0.1.0
 * @category codecs
 */
export const date: Codec<PgDate> = make({
  name: "date",
  oid: Oids.date,
  arrayOid: Oids._date,
  binary: true,
  decodeBinary: decodeDateBinary,
  decodeText: decodeDateText,
  encodeBinary: encodeDateBinary,
  encodeText: encodeDateText,
  stringsAsText: true,
})

// ---------------------------------------------------------------------------------------------
// timestamp, timestamptz

const TIMESTAMP_EXPECTED = "a PgTimestamp or a JS Date"

/** Microseconds since 1970 to send (INT64 max/min for ±infinity), range-checked. */
const toMicros = (typeName: string, value: unknown): bigint => {
  let micros: bigint
  if (value instanceof PgTimestamp) {
    micros = value.micros
    if (micros === INT64_MAX || micros === INT64_MIN) return micros
  } else if (value instanceof Date) {
    const ms = value.getTime()
    if (Number.isNaN(ms)) throw invalidValue(typeName, TIMESTAMP_EXPECTED, value, "invalid Date")
    micros = BigInt(ms) * 1000n
  } else {
    throw invalidType(typeName, TIMESTAMP_EXPECTED, value)
  }
  const pg = micros - PG_EPOCH_US
  if (pg < MIN_TIMESTAMP || pg >= END_TIMESTAMP) {
    throw invalidValue(typeName, TIMESTAMP_EXPECTED, value, "out of PostgreSQL's range 4714-11-24 BC to 294276 AD")
  }
  return micros
}

const timestampCodec = (name: string, oid: number, arrayOid: number, withTimeZone: boolean): Codec<PgTimestamp> => {
  const decodeBinary = (_buf: Uint8Array, view: DataView, offset: number, length: number): PgTimestamp => {
    checkLength(name, length, 8)
    const hi = view.getInt32(offset)
    // Fast path (years ~1715 to ~2284): exact in a double, so the only bigint made is the value's.
    if (hi > -FAST_HI && hi < FAST_HI) {
      return new PgTimestamp(BigInt(hi * 4294967296 + view.getUint32(offset + 4) + PG_EPOCH_US_NUMBER), withTimeZone)
    }
    return PgTimestamp.fromPgMicros(view.getBigInt64(offset), withTimeZone)
  }
  const decodeText = (text: string): PgTimestamp => {
    const t = parseTimestamp(text, withTimeZone)
    if (t === undefined) throw decodeError(name, "unrecognized text (ISO DateStyle expected)")
    return t
  }
  const encodeBinary = (value: unknown, w: Writer): void => {
    const micros = toMicros(name, value)
    w.int64(micros === INT64_MAX || micros === INT64_MIN ? micros : micros - PG_EPOCH_US)
  }
  const encodeText = (value: unknown): string => formatTimestamp(toMicros(name, value), withTimeZone)
  return make({
    name,
    oid,
    arrayOid,
    binary: true,
    decodeBinary,
    decodeText,
    encodeBinary,
    encodeText,
    stringsAsText: true,
  })
}

/**
 * `timestamp` / `timestamp without time zone` (OID 1114) ↔ {@link PgTimestamp} with
 * `withTimeZone = false`.
 *
 * @since 0.1.0
 * @category codecs
 */
export const timestamp: Codec<PgTimestamp> = timestampCodec("timestamp", Oids.timestamp, Oids._timestamp, false)

/**
 * `timestamptz` / `timestamp with time zone` (OID 1184) ↔ {@link PgTimestamp} with
 * `withTimeZone = true`. The wire value is UTC whatever the session's TimeZone.
 *
 * @since 0.1.0
 * @category codecs
 */
export const timestamptz: Codec<PgTimestamp> = timestampCodec("timestamptz", Oids.timestamptz, Oids._timestamptz, true)
