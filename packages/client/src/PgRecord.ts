/**
 * Result rows: a `PgRecord` reads by column name (`row.id`, `row.get("id")`) and by position
 * (`row.at(0)`, `row[0]`), converts to a plain object, iterates its values, and keeps the column
 * metadata of its statement — like asyncpg's Record.
 *
 * Per statement, one row class is built. When every column name can be a property (no method
 * name, no duplicate, at most 64 columns), a constructor generated for the statement stores each
 * value as an own property: `row.name` is a plain property load, `{ ...row }` and `Object.keys`
 * give the columns, and the row decoder builds the row without a values array (`values` then
 * makes a fresh array on each read). Otherwise a row keeps its values in an array read through
 * getters on the class's prototype. Decoding never creates per-cell closures.
 *
 * Printing: `String(row)` is `PgRecord({"id":1n,"name":"espresso"})` (Effect's `Formatter`),
 * `console.log(row)` / `util.inspect` show `PgRecord { id: 1n, name: 'espresso' }`, and
 * `JSON.stringify(row)` writes the columns as an object (`toJSON`; like any object holding a
 * `bigint`, an `int8` value makes `JSON.stringify` throw).
 *
 * The shadowing rule: `row.name` is the column `name` unless `name` is a member of the record
 * (`get`, `at`, `toObject`, `toJSON`, `toString`, `keys`, `entries`, `values`, `columns`,
 * `length`, `constructor`, `__proto__`), which always means the member, and `row[0]` is always
 * the first position. Every column stays reachable by name through `get(name)`, `toObject()`,
 * `toJSON()` and `entries()` (a column named `values` is `row.get("values")`). With duplicate
 * column names the first one wins for name access; `at(index)` reaches the others.
 *
 * @since 0.1.0
 */
import { defineValueGetters, firstIndexByName, memberNames, type RecordAccess } from "@pgfx/types/PgComposite"
import { Formatter } from "effect"

/** Metadata of one result column. @since 0.1.0 */
export interface PgColumn {
  readonly name: string
  /** OID of the column's type. */
  readonly typeOid: number
  /** OID of the table the column comes from, or 0. */
  readonly tableOid: number
  /** Attribute number of the column in that table, or 0. */
  readonly columnAttribute: number
  readonly typeModifier: number
  readonly typeSize: number
  /** 1 when the column was received in binary format, 0 for text. */
  readonly format: number
}

/**
 * A result row. Index it by column name for values, or use the methods.
 *
 * @example
 * ```ts
 * const row = yield* conn.fetchRow("SELECT 1 AS a, 'x' AS b")
 * row?.get("a") // 1
 * row?.at(1)    // "x"
 * row?.get("zzz", 0) // 0 (no such column)
 * row?.toObject() // { a: 1, b: "x" }
 * String(row)     // 'PgRecord({"a":1,"b":"x"})'
 * ```
 * @since 0.1.0
 */
export interface PgRecord extends RecordAccess {
  /** The result's column metadata. */
  readonly columns: ReadonlyArray<PgColumn>
  /** The columns as an object, for `JSON.stringify` (same as {@link toObject}). */
  toJSON(): Record<string, unknown>
  /** `PgRecord({"id":1n,"name":"espresso"})`: the columns formatted by Effect's `Formatter`. */
  toString(): string
}

/**
 * The names a column cannot be read under as a property of a row (the row's members): such a
 * column is read with `get(name)`.
 *
 * @since 0.1.0
 * @category internals
 * @internal
 */
export const recordMembers: ReadonlySet<string> = memberNames("columns")

/** The per-shape data every row class carries (as static properties of its constructor). */
interface Shape {
  readonly columns: ReadonlyArray<PgColumn>
  /** Column name → first position. */
  readonly index: ReadonlyMap<string, number>
}

const valueAt: unique symbol = Symbol("pgfx.valueAt")

/** The methods of every row, written against one primitive: the value at a position. */
abstract class RecordMethods {
  abstract [valueAt](i: number): unknown
  abstract readonly values: Array<unknown>
  private get shape(): Shape {
    return this.constructor as unknown as Shape
  }
  get columns(): ReadonlyArray<PgColumn> {
    return this.shape.columns
  }
  get length(): number {
    return this.shape.columns.length
  }
  get(key: string | number, fallback?: unknown): unknown {
    if (typeof key === "number")
      return Number.isInteger(key) && key >= 0 && key < this.length ? this[valueAt](key) : fallback
    const i = this.shape.index.get(key)
    return i === undefined ? fallback : this[valueAt](i)
  }
  at(index: number): unknown {
    const n = this.length
    const i = Math.trunc(index) < 0 ? Math.trunc(index) + n : Math.trunc(index)
    return i >= 0 && i < n ? this[valueAt](i) : undefined
  }
  keys(): Array<string> {
    return this.shape.columns.map((c) => c.name)
  }
  entries(): Array<[string, unknown]> {
    return this.shape.columns.map((c, i) => [c.name, this[valueAt](i)])
  }
  toObject(): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    // The first of duplicate names wins, as for name access (the index holds first positions, in order).
    for (const [name, i] of this.shape.index) out[name] = this[valueAt](i)
    return out
  }
  toJSON(): Record<string, unknown> {
    return this.toObject()
  }
  toString(): string {
    return `PgRecord(${Formatter.format(this.toObject())})`
  }
  [Symbol.iterator](): Iterator<unknown> {
    return this.values[Symbol.iterator]()
  }
  [Symbol.for("nodejs.util.inspect.custom")](): unknown {
    return Object.assign(Object.create(PgRecordInspect.prototype), this.toObject())
  }
}

