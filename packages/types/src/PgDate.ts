/**
 * `PgDate`: a PostgreSQL `date` kept exactly, as a calendar date with no time zone.
 *
 * JS `Date` is an instant, so a calendar date in it depends on a time zone and cannot hold
 * PostgreSQL's range (4714-11-24 BC to 5874897-12-31) or `±infinity`. `PgDate` holds the
 * calendar fields and the day number; convert with {@link PgDate.toDate} / {@link PgDate.fromDate}
 * when a JS `Date` is wanted.
 *
 * @since 0.1.0
 */
import {
  civilFromDays,
  DATE_END_DAYS,
  DATE_MIN_DAYS,
  daysFromCivil,
  daysInMonth,
  formatYmd,
  UNIX_TO_PG_DAYS,
} from "./internal/calendar.ts"

const MS_PER_DAY = 86_400_000
const fields: Array<number> = [0, 0, 0]

/**
 * A calendar date (proleptic Gregorian, astronomical year numbering: year 0 is 1 BC, year −43 is
 * 44 BC), or `±infinity`.
 *
 * @example
 * ```ts
 * import { PgDate } from "@pgfx/types/PgDate"
 * PgDate.make(2024, 2, 29).toString()   // "2024-02-29"
 * PgDate.make(-43, 3, 15).toString()    // "0044-03-15 BC"
 * PgDate.infinity.toString()            // "infinity"
 * ```
 * @since 0.1.0
 * @category models
 */
export class PgDate {
  /** Astronomical year (`0` = 1 BC); `±Infinity` for the infinite dates. */
  readonly year: number
  /** Month 1–12; `NaN` for the infinite dates. */
  readonly month: number
  /** Day of month 1–31; `NaN` for the infinite dates. */
  readonly day: number
  /** Days since 2000-01-01 (PostgreSQL's epoch and wire value); `±Infinity` for the infinite dates. */
  readonly days: number

  private constructor(year: number, month: number, day: number, days: number) {
    this.year = year
    this.month = month
    this.day = day
    this.days = days
  }

  /** The date later than every other date (`'infinity'::date`). */
  static readonly infinity: PgDate = new PgDate(Infinity, NaN, NaN, Infinity)
  /** The date earlier than every other date (`'-infinity'::date`). */
  static readonly negativeInfinity: PgDate = new PgDate(-Infinity, NaN, NaN, -Infinity)

  /**
   * A date from calendar fields. Throws RangeError unless `month`/`day` form a valid day of `year`
   * (all integers). Use astronomical years: 1 BC is `0`, 44 BC is `-43`.
   */
  static make(year: number, month: number, day: number): PgDate {
    if (
      !Number.isSafeInteger(year) ||
      !Number.isInteger(month) ||
      !Number.isInteger(day) ||
      month < 1 ||
      month > 12 ||
      day < 1 ||
      day > daysInMonth(year, month)
    ) {
      throw new RangeError(`invalid calendar date ${year}-${month}-${day}`)
    }
    return new PgDate(year, month, day, daysFromCivil(year, month, day))
  }

  /**
   * The date `days` days after 2000-01-01 (negative: before). `±Infinity` gives the infinite
   * dates. Throws RangeError for other non-integers.
   */
  static fromDays(days: number): PgDate {
    if (days === Infinity) return PgDate.infinity
    if (days === -Infinity) return PgDate.negativeInfinity
    if (!Number.isSafeInteger(days)) throw new RangeError(`invalid day number ${days}`)
    civilFromDays(days, fields)
    return new PgDate(fields[0], fields[1], fields[2], days)
  }

  /** The UTC calendar date of a JS `Date`. Throws RangeError for an invalid Date. */
  static fromDate(date: Date): PgDate {
    const ms = date.getTime()
    if (Number.isNaN(ms)) throw new RangeError("invalid Date")
    return PgDate.fromDays(Math.floor(ms / MS_PER_DAY) - UNIX_TO_PG_DAYS)
  }

  /** False for `infinity` / `-infinity`. */
  get isFinite(): boolean {
    return Number.isFinite(this.days)
  }

  /** True when PostgreSQL's `date` type can hold this value (its range, or `±infinity`). */
  get isInPostgresRange(): boolean {
    return !this.isFinite || (this.days >= DATE_MIN_DAYS && this.days < DATE_END_DAYS)
  }

  /**
   * Midnight UTC of this date as a JS `Date`. Throws RangeError for `±infinity` and for dates
   * outside the JS `Date` range (about 271821 BC to 275760 AD).
   */
  toDate(): Date {
    if (!this.isFinite) throw new RangeError(`${this.toString()} cannot be a JS Date`)
    const d = new Date((this.days + UNIX_TO_PG_DAYS) * MS_PER_DAY)
    if (Number.isNaN(d.getTime())) throw new RangeError(`${this.toString()} is outside the JS Date range`)
    return d
  }

  /**
   * PostgreSQL's output with `DateStyle = ISO`: `2024-02-29`, `0044-03-15 BC`, `10000-01-01`,
   * `infinity`, `-infinity`.
   */
  toString(): string {
    if (this.days === Infinity) return "infinity"
    if (this.days === -Infinity) return "-infinity"
    const s = formatYmd(this.year, this.month, this.day)
    return this.year <= 0 ? `${s} BC` : s
  }

  /** Same as {@link toString}. */
  toJSON(): string {
    return this.toString()
  }

  /** True when `that` is the same date. */
  equals(that: PgDate): boolean {
    return this.days === that.days
  }
}

const DATE_TEXT = /^(\d{4,})-(\d{2})-(\d{2})( BC)?$/

/**
 * Parses PostgreSQL's ISO-DateStyle `date` output (`2024-02-29`, `0044-03-15 BC`, `infinity`,
 * `-infinity`); undefined for anything else.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseDate = (text: string): PgDate | undefined => {
  if (text === "infinity") return PgDate.infinity
  if (text === "-infinity") return PgDate.negativeInfinity
  const m = DATE_TEXT.exec(text)
  if (m === null) return undefined
  const y = Number(m[1])
  try {
    return PgDate.make(m[4] === undefined ? y : 1 - y, Number(m[2]), Number(m[3]))
  } catch {
    return undefined
  }
}
