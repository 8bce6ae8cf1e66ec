/**
 * Codecs for range types ↔ {@link Range} and multirange types ↔ `Range[]`, built from the
 * element's codec (so user-defined ranges over any type work), plus the built-in ranges
 * (`int4range`, `int8range`, `numrange`, `daterange`, `tsrange`, `tstzrange`) and their
 * multiranges (PostgreSQL 14+).
 *
 * Binary range format: a flags byte (0x01 empty, 0x02 lower inclusive, 0x04 upper inclusive,
 * 0x08 lower unbounded, 0x10 upper unbounded), then each present bound as int32 length + element
 * bytes. A multirange is an int32 count of int32-length-prefixed ranges.
 *
 * Encode accepts a {@link Range} (or an object shaped like one); a multirange a JS array of
 * them. A JS string is sent as text for the server to parse (`"[1,10)"`, `"{[1,2)}"`).
 *
 * @since 0.1.0
 */
import type { Writer } from "@pgfx/protocol/Writer"
import { type Codec, decodeError, invalidType, make, parameterText } from "./Codec.ts"
import { date, timestamp, timestamptz } from "./DateTimeCodecs.ts"
import { int4, int8 } from "./NumberCodecs.ts"
import { numeric } from "./NumericCodec.ts"
import { Oids } from "./Oids.ts"
import { formatRange, isRangeLike, parseRange, Range, type RangeLike, splitMultirange } from "./Range.ts"

const EMPTY = 0x01
const LB_INC = 0x02
const UB_INC = 0x04
const LB_INF = 0x08
const UB_INF = 0x10

/** The length of the bound at `pos` (its int32 prefix), checked against `end`. */
const boundLength = (name: string, view: DataView, pos: number, end: number): number => {
  if (pos + 4 > end) throw decodeError(name, "truncated binary value")
  const len = view.getInt32(pos)
  if (len < 0 || pos + 4 + len > end) throw decodeError(name, `invalid bound length ${len}`)
  return len
}

/**
 * Identity of a range or multirange type.
 *
 * @since 0.1.0
 * @category constructors
 */
export interface TypeIdentity {
  readonly name: string
  readonly oid: number
  readonly arrayOid: number
}

