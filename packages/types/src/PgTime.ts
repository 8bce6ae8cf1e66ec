/**
 * `PgTime` and `PgTimeTz`: PostgreSQL `time` and `timetz` values kept to the microsecond.
 *
 * JS has no time-of-day type; these hold the microseconds since midnight (0 to 86 400 000 000,
 * `24:00:00` included, a safe integer) and, for `timetz`, the UTC offset. `toString()` prints what
 * PostgreSQL prints.
 *
 * @since 0.1.0
 */
import { pad2 } from "./internal/calendar.ts"
import { fraction } from "./Interval.ts"

const US_PER_DAY = 86_400_000_000
/** PostgreSQL's limit for a timetz offset: ±15:59:59. */
const MAX_OFFSET = 15 * 3600 + 59 * 60 + 59

const checkMicros = (micros: number): number => {
  if (!Number.isSafeInteger(micros) || micros < 0 || micros > US_PER_DAY) {
    throw new RangeError(`time of day must be 0 to 86400000000 microseconds, got ${micros}`)
  }
  return micros
}

const fromFields = (hour: number, minute: number, second: number, microsecond: number): number => {
  for (const [name, v, max] of [
    ["hour", hour, 24],
    ["minute", minute, 59],
    ["second", second, 60],
    ["microsecond", microsecond, 999_999],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`invalid ${name} ${v}`)
  }
  return checkMicros(((hour * 60 + minute) * 60 + second) * 1_000_000 + microsecond)
}

const clock = (micros: number): string => {
  const secs = Math.floor(micros / 1_000_000)
  return `${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor(secs / 60) % 60)}:${pad2(secs % 60)}${fraction(micros % 1_000_000)}`
}

/**
 * A `time` (without time zone).
 *
 * @example
 * ```ts
 * import { PgTime } from "@pgfx/types/PgTime"
 * String(PgTime.make(4, 5, 6, 789_000)) // "04:05:06.789"
 * ```
 * @since 0.1.0
 * @category models
 */
export class PgTime {
  /** Microseconds since midnight, 0 to 86 400 000 000. */
  readonly micros: number
  constructor(micros: number) {
    this.micros = checkMicros(micros)
  }
  /** A time from clock fields. Throws RangeError for out-of-range fields. */
  static make(hour: number, minute = 0, second = 0, microsecond = 0): PgTime {
    return new PgTime(fromFields(hour, minute, second, microsecond))
  }
  get hour(): number {
    return Math.floor(this.micros / 3_600_000_000)
  }
  get minute(): number {
    return Math.floor(this.micros / 60_000_000) % 60
  }
  get second(): number {
    return Math.floor(this.micros / 1_000_000) % 60
  }
  get microsecond(): number {
    return this.micros % 1_000_000
  }
  /** `04:05:06.789`, as PostgreSQL prints it. */
  toString(): string {
    return clock(this.micros)
  }
  toJSON(): string {
    return this.toString()
  }
  equals(that: PgTime): boolean {
    return this.micros === that.micros
  }
}

/**
 * A `timetz` (time with time zone): a time of day and its UTC offset.
 *
 * @example
 * ```ts
 * import { PgTimeTz } from "@pgfx/types/PgTime"
 * String(PgTimeTz.make(4, 5, 6, 0, 5 * 3600 + 30 * 60)) // "04:05:06+05:30"
 * ```
 * @since 0.1.0
 * @category models
 */
export class PgTimeTz {
  /** Microseconds since midnight (local to the offset), 0 to 86 400 000 000. */
  readonly micros: number
  /**
   * The UTC offset in seconds, positive east of Greenwich (`+05:30` is 19800) — the ISO 8601
   * sign, the opposite of the wire value.
   */
  readonly offsetSeconds: number
  constructor(micros: number, offsetSeconds: number) {
    this.micros = checkMicros(micros)
    if (!Number.isInteger(offsetSeconds) || Math.abs(offsetSeconds) > MAX_OFFSET) {
      throw new RangeError(`invalid UTC offset ${offsetSeconds} seconds`)
    }
    this.offsetSeconds = offsetSeconds
  }
  /** A time with offset from clock fields. */
  static make(hour: number, minute = 0, second = 0, microsecond = 0, offsetSeconds = 0): PgTimeTz {
    return new PgTimeTz(fromFields(hour, minute, second, microsecond), offsetSeconds)
  }
  /** The time of day without the offset. */
  get time(): PgTime {
    return new PgTime(this.micros)
  }
  /** `04:05:06.789+05:30`, as PostgreSQL prints it. */
  toString(): string {
    const abs = Math.abs(this.offsetSeconds)
    const h = Math.floor(abs / 3600)
    const m = Math.floor(abs / 60) % 60
    const s = abs % 60
    const tz = `${this.offsetSeconds >= 0 ? "+" : "-"}${pad2(h)}${s !== 0 ? `:${pad2(m)}:${pad2(s)}` : m !== 0 ? `:${pad2(m)}` : ""}`
    return clock(this.micros) + tz
  }
  toJSON(): string {
    return this.toString()
  }
  /** True when both the time and the offset are equal (PostgreSQL's `=` compares instants instead). */
  equals(that: PgTimeTz): boolean {
    return this.micros === that.micros && this.offsetSeconds === that.offsetSeconds
  }
}

const TIME_TEXT = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6})\d*)?(?:([+-])(\d{2})(?::(\d{2}))?(?::(\d{2}))?)?$/

/**
 * Parses PostgreSQL's `time` / `timetz` output (`04:05:06.789`, `04:05:06+05:30`); a
 * {@link PgTimeTz} when there is an offset, undefined for anything else.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseTime = (text: string): PgTime | PgTimeTz | undefined => {
  const m = TIME_TEXT.exec(text)
  if (m === null) return undefined
  try {
    const micros = fromFields(Number(m[1]), Number(m[2]), Number(m[3]), Number((m[4] ?? "").padEnd(6, "0")))
    if (m[5] === undefined) return new PgTime(micros)
    const offset = (Number(m[6]) * 3600 + Number(m[7] ?? 0) * 60 + Number(m[8] ?? 0)) * (m[5] === "-" ? -1 : 1)
    return new PgTimeTz(micros, offset)
  } catch {
    return undefined
  }
}
