/**
 * Every legal value is readable and writable, at the limits of each variable-length type, against
 * the real server: numeric at its maximum digits and scale (and ranges of them), arrays of the
 * maximum dimensions, 256 MiB text and bytea each way, every UTF-8 length class, deeply nested
 * jsonb, and a composite of 1,600 columns. A value beyond a limit is a typed error, never a
 * changed value, and the connection stays usable.
 */
import { createHash } from "node:crypto"
import { PgEncodeError, PgServerError } from "@pgfx/client/PgError"
import type { PgComposite } from "@pgfx/types/PgComposite"
import * as CodecRegistry from "@pgfx/types/CodecRegistry"
import { PgJson } from "@pgfx/types/PgJson"
import { Range } from "@pgfx/types/Range"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { testCluster } from "./support/cluster.ts"
import { connect } from "./support/connect.ts"
import { textFormatRegistry } from "./support/oracle.ts"
import { schemaConnect } from "./support/schema.ts"

const formats = [
  ["binary", {}],
  ["text", { codecs: textFormatRegistry() }],
] as const

/** numeric's largest value: 131,072 digits before the point and 16,383 after. */
const MAX_NUMERIC = `${"9".repeat(131072)}.${"9".repeat(16383)}`

describe("numeric at its limits", () => {
  it.live("the largest and smallest numerics, read and written in both formats", () =>
    Effect.gen(function* () {
      for (const [format, options] of formats) {
        const conn = yield* connect(options)
        const sql = "SELECT (repeat('9', 131072) || '.' || repeat('9', 16383))::numeric"
        expect(Option.getOrThrow(yield* conn.fetchVal(sql)), format).toBe(MAX_NUMERIC)
        expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT -${sql.slice(7)}`)), format).toBe(`-${MAX_NUMERIC}`)
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::numeric", [`-${MAX_NUMERIC}`])), format).toBe(
          `-${MAX_NUMERIC}`,
        )
        expect(
          Option.getOrThrow(yield* conn.fetchVal(`SELECT $1::numeric = ${sql.slice(7)}`, [MAX_NUMERIC])),
          format,
        ).toBe(true)
        // the smallest positive value at the largest scale
        const tiny = `0.${"0".repeat(16382)}1`
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::numeric", [tiny])), format).toBe(tiny)
        // one digit more is the server's typed error, and the connection goes on
        const over = yield* Effect.flip(conn.fetchVal("SELECT $1::numeric", [`1${"0".repeat(131072)}`]))
        expect(over, format).toBeInstanceOf(PgServerError)
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1::numeric")), format).toBe("1")
      }
    }),
  )

  it.live("numeric ranges and multiranges with the largest bounds", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const range = new Range(`-${MAX_NUMERIC}`, MAX_NUMERIC, { lowerInc: true, upperInc: false })
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::numrange", [range]))).toEqual(range)
      expect(
        Option.getOrThrow(
          yield* conn.fetchVal(
            "SELECT upper($1::numrange) = (repeat('9', 131072) || '.' || repeat('9', 16383))::numeric",
            [range],
          ),
        ),
      ).toBe(true)
      expect(
        Option.getOrThrow(
          yield* conn.fetchVal("SELECT numrange(-(repeat('9', 131072))::numeric, repeat('9', 131072)::numeric, '[]')"),
        ),
      ).toEqual(new Range(`-${"9".repeat(131072)}`, "9".repeat(131072), { lowerInc: true, upperInc: true }))
      if (testCluster().version >= 14) {
        const multi = [new Range(`-${MAX_NUMERIC}`, "0"), new Range("1", MAX_NUMERIC)]
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::nummultirange", [multi]))).toEqual(multi)
      }
    }),
  )
})

describe("arrays of the maximum dimensions", () => {
  /** A nested array of `dims` dimensions of length 2, elements numbered in row-major order. */
  const nested = (dims: number, next = { n: 0 }): unknown =>
    dims === 0 ? next.n++ : Array.from({ length: 2 }, () => nested(dims - 1, next))

  it.live("6 dimensions read and written in both formats; 7 is a PgEncodeError before sending", () =>
    Effect.gen(function* () {
      for (const [format, options] of formats) {
        const conn = yield* connect(options)
        const six = nested(6)
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int4[]", [six])), format).toEqual(six)
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT array_ndims($1::int4[])", [six])), format).toBe(6)
        const fill = (dims: number): unknown => (dims === 0 ? "a" : [fill(dims - 1), fill(dims - 1)])
        expect(
          Option.getOrThrow(yield* conn.fetchVal("SELECT array_fill('a'::text, ARRAY[2, 2, 2, 2, 2, 2])")),
          format,
        ).toEqual(fill(6))
        const error = yield* Effect.flip(conn.fetchVal("SELECT $1::int4[]", [nested(7)]))
        expect(error, format).toBeInstanceOf(PgEncodeError)
        expect(error.message, format).toContain("more than 6 dimensions")
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1")), format).toBe(1)
      }
    }),
  )
})

describe("large values", () => {
  const size = 256 * 1024 * 1024
  const md5 = (data: string | Uint8Array) => createHash("md5").update(data).digest("hex")

  // each query reads or writes the value once and lets the server hash it
  it.live(
    "256 MiB of text, each way",
    () =>
      Effect.gen(function* () {
        const conn = yield* connect()
        const started = Date.now()
        // 32 Mi times 'ab€' (5 bytes) and 96 Mi 'x': 256 MiB of UTF-8, 192 Mi characters
        const row = (yield* conn.fetch(
          `SELECT v, md5(v) AS hash FROM (SELECT repeat('ab€', ${size / 8}) || repeat('x', ${(size / 8) * 3}) AS v) s`,
        ))[0]!
        const text = row.v as string
        expect(text.length).toBe((size / 8) * 6)
        expect(md5(text)).toBe(row.hash)
        const back = (yield* conn.fetch("SELECT octet_length($1::text) AS n, md5($1::text) AS hash", [text]))[0]!
        expect(back.n).toBe(size)
        expect(back.hash).toBe(row.hash)
        console.log(`256 MiB of text each way: ${Date.now() - started} ms`)
      }),
    600_000,
  )

  it.live(
    "256 MiB of bytea, each way",
    () =>
      Effect.gen(function* () {
        const conn = yield* connect()
        const started = Date.now()
        const row = (yield* conn.fetch(
          `SELECT v, md5(v) AS hash FROM (SELECT convert_to(repeat('ab€xyz', ${size / 8}), 'UTF8') AS v) s`,
        ))[0]!
        const bytes = row.v as Uint8Array
        expect(bytes.length).toBe(size)
        expect(md5(bytes)).toBe(row.hash)
        bytes[size - 1] = 0xff
        const back = (yield* conn.fetch("SELECT length($1::bytea) AS n, md5($1::bytea) AS hash", [bytes]))[0]!
        expect(back.n).toBe(size)
        expect(back.hash).toBe(md5(bytes))
        console.log(`256 MiB of bytea each way: ${Date.now() - started} ms`)
      }),
    600_000,
  )
})

describe("text", () => {
  // one character of each UTF-8 length class, at both ends of each class, and a surrogate pair
  const samples = [
    "\u0001",
    "~",
    "\u007f",
    "\u0080",
    "é",
    "\u07ff",
    "\u0800",
    "€",
    "\uffff",
    "\ufffd",
    "😀",
    "\u{10000}",
    "\u{10ffff}",
  ]
  const all = samples.join("")

  it.live("every UTF-8 length class, in text, varchar, json, jsonb and arrays, in both formats", () =>
    Effect.gen(function* () {
      for (const [format, options] of formats) {
        const conn = yield* connect(options)
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::text", [all])), format).toBe(all)
        // the server sees the same characters (length counts code points)
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT length($1::text)", [all])), format).toBe(samples.length)
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT octet_length($1::text)", [all])), format).toBe(
          Buffer.byteLength(all, "utf8"),
        )
        const fromServer = samples.map((c) => `chr(${c.codePointAt(0)})`).join(" || ")
        expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT ${fromServer}`)), format).toBe(all)
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::varchar", [all])), format).toBe(all)
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::text[]", [[...samples, null]])), format).toEqual([
          ...samples,
          null,
        ])
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::json", [{ [all]: all }])), format).toEqual({
          [all]: all,
        })
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::jsonb", [[all, samples]])), format).toEqual([
          all,
          samples,
        ])
        expect(
          Option.getOrThrow(yield* conn.fetchVal(`SELECT jsonb_build_object(${fromServer}, ${fromServer})`)),
          format,
        ).toEqual({
          [all]: all,
        })
      }
    }),
  )
})

