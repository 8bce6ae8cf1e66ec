/**
 * `Interval`: a PostgreSQL `interval` kept exactly as the server keeps it, as three separate
 * fields — months, days and microseconds — because they do not convert into each other (a month
 * is 28 to 31 days, a day is 23 to 25 hours across a DST change).
 *
 * `toString()` prints PostgreSQL's default `IntervalStyle = postgres` text
 * (`1 year 2 mons -3 days +04:05:06.789`), `toISOString()` its `iso_8601` style
 * (`P1Y2M-3DT4H5M6.789S`). PostgreSQL 17+ also has `±infinity` intervals.
 *
 * @since 0.1.0
 */
import { pad2 } from "./internal/calendar.ts"

const INT32_MAX = 2147483647
const INT32_MIN = -2147483648
const INT64_MAX = 2n ** 63n - 1n
const INT64_MIN = -(2n ** 63n)
const US_PER_HOUR = 3_600_000_000n
const US_PER_MINUTE = 60_000_000n
const US_PER_SECOND = 1_000_000n

/**
 * Fields for {@link Interval.make}. All are integers except `seconds`, which may have a fraction
 * (rounded to the microsecond).
 *
 * @since 0.1.0
 * @category models
 */
export interface IntervalFields {
  readonly years?: number
  readonly months?: number
  readonly weeks?: number
  readonly days?: number
  readonly hours?: number
  readonly minutes?: number
  readonly seconds?: number
  readonly milliseconds?: number
  readonly microseconds?: number | bigint
}

const int = (name: string, n: number): number => {
  if (!Number.isSafeInteger(n)) throw new RangeError(`interval ${name} must be an integer, got ${n}`)
  return n
}

/**
 * An `interval` value.
 *
 * @example
 * ```ts
 * import { Interval } from "@pgfx/types/Interval"
 * const i = Interval.make({ years: 1, months: 2, days: -3, hours: 4, seconds: 6.789 })
 * String(i)          // "1 year 2 mons -3 days +04:00:06.789"
 * i.toISOString()    // "P1Y2M-3DT4H6.789S"
 * i.months           // 14
 * ```
 * @since 0.1.0
 * @category models
 */
export class Interval {
  /** Months (years × 12 + months), int32. */
  readonly months: number
  /** Days, int32. */
  readonly days: number
  /** The time part in microseconds, int64. */
  readonly microseconds: bigint

  /** The interval of `months`, `days` and `microseconds` (PostgreSQL's three fields). */
  constructor(months = 0, days = 0, microseconds: bigint | number = 0n) {
    this.months = int("months", months)
    this.days = int("days", days)
    this.microseconds = typeof microseconds === "bigint" ? microseconds : BigInt(int("microseconds", microseconds))
  }

  /** `'infinity'::interval` (PostgreSQL 17+). */
  static readonly infinity: Interval = new Interval(INT32_MAX, INT32_MAX, INT64_MAX)
  /** `'-infinity'::interval` (PostgreSQL 17+). */
  static readonly negativeInfinity: Interval = new Interval(INT32_MIN, INT32_MIN, INT64_MIN)

  /** An interval from calendar and clock fields (each may be negative). */
  static make(fields: IntervalFields): Interval {
    const months = int("years", fields.years ?? 0) * 12 + int("months", fields.months ?? 0)
    const days = int("weeks", fields.weeks ?? 0) * 7 + int("days", fields.days ?? 0)
    const seconds = fields.seconds ?? 0
    if (!Number.isFinite(seconds)) throw new RangeError(`interval seconds must be finite, got ${seconds}`)
    const whole = Math.trunc(seconds)
    const micros =
      BigInt(int("hours", fields.hours ?? 0)) * US_PER_HOUR +
      BigInt(int("minutes", fields.minutes ?? 0)) * US_PER_MINUTE +
      BigInt(whole) * US_PER_SECOND +
      BigInt(Math.round((seconds - whole) * 1e6)) +
      BigInt(int("milliseconds", fields.milliseconds ?? 0)) * 1000n +
      BigInt(fields.microseconds ?? 0)
    return new Interval(months, days, micros)
  }

  /** False for `infinity` / `-infinity`. */
  get isFinite(): boolean {
    return !(
      (this.months === INT32_MAX && this.days === INT32_MAX && this.microseconds === INT64_MAX) ||
      (this.months === INT32_MIN && this.days === INT32_MIN && this.microseconds === INT64_MIN)
    )
  }

  /** PostgreSQL's `IntervalStyle = postgres` text (the default): `1 year 2 mons -3 days +04:05:06.789`. */
  toString(): string {
    if (!this.isFinite) return this.months > 0 ? "infinity" : "-infinity"
    const p = parts(this)
    let s = ""
    let isZero = true
    let isBefore = false
    const add = (value: number, unit: string): void => {
      if (value === 0) return
      s += `${isZero ? "" : " "}${isBefore && value > 0 ? "+" : ""}${value} ${unit}${value !== 1 ? "s" : ""}`
      isBefore = value < 0
      isZero = false
    }
    add(p.years, "year")
    add(p.months, "mon")
    add(p.days, "day")
    if (isZero || p.hours !== 0 || p.minutes !== 0 || p.seconds !== 0 || p.micros !== 0) {
      const minus = p.hours < 0 || p.minutes < 0 || p.seconds < 0 || p.micros < 0
      const hours = Math.abs(p.hours)
      s += `${isZero ? "" : " "}${minus ? "-" : isBefore ? "+" : ""}${hours < 10 ? `0${hours}` : hours}:`
      s += `${pad2(Math.abs(p.minutes))}:${pad2(Math.abs(p.seconds))}${fraction(Math.abs(p.micros))}`
    }
    return s
  }

