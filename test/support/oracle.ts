/**
 * The server as the oracle for codecs: for a SQL literal of a type and the JS value it should
 * decode to, check — on a connection using binary codecs and on one using the same codecs in
 * text format — that
 *
 * 1. the driver decodes the server's value to the expected JS value,
 * 2. the value class prints what the server prints (`String(v)` equals `concat(v)`, the type's
 *    output function),
 * 3. the driver encodes the expected value so that the server reads back the same value (its
 *    text output is identical), and re-encodes what it decoded to the same value,
 * 4. the same holds inside an array with a NULL element.
 */
import type { PgConnection } from "@pgfx/client/PgConnection"
import * as Codec from "@pgfx/types/Codec"
import * as CodecRegistry from "@pgfx/types/CodecRegistry"
import { expect } from "@effect/vitest"
import { Effect, Option } from "effect"

/** Every codec of `registry` restricted to the text format. */
export const textFormatRegistry = (registry: CodecRegistry.CodecRegistry = CodecRegistry.builtins) =>
  CodecRegistry.make([...registry.codecs()].map((c) => Codec.textOnly(c)))

/** Marks a value whose expected form is exactly the server's text. */
export const SERVER_TEXT: unique symbol = Symbol("SERVER_TEXT")

/** Values compared through their printed form too (class instances with their own toString). */
const printable = (v: unknown): boolean =>
  typeof v === "string" ||
  (typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Uint8Array) &&
    (v as { toString: unknown }).toString !== Object.prototype.toString)

/** A deep-comparable form: class instances also by their printed text (BitString keeps bits private). */
export const comparable = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(comparable)
  if (printable(v) && typeof v === "object") return { type: v!.constructor.name, text: String(v), value: v }
  return v
}

export interface OracleOptions {
  /** The value's SQL output differs from String(value) (e.g. numbers, JSON): skip check 2. */
  readonly noPrint?: boolean
  /** Compare through this SQL expression of the value (default `concat(x)`), e.g. `x::jsonb`. */
  readonly compareAs?: (sql: string) => string
  /** Skip the array checks (pseudo-types without arrays). */
  readonly noArray?: boolean
}

/**
 * Runs the checks for one type and literal on one connection. `expected` may be
 * {@link SERVER_TEXT} (the JS value is then the server's text) or a function that asserts on the
 * decoded value (for values whose class is built per connection, such as composites).
 */
export const checkValue = (
  conn: PgConnection,
  type: string,
  literal: string,
  expected: unknown,
  options: OracleOptions = {},
) =>
  Effect.gen(function* () {
    const label = `${type} ${literal}`
    const sqlValue = `(${literal})::${type}`
    const as = options.compareAs ?? ((x: string) => `concat(${x})`)
    const row = (yield* conn.fetch(`SELECT ${sqlValue} AS v, concat(${sqlValue}) AS t`))[0]!
    const want = expected === SERVER_TEXT || typeof expected === "function" ? row.v : expected
    // 1. decode
    if (expected === SERVER_TEXT) expect(row.v, `${label}: decoded`).toBe(row.t)
    else if (typeof expected === "function") (expected as (v: unknown) => void)(row.v)
    else expect(comparable(row.v), `${label}: decoded`).toEqual(comparable(want))
    // 2. print
    if (!options.noPrint && printable(row.v)) expect(String(row.v), `${label}: printed`).toBe(row.t)
    // 3. encode the expected value, and re-encode the decoded one
    for (const [what, value] of [
      ["expected", want],
      ["decoded", row.v],
    ] as const) {
      const same = Option.getOrThrow(yield* conn.fetchVal(`SELECT ${as(`$1::${type}`)} = ${as(sqlValue)}`, [value]))
      expect(same, `${label}: ${what} value encoded`).toBe(true)
    }
    // 4. arrays with a NULL element
    if (!options.noArray) {
      const arraySql = `ARRAY[${sqlValue}, NULL]::${type}[]`
      const arr = Option.getOrThrow(yield* conn.fetchVal(`SELECT ${arraySql}`))
      expect(comparable(arr), `${label}: array decoded`).toEqual(comparable([want, null]))
      const sameArray = Option.getOrThrow(
        yield* conn.fetchVal(`SELECT $1::${type}[]::text = ${arraySql}::text`, [[want, null]]),
      )
      expect(sameArray, `${label}: array encoded`).toBe(true)
    }
    // NULL both ways
    expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT $1::${type}`, [null])), `${label}: NULL`).toBe(null)
  })
