/**
 * Result rows: a `PgRecord` reads by column name (`row.id`, `row.get("id")`) and by position
 * (`row.at(0)`, `row[0]`), converts to a plain object, iterates its values, and keeps the column
 * metadata of its statement — like asyncpg's Record.
 *
 * Per statement, one row class is built with a getter per column on its prototype, so a row
 * costs one small object plus its values array, and decoding never creates per-cell closures.
 *
 * Gotcha: a column whose name collides with a method (`get`, `at`, `toObject`, `columns`,
 * `values`, `length`, `keys`, `entries`) or is not a valid property is still readable with
 * `get(name)` and `at(index)`. With duplicate column names, the first one wins for name access.
 *
 * @since 0.1.0
 */
import { defineValueGetters, firstIndexByName } from "@pgfx/types/PgComposite"

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
 * row?.toObject() // { a: 1, b: "x" }
 * ```
 * @since 0.1.0
 */
export interface PgRecord {
  /** The value of a column by name or by 0-based index; `undefined` when there is no such column. */
  get(key: string | number): unknown
  /** The value at a 0-based index (negative counts from the end). */
  at(index: number): unknown
  /** A plain object `{ column: value }`. */
  toObject(): Record<string, unknown>
  /** The column names, in order. */
  keys(): Array<string>
  /** `[name, value]` pairs, in order. */
  entries(): Array<[string, unknown]>
  /** The values, in order. */
  readonly values: ReadonlyArray<unknown>
  /** The result's column metadata. */
  readonly columns: ReadonlyArray<PgColumn>
  /** The number of columns. */
  readonly length: number
  [Symbol.iterator](): Iterator<unknown>
  readonly [column: string]: unknown
  readonly [index: number]: unknown
}

const RESERVED = new Set([
  "get",
  "at",
  "toObject",
  "keys",
  "entries",
  "values",
  "columns",
  "length",
  "toJSON",
  "constructor",
  "__proto__",
])

class RecordBase {
  readonly values: Array<unknown>
  constructor(values: Array<unknown>) {
    this.values = values
  }
  get columns(): ReadonlyArray<PgColumn> {
    return (this.constructor as RecordClass).columns
  }
  get length(): number {
    return this.values.length
  }
  get(key: string | number): unknown {
    if (typeof key === "number") return this.values[key]
    const i = (this.constructor as RecordClass).index.get(key)
    return i === undefined ? undefined : this.values[i]
  }
  at(index: number): unknown {
    return this.values.at(index)
  }
  keys(): Array<string> {
    return (this.constructor as RecordClass).columns.map((c) => c.name)
  }
  entries(): Array<[string, unknown]> {
    const cols = (this.constructor as RecordClass).columns
    return cols.map((c, i) => [c.name, this.values[i]])
  }
  toObject(): Record<string, unknown> {
    const cols = (this.constructor as RecordClass).columns
    const out: Record<string, unknown> = {}
    // The first of duplicate names wins, as for name access.
    for (let i = cols.length - 1; i >= 0; i--) out[cols[i]!.name] = this.values[i]
    return Object.fromEntries(cols.map((c) => [c.name, out[c.name]]))
  }
  toJSON(): Record<string, unknown> {
    return this.toObject()
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

interface RecordClass {
  new (values: Array<unknown>): RecordBase
  readonly columns: ReadonlyArray<PgColumn>
  readonly index: ReadonlyMap<string, number>
}

/**
 * Builds the row constructor for one result shape. Call once per statement, then
 * `make(values)` per row.
 * @since 0.1.0
 */
export const makeRecordFactory = (columns: ReadonlyArray<PgColumn>): ((values: Array<unknown>) => PgRecord) => {
  const index = firstIndexByName(columns.map((c) => c.name))
  class Row extends RecordBase {
    static readonly columns = columns
    static readonly index = index
  }
  defineValueGetters(Row.prototype, index, columns.length, RESERVED)
  return (values) => new Row(values) as unknown as PgRecord
}

/**
 * Tests whether a value is a {@link PgRecord}.
 * @since 0.1.0
 */
export const isPgRecord = (u: unknown): u is PgRecord => u instanceof RecordBase