  /** PostgreSQL's `IntervalStyle = iso_8601` text: `P1Y2M-3DT4H5M6.789S`, `PT0S` for zero. */
  toISOString(): string {
    if (!this.isFinite) return this.months > 0 ? "infinity" : "-infinity"
    const p = parts(this)
    if (p.years === 0 && p.months === 0 && p.days === 0 && p.hours === 0 && p.minutes === 0) {
      if (p.seconds === 0 && p.micros === 0) return "PT0S"
    }
    const part = (v: number, unit: string): string => (v === 0 ? "" : `${v}${unit}`)
    let s = `P${part(p.years, "Y")}${part(p.months, "M")}${part(p.days, "D")}`
    if (p.hours !== 0 || p.minutes !== 0 || p.seconds !== 0 || p.micros !== 0) s += "T"
    s += part(p.hours, "H") + part(p.minutes, "M")
    if (p.seconds !== 0 || p.micros !== 0) {
      s += `${p.seconds < 0 || p.micros < 0 ? "-" : ""}${Math.abs(p.seconds)}${fraction(Math.abs(p.micros))}S`
    }
    return s
  }

  /** Same as {@link toISOString}. */
  toJSON(): string {
    return this.toISOString()
  }

  /** True when all three fields are equal (`1 day` and `24 hours` are different intervals here). */
  equals(that: Interval): boolean {
    return this.months === that.months && this.days === that.days && this.microseconds === that.microseconds
  }
}

/** PostgreSQL's interval2itm: every part truncated toward zero, carrying the sign of its field. */
const parts = (i: Interval) => {
  const t = i.microseconds
  const hours = t / US_PER_HOUR
  let rest = t - hours * US_PER_HOUR
  const minutes = rest / US_PER_MINUTE
  rest -= minutes * US_PER_MINUTE
  const seconds = rest / US_PER_SECOND
  return {
    years: Math.trunc(i.months / 12),
    months: i.months % 12,
    days: i.days,
    hours: Number(hours),
    minutes: Number(minutes),
    seconds: Number(seconds),
    micros: Number(rest - seconds * US_PER_SECOND),
  }
}

/** `.ffffff` without trailing zeros, or "" for 0. @internal */
export const fraction = (micros: number): string => {
  if (micros === 0) return ""
  let f = String(micros).padStart(6, "0")
  let end = 6
  while (f.charCodeAt(end - 1) === 48) end--
  f = f.slice(0, end)
  return `.${f}`
}

const POSTGRES_UNIT = /^(years?|mons?|days?)$/
const CLOCK = /^([+-])?(\d+):(\d{2}):(\d{2})(?:\.(\d{1,6})\d*)?$/

/** Microseconds of a `[+-]H:MM:SS[.ffffff]` clock, or undefined. */
const clockMicros = (tok: string): bigint | undefined => {
  const clock = CLOCK.exec(tok)
  if (clock === null) return undefined
  const t =
    BigInt(clock[2]!) * US_PER_HOUR +
    BigInt(clock[3]!) * US_PER_MINUTE +
    BigInt(clock[4]!) * US_PER_SECOND +
    BigInt((clock[5] ?? "").padEnd(6, "0"))
  return clock[1] === "-" ? -t : t
}

const make = (months: number, days: number, micros: bigint): Interval | undefined => {
  try {
    return new Interval(months || 0, days || 0, micros)
  } catch {
    return undefined
  }
}

