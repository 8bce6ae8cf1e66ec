/**
 * Custom codecs as Effect Schema transformations (asyncpg's `set_type_codec`): the user's Schema
 * decodes the wire representation of a type into the user's value and encodes it back.
 *
 * | format | the Schema's encoded side | exchanged as |
 * | --- | --- | --- |
 * | `"text"` | `string`: the type's text form | text format |
 * | `"binary"` | `Uint8Array`: the type's binary form | binary format |
 * | `"tuple"` | a type-specific tuple (below) | binary format (text when the type has no binary codec) |
 *
 * Tuple layouts (asyncpg's, with int64 fields as `bigint`):
 *
 * | type | tuple |
 * | --- | --- |
 * | `interval` | `[months: number, days: number, microseconds: bigint]` |
 * | `date` | `[days since 2000-01-01: number]`; ±2147483647/−2147483648 for ±infinity |
 * | `timestamp`, `timestamptz` | `[microseconds since 2000-01-01 (UTC): bigint]`; int64 max/min for ±infinity |
 * | `time` | `[microseconds since midnight: number]` |
 * | `timetz` | `[microseconds since midnight: number, UTC offset in seconds east: number]` |
 * | composite types | `[field1, field2, ...]`, each field in its default representation |
 *
 * The Schema runs once per value of that type (decode per cell, encode per parameter) — only for
 * types that have a custom codec; built-in codecs never go through Schema.
 *
 * @since 0.1.0
 */
import type { Writer } from "@pgfx/protocol/Writer"
import { Cause, Exit, Schema } from "effect"
import { type Codec, DecodeError, decodeError, EncodeError, invalidType, jsTypeOf, make, map } from "./Codec.ts"
import { Oids } from "./Oids.ts"
import { PgDate } from "./PgDate.ts"
import { PgTime, PgTimeTz } from "./PgTime.ts"
import { PgTimestamp } from "./PgTimestamp.ts"
import { Interval } from "./Interval.ts"
import { isPgComposite } from "./PgComposite.ts"

/**
 * The wire representation a custom codec's Schema works on.
 *
 * @since 0.1.0
 * @category models
 */
export type TypeCodecFormat = "text" | "binary" | "tuple"

/**
 * Options of a custom codec (`setTypeCodec`, `CodecRegistry#withTypeCodec`). The Schema must not
 * need services (it runs synchronously, per value).
 *
 * @since 0.1.0
 * @category models
 */
export type TypeCodecOptions<A> =
  | {
      readonly format: "text"
      /** Between the type's text form and your value. */
      readonly schema: Schema.Codec<A, string>
      /** The type's schema (`pg_namespace`); default: resolved like an unqualified name. */
      readonly schemaName?: string | undefined
    }
  | {
      readonly format: "binary"
      /** Between the type's binary form and your value. */
      readonly schema: Schema.Codec<A, Uint8Array>
      readonly schemaName?: string | undefined
    }
  | {
      readonly format: "tuple"
      /** Between the type's tuple (see the module docs) and your value. */
      readonly schema: Schema.Codec<A, ReadonlyArray<unknown>>
      readonly schemaName?: string | undefined
    }

/**
 * A text-format codec whose values are the type's text (the wire side of `format: "text"`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const rawTextCodec = (oid: number, name: string, arrayOid: number): Codec<string> =>
  make({
    name,
    oid,
    arrayOid,
    binary: false,
    decodeBinary: () => {
      throw decodeError(name, "a text-format codec cannot decode binary data")
    },
    decodeText: (text) => text,
    encodeBinary: (value) => {
      throw invalidType(name, "a string", value)
    },
    encodeText: (value) => {
      if (typeof value !== "string") throw invalidType(name, "a string (the custom codec's text)", value)
      return value
    },
    stringsAsText: true,
  })

/**
 * A binary-format codec whose values are the type's binary form, copied (the wire side of
 * `format: "binary"`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const rawBinaryCodec = (oid: number, name: string, arrayOid: number): Codec<Uint8Array> =>
  make({
    name,
    oid,
    arrayOid,
    binary: true,
    decodeBinary: (buf, _view, offset, length) => buf.slice(offset, offset + length),
    decodeText: () => {
      throw decodeError(name, "a binary-format codec cannot decode text data")
    },
    encodeBinary: (value: unknown, w: Writer) => {
      if (!(value instanceof Uint8Array)) throw invalidType(name, "a Uint8Array (the custom codec's bytes)", value)
      w.bytes(value)
    },
    encodeText: (value) => {
      throw invalidType(name, "a value sent in binary", value)
    },
    stringsAsText: false,
    sendAsText: () => false,
  })

const tupleError = (name: string, value: unknown, expected: string): EncodeError =>
  new EncodeError({
    typeName: name,
    expected,
    actualType: jsTypeOf(value),
    message: `cannot encode ${jsTypeOf(value)} as the ${name} tuple: expected ${expected}`,
  })

const tupleOf = (name: string, value: unknown, length: number, expected: string): ReadonlyArray<unknown> => {
  if (!Array.isArray(value) || value.length !== length) throw tupleError(name, value, expected)
  return value
}

const INT32_MAX = 2147483647
const INT32_MIN = -2147483648

/**
 * The tuple-format view of a codec (the wire side of `format: "tuple"`): for `interval`, `date`,
 * `timestamp`, `timestamptz`, `time`, `timetz` (by OID) and composite types (`composite: true`);
 * undefined for other types.
 *
 * @since 0.1.0
 * @category constructors
 */
