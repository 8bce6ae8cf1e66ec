/**
 * The canonical text of a JS scalar or pgfx value for a parameter whose type is `text` or
 * `unknown` (`SELECT $1`, where the server infers `text`): what the value prints as, which is
 * what PostgreSQL prints for the same value.
 *
 * @internal
 */
import { BitString } from "../BitString.ts"
import { Box, Circle, Line, LineSegment, Path, Point, Polygon } from "../Geometry.ts"
import { Interval } from "../Interval.ts"
import { PgDate } from "../PgDate.ts"
import { PgJson } from "../PgJson.ts"
import { PgTime, PgTimeTz } from "../PgTime.ts"
import { PgTimestamp } from "../PgTimestamp.ts"
import { Range } from "../Range.ts"
import { Tid } from "../Tid.ts"

const valueClasses: ReadonlyArray<Function> = [
  PgTimestamp,
  PgDate,
  PgTime,
  PgTimeTz,
  Interval,
  Range,
  BitString,
  Point,
  Line,
  LineSegment,
  Box,
  Path,
  Polygon,
  Circle,
  Tid,
  PgJson,
]

/** The accepted values, for error messages. @internal */
export const VALUE_TEXT_EXPECTED =
  "a string, number, bigint, boolean, Date, or a pgfx value (PgTimestamp, PgDate, Interval, Range, ...)"

/**
 * The canonical text of `value`: numbers, bigints and booleans as `String(value)`, a `Date` as
 * ISO 8601 (`2024-01-02T03:04:05.678Z`), pgfx value classes as they print; undefined for
 * anything else.
 *
 * @internal
 */
export const valueText = (value: unknown): string | undefined => {
  switch (typeof value) {
    case "number":
    case "bigint":
    case "boolean":
      return String(value)
    case "object": {
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString()
      for (const c of valueClasses) if (value instanceof c) return String(value)
      return undefined
    }
    default:
      return undefined
  }
}
