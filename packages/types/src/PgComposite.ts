/**
 * `PgComposite`: the decoded value of a composite type or an anonymous record, readable like
 * asyncpg's Record and like pgfx's result rows: by field name (`v.x`, `v.get("x")`), by position
 * (`v.at(0)`, `v[0]`), as a plain object (`toObject()`), and iterable over its values.
 *
 * One class per composite type is built when the type is introspected (a getter per field on its
 * prototype), so decoding a value costs one small object plus its values array.
 *
 * Anonymous records (`SELECT ROW(1, 'a')`) have no field names; their fields are named `f1`, `f2`,
 * ... as PostgreSQL names them.
 *
 * The shadowing rule (as for result rows): `v.name` is the field `name` unless `name` is a member
 * (`get`, `at`, `toObject`, `toJSON`, `toString`, `keys`, `entries`, `values`, `fieldNames`,
 * `length`), which always means the member; `get(name)`, `toObject()` and `entries()` reach every
 * field. `String(v)` is the record literal PostgreSQL prints (`(1.5,2)`).
 *
 * @since 0.1.0
 */
import { writeLiteralField } from "./internal/literalField.ts"

/**
 * What every record-like value offers — a composite value ({@link PgComposite}) and a result row
 * (`PgRecord` in `@pgfx/client`): reading by name and by position, a plain object, iteration.
 *
 * @example
 * ```ts
 * const v = yield* conn.fetchVal("SELECT ROW(1, 'a')") as PgComposite
 * v.get("f1")          // 1
 * v.get("missing", 0)  // 0
 * v.at(-1)             // "a"
 * [...v]               // [1, "a"]
 * ```
 * @since 0.1.0
 * @category models
 */
export interface RecordAccess {
  /**
   * The value by name or 0-based position, or `fallback` (default `undefined`) when there is no
   * such field or column (a NULL one is there: its `null` is returned, not `fallback`). Reaches
   * every name, including one named like a member (`get("values")`).
   */
  get(key: string | number, fallback?: unknown): unknown
  /** The value at a 0-based position (negative counts from the end). */
  at(index: number): unknown
  /** A plain object `{ name: value }`. */
  toObject(): Record<string, unknown>
  /** The names, in order. */
  keys(): Array<string>
  /** `[name, value]` pairs, in order. */
  entries(): Array<[string, unknown]>
  /** The values, in order. */
  readonly values: ReadonlyArray<unknown>
  /** The number of values. */
  readonly length: number
  [Symbol.iterator](): Iterator<unknown>
  readonly [name: string]: unknown
  readonly [index: number]: unknown
}

/**
 * The names of the members of {@link RecordAccess} (plus `toJSON`, `toString`, `constructor` and
 * `__proto__`) and of the value's own members (`own`): a field or column of one of these names is
 * not a property of the value (`v.values` is the member) and is read with `get(name)`.
 *
 * @since 0.1.0
 * @category internals
 */
export const memberNames = (...own: ReadonlyArray<string>): ReadonlySet<string> =>
  new Set([
    "get",
    "at",
    "toObject",
    "keys",
    "entries",
    "values",
    "length",
    "toJSON",
    "toString",
    "constructor",
    "__proto__",
    ...own,
  ])

/**
 * A composite value.
 *
 * @example
 * ```ts
 * // CREATE TYPE mycomplex AS (r float8, i float8)
 * const v = yield* conn.fetchVal("SELECT (1.5, 2)::mycomplex") as PgComposite
 * v.r          // 1.5
 * v.at(1)      // 2
 * v.toObject() // { r: 1.5, i: 2 }
 * ```
 * @since 0.1.0
 * @category models
 */
export interface PgComposite extends RecordAccess {
  /** The field names, in order. */
  readonly fieldNames: ReadonlyArray<string>
}

const RESERVED = memberNames("fieldNames")