describe("jsonb", () => {
  /** A value `depth` levels deep, arrays and objects alternating. */
  const deepValue = (depth: number): unknown => {
    let value: unknown = 1
    for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value }
    return value
  }
  /** How deep a decoded `[[[...]]]` is (iteratively: the value is deeper than a recursive walk allows). */
  const depthOf = (value: unknown): number => {
    let d = 0
    for (let v = value; Array.isArray(v); v = v[0]) d++
    return d
  }

  it.live("deep nesting: as deep as the server accepts, both ways; deeper is a typed error", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      // JS values as deep as JSON.stringify goes
      const value = deepValue(2000)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::jsonb", [value]))).toEqual(value)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::json", [value]))).toEqual(value)
      // deeper than JSON.stringify can go: a typed error before sending, naming the way out
      const tooDeep = yield* Effect.flip(conn.fetchVal("SELECT $1::jsonb", [deepValue(20000)]))
      expect(tooDeep).toBeInstanceOf(PgEncodeError)
      expect(tooDeep.message).toContain("nested too deeply")
      // 10,000 levels (the server's limit with its default 2MB stack is below 20,000): read from
      // the server, and sent as JSON text
      const depth = 10000
      const text = `${"[".repeat(depth)}1${"]".repeat(depth)}`
      const serverSql = `SELECT (repeat('[', ${depth}) || '1' || repeat(']', ${depth}))::jsonb`
      expect(depthOf(Option.getOrThrow(yield* conn.fetchVal(serverSql)))).toBe(depth)
      expect(
        Option.getOrThrow(yield* conn.fetchVal("SELECT $1::jsonb = ($2::text)::jsonb", [PgJson.raw(text), text])),
      ).toBe(true)
      const lossless = yield* connect({ codecs: CodecRegistry.builtins.withLosslessJson() })
      expect((Option.getOrThrow(yield* lossless.fetchVal(serverSql)) as PgJson).text).toBe(text)
      // beyond the server's stack depth: its typed error, and the connection goes on
      const error = yield* Effect.flip(
        conn.fetchVal("SELECT (repeat('[', 100000) || '1' || repeat(']', 100000))::jsonb"),
      )
      expect(error).toBeInstanceOf(PgServerError)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT '[1]'::jsonb"))).toEqual([1])
    }),
  )
})

