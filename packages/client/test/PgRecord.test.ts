/**
 * Rows and the per-statement row decoder: both row layouts (own properties from a generated
 * constructor; a values array behind prototype getters when the names do not allow properties)
 * behave the same through the PgRecord API, and the decoder (generated or not) reports bad
 * DataRows as protocol violations and undecodable values as PgDecodeError naming the column.
 */
import { makeStatementInfo } from "@pgfx/client/internal/wire/Statement"
import { PgDecodeError } from "@pgfx/client/PgError"
import { isPgRecord, makeRecordShape, type PgColumn, type PgRecord } from "@pgfx/client/PgRecord"
import * as Backend from "@pgfx/protocol/Backend"
import * as CodecRegistry from "@pgfx/types/CodecRegistry"
import { describe, expect, it } from "@effect/vitest"
import { inspect } from "node:util"

const column = (name: string, typeOid = 23): PgColumn => ({
  name,
  typeOid,
  tableOid: 0,
  columnAttribute: 0,
  typeModifier: -1,
  typeSize: 4,
  format: 1,
})

const rowOf = (names: ReadonlyArray<string>, values: Array<unknown>): PgRecord =>
  makeRecordShape(names.map((n) => column(n))).make(values)

/** Every PgRecord method, on a row whose columns are a, b, c with values 1, "x", null. */
const behavesAsRecord = (row: PgRecord, names: ReadonlyArray<string>) => {
  expect(isPgRecord(row)).toBe(true)
  expect(row.length).toBe(3)
  expect(row.values).toEqual([1, "x", null])
  expect([...row]).toEqual([1, "x", null])
  expect(row.keys()).toEqual(names)
  expect(row.entries()).toEqual(names.map((n, i) => [n, [1, "x", null][i]]))
  expect(row.get(names[2]!)).toBeNull()
  expect(row.get(1)).toBe("x")
  expect(row.get(0)).toBe(1)
  expect(row.get(3)).toBeUndefined()
  expect(row.get(-1)).toBeUndefined()
  expect(row.get("nope")).toBeUndefined()
  expect(row.at(-1)).toBeNull()
  expect(row.at(1)).toBe("x")
  expect(row.at(5)).toBeUndefined()
  expect(row[0]).toBe(1)
  expect(row[1]).toBe("x")
  expect(row.columns.map((c) => c.name)).toEqual(names)
  expect(JSON.stringify(row)).toBe(JSON.stringify(row.toObject()))
}

describe("PgRecord layouts", () => {
  it("plain column names: own properties, spreadable, same API", () => {
    const row = rowOf(["a", "b", "c"], [1, "x", null])
    behavesAsRecord(row, ["a", "b", "c"])
    expect(row.a).toBe(1)
    expect({ ...row }).toEqual({ a: 1, b: "x", c: null })
    expect(Object.keys(row)).toEqual(["a", "b", "c"])
    expect(row.toObject()).toEqual({ a: 1, b: "x", c: null })
    // `values` is a fresh array each time: changing it does not change the row.
    ;(row.values as Array<unknown>)[0] = 99
    expect(row.a).toBe(1)
    expect(makeRecordShape([column("a")]).Row).toBeDefined()
  })

  it("method names, duplicates and index-like names keep the array layout", () => {
    for (const names of [
      ["get", "b", "c"],
      ["a", "a", "c"],
      ["a", "1", "c"],
      ["values", "b", "constructor"],
    ]) {
      expect(makeRecordShape(names.map((n) => column(n))).Row).toBeUndefined()
      const row = rowOf(names, [1, "x", null])
      behavesAsRecord(row, names)
    }
    const dup = rowOf(["a", "a", "c"], [1, "x", null])
    expect(dup.a).toBe(1) // the first of duplicate names wins
    expect(dup.toObject()).toEqual({ a: 1, c: null })
    expect(rowOf(["get", "b", "c"], [1, "x", null]).get("get")).toBe(1)
  })

  it("get(key, fallback): the fallback only for a missing column, never for a NULL", () => {
    for (const row of [rowOf(["a", "b", "c"], [1, "x", null]), rowOf(["a", "a", "c"], [1, "x", null])]) {
      expect(row.get("a", 0)).toBe(1)
      expect(row.get("c", "none")).toBeNull()
      expect(row.get("zzz", "none")).toBe("none")
      expect(row.get(2, "none")).toBeNull()
      expect(row.get(3, "none")).toBe("none")
      expect(row.get(1.5, "none")).toBe("none")
    }
  })

  it("columns named like members stay reachable through get, toObject, toJSON and entries", () => {
    const names = ["values", "length", "toString", "columns", "id"]
    const row = rowOf(names, ["v", 7, "s", "c", 1])
    // The member wins for property access...
    expect(row.length).toBe(5)
    expect(row.values).toEqual(["v", 7, "s", "c", 1])
    expect(row.columns.map((c) => c.name)).toEqual(names)
    expect(typeof row.toString).toBe("function")
    // ...and every column is still there by name.
    expect(names.map((n) => row.get(n))).toEqual(["v", 7, "s", "c", 1])
    expect(row.toObject()).toEqual({ values: "v", length: 7, toString: "s", columns: "c", id: 1 })
    expect(JSON.parse(JSON.stringify(row))).toEqual(row.toObject())
    expect(row.entries()).toEqual(names.map((n, i) => [n, ["v", 7, "s", "c", 1][i]]))
    expect(row.id).toBe(1)
    expect(String(row)).toBe('PgRecord({"values":"v","length":7,"toString":"s","columns":"c","id":1})')
  })

  it("prints readably: toString, template strings, util.inspect / console.log, JSON", () => {
    const row = rowOf(["id", "name", "price"], [1n, "espresso", null])
    expect(String(row)).toBe('PgRecord({"id":1n,"name":"espresso","price":null})')
    expect(`${row}`).toBe(String(row))
    expect(inspect(row)).toBe("PgRecord { id: 1n, name: 'espresso', price: null }")
    // the array layout (a member name among the columns) prints the same way
    const values = rowOf(["get", "when"], [[1, 2], new Date("2025-01-31T12:00:00Z")])
    expect(String(values)).toBe('PgRecord({"get":[1,2],"when":2025-01-31T12:00:00.000Z})')
    expect(inspect(values)).toBe("PgRecord { get: [ 1, 2 ], when: 2025-01-31T12:00:00.000Z }")
    expect(JSON.stringify(rowOf(["a", "b"], [1, "x"]))).toBe('{"a":1,"b":"x"}')
  })

  it("more than 64 columns keep the array layout", () => {
    const names = Array.from({ length: 65 }, (_, i) => `c${i}`)
    const shape = makeRecordShape(names.map((n) => column(n)))
    expect(shape.Row).toBeUndefined()
    const row = shape.make(names.map((_, i) => i))
    expect(row.c64).toBe(64)
    expect(row.get("c10")).toBe(10)
  })
})