class CompositeBase {
  readonly values: Array<unknown>
  constructor(values: Array<unknown>) {
    this.values = values
  }
  get fieldNames(): ReadonlyArray<string> {
    return (this.constructor as CompositeClass).fieldNames
  }
  get length(): number {
    return this.values.length
  }
  get(key: string | number, fallback?: unknown): unknown {
    if (typeof key === "number")
      return Number.isInteger(key) && key >= 0 && key < this.values.length ? this.values[key] : fallback
    const i = (this.constructor as CompositeClass).index.get(key)
    return i === undefined ? fallback : this.values[i]
  }
  at(index: number): unknown {
    return this.values.at(index)
  }
  keys(): Array<string> {
    return [...(this.constructor as CompositeClass).fieldNames]
  }
  entries(): Array<[string, unknown]> {
    return (this.constructor as CompositeClass).fieldNames.map((n, i) => [n, this.values[i]])
  }
  toObject(): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    const names = (this.constructor as CompositeClass).fieldNames
    for (let i = 0; i < names.length; i++) {
      Object.defineProperty(out, names[i]!, {
        value: this.values[i],
        enumerable: true,
        writable: true,
        configurable: true,
      })
    }
    return out
  }
  toJSON(): Record<string, unknown> {
    return this.toObject()
  }
  /**
   * The record literal PostgreSQL prints (`(1,"a b",)`), each field written with `String(value)`
   * (booleans as `t`/`f`, bytes as `\x..` hex, arrays as array literals): exact for numbers,
   * strings, booleans, bytes and pgfx's value classes; not for JSON values or floats printed in
   * exponent form.
   */
  toString(): string {
    let s = "("
    for (let i = 0; i < this.values.length; i++) {
      if (i > 0) s += ","
      const v = this.values[i]
      if (v !== null && v !== undefined) s += writeLiteralField(textOf(v), false)
    }
    return `${s})`
  }
  [Symbol.iterator](): Iterator<unknown> {
    return this.values[Symbol.iterator]()
  }
  [Symbol.for("nodejs.util.inspect.custom")](): unknown {
    return Object.assign(Object.create(PgCompositeInspect.prototype), this.toObject())
  }
}

const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13)

/** Quotes an array element like array_out. */
const quoteElement = (s: string): string => {
  let needs = s.length === 0 || s.toLowerCase() === "null"
  for (let i = 0; !needs && i < s.length; i++) {
    const c = s.charCodeAt(i)
    needs = c === 34 || c === 92 || isSpace(c) || c === 123 || c === 125 || c === 44
  }
  if (!needs) return s
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (c === '"' || c === "\\") out += "\\"
    out += c
  }
  return `${out}"`
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

const textOf = (v: unknown): string => {
  if (typeof v === "boolean") return v ? "t" : "f"
  if (v instanceof Uint8Array) {
    let s = "\\x"
    for (let i = 0; i < v.length; i++) s += HEX[v[i]!]
    return s
  }
  if (!Array.isArray(v)) return String(v)
  let s = "{"
  for (let i = 0; i < v.length; i++) {
    if (i > 0) s += ","
    const el: unknown = v[i]
    s += el === null || el === undefined ? "NULL" : Array.isArray(el) ? textOf(el) : quoteElement(String(el))
  }
  return `${s}}`
}

/** Only names the class in `console.log` output: `PgComposite { r: 1 }`. */
class PgCompositeInspect {}
Object.defineProperty(PgCompositeInspect, "name", { value: "PgComposite" })

interface CompositeClass {
  new (values: Array<unknown>): CompositeBase
  readonly fieldNames: ReadonlyArray<string>
  readonly index: ReadonlyMap<string, number>
}

/**
 * Builds the value constructor of one composite shape. Call once per type, then `make(values)`
 * per value (the array is kept, not copied).
 *
 * @since 0.1.0
 * @category constructors
 */
export const compositeFactory = (fieldNames: ReadonlyArray<string>): ((values: Array<unknown>) => PgComposite) => {
  const index = firstIndexByName(fieldNames)
  class Composite extends CompositeBase {
    static readonly fieldNames = fieldNames
    static readonly index = index
  }
  defineValueGetters(Composite.prototype, index, fieldNames.length, RESERVED)
  return (values) => new Composite(values) as unknown as PgComposite
}

/**
 * The position of each name; with duplicate names the first one wins.
 *
 * @since 0.1.0
 * @category internals
 */
export const firstIndexByName = (names: ReadonlyArray<string>): Map<string, number> => {
  const index = new Map<string, number>()
  names.forEach((n, i) => {
    if (!index.has(n)) index.set(n, i)
  })
  return index
}

/**
 * Defines on `prototype` one getter per name (unless `reserved`) and one per position, each
 * reading `this.values[i]`: the shared shape of record-like values (`PgComposite` here,
 * `PgRecord` in the client). Built once per shape, so reading a field allocates nothing.
 *
 * @since 0.1.0
 * @category internals
 */
export const defineValueGetters = (
  prototype: object,
  index: ReadonlyMap<string, number>,
  length: number,
  reserved: ReadonlySet<string>,
): void => {
  for (const [name, i] of index) {
    if (reserved.has(name)) continue
    Object.defineProperty(prototype, name, {
      get(this: { readonly values: ReadonlyArray<unknown> }) {
        return this.values[i]
      },
      enumerable: true,
    })
  }
  for (let i = 0; i < length; i++) {
    if (index.has(String(i))) continue
    Object.defineProperty(prototype, i, {
      get(this: { readonly values: ReadonlyArray<unknown> }) {
        return this.values[i]
      },
    })
  }
}

/**
 * Tests whether a value is a {@link PgComposite}.
 *
 * @since 0.1.0
 * @category guards
 */
export const isPgComposite = (u: unknown): u is PgComposite => u instanceof CompositeBase
