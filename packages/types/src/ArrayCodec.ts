/**
 * Generic array codec: `elem[]` of any dimension ↔ nested JS arrays.
 *
 * Binary format (`array_send` / `array_recv`): int32 ndim, int32 flags (1 = has NULLs), int32
 * element OID, then per dimension int32 length and int32 lower bound, then every element in
 * row-major order as int32 length (−1 = NULL) and bytes. An empty array has ndim 0.
 *
 * Decoding gives nested arrays (`int4[][]` → `number[][]`), NULL elements as `null`, `[]` for the
 * empty array. The JS array starts at index 0 whatever PostgreSQL's lower bound; when a lower
 * bound is not 1 (`'[0:1]={1,2}'::int4[]`) the outermost JS array carries the bounds in a
 * non-enumerable {@link lowerBounds} property, so the value still round-trips exactly (read them
 * with {@link lowerBoundsOf}, set them with {@link withLowerBounds}).
 *
 * Encoding takes nested JS arrays; each nesting level is one dimension, so the value must be
 * rectangular (ragged arrays are rejected) with at most 6 dimensions. `null` and `undefined`
 * elements are NULL. Lower bounds are 1 unless the array carries {@link lowerBounds}.
 *
 * Element types whose values are arrays themselves say which JS arrays are elements: multiranges
 * with {@link ArrayCodecOptions.isElement}; `json[]` / `jsonb[]` with
 * {@link ArrayCodecOptions.arrayElements}: there only the outermost JS array is a dimension (a
 * nested JS array is a JSON array document) unless the array carries a dimension count — decoded
 * multi-dimensional `json[]` values carry it ({@link dimensionsOf}), {@link withDimensions} sets it.
 *
 * @since 0.1.0
 */
import type { Writer } from "@pgfx/protocol/Writer"
import { type Codec, decodeError, EncodeError, invalidType, make, parameterText } from "./Codec.ts"

/**
 * A decoded PostgreSQL array: elements or NULLs, nested once per extra dimension.
 *
 * @since 0.1.0
 * @category models
 */
export type PgArray<A> = Array<A | null | PgArray<A>>

/** PostgreSQL's MAXDIM. */
const MAX_DIMS = 6

/**
 * The key of the non-enumerable property holding an array's PostgreSQL lower bounds (one per
 * dimension) when some bound is not 1.
 *
 * @since 0.1.0
 * @category lower bounds
 */
export const lowerBounds: unique symbol = Symbol.for("@pgfx/types/ArrayCodec/lowerBounds")

/**
 * The lower bounds of a decoded array, one per dimension; undefined when they are all 1.
 *
 * @since 0.1.0
 * @category lower bounds
 */
export const lowerBoundsOf = (array: ReadonlyArray<unknown>): ReadonlyArray<number> | undefined =>
  (array as { [lowerBounds]?: ReadonlyArray<number> })[lowerBounds]

/**
 * Marks `array` (in place) with PostgreSQL lower bounds, one per dimension, and returns it:
 * `withLowerBounds([7, 8], [0])` is sent as `'[0:1]={7,8}'`.
 *
 * @since 0.1.0
 * @category lower bounds
 */
export const withLowerBounds = <A extends Array<unknown>>(array: A, bounds: ReadonlyArray<number>): A => {
  for (const b of bounds) {
    if (!Number.isInteger(b) || b < -2147483648 || b > 2147483647) throw new RangeError(`invalid lower bound ${b}`)
  }
  Object.defineProperty(array, lowerBounds, { value: bounds, enumerable: false, configurable: true, writable: true })
  return array
}

/**
 * The key of the non-enumerable property holding the number of dimensions of a decoded
 * multi-dimensional array whose elements may be JS arrays (`json[]`, `jsonb[]`).
 *
 * @since 0.1.0
 * @category dimensions
 */
export const dimensions: unique symbol = Symbol.for("@pgfx/types/ArrayCodec/dimensions")

/**
 * The dimension count an array carries (see {@link withDimensions}); undefined when it carries none.
 *
 * @since 0.1.0
 * @category dimensions
 */
export const dimensionsOf = (array: ReadonlyArray<unknown>): number | undefined =>
  (array as { [dimensions]?: number })[dimensions]

/**
 * Marks `array` (in place) as having `count` dimensions and returns it: for `json[]` / `jsonb[]`,
 * whose elements may be JS arrays, `withDimensions([[1, 2], [3, 4]], 2)` is the 2×2 array
 * `'{{1,2},{3,4}}'`, while `[[1, 2], [3, 4]]` alone is two JSON array documents.
 *
 * @since 0.1.0
 * @category dimensions
 */
