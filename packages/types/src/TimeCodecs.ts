/**
 * Codecs for `time` ↔ {@link PgTime}, `timetz` ↔ {@link PgTimeTz} and `interval` ↔
 * {@link Interval}.
 *
 * Wire formats: `time` int64 microseconds since midnight; `timetz` the same plus an int32 zone in
 * seconds WEST of UTC (PostgreSQL's internal sign; `PgTimeTz.offsetSeconds` uses the ISO sign);
 * `interval` int64 microseconds, int32 days, int32 months.
 *
 * Encode accepts the value class (for `interval` also `{ months, days, microseconds }`); a JS
 * string is sent as text for the server to parse (`"1 day 02:00"`, `"P1D"`, `"04:05+02"`).
 *
 * @since 0.1.0
 */
import type { Writer } from "@pgfx/protocol/Writer"
import { checkLength, type Codec, decodeError, invalidType, invalidValue, make } from "./Codec.ts"
import { Interval, parseInterval } from "./Interval.ts"
import { Oids } from "./Oids.ts"
import { parseTime, PgTime, PgTimeTz } from "./PgTime.ts"

const readInt64AsNumber = (view: DataView, at: number): number =>
  view.getInt32(at) * 4294967296 + view.getUint32(at + 4)

// ---------------------------------------------------------------------------------------------
// time

const toTime = (value: unknown): PgTime => {
  if (value instanceof PgTime) return value
  throw invalidType("time", "a PgTime (or a string, sent as text)", value)
}

/**
 * `time` (OID 1083) ↔ {@link PgTime}.
 *
 * @since 0.1.0
 * @category codecs
 */
export const time: Codec<PgTime> = make({
  name: "time",
  oid: Oids.time,
  arrayOid: Oids._time,
  binary: true,
  decodeBinary: (_buf, view, offset, length) => {
    checkLength("time", length, 8)
    const micros = readInt64AsNumber(view, offset)
    if (micros < 0 || micros > 86_400_000_000) throw decodeError("time", `out of range: ${micros}`)
    return new PgTime(micros)
  },
  decodeText: (text) => {
    const t = parseTime(text)
    if (!(t instanceof PgTime)) throw decodeError("time", "unrecognized text")
    return t
  },
  encodeBinary: (value, w) => {
    w.int64(BigInt(toTime(value).micros))
  },
  encodeText: (value) => toTime(value).toString(),
  stringsAsText: true,
})

// ---------------------------------------------------------------------------------------------
// timetz

const toTimeTz = (value: unknown): PgTimeTz => {
  if (value instanceof PgTimeTz) return value
  throw invalidType("timetz", "a PgTimeTz (or a string, sent as text)", value)
}

/**
 * `timetz` / `time with time zone` (OID 1266) ↔ {@link PgTimeTz}.
 *
 * @since 0.1.0
 * @category codecs
 */
export const timetz: Codec<PgTimeTz> = make({
  name: "timetz",
  oid: Oids.timetz,
  arrayOid: Oids._timetz,
  binary: true,
  decodeBinary: (_buf, view, offset, length) => {
    checkLength("timetz", length, 12)
    const micros = readInt64AsNumber(view, offset)
    try {
      return new PgTimeTz(micros, -view.getInt32(offset + 8) || 0)
    } catch (e) {
      throw decodeError("timetz", (e as Error).message)
    }
  },
  decodeText: (text) => {
    const t = parseTime(text)
    if (!(t instanceof PgTimeTz)) throw decodeError("timetz", "unrecognized text")
    return t
  },
  encodeBinary: (value, w) => {
    const t = toTimeTz(value)
    w.int64(BigInt(t.micros)).int32(-t.offsetSeconds || 0)
  },
  encodeText: (value) => toTimeTz(value).toString(),
  stringsAsText: true,
})

// ---------------------------------------------------------------------------------------------
// interval

const INTERVAL_EXPECTED = "an Interval or { months, days, microseconds } (or a string, sent as text)"

const toInterval = (value: unknown): Interval => {
  if (value instanceof Interval) return value
  if (typeof value === "object" && value !== null && "months" in value && "days" in value) {
    const o = value as { months: unknown; days: unknown; microseconds?: unknown }
    if (
      typeof o.months === "number" &&
      typeof o.days === "number" &&
      (o.microseconds === undefined || typeof o.microseconds === "bigint" || typeof o.microseconds === "number")
    ) {
      try {
        return new Interval(o.months, o.days, o.microseconds ?? 0n)
      } catch (e) {
        throw invalidValue("interval", INTERVAL_EXPECTED, value, (e as Error).message)
      }
    }
  }
  throw invalidType("interval", INTERVAL_EXPECTED, value)
}

const INT32_MIN = -2147483648
const INT32_MAX = 2147483647
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

const writeInterval = (value: unknown, w: Writer): void => {
  const i = toInterval(value)
  if (
    i.months < INT32_MIN ||
    i.months > INT32_MAX ||
    i.days < INT32_MIN ||
    i.days > INT32_MAX ||
    i.microseconds < INT64_MIN ||
    i.microseconds > INT64_MAX
  ) {
    throw invalidValue("interval", INTERVAL_EXPECTED, value, "a field is out of PostgreSQL's range")
  }
  w.int64(i.microseconds).int32(i.days).int32(i.months)
}

/**
 * `interval` (OID 1186) ↔ {@link Interval} (months, days and microseconds kept apart).
 *
 * @since 0.1.0
 * @category codecs
 */
export const interval: Codec<Interval> = make({
  name: "interval",
  oid: Oids.interval,
  arrayOid: Oids._interval,
  binary: true,
  decodeBinary: (_buf, view, offset, length) => {
    checkLength("interval", length, 16)
    return new Interval(view.getInt32(offset + 12), view.getInt32(offset + 8), view.getBigInt64(offset))
  },
  decodeText: (text) => {
    const i = parseInterval(text)
    if (i === undefined) throw decodeError("interval", "unrecognized text")
    return i
  },
  encodeBinary: writeInterval,
  encodeText: (value) => {
    const i = toInterval(value)
    return i.isFinite ? i.toISOString() : i.toString()
  },
  stringsAsText: true,
})