describe("the widest rows", () => {
  it.live("a composite of 1,600 columns (the maximum), read and written in both formats", () =>
    Effect.gen(function* () {
      const { conn, schema } = yield* schemaConnect()
      const n = 1600
      const columns = Array.from({ length: n }, (_, i) => `c${i + 1} int4`).join(", ")
      yield* conn.execute(`CREATE TABLE wide (${columns})`)
      const values = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? null : i))
      yield* conn.execute(`INSERT INTO wide VALUES (${values.map((_, i) => `$${i + 1}`).join(", ")})`, values)
      for (const [format, options] of formats) {
        const other = yield* connect({ ...options, serverSettings: { search_path: schema } })
        const row = Option.getOrThrow(yield* other.fetchVal("SELECT w FROM wide w")) as PgComposite
        expect(row.values, format).toEqual(values)
        const back = Option.getOrThrow(yield* other.fetchVal("SELECT $1::wide", [row])) as PgComposite
        expect(back.values, format).toEqual(values)
        expect(
          Option.getOrThrow(yield* other.fetchVal("SELECT $1::wide = (SELECT w FROM wide w)", [values])),
          format,
        ).toBe(true)
        // the table's rows as result rows: 1,600 columns
        const rows = yield* other.fetch("SELECT * FROM wide")
        expect(rows[0]!.values, format).toEqual(values)
      }
      // one column more is the server's typed error
      const error = yield* Effect.flip(conn.execute(`CREATE TABLE wider (${columns}, c1601 int4)`))
      expect(error).toBeInstanceOf(PgServerError)
    }),
  )

  it.live("a result of 1,664 columns (the target list maximum)", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const n = 1664
      const list = Array.from({ length: n }, (_, i) => `${i}::int4 AS c${i}`).join(", ")
      const rows = yield* conn.fetch(`SELECT ${list}`)
      expect(rows[0]!.values).toEqual(Array.from({ length: n }, (_, i) => i))
      expect(rows[0]!.columns.length).toBe(n)
    }),
  )
})