export const withDimensions = <A extends Array<unknown>>(array: A, count: number): A => {
  if (!Number.isInteger(count) || count < 1 || count > MAX_DIMS)
    throw new RangeError(`invalid dimension count ${count}`)
  Object.defineProperty(array, dimensions, { value: count, enumerable: false, configurable: true, writable: true })
  return array
}

const boundsToSend = (value: ReadonlyArray<unknown>, ndim: number): ReadonlyArray<number> | undefined => {
  const b = lowerBoundsOf(value)
  return b !== undefined && b.length === ndim ? b : undefined
}

/**
 * Options of {@link arrayCodec}.
 *
 * @since 0.1.0
 * @category constructors
 */
export interface ArrayCodecOptions {
  /** The array type's OID; defaults to `element.arrayOid`. */
  readonly oid?: number
  /** The array type's name; defaults to `"_" + element.name`. */
  readonly name?: string
  /** The text-format element delimiter (`pg_type.typdelim`); `","` for all but `box`. */
  readonly delimiter?: string
  /**
   * For element types whose JS values are arrays (multiranges, composites given as tuples): true
   * when a JS array is one element rather than a further dimension. By default every JS array is
   * a dimension.
   */
  readonly isElement?: (value: ReadonlyArray<unknown>) => boolean
  /**
   * For element types whose values may be any JS value, arrays included (`json`, `jsonb`): only
   * the outermost JS array is a dimension, unless the value carries a dimension count
   * ({@link withDimensions}); decoded multi-dimensional arrays carry theirs.
   */
  readonly arrayElements?: boolean
}

const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13)

/** Quotes an element for an array literal when PostgreSQL's array_in would misread it. */
const quoteElement = (s: string, delim: number): string => {
  let needs = s.length === 0 || (s.length === 4 && s.toLowerCase() === "null")
  if (!needs) {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c === 123 || c === 125 || c === 34 || c === 92 || c === delim || isSpace(c)) {
        needs = true
        break
      }
    }
  }
  if (!needs) return s
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 34 || c === 92) out += "\\"
    out += s[i]
  }
  return `${out}"`
}

/**
 * Rebuilds nested arrays from a flat row-major element list.
 */
const reshape = (flat: Array<unknown>, dims: ArrayLike<number>, d: number, start: number): Array<unknown> => {
  const n = dims[d]
  const out = new Array<unknown>(n)
  if (d === dims.length - 1) {
    for (let i = 0; i < n; i++) out[i] = flat[start + i]
    return out
  }
  let stride = 1
  for (let k = d + 1; k < dims.length; k++) stride *= dims[k]
  for (let i = 0; i < n; i++) out[i] = reshape(flat, dims, d + 1, start + i * stride)
  return out
}