/**
 * The codec of a range type over `element`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const rangeCodec = <A>(element: Codec<A>, id: TypeIdentity): Codec<Range<A>> => {
  const { name } = id
  const expected = "a Range (or a range literal string, sent as text)"
  const toRange = (value: unknown): RangeLike => {
    if (isRangeLike(value)) return value
    throw invalidType(name, expected, value)
  }
  const decodeElement = element.decodeBinary
  const encodeElement = element.encodeBinary

  const decodeBinary = (buf: Uint8Array, view: DataView, offset: number, length: number): Range<A> => {
    if (length < 1) throw decodeError(name, "empty binary value")
    const flags = buf[offset]!
    if (flags & EMPTY) return Range.empty()
    const end = offset + length
    let pos = offset + 1
    let lower: A | null = null
    let upper: A | null = null
    if (!(flags & LB_INF)) {
      const len = boundLength(name, view, pos, end)
      lower = decodeElement(buf, view, pos + 4, len)
      pos += 4 + len
    }
    if (!(flags & UB_INF)) {
      const len = boundLength(name, view, pos, end)
      upper = decodeElement(buf, view, pos + 4, len)
      pos += 4 + len
    }
    if (pos !== end) throw decodeError(name, `${end - pos} trailing bytes`)
    return new Range(lower, upper, (flags & (LB_INC | UB_INC)) >> 1)
  }

  const encodeBinary = (value: unknown, w: Writer): void => {
    const r = toRange(value)
    if (r.isEmpty === true) {
      w.byte(EMPTY)
      return
    }
    const lower = r.lower ?? null
    const upper = r.upper ?? null
    let flags = 0
    if (lower === null) flags |= LB_INF
    else if (r.lowerInc ?? true) flags |= LB_INC
    if (upper === null) flags |= UB_INF
    else if (r.upperInc === true) flags |= UB_INC
    w.byte(flags)
    if (lower !== null) {
      const at = w.reserveLength()
      encodeElement(lower, w)
      w.patchValueLength(at)
    }
    if (upper !== null) {
      const at = w.reserveLength()
      encodeElement(upper, w)
      w.patchValueLength(at)
    }
  }

  const boundText = (b: unknown): string => parameterText(element, b)

  const encodeText = (value: unknown): string => {
    const r = toRange(value)
    return formatRange(
      r instanceof Range
        ? r
        : new Range(r.lower, r.upper, {
            lowerInc: r.lowerInc ?? true,
            upperInc: r.upperInc ?? false,
            empty: r.isEmpty === true,
          }),
      boundText,
    )
  }

  const decodeText = (text: string): Range<A> => {
    const r = parseRange(text, element.decodeText)
    if (r === undefined) throw decodeError(name, "malformed range literal")
    return r
  }

  const elementAsText = element.sendAsText
  const sendAsText = !element.binary
    ? (_value: unknown): boolean => true
    : (value: unknown): boolean =>
        typeof value === "string" ||
        (isRangeLike(value) &&
          ((value.lower != null && elementAsText(value.lower)) || (value.upper != null && elementAsText(value.upper))))

  return make({
    name,
    oid: id.oid,
    arrayOid: id.arrayOid,
    binary: element.binary,
    decodeBinary,
    decodeText,
    encodeBinary,
    encodeText,
    stringsAsText: true,
    sendAsText,
    textMayRound: element.textMayRound,
  })
}

/** For `anymultirange[]`: a JS array is one multirange when it is empty or holds ranges. */
export const isMultirangeValue = (value: ReadonlyArray<unknown>): boolean => value.length === 0 || isRangeLike(value[0])

/**
 * The codec of a multirange type whose ranges use `range`: decodes to a JS array of
 * {@link Range}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const multirangeCodec = <A>(range: Codec<Range<A>>, id: TypeIdentity): Codec<Array<Range<A>>> => {
  const { name } = id
  const expected = "an array of Ranges (or a multirange literal string, sent as text)"
  const toRanges = (value: unknown): ReadonlyArray<unknown> => {
    if (Array.isArray(value)) return value
    throw invalidType(name, expected, value)
  }
  const decodeRange = range.decodeBinary
  const encodeRange = range.encodeBinary

  const decodeBinary = (buf: Uint8Array, view: DataView, offset: number, length: number): Array<Range<A>> => {
    if (length < 4) throw decodeError(name, "truncated binary value")
    const n = view.getInt32(offset)
    const end = offset + length
    let pos = offset + 4
    if (n < 0 || n * 4 > end - pos) throw decodeError(name, `invalid range count ${n}`)
    const out = new Array<Range<A>>(n)
    for (let i = 0; i < n; i++) {
      if (pos + 4 > end) throw decodeError(name, "truncated binary value")
      const len = view.getInt32(pos)
      pos += 4
      if (len < 0 || pos + len > end) throw decodeError(name, `invalid range length ${len}`)
      out[i] = decodeRange(buf, view, pos, len)
      pos += len
    }
    if (pos !== end) throw decodeError(name, `${end - pos} trailing bytes`)
    return out
  }

  const encodeBinary = (value: unknown, w: Writer): void => {
    const ranges = toRanges(value)
    w.int32(ranges.length)
    for (const r of ranges) {
      if (r === null || r === undefined) throw invalidType(name, expected, r)
      const at = w.reserveLength()
      encodeRange(r, w)
      w.patchValueLength(at)
    }
  }

  const encodeText = (value: unknown): string =>
    `{${toRanges(value)
      .map((r) => (typeof r === "string" ? r : range.encodeText(r)))
      .join(",")}}`

  const decodeText = (text: string): Array<Range<A>> => {
    const parts = splitMultirange(text)
    if (parts === undefined) throw decodeError(name, "malformed multirange literal")
    return parts.map(range.decodeText)
  }

  const rangeAsText = range.sendAsText
  const sendAsText = !range.binary
    ? (_value: unknown): boolean => true
    : (value: unknown): boolean => typeof value === "string" || (Array.isArray(value) && value.some(rangeAsText))

  return make({
    name,
    oid: id.oid,
    arrayOid: id.arrayOid,
    binary: range.binary,
    decodeBinary,
    decodeText,
    encodeBinary,
    encodeText,
    stringsAsText: true,
    sendAsText,
    textMayRound: range.textMayRound,
  })
}

/** `int4range` (OID 3904) ↔ `Range<number>`. @since 0.1.0 @category codecs */
export const int4range: Codec<Range<number>> = rangeCodec(int4, {
  name: "int4range",
  oid: Oids.int4range,
  arrayOid: Oids._int4range,
})
/** `int8range` (OID 3926) ↔ `Range<bigint>`. @since 0.1.0 @category codecs */
export const int8range: Codec<Range<bigint>> = rangeCodec(int8, {
  name: "int8range",
  oid: Oids.int8range,
  arrayOid: Oids._int8range,
})
/** `numrange` (OID 3906) ↔ `Range<string>` (exact decimal strings). @since 0.1.0 @category codecs */
export const numrange = rangeCodec(numeric, { name: "numrange", oid: Oids.numrange, arrayOid: Oids._numrange })
/** `daterange` (OID 3912) ↔ `Range<PgDate>`. @since 0.1.0 @category codecs */
export const daterange = rangeCodec(date, { name: "daterange", oid: Oids.daterange, arrayOid: Oids._daterange })
/** `tsrange` (OID 3908) ↔ `Range<PgTimestamp>`. @since 0.1.0 @category codecs */
export const tsrange = rangeCodec(timestamp, { name: "tsrange", oid: Oids.tsrange, arrayOid: Oids._tsrange })
/** `tstzrange` (OID 3910) ↔ `Range<PgTimestamp>`. @since 0.1.0 @category codecs */
export const tstzrange = rangeCodec(timestamptz, {
  name: "tstzrange",
  oid: Oids.tstzrange,
  arrayOid: Oids._tstzrange,
})

