/**
 * Codec registries that return the value types of other PostgreSQL clients, for migrating an
 * application step by step. **Lossy**: they exist so that code written against another client's
 * values keeps working, not because the values are exact.
 *
 * `effectSqlPg` gives the types `@effect/sql-pg` 4.x returns where they differ from pgfx's:
 *
 * | type | pgfx | `effectSqlPg` | lost |
 * | --- | --- | --- | --- |
 * | `timestamp`, `timestamptz` | `PgTimestamp` | `Date` | microseconds (truncated to the millisecond); `±infinity` and values outside the JS `Date` range become an invalid `Date` |
 * | `date` | `PgDate` | `string` (`"2024-01-02"`, `"infinity"`) | nothing, but the value is text |
 * | `time` | `PgTime` | `bigint` microseconds since midnight | nothing |
 * | `timetz` | `PgTimeTz` | `string` as the server prints it | nothing, but the value is text |
 *
 * Arrays of these types follow their elements. Every other type (and every parameter: `Date`,
 * strings and the pgfx classes are all accepted) is unchanged; `int8` is a `bigint` in both.
 *
 * @example
 * ```ts
 * import * as CompatCodecs from "@pgfx/types/CompatCodecs"
 * import * as PgClient from "@pgfx/client/PgClient"
 *
 * // timestamps come back as Date, as with @effect/sql-pg
 * const layer = PgClient.layer({ url: "postgres://app@localhost/app", codecs: CompatCodecs.effectSqlPg() })
 * ```
 * @since 0.1.0
 */
import { arrayCodec } from "./ArrayCodec.ts"
import { arrayOptionsOf } from "./Builtins.ts"
import { type Codec, map } from "./Codec.ts"
import { builtins, type CodecRegistry } from "./CodecRegistry.ts"
import { date, timestamp, timestamptz } from "./DateTimeCodecs.ts"
import { PgTime } from "./PgTime.ts"
import type { PgTimestamp } from "./PgTimestamp.ts"
import { time, timetz } from "./TimeCodecs.ts"

const identity = (value: unknown): unknown => value

/** A `Date`, truncated to the millisecond; an invalid `Date` where there is none (as @effect/sql-pg). */
const toDate = (value: PgTimestamp): Date => {
  if (!value.isFinite) return new Date(Number.NaN)
  try {
    return value.toDate()
  } catch {
    return new Date(Number.NaN)
  }
}

const timeFromMicros = (value: unknown): unknown => (typeof value === "bigint" ? new PgTime(Number(value)) : value)

/** The scalar codec and its array codec. */
const withArray = (codec: Codec): ReadonlyArray<Codec> =>
  codec.arrayOid === 0 ? [codec] : [codec, arrayCodec(codec, arrayOptionsOf(codec)) as Codec]

/**
 * `base` (default: the built-in registry) with `@effect/sql-pg`'s value types for timestamps,
 * dates and times (see the module documentation for what is lost).
 * @since 0.1.0
 */
export const effectSqlPg = (base: CodecRegistry = builtins): CodecRegistry =>
  base.withAll(
    [
      map(timestamp, toDate, identity, { stringsAsText: true }),
      map(timestamptz, toDate, identity, { stringsAsText: true }),
      map(date, (d) => d.toString(), identity, { stringsAsText: true }),
      map(time, (t) => BigInt(t.micros), timeFromMicros, { stringsAsText: true }),
      map(timetz, (t) => t.toString(), identity, { stringsAsText: true }),
    ].flatMap((c) => withArray(c as Codec)),
  )