/**
 * Builds the codec of `element[]`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const arrayCodec = <A>(element: Codec<A>, options: ArrayCodecOptions = {}): Codec<PgArray<A>> => {
  const name = options.name ?? `_${element.name}`
  const oid = options.oid ?? element.arrayOid
  const delimiter = options.delimiter ?? ","
  const delim = delimiter.charCodeAt(0)
  const elementOid = element.oid
  const decodeElementBinary = element.decodeBinary
  const encodeElementBinary = element.encodeBinary
  const isElement = options.isElement
  const arrayElements = options.arrayElements === true
  /** A JS array that is a dimension (not an element). */
  const isDim = (v: unknown): v is ReadonlyArray<unknown> =>
    Array.isArray(v) && (isElement === undefined || !isElement(v))
  /** A JS array that is a dimension where the last dimension holds elements that may be arrays. */
  const isLeaf = (v: unknown): boolean => arrayElements || !isDim(v)
  /** The dimensions of a decoded array, marked when its elements could be mistaken for dimensions. */
  const marked = <T extends Array<unknown>>(arr: T, ndim: number): T =>
    arrayElements && ndim > 1 ? withDimensions(arr, ndim) : arr

  const ragged = (reason: string): EncodeError =>
    new EncodeError({
      typeName: name,
      expected: `a rectangular nested array of at most ${MAX_DIMS} dimensions`,
      actualType: "Array",
      message: `cannot encode Array as PostgreSQL ${name}: ${reason}`,
    })

  /** Dimension lengths read along the first elements; throws for non-arrays and too many dims. */
  const dimsOf = (value: unknown): Array<number> => {
    if (!Array.isArray(value)) throw invalidType(name, "an array (nested arrays for more dimensions)", value)
    const dims: Array<number> = [value.length]
    const ndim = arrayElements ? (dimensionsOf(value) ?? 1) : MAX_DIMS + 1
    let v: unknown = value[0]
    while (value.length > 0 && dims.length < ndim && isDim(v)) {
      dims.push(v.length)
      if (dims.length > MAX_DIMS) throw ragged(`more than ${MAX_DIMS} dimensions`)
      if (v.length === 0) break
      v = v[0]
    }
    return dims
  }

  /** Checks that `arr` at depth `d` matches `dims` (no writes). */
  const checkShape = (arr: ReadonlyArray<unknown>, dims: ReadonlyArray<number>, d: number): void => {
    if (arr.length !== dims[d]) throw ragged(`sub-arrays of different lengths at dimension ${d + 1}`)
    const last = d === dims.length - 1
    for (let i = 0; i < arr.length; i++) {
      const el = arr[i]
      if (last) {
        if (!isLeaf(el)) throw ragged(`sub-arrays of different depths`)
      } else {
        if (!isDim(el)) throw ragged(`sub-arrays of different depths`)
        checkShape(el, dims, d + 1)
      }
    }
  }

  /** Writes the elements of `arr` at depth `d`; returns true when a NULL was written. */
  const writeLevel = (arr: ReadonlyArray<unknown>, dims: ReadonlyArray<number>, d: number, w: Writer): boolean => {
    if (arr.length !== dims[d]) throw ragged(`sub-arrays of different lengths at dimension ${d + 1}`)
    let hasNull = false
    if (d === dims.length - 1) {
      for (let i = 0; i < arr.length; i++) {
        const el = arr[i]
        if (el === null || el === undefined) {
          w.int32(-1)
          hasNull = true
        } else {
          if (!isLeaf(el)) throw ragged(`sub-arrays of different depths`)
          const at = w.reserveLength()
          encodeElementBinary(el, w)
          w.patchValueLength(at)
        }
      }
    } else {
      for (let i = 0; i < arr.length; i++) {
        const el = arr[i]
        if (!isDim(el)) throw ragged(`sub-arrays of different depths`)
        if (writeLevel(el, dims, d + 1, w)) hasNull = true
      }
    }
    return hasNull
  }

  const encodeBinary = (value: unknown, w: Writer): void => {
    const dims = dimsOf(value)
    const arr = value as ReadonlyArray<unknown>
    if (dims[dims.length - 1] === 0) {
      checkShape(arr, dims, 0)
      w.int32(0).int32(0).uint32(elementOid)
      return
    }
    w.int32(dims.length)
    const flagsAt = w.pos
    w.int32(0).uint32(elementOid)
    const bounds = boundsToSend(arr, dims.length)
    for (let d = 0; d < dims.length; d++) w.int32(dims[d]).int32(bounds === undefined ? 1 : bounds[d]!)
    if (writeLevel(arr, dims, 0, w)) w.view.setInt32(flagsAt, 1)
  }

  const decodeBinary = (buf: Uint8Array, view: DataView, offset: number, length: number): PgArray<A> => {
    if (length < 12) throw decodeError(name, `binary value has ${length} bytes, expected at least 12`)
    const ndim = view.getInt32(offset)
    if (ndim === 0) return []
    if (ndim < 0 || ndim > MAX_DIMS) throw decodeError(name, `invalid number of dimensions ${ndim}`)
    const end = offset + length
    let pos = offset + 12
    if (pos + 8 * ndim > end) throw decodeError(name, "truncated dimensions")
    let total = 1
    const dims = ndim === 1 ? undefined : new Array<number>(ndim)
    let bounds: Array<number> | undefined
    for (let d = 0; d < ndim; d++) {
      const n = view.getInt32(pos)
      if (n < 0) throw decodeError(name, `invalid dimension length ${n}`)
      if (dims !== undefined) dims[d] = n
      const lb = view.getInt32(pos + 4)
      if (lb !== 1) {
        if (bounds === undefined) bounds = new Array<number>(ndim).fill(1)
        bounds[d] = lb
      }
      total *= n
      pos += 8
    }
    if (total === 0) return []
    if (total * 4 > end - pos) throw decodeError(name, "truncated elements")
    const out = new Array<A | null>(total)
    for (let i = 0; i < total; i++) {
      if (pos + 4 > end) throw decodeError(name, "truncated elements")
      const len = view.getInt32(pos)
      pos += 4
      if (len === -1) {
        out[i] = null
      } else {
        if (len < 0 || pos + len > end) throw decodeError(name, `invalid element length ${len}`)
        out[i] = decodeElementBinary(buf, view, pos, len)
        pos += len
      }
    }
    if (pos !== end) throw decodeError(name, `${end - pos} trailing bytes`)
    const result = dims === undefined ? out : marked(reshape(out, dims, 0, 0) as PgArray<A>, ndim)
    return bounds === undefined ? result : withLowerBounds(result, bounds)
  }

  const textLevel = (arr: ReadonlyArray<unknown>, depth: number): string => {
    let s = "{"
    for (let i = 0; i < arr.length; i++) {
      if (i > 0) s += delimiter
      const el = arr[i]
      if (el === null || el === undefined) s += "NULL"
      else if (depth > 1 && isDim(el)) s += textLevel(el, depth - 1)
      else s += quoteElement(parameterText(element, el), delim)
    }
    return `${s}}`
  }

  const encodeText = (value: unknown): string => {
    const dims = dimsOf(value)
    const arr = value as ReadonlyArray<unknown>
    checkShape(arr, dims, 0)
    if (dims[dims.length - 1] === 0) return "{}"
    const bounds = boundsToSend(arr, dims.length)
    if (bounds === undefined) return textLevel(arr, dims.length)
    let decoration = ""
    for (let d = 0; d < dims.length; d++) decoration += `[${bounds[d]}:${bounds[d]! + dims[d]! - 1}]`
    return `${decoration}=${textLevel(arr, dims.length)}`
  }

  const decodeText = (text: string): PgArray<A> =>
    parseArrayLiteral(text, name, delim, element.decodeText, arrayElements)

  const elementSendAsText = element.sendAsText
  /** True when some element wants the text format (e.g. `"2"` in an int4[]): then the whole array goes as text. */
  const anyAsText = (arr: ReadonlyArray<unknown>): boolean => {
    for (let i = 0; i < arr.length; i++) {
      const el = arr[i]
      if (el === null || el === undefined) continue
      if (!arrayElements && isDim(el) ? anyAsText(el) : elementSendAsText(el)) return true
    }
    return false
  }

  const sendAsText = !element.binary
    ? (_value: unknown): boolean => true
    : (value: unknown): boolean => typeof value === "string" || (Array.isArray(value) && anyAsText(value))

  return make({
    name,
    oid,
    arrayOid: 0,
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

/**
 * Parses PostgreSQL's array literal (`{1,2,NULL}`, `{{"a b","c"},{d,e}}`, optionally with a
 * `[1:2]=` dimension decoration), decoding each element with `decodeElement`. With
 * `markDimensions`, a multi-dimensional result carries its dimension count ({@link withDimensions}).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseArrayLiteral = <A>(
  text: string,
  typeName: string,
  delim: number,
  decodeElement: (text: string) => A,
  markDimensions = false,
): PgArray<A> => {
  let i = 0
  let ndim = 0
  const n = text.length
  const fail = (what: string): never => {
    throw decodeError(typeName, `malformed array literal: ${what} at position ${i}`)
  }
  const skipSpace = (): void => {
    while (i < n && isSpace(text.charCodeAt(i))) i++
  }
  skipSpace()
  let bounds: Array<number> | undefined
  if (text.charCodeAt(i) === 91 /* [ */) {
    const eq = text.indexOf("=", i)
    if (eq < 0) fail("dimension decoration without '='")
    bounds = []
    for (const m of text.slice(i, eq).matchAll(/\[\s*([+-]?\d+)\s*(?::\s*[+-]?\d+\s*)?\]/g)) bounds.push(Number(m[1]))
    i = eq + 1
    skipSpace()
  }
  const level = (depth: number): PgArray<A> => {
    if (text.charCodeAt(i) !== 123) fail("expected '{'")
    if (depth > ndim) ndim = depth
    i++
    const out: PgArray<A> = []
    skipSpace()
    if (text.charCodeAt(i) === 125) {
      i++
      return out
    }
    for (;;) {
      skipSpace()
      const c = text.charCodeAt(i)
      if (c === 123) {
        out.push(level(depth + 1))
      } else if (c === 34) {
        i++
        let s = ""
        for (;;) {
          if (i >= n) fail("unterminated quoted element")
          const q = text.charCodeAt(i)
          if (q === 34) break
          if (q === 92) i++
          s += text[i]
          i++
        }
        i++
        out.push(decodeElement(s))
      } else {
        let s = ""
        let escaped = false
        let lastNonSpace = 0
        while (i < n) {
          const q = text.charCodeAt(i)
          if (q === delim || q === 125) break
          if (q === 123 || q === 34) fail("unexpected character in unquoted element")
          if (q === 92) {
            i++
            escaped = true
            s += text[i]
            lastNonSpace = s.length
          } else {
            s += text[i]
            if (!isSpace(q)) lastNonSpace = s.length
          }
          i++
        }
        s = s.slice(0, lastNonSpace)
        if (s.length === 0 && !escaped) fail("empty element")
        out.push(!escaped && s.length === 4 && s.toLowerCase() === "null" ? null : decodeElement(s))
      }
      skipSpace()
      const d = text.charCodeAt(i)
      i++
      if (d === 125) return out
      if (d !== delim) fail(`expected '${String.fromCharCode(delim)}' or '}'`)
    }
  }
  const parsed = level(1)
  const result = markDimensions && ndim > 1 ? withDimensions(parsed, ndim) : parsed
  skipSpace()
  if (i !== n) fail("trailing characters")
  return bounds !== undefined && bounds.some((b) => b !== 1) ? withLowerBounds(result, bounds) : result
}
