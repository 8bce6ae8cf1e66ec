/**
 * `PgTimestamp`: a PostgreSQL `timestamp` or `timestamptz` kept to the microsecond.
 *
 * One class serves both types; the `withTimeZone` flag records which one a value came from and
 * only changes how it prints. `micros` counts microseconds since 1970-01-01 00:00:00 — an instant
 * in UTC for `timestamptz`, the wall-clock reading taken as if it were UTC for `timestamp`.
 *
 * @since 0.1.0
 */
import { civilFromDays, daysFromCivil, formatYmd, pad2, UNIX_TO_PG_DAYS } from "./internal/calendar.ts"

const US_PER_DAY = 86_400_000_000n
/** Microseconds from 1970-01-01 to 2000-01-01 (PostgreSQL's epoch). */
const PG_EPOCH_US = 946_684_800_000_000n
const INT64_MAX = 2n ** 63n - 1n
const INT64_MIN = -(2n ** 63n)
/** PostgreSQL's valid range in wire units (µs since 2000): [MIN_TIMESTAMP, END_TIMESTAMP). */
const MIN_TIMESTAMP = -211_813_488_000_000_000n
const END_TIMESTAMP = 9_223_371_331_200_000_000n

const fields: Array<number> = [0, 0, 0]

const floorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q
}

const pad6 = (n: number): string => String(n).padStart(6, "0")

/**
 * A `timestamp` / `timestamptz` value with microsecond precision, or `±infinity`.
 *
 * @example
 * ```ts
 * import { PgTimestamp } from "@pgfx/types/PgTimestamp"
 * const t = PgTimestamp.fromDate(new Date("2024-01-02T03:04:05.123Z"))
 * t.toString()      // "2024-01-02 03:04:05.123+00"
 * t.toISOString()   // "2024-01-02T03:04:05.123Z"
 * ```
 * @since 0.1.0
 * @category models
 */
export class PgTimestamp {
  /**
   * Microseconds since 1970-01-01 00:00:00 UTC. For `infinity` / `-infinity` it is the int64
   * maximum / minimum (far outside PostgreSQL's range, so never a finite value).
   */
  readonly micros: bigint
  /** True for a `timestamptz` value (prints with `+00`), false for a `timestamp`. */
  readonly withTimeZone: boolean

  constructor(micros: bigint, withTimeZone = true) {
    this.micros = micros
    this.withTimeZone = withTimeZone
  }

  /** `'infinity'::timestamptz`; use {@link PgTimestamp.infinityOf} for the `timestamp` one. */
  static readonly infinity: PgTimestamp = new PgTimestamp(INT64_MAX, true)
  /** `'-infinity'::timestamptz`; use {@link PgTimestamp.infinityOf} for the `timestamp` one. */
  static readonly negativeInfinity: PgTimestamp = new PgTimestamp(INT64_MIN, true)

  /** `infinity` (`sign` 1) or `-infinity` (`sign` -1) with the given flag. */
  static infinityOf(sign: 1 | -1, withTimeZone: boolean): PgTimestamp {
    return new PgTimestamp(sign > 0 ? INT64_MAX : INT64_MIN, withTimeZone)
  }

  /**
   * The instant of a JS `Date` (millisecond precision). With `withTimeZone = false` the Date's
   * UTC wall-clock reading becomes the `timestamp`. Throws RangeError for an invalid Date.
   */
  static fromDate(date: Date, withTimeZone = true): PgTimestamp {
    const ms = date.getTime()
    if (Number.isNaN(ms)) throw new RangeError("invalid Date")
    return new PgTimestamp(BigInt(ms) * 1000n, withTimeZone)
  }

  /** From PostgreSQL's wire value: µs since 2000-01-01, int64 max/min meaning ±infinity. */
  static fromPgMicros(pgMicros: bigint, withTimeZone: boolean): PgTimestamp {
    if (pgMicros === INT64_MAX || pgMicros === INT64_MIN) return new PgTimestamp(pgMicros, withTimeZone)
    return new PgTimestamp(pgMicros + PG_EPOCH_US, withTimeZone)
  }