/**
 * Parses PostgreSQL's interval output in any `IntervalStyle` — `postgres` (the default,
 * `1 year 2 mons -3 days +04:05:06.789`), `postgres_verbose`
 * (`@ 1 year 2 mons -3 days 4 hours 5 mins 6.789 secs ago`), `sql_standard` (`+1-2 -3 +4:05:06.789`,
 * `1-2`, `-3 4:05:06`) and `iso_8601` (`P1Y2M-3DT4H5M6.789S`) — and `infinity` / `-infinity`;
 * undefined for anything else. The style is recognized from the text itself (each style's output
 * is unambiguous), so a value decodes right whatever the session's IntervalStyle was.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseInterval = (text: string): Interval | undefined => {
  if (text === "infinity") return Interval.infinity
  if (text === "-infinity") return Interval.negativeInfinity
  if (text.startsWith("P")) return parseIso(text)
  if (text.startsWith("@")) return parseVerbose(text)
  const tokens = text.split(" ")
  if (!/[a-z]/.test(text)) return parseSqlStandard(tokens)
  let months = 0
  let days = 0
  let micros = 0n
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!
    const clock = clockMicros(tok)
    if (clock !== undefined) {
      micros += clock
      continue
    }
    const unit = tokens[i + 1]
    if (!/^[+-]?\d+$/.test(tok) || unit === undefined || !POSTGRES_UNIT.test(unit)) return undefined
    const n = Number(tok)
    if (unit.startsWith("year")) months += n * 12
    else if (unit.startsWith("mon")) months += n
    else days += n
    i++
  }
  return make(months, days, micros)
}

const YEAR_MONTH = /^([+-])?(\d+)-(\d+)$/
const DAYS = /^([+-])?(\d+)$/

/** `sql_standard`: `0`, `[-]Y-M`, `[-]D H:MM:SS`, `[-]H:MM:SS`, or `±Y-M ±D ±H:MM:SS` (mixed signs). */
const parseSqlStandard = (tokens: ReadonlyArray<string>): Interval | undefined => {
  if (tokens.length === 1 && tokens[0] === "0") return new Interval(0, 0, 0n)
  if (tokens.length === 3) {
    const ym = YEAR_MONTH.exec(tokens[0]!)
    const d = DAYS.exec(tokens[1]!)
    const t = clockMicros(tokens[2]!)
    if (ym === null || d === null || t === undefined) return undefined
    const months = (Number(ym[2]) * 12 + Number(ym[3])) * (ym[1] === "-" ? -1 : 1)
    return make(months, Number(d[2]) * (d[1] === "-" ? -1 : 1), t)
  }
  // one sign in front of the whole value
  const first = tokens[0]!
  const negative = first.startsWith("-")
  const sign = negative ? -1 : 1
  const head = negative ? first.slice(1) : first
  if (tokens.length === 1) {
    const ym = YEAR_MONTH.exec(head)
    if (ym !== null && ym[1] === undefined) return make(sign * (Number(ym[2]) * 12 + Number(ym[3])), 0, 0n)
    const t = head.startsWith("+") ? undefined : clockMicros(head)
    return t === undefined ? undefined : make(0, 0, negative ? -t : t)
  }
  if (tokens.length === 2 && /^\d+$/.test(head)) {
    const t = tokens[1]!.startsWith("+") || tokens[1]!.startsWith("-") ? undefined : clockMicros(tokens[1]!)
    return t === undefined ? undefined : make(0, sign * Number(head), negative ? -t : t)
  }
  return undefined
}

const VERBOSE_UNIT = /^(years?|mons?|days?|hours?|mins?|secs?)$/
const VERBOSE_SECONDS = /^(-)?(\d+)(?:\.(\d{1,6})\d*)?$/

/** `postgres_verbose`: `@ 1 year -2 mons 3 days 4 hours 5 mins 6.5 secs ago`, `@ 0`. */
const parseVerbose = (text: string): Interval | undefined => {
  const tokens = text.split(" ")
  if (tokens[0] !== "@") return undefined
  let end = tokens.length
  const ago = tokens[end - 1] === "ago"
  if (ago) end--
  if (end === 2 && tokens[1] === "0") return new Interval(0, 0, 0n)
  if (end < 3) return undefined
  let months = 0
  let days = 0
  let micros = 0n
  for (let i = 1; i < end; i += 2) {
    const tok = tokens[i]!
    const unit = tokens[i + 1]
    if (unit === undefined || i + 1 >= end || !VERBOSE_UNIT.test(unit)) return undefined
    if (unit.startsWith("sec")) {
      const m = VERBOSE_SECONDS.exec(tok)
      if (m === null) return undefined
      const us = BigInt(m[2]!) * US_PER_SECOND + BigInt((m[3] ?? "").padEnd(6, "0"))
      micros += m[1] === "-" ? -us : us
      continue
    }
    if (!/^-?\d+$/.test(tok)) return undefined
    const n = BigInt(tok)
    if (unit.startsWith("year")) months += Number(n) * 12
    else if (unit.startsWith("mon")) months += Number(n)
    else if (unit.startsWith("day")) days += Number(n)
    else if (unit.startsWith("hour")) micros += n * US_PER_HOUR
    else micros += n * US_PER_MINUTE
  }
  return ago ? make(-months, -days, -micros) : make(months, days, micros)
}

const ISO = /^P(?:(-?\d+)Y)?(?:(-?\d+)M)?(?:(-?\d+)D)?(?:T(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?)(\d+)(?:\.(\d{1,6}))?S)?)?$/

const parseIso = (text: string): Interval | undefined => {
  const m = ISO.exec(text)
  if (m === null) return undefined
  const n = (s: string | undefined): number => (s === undefined ? 0 : Number(s))
  const secs = BigInt(n(m[7])) * US_PER_SECOND + BigInt((m[8] ?? "").padEnd(6, "0"))
  const micros = BigInt(n(m[4])) * US_PER_HOUR + BigInt(n(m[5])) * US_PER_MINUTE + (m[6] === "-" ? -secs : secs)
  return new Interval(n(m[1]) * 12 + n(m[2]), n(m[3]), micros)
}