/** Only names the class in `console.log` output: `PgRecord { id: 1 }`. */
class PgRecordInspect {}
Object.defineProperty(PgRecordInspect, "name", { value: "PgRecord" })

/** A row holding its values in an array, read through getters on its prototype (any column names). */
class ValuesRecord extends RecordMethods {
  readonly values: Array<unknown>
  constructor(values: Array<unknown>) {
    super()
    this.values = values
  }
  [valueAt](i: number): unknown {
    return this.values[i]
  }
}

/**
 * A row holding each value as an own property named by its column (built by a constructor
 * generated per statement): reading `row.name` is a plain property load and spreading a row gives
 * its columns. Used when every column name can be a property (see {@link fieldsLayout}).
 */
class FieldsRecord extends RecordMethods {
  /** Its own properties are exactly its columns, in order: one copy. */
  override toObject(): Record<string, unknown> {
    return { ...this } as Record<string, unknown>
  }
  get values(): Array<unknown> {
    const n = this.length
    const out = new Array<unknown>(n)
    for (let i = 0; i < n; i++) out[i] = this[valueAt](i)
    return out
  }
  [valueAt](i: number): unknown {
    return (this as unknown as Record<string, unknown>)[(this.constructor as unknown as Shape).columns[i]!.name]
  }
}

/** Whether every name can be an own property: no method name, no duplicate, no array index. */
const fieldsLayout = (names: ReadonlyArray<string>): boolean =>
  names.length <= MAX_GENERATED_COLUMNS &&
  new Set(names).size === names.length &&
  names.every((n) => n.length > 0 && !recordMembers.has(n) && !/^(?:0|[1-9][0-9]*)$/.test(n))

/** Above this many columns rows keep the array layout (generated code stays small). */
const MAX_GENERATED_COLUMNS = 64

/**
 * How rows of one result shape are built: `make(values)` always works; `Row`, when defined, is a
 * constructor taking the values as arguments (`new Row(v0, v1, ...)`), which a generated row
 * decoder calls directly so no values array is made per row. Used by the connection's row
 * decoders (internal/wire/Statement.ts); applications read rows, they do not build them.
 *
 * @since 0.1.0
 * @category internals
 * @internal
 */
export interface RecordShape {
  readonly make: (values: Array<unknown>) => PgRecord
  readonly Row: (new (...values: Array<unknown>) => PgRecord) | undefined
}

/** `new Function` is unavailable where code generation is forbidden (e.g. a strict CSP). */
const generate = (params: ReadonlyArray<string>, body: string): ((...args: Array<unknown>) => unknown) | undefined => {
  try {
    return new Function(...params, body) as (...args: Array<unknown>) => unknown
  } catch {
    return undefined
  }
}

/**
 * Builds the row classes for one result shape. Call once per statement.
 *
 * @example
 * ```ts
 * const shape = makeRecordShape(columns) // once per statement
 * const row = shape.make([1, "espresso"]) // row.id === 1, row.name === "espresso"
 * ```
 * @since 0.1.0
 * @category internals
 * @internal
 */
export const makeRecordShape = (columns: ReadonlyArray<PgColumn>): RecordShape => {
  const names = columns.map((c) => c.name)
  const index = firstIndexByName(names)
  if (fieldsLayout(names)) {
    const params = names.map((_, i) => `v${i}`)
    const Row = generate(params, names.map((n, i) => `this[${JSON.stringify(n)}] = v${i};`).join("\n")) as
      (new (...values: Array<unknown>) => PgRecord) | undefined
    if (Row !== undefined) {
      const proto = Object.create(FieldsRecord.prototype) as object
      Object.defineProperty(proto, "constructor", { value: Row, writable: true, configurable: true })
      names.forEach((name, i) =>
        Object.defineProperty(proto, i, {
          get(this: Record<string, unknown>) {
            return this[name]
          },
        }),
      )
      Object.assign(Row, { columns, index })
      Row.prototype = proto
      return { make: (values) => new Row(...values), Row }
    }
  }
  class Row extends ValuesRecord {
    static readonly columns = columns
    static readonly index = index
  }
  defineValueGetters(Row.prototype, index, columns.length, recordMembers)
  return { make: (values) => new Row(values) as unknown as PgRecord, Row: undefined }
}

/**
 * Builds the row constructor for one result shape. Call once per statement, then
 * `make(values)` per row.
 * @since 0.1.0
 */
export const makeRecordFactory = (columns: ReadonlyArray<PgColumn>): ((values: Array<unknown>) => PgRecord) =>
  makeRecordShape(columns).make

/**
 * Tests whether a value is a {@link PgRecord}.
 * @since 0.1.0
 */
export const isPgRecord = (u: unknown): u is PgRecord => u instanceof RecordMethods