/** `int4multirange` (OID 4451) ↔ `Range<number>[]`. @since 0.1.0 @category codecs */
export const int4multirange = multirangeCodec(int4range, {
  name: "int4multirange",
  oid: Oids.int4multirange,
  arrayOid: Oids._int4multirange,
})
/** `int8multirange` (OID 4536) ↔ `Range<bigint>[]`. @since 0.1.0 @category codecs */
export const int8multirange = multirangeCodec(int8range, {
  name: "int8multirange",
  oid: Oids.int8multirange,
  arrayOid: Oids._int8multirange,
})
/** `nummultirange` (OID 4532) ↔ `Range<string>[]`. @since 0.1.0 @category codecs */
export const nummultirange = multirangeCodec(numrange, {
  name: "nummultirange",
  oid: Oids.nummultirange,
  arrayOid: Oids._nummultirange,
})
/** `datemultirange` (OID 4535) ↔ `Range<PgDate>[]`. @since 0.1.0 @category codecs */
export const datemultirange = multirangeCodec(daterange, {
  name: "datemultirange",
  oid: Oids.datemultirange,
  arrayOid: Oids._datemultirange,
})
/** `tsmultirange` (OID 4533) ↔ `Range<PgTimestamp>[]`. @since 0.1.0 @category codecs */
export const tsmultirange = multirangeCodec(tsrange, {
  name: "tsmultirange",
  oid: Oids.tsmultirange,
  arrayOid: Oids._tsmultirange,
})
/** `tstzmultirange` (OID 4534) ↔ `Range<PgTimestamp>[]`. @since 0.1.0 @category codecs */
export const tstzmultirange = multirangeCodec(tstzrange, {
  name: "tstzmultirange",
  oid: Oids.tstzmultirange,
  arrayOid: Oids._tstzmultirange,
})
