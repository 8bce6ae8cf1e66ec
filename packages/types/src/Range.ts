/**
 * `Range`: a PostgreSQL range value (`int4range`, `tstzrange`, any user range type), shaped like
 * asyncpg's `Range`: `lower`, `upper` (`null` when unbounded), `lowerInc`, `upperInc`, `isEmpty`.
 * A multirange is a JS array of `Range`s.
 *
 * @since 0.1.0
 */
import { readLiteralField, writeLiteralField } from "./internal/literalField.ts"

/**
 * Options of the {@link Range} constructor.
 *
 * @since 0.1.0
 * @category models
 */
export interface RangeOptions {
  /** The lower bound is included (`[`); default true. Ignored when unbounded. */
  readonly lowerInc?: boolean
  /** The upper bound is included (`]`); default false. Ignored when unbounded. */
  readonly upperInc?: boolean
  /** The empty range; bounds are ignored. */
  readonly empty?: boolean
}

/**
 * Inclusivity as bits (1: lower bound included, 2: upper bound included), the decoders' compact
 * alternative to {@link RangeOptions}.
 *
 * @since 0.1.0
 * @category models
 */
export type RangeFlags = number

/**
 * A range of `A`.
 *
 * @example
 * ```ts
 * import { Range } from "@pgfx/types/Range"
 * String(new Range(1, 10))                           // "[1,10)"
 * String(new Range(null, 5, { upperInc: true }))     // "(,5]"
 * String(Range.empty())                              // "empty"
 * ```
 * @since 0.1.0
 * @category models
 */
export class Range<A = unknown> {
  /** The lower bound; `null` when unbounded (or empty). */
  readonly lower: A | null
  /** The upper bound; `null` when unbounded (or empty). */
  readonly upper: A | null
  /** True when the lower bound is included. Always false when unbounded. */
  readonly lowerInc: boolean
  /** True when the upper bound is included. Always false when unbounded. */
  readonly upperInc: boolean
  /** True for the empty range. */
  readonly isEmpty: boolean

  /**
   * `new Range(lower, upper)` is `[lower,upper)`; `null` (or `undefined`) for an unbounded side.
   * Discrete ranges (`int4range`, `daterange`, ...) come back from the server canonicalized
   * (`[1,3]` becomes `[1,4)`).
   */
  constructor(lower: A | null = null, upper: A | null = null, options: RangeOptions | RangeFlags = {}) {
    const flags = typeof options === "number"
    this.isEmpty = !flags && options.empty === true
    this.lower = this.isEmpty ? null : (lower ?? null)
    this.upper = this.isEmpty ? null : (upper ?? null)
    this.lowerInc = this.lower !== null && (flags ? (options & 1) !== 0 : (options.lowerInc ?? true))
    this.upperInc = this.upper !== null && (flags ? (options & 2) !== 0 : (options.upperInc ?? false))
  }

  /** The empty range (`'empty'`). */
  static empty<A = never>(): Range<A> {
    return new Range<A>(null, null, { empty: true })
  }

  /** True when there is no lower bound (and the range is not empty). */
  get lowerInf(): boolean {
    return !this.isEmpty && this.lower === null
  }

  /** True when there is no upper bound (and the range is not empty). */
  get upperInf(): boolean {
    return !this.isEmpty && this.upper === null
  }

  /**
   * PostgreSQL's text form (`[1,10)`, `(,5]`, `empty`, `["2020-01-01 00:00:00",)`), the bounds
   * printed with `String(bound)` — which is the server's text for pgfx's value classes (for
   * timestamptz bounds, as printed with `TimeZone = UTC`).
   */
  toString(): string {
    return formatRange(this, String)
  }
}

/**
 * A {@link Range} or a plain object shaped like one, as accepted by the range codecs.
 *
 * @since 0.1.0
 * @category models
 */
export interface RangeLike<A = unknown> {
  readonly lower?: A | null | undefined
  readonly upper?: A | null | undefined
  readonly lowerInc?: boolean | undefined
  readonly upperInc?: boolean | undefined
  readonly isEmpty?: boolean | undefined
}

/**
 * True for a {@link Range} or an object shaped like one (`lower`, `upper`, and optionally
 * `lowerInc`, `upperInc`, `isEmpty`).
 *
 * @since 0.1.0
 * @category guards
 */
export const isRangeLike = (u: unknown): u is RangeLike =>
  u instanceof Range || (typeof u === "object" && u !== null && !Array.isArray(u) && "lower" in u && "upper" in u)

/**
 * PostgreSQL's text form of a range whose bounds print with `boundText`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatRange = <A>(range: Range<A>, boundText: (bound: A) => string): string => {
  if (range.isEmpty) return "empty"
  const lower = range.lower === null ? "" : writeLiteralField(boundText(range.lower), true)
  const upper = range.upper === null ? "" : writeLiteralField(boundText(range.upper), true)
  return `${range.lowerInc ? "[" : "("}${lower},${upper}${range.upperInc ? "]" : ")"}`
}

/**
 * Parses a range literal (`[1,10)`, `empty`, `(,"a b"]`), decoding each bound with `decodeBound`;
 * undefined when malformed.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseRange = <A>(text: string, decodeBound: (text: string) => A): Range<A> | undefined => {
  const t = text.trim()
  if (t.toLowerCase() === "empty") return Range.empty()
  const open = t.charCodeAt(0)
  const close = t.charCodeAt(t.length - 1)
  if ((open !== 91 && open !== 40) || (close !== 93 && close !== 41)) return undefined
  const last = t.length - 1
  const lo = readLiteralField(t, 1, last, false)
  if (lo === undefined || t.charCodeAt(lo.end) !== 44) return undefined
  // The upper bound runs to the closing bracket.
  const up = readLiteralField(t, lo.end + 1, last, true)
  if (up === undefined || up.end !== last) return undefined
  try {
    return new Range<A>(
      lo.text === "" && !lo.quoted ? null : decodeBound(lo.text),
      up.text === "" && !up.quoted ? null : decodeBound(up.text),
      { lowerInc: open === 91, upperInc: close === 93 },
    )
  } catch {
    return undefined
  }
}

/**
 * Splits a multirange literal (`{[1,3),[5,7)}`, `{}`) into its range literals.
 *
 * @since 0.1.0
 * @category parsing
 */
export const splitMultirange = (text: string): Array<string> | undefined => {
  const t = text.trim()
  if (t.charCodeAt(0) !== 123 || t.charCodeAt(t.length - 1) !== 125) return undefined
  const out: Array<string> = []
  let i = 1
  const end = t.length - 1
  while (i < end) {
    while (i < end && (t.charCodeAt(i) === 44 || t.charCodeAt(i) === 32)) i++
    if (i >= end) break
    const start = i
    if (t.slice(i, i + 5).toLowerCase() === "empty") {
      out.push("empty")
      i += 5
      continue
    }
    let quoted = false
    i++
    for (; i < end; i++) {
      const c = t.charCodeAt(i)
      if (quoted) {
        if (c === 92) i++
        else if (c === 34) quoted = false
      } else if (c === 34) quoted = true
      else if (c === 93 || c === 41) break
    }
    if (i >= end) return undefined
    i++
    out.push(t.slice(start, i))
  }
  return out
}
