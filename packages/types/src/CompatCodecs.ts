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
import { json, jsonb } from "./JsonCodecs.ts"
import { PgJson } from "./PgJson.ts"
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

/** A string parameter as the JSON document's text (`PgJson.raw`); any other value unchanged. */
const stringAsJsonText = (value: unknown): unknown => (typeof value === "string" ? PgJson.raw(value) : value)

/**
 * `base` (default: the built-in registry) where a **string** given for a `json` / `jsonb`
 * parameter is the document's JSON text, as postgres.js, node-postgres and `@effect/sql-pg` take
 * it (code that sends `JSON.stringify(value)`, such as drizzle-orm's `json` columns, keeps
 * working). pgfx's own default sends a string as a JSON string value instead (`PgJson.raw` is its
 * explicit form of raw text). Decoding is unchanged. The `@pgfx/sql` adapter uses this registry
 * by default, as a drop-in for `@effect/sql-pg`.
 *
 * @example
 * ```ts
 * import * as CompatCodecs from "@pgfx/types/CompatCodecs"
 * import * as PgClient from "@pgfx/client/PgClient"
 *
 * // $1::jsonb with '{"a":1}' stores the object {"a": 1}, not the string
 * const layer = PgClient.layer({ url: "postgres://app@localhost/app", codecs: CompatCodecs.jsonStringsAsText() })
 * ```
 * @since 0.1.0
 */
export const jsonStringsAsText = (base: CodecRegistry = builtins): CodecRegistry =>
  base.withAll(
    [map(json, identity, stringAsJsonText), map(jsonb, identity, stringAsJsonText)].flatMap((c) =>
      withArray(c as Codec),
    ),
  )