  /**
   * From calendar fields read as UTC (astronomical year: 1 BC is 0), plus microseconds.
   * Throws RangeError when a field is out of its range.
   */
  static make(
    year: number,
    month: number,
    day: number,
    hour = 0,
    minute = 0,
    second = 0,
    microsecond = 0,
    withTimeZone = true,
  ): PgTimestamp {
    if (
      !Number.isSafeInteger(year) ||
      !Number.isInteger(month) ||
      month < 1 ||
      month > 12 ||
      !Number.isInteger(day) ||
      day < 1 ||
      day > 31 ||
      !Number.isInteger(hour) ||
      hour < 0 ||
      hour > 24 ||
      !Number.isInteger(minute) ||
      minute < 0 ||
      minute > 59 ||
      !Number.isInteger(second) ||
      second < 0 ||
      second > 60 ||
      !Number.isInteger(microsecond) ||
      microsecond < 0 ||
      microsecond > 999_999
    ) {
      throw new RangeError("invalid timestamp fields")
    }
    const days = daysFromCivil(year, month, day)
    civilFromDays(days, fields)
    if (fields[2] !== day) throw new RangeError(`invalid calendar date ${year}-${month}-${day}`)
    const us = BigInt(days) * US_PER_DAY + BigInt((hour * 60 + minute) * 60 + second) * 1_000_000n + BigInt(microsecond)
    return new PgTimestamp(us + PG_EPOCH_US, withTimeZone)
  }

  /** False for `infinity` / `-infinity`. */
  get isFinite(): boolean {
    return this.micros !== INT64_MAX && this.micros !== INT64_MIN
  }

  /** PostgreSQL's wire value: µs since 2000-01-01, int64 max/min for ±infinity. */
  get pgMicros(): bigint {
    return this.isFinite ? this.micros - PG_EPOCH_US : this.micros
  }

  /** True when PostgreSQL can hold this value (4714-11-24 BC up to 294276-12-31 24:00, or ±infinity). */
  get isInPostgresRange(): boolean {
    if (!this.isFinite) return true
    const pg = this.micros - PG_EPOCH_US
    return pg >= MIN_TIMESTAMP && pg < END_TIMESTAMP
  }

  /**
   * The JS `Date` of this instant, truncated (rounded down) to the millisecond. Throws
   * RangeError for `±infinity` and for values outside the JS `Date` range.
   */
  toDate(): Date {
    if (!this.isFinite) throw new RangeError(`${this.toString()} cannot be a JS Date`)
    const d = new Date(Number(floorDiv(this.micros, 1000n)))
    if (Number.isNaN(d.getTime())) throw new RangeError(`${this.toString()} is outside the JS Date range`)
    return d
  }

  /**
   * ISO 8601: `2024-01-02T03:04:05.123Z` with 3 fractional digits, or 6 when the value has
   * sub-millisecond precision; years outside 0–9999 use the expanded `±YYYYYY` form (astronomical
   * numbering, like `Date#toISOString`). A `timestamp` (no time zone) has no `Z`. `±infinity`
   * give `"infinity"` / `"-infinity"`.
   */
  toISOString(): string {
    if (this.micros === INT64_MAX) return "infinity"
    if (this.micros === INT64_MIN) return "-infinity"
    const days = floorDiv(this.micros, US_PER_DAY)
    const tod = Number(this.micros - days * US_PER_DAY)
    civilFromDays(Number(days) - UNIX_TO_PG_DAYS, fields)
    const y = fields[0]
    const year =
      y >= 0 && y <= 9999 ? String(y).padStart(4, "0") : (y < 0 ? "-" : "+") + String(Math.abs(y)).padStart(6, "0")
    const us = tod % 1_000_000
    const frac = us % 1000 === 0 ? `.${String(us / 1000).padStart(3, "0")}` : `.${pad6(us)}`
    return (
      year + "-" + pad2(fields[1]) + "-" + pad2(fields[2]) + "T" + clock(tod) + frac + (this.withTimeZone ? "Z" : "")
    )
  }