export const tupleCodec = (codec: Codec, composite = false): Codec<ReadonlyArray<unknown>> | undefined => {
  const name = codec.name
  if (composite) {
    return map(
      codec,
      (v) => (isPgComposite(v) ? v.values : (v as ReadonlyArray<unknown>)),
      (t) => {
        if (!Array.isArray(t)) throw tupleError(name, t, "an array of field values")
        return t
      },
    )
  }
  switch (codec.oid) {
    case Oids.interval: {
      const expected = "[months, days, microseconds]"
      return map(
        codec as Codec<Interval>,
        (i) => [i.months, i.days, i.microseconds],
        (t) => {
          const [m, d, us] = tupleOf(name, t, 3, expected)
          if (typeof m !== "number" || typeof d !== "number" || (typeof us !== "bigint" && typeof us !== "number")) {
            throw tupleError(name, t, expected)
          }
          return new Interval(m, d, us)
        },
      )
    }
    case Oids.date: {
      const expected = "[days since 2000-01-01]"
      return map(
        codec as Codec<PgDate>,
        (d) => [d.days === Infinity ? INT32_MAX : d.days === -Infinity ? INT32_MIN : d.days],
        (t) => {
          const [days] = tupleOf(name, t, 1, expected)
          if (typeof days !== "number") throw tupleError(name, t, expected)
          return days === INT32_MAX
            ? PgDate.infinity
            : days === INT32_MIN
              ? PgDate.negativeInfinity
              : PgDate.fromDays(days)
        },
      )
    }
    case Oids.timestamp:
    case Oids.timestamptz: {
      const expected = "[microseconds since 2000-01-01]"
      const withTimeZone = codec.oid === Oids.timestamptz
      return map(
        codec as Codec<PgTimestamp>,
        (t) => [t.pgMicros],
        (t) => {
          const [us] = tupleOf(name, t, 1, expected)
          if (typeof us !== "bigint") throw tupleError(name, t, "[microseconds since 2000-01-01 as a bigint]")
          return PgTimestamp.fromPgMicros(us, withTimeZone)
        },
      )
    }
    case Oids.time: {
      const expected = "[microseconds since midnight]"
      return map(
        codec as Codec<PgTime>,
        (t) => [t.micros],
        (t) => {
          const [us] = tupleOf(name, t, 1, expected)
          if (typeof us !== "number") throw tupleError(name, t, expected)
          return new PgTime(us)
        },
      )
    }
    case Oids.timetz: {
      const expected = "[microseconds since midnight, UTC offset in seconds east]"
      return map(
        codec as Codec<PgTimeTz>,
        (t) => [t.micros, t.offsetSeconds],
        (t) => {
          const [us, offset] = tupleOf(name, t, 2, expected)
          if (typeof us !== "number" || typeof offset !== "number") throw tupleError(name, t, expected)
          return new PgTimeTz(us, offset)
        },
      )
    }
    default:
      return undefined
  }
}

const failureOf = (exit: Exit.Exit<unknown, unknown>): unknown =>
  Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined

/**
 * Composes a wire codec with the user's Schema: decoding runs the wire codec then the Schema's
 * decode, encoding the Schema's encode then the wire codec. Schema failures become DecodeError /
 * EncodeError (the SchemaError as `cause`; messages never include the value).
 *
 * @since 0.1.0
 * @category constructors
 */
export const schemaCodec = <A, W>(wire: Codec<W>, schema: Schema.Codec<A, W>): Codec<A> => {
  const decode = Schema.decodeUnknownExit(schema)
  const encode = Schema.encodeUnknownExit(schema)
  const name = wire.name
  const to = (w: W): A => {
    let exit: Exit.Exit<A, unknown>
    try {
      exit = decode(w)
    } catch (e) {
      exit = Exit.die(e)
    }
    if (Exit.isSuccess(exit)) return exit.value
    throw new DecodeError({
      typeName: name,
      message: `cannot decode PostgreSQL ${name}: the custom codec's schema rejected the value`,
      cause: failureOf(exit),
    })
  }
  const from = (value: unknown): W => {
    let exit: Exit.Exit<W, unknown>
    try {
      exit = encode(value)
    } catch (e) {
      exit = Exit.die(e)
    }
    if (Exit.isSuccess(exit)) return exit.value
    const actualType = jsTypeOf(value)
    throw new EncodeError({
      typeName: name,
      expected: "a value the custom codec's schema accepts",
      actualType,
      message: `cannot encode ${actualType} as PostgreSQL ${name}: the custom codec's schema rejected it`,
      cause: failureOf(exit),
    })
  }
  return map(wire, to, from)
}

/**
 * Builds the custom codec of a type from its default codec (needed for `format: "tuple"`) and the
 * options. Throws a TypeError when the type has no tuple form.
 *
 * @since 0.1.0
 * @category constructors
 */
export const customCodec = <A>(base: Codec, options: TypeCodecOptions<A>, composite = false): Codec<A> => {
  switch (options.format) {
    case "text":
      return schemaCodec(rawTextCodec(base.oid, base.name, base.arrayOid), options.schema)
    case "binary":
      return schemaCodec(rawBinaryCodec(base.oid, base.name, base.arrayOid), options.schema)
    case "tuple": {
      const tuple = tupleCodec(base, composite)
      if (tuple === undefined) {
        throw new TypeError(
          `type ${base.name} has no tuple format (supported: interval, date, timestamp, timestamptz, time, timetz, composite types)`,
        )
      }
      return schemaCodec(tuple, options.schema)
    }
  }
}