/** A DataRow body: int16 count, then per field int32 length and bytes (null: length -1). */
const dataRow = (fields: ReadonlyArray<Uint8Array | null>, count = fields.length): [Uint8Array, DataView] => {
  const size = 2 + fields.reduce((n, f) => n + 4 + (f?.length ?? 0), 0)
  const buf = new Uint8Array(size)
  const view = new DataView(buf.buffer)
  view.setInt16(0, count)
  let pos = 2
  for (const f of fields) {
    view.setInt32(pos, f === null ? -1 : f.length)
    pos += 4
    if (f !== null) {
      buf.set(f, pos)
      pos += f.length
    }
  }
  return [buf, view]
}

const int4 = (n: number) => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setInt32(0, n)
  return b
}
const text = (s: string) => new TextEncoder().encode(s)

const field = (name: string, typeOid: number): Backend.FieldDescription => ({
  name,
  typeOid,
  tableOid: 0,
  columnAttribute: 0,
  typeSize: -1,
  typeModifier: -1,
  format: 0,
})

describe("row decoder", () => {
  const widths = [
    ["generated", 4],
    ["generated, array layout (duplicate names)", 4],
    ["loop (over 64 columns)", 70],
  ] as const

  for (const [label, width] of widths) {
    const dup = label.includes("duplicate")
    const fields = Array.from({ length: width }, (_, i) =>
      field(dup && i === 1 ? "c0" : `c${i}`, i === 1 ? 25 : i === 2 ? 1700 : 23),
    )
    // int4 binary, text binary, numeric binary, the rest int4.
    const info = makeStatementInfo("", "SELECT", [], fields, CodecRegistry.builtins)
    const good = (): Array<Uint8Array | null> =>
      Array.from({ length: width }, (_, i) => (i === 1 ? text("héllo") : i === 2 ? null : int4(i + 100)))

    it(`${label}: decodes every column`, () => {
      const [buf, view] = dataRow(good())
      const row = info.decodeRecord(buf, view, 0, buf.length)
      expect(row.at(0)).toBe(100)
      expect(row.at(1)).toBe("héllo")
      expect(row.at(2)).toBeNull()
      expect(row.at(width - 1)).toBe(width - 1 + 100)
    })

    it(`${label}: a wrong field count or an overrun is a protocol violation`, () => {
      const [buf, view] = dataRow(good(), width + 1)
      expect(() => info.decodeRecord(buf, view, 0, buf.length)).toThrow(Backend.ProtocolViolation)
      const [buf2, view2] = dataRow(good())
      expect(() => info.decodeRecord(buf2, view2, 0, buf2.length - 1)).toThrow(Backend.ProtocolViolation)
    })

    it(`${label}: an undecodable value is a PgDecodeError naming its column`, () => {
      const fields = good()
      fields[0] = new Uint8Array([1, 2]) // int4 needs 4 bytes
      const [buf, view] = dataRow(fields)
      let error: unknown
      try {
        info.decodeRecord(buf, view, 0, buf.length)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(PgDecodeError)
      expect((error as PgDecodeError).column).toBe("c0")
    })
  }
})