  /**
   * PostgreSQL's output with `DateStyle = ISO` and `TimeZone = UTC`:
   * `2024-01-02 03:04:05.123456+00` for `timestamptz`, without `+00` for `timestamp`; trailing
   * fractional zeros dropped; `0044-03-15 12:00:00+00 BC`; `infinity`, `-infinity`.
   */
  toString(): string {
    return formatTimestamp(this.micros, this.withTimeZone)
  }

  /** Same as {@link toISOString}. */
  toJSON(): string {
    return this.toISOString()
  }

  /** True when `that` is the same instant (the `withTimeZone` flag is ignored). */
  equals(that: PgTimestamp): boolean {
    return this.micros === that.micros
  }
}

const clock = (tod: number): string => {
  const secs = Math.floor(tod / 1_000_000)
  return `${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor(secs / 60) % 60)}:${pad2(secs % 60)}`
}

/**
 * PostgreSQL's ISO text for µs since 1970 (`withTimeZone` adds `+00`, the UTC offset).
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatTimestamp = (micros: bigint, withTimeZone: boolean): string => {
  if (micros === INT64_MAX) return "infinity"
  if (micros === INT64_MIN) return "-infinity"
  const days = floorDiv(micros, US_PER_DAY)
  const tod = Number(micros - days * US_PER_DAY)
  civilFromDays(Number(days) - UNIX_TO_PG_DAYS, fields)
  const year = fields[0]
  let s = `${formatYmd(year, fields[1], fields[2])} ${clock(tod)}`
  const us = tod % 1_000_000
  if (us !== 0) {
    let f = pad6(us)
    let end = 6
    while (f.charCodeAt(end - 1) === 48) end--
    f = f.slice(0, end)
    s += `.${f}`
  }
  if (withTimeZone) s += "+00"
  return year <= 0 ? `${s} BC` : s
}

const TIMESTAMP_TEXT =
  /^(\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6})\d*)?(?:([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?|(Z))?( BC)?$/

/**
 * Parses PostgreSQL's ISO-DateStyle `timestamp` / `timestamptz` output (any UTC offset such as
 * `+00`, `+05:30`, `-03:00:00`; ` BC`; `infinity`; `-infinity`) and ISO 8601
 * (`2024-01-02T03:04:05.678Z`); undefined for anything else. Like the server, a `timestamp`
 * ignores a UTC offset; a `timestamptz` needs one (without it the server would read the
 * session's TimeZone, which a client-side parser cannot know).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseTimestamp = (text: string, withTimeZone: boolean): PgTimestamp | undefined => {
  if (text === "infinity") return PgTimestamp.infinityOf(1, withTimeZone)
  if (text === "-infinity") return PgTimestamp.infinityOf(-1, withTimeZone)
  const m = TIMESTAMP_TEXT.exec(text)
  if (m === null) return undefined
  const y = Number(m[1])
  const frac = m[7] === undefined ? 0 : Number(m[7].padEnd(6, "0"))
  let t: PgTimestamp
  try {
    t = PgTimestamp.make(
      m[13] === undefined ? y : 1 - y,
      Number(m[2]),
      Number(m[3]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6]),
      frac,
      withTimeZone,
    )
  } catch {
    return undefined
  }
  if (!withTimeZone) return t
  if (m[12] !== undefined) return t
  if (m[8] === undefined) return undefined
  const offset = (Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0)) * (m[8] === "-" ? -1 : 1)
  return offset === 0 ? t : new PgTimestamp(t.micros - BigInt(offset) * 1_000_000n, withTimeZone)
}

/** @internal */
export const TimestampLimits = { INT64_MAX, INT64_MIN, MIN_TIMESTAMP, END_TIMESTAMP, PG_EPOCH_US } as const
