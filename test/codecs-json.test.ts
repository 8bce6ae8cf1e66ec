/**
 * json and jsonb against the server as the oracle: a value decoded by pgfx and sent back as a
 * parameter is the same value for the server — exactly the same text in lossless mode, an equal
 * JSON value in the default mode — alone, in arrays, and in composites; JSON null and SQL NULL
 * stay apart both ways; and 10,000 random documents survive the round trip.
 */
import * as CodecRegistry from "@pgfx/types/CodecRegistry"
import { PgJson } from "@pgfx/types/PgJson"
import type { PgComposite } from "@pgfx/types/PgComposite"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { randomJsonText } from "../packages/types/test/jsonGen.ts"
import { connect } from "./support/connect.ts"
import { schemaConnect } from "./support/schema.ts"
import { textFormatRegistry } from "./support/oracle.ts"

/** Documents of every shape; those marked `exact` have no number beyond double precision. */
const documents: ReadonlyArray<readonly [doc: string, exact: boolean]> = [
  ['{"b": {"c": [1, 2.5, null, "x"]}, "a": true}', true],
  ["[]", true],
  ["{}", true],
  ['[[], {}, [[1]], {"": ""}]', true],
  ['"just a string"', true],
  ['""', true],
  ["null", true],
  ["true", true],
  ["false", true],
  ["0", true],
  ["-1.5", true],
  ["1e308", true],
  ["5e-324", true],
  ["0.1", true],
  ['"\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0001 \\u001f \\u00e9 é \\ud83d\\ude00 😀 \\u2028"', true],
  ['{"key with \\"quotes\\"": "v", "ü": ["✓"]}', true],
  ["12345678901234567890123", false],
  ["-0.000000000000000000000000000001234567890123456789", false],
  ["1e400", false],
  ["1.0", false],
  ['{"n": 9007199254740993, "m": [3.141592653589793238462643383279]}', false],
]

/** json also keeps whitespace, key order and duplicate keys, and accepts \u0000 (jsonb refuses it). */
const jsonOnly: ReadonlyArray<string> = ['{ "b" : 1,\n  "a": 2, "b": 3 }', '"\\u0000"', "  [1 ,2]  "]

const lossless = CodecRegistry.builtins.withLosslessJson()

/** JSON text with object keys sorted (jsonb reorders keys), PgJson.null as null. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_key, value: unknown) =>
    typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof PgJson)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value,
  )

const quote = (s: string): string => `'${s.replaceAll("'", "''")}'`

describe("json / jsonb against the server", () => {
  for (const type of ["json", "jsonb"] as const) {
    // (json-only documents are compared through jsonb, which refuses \u0000: lossless checks only)
    const docs = [...documents, ...(type === "json" ? jsonOnly.map((d) => [d, false] as const) : [])]

    it.live(`${type}, lossless: decode → re-encode gives the server's exact text, alone and in arrays`, () =>
      Effect.gen(function* () {
        for (const [label, codecs] of [
          ["binary", lossless],
          ["text", textFormatRegistry(lossless)],
        ] as const) {
          const conn = yield* connect({ codecs })
          for (const [doc] of docs) {
            const lit = `${quote(doc)}::${type}`
            const row = (yield* conn.fetch(`SELECT ${lit} AS v, (${lit})::text AS t`))[0]!
            const v = row.v as PgJson
            expect(v, `${label} ${doc}`).toBeInstanceOf(PgJson)
            expect(v.text, `${label} ${doc}`).toBe(row.t)
            expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT $1::${type}::text`, [v])), `${label} ${doc}`).toBe(
              row.t,
            )
            const arraySql = `ARRAY[${lit}, NULL, 'null'::${type}]`
            const arr = Option.getOrThrow(yield* conn.fetchVal(`SELECT ${arraySql}`)) as Array<PgJson | null>
            expect(arr[1]).toBe(null)
            expect(arr[2]).toBe(PgJson.null)
            expect(
              Option.getOrThrow(yield* conn.fetchVal(`SELECT $1::${type}[]::text = (${arraySql})::text`, [arr])),
            ).toBe(true)
          }
        }
      }),
    )

    it.live(
      `${type}, default: decode → re-encode gives an equal value (exactly equal where no number is rounded)`,
      () =>
        Effect.gen(function* () {
          for (const [label, codecs] of [
            ["binary", CodecRegistry.builtins],
            ["text", textFormatRegistry()],
          ] as const) {
            const conn = yield* connect({ codecs })
            for (const [doc, exact] of docs) {
              const lit = `${quote(doc)}::${type}`
              const v = Option.getOrThrow(yield* conn.fetchVal(`SELECT ${lit}`))
              expect(v, `${label} ${doc}`).toEqual(doc.trim() === "null" ? PgJson.null : JSON.parse(doc))
              if (exact) {
                const same = Option.getOrThrow(yield* conn.fetchVal(`SELECT $1::${type}::jsonb = (${lit})::jsonb`, [v]))
                expect(same, `${label} ${doc} re-encoded`).toBe(true)
              }
              const arraySql = `ARRAY[${lit}, NULL]`
              const arr = Option.getOrThrow(yield* conn.fetchVal(`SELECT ${arraySql}`)) as Array<unknown>
              expect(arr[1]).toBe(null)
              if (exact) {
                const same = Option.getOrThrow(
                  yield* conn.fetchVal(`SELECT $1::${type}[]::jsonb[] = (${arraySql})::jsonb[]`, [arr]),
                )
                expect(same, `${label} ${doc} in an array`).toBe(true)
              }
            }
          }
        }),
    )
  }

  it.live("JSON null and SQL NULL stay apart both ways; a JS string is a JSON string", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const row = (yield* conn.fetch("SELECT 'null'::jsonb AS j, NULL::jsonb AS s, '\"null\"'::json AS str"))[0]!
      expect(row.j).toBe(PgJson.null)
      expect(row.s).toBe(null)
      expect(row.str).toBe("null")
      const sent = yield* conn.fetch(
        "SELECT $1::jsonb IS NULL AS a, $2::jsonb IS NULL AS b, jsonb_typeof($2) AS t, $3::json::text AS c",
        [null, PgJson.null, "null"],
      )
      expect(sent[0]!.toObject()).toEqual({ a: true, b: false, t: "null", c: '"null"' })
      // raw JSON text goes through PgJson.raw
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::json::text", [PgJson.raw('{"a" : 1}')]))).toBe(
        '{"a" : 1}',
      )
      // the value that failed before: a decoded JSON string document re-encodes
      const s = Option.getOrThrow(yield* conn.fetchVal(`SELECT '"just a string"'::jsonb`))
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::jsonb = '\"just a string\"'::jsonb", [s]))).toBe(true)
    }),
  )

  it.live("nested arrays and composites of json and jsonb round-trip", () =>
    Effect.gen(function* () {
      const { conn, schema } = yield* schemaConnect()
      yield* conn.execute("CREATE TYPE jpair AS (j json, b jsonb, n int4, arr jsonb[])")
      const lit = `ROW('{"x" : [1, 2]}', 'null', 7, ARRAY['[1]'::jsonb, '"s"', NULL])::jpair`
      const v = Option.getOrThrow(yield* conn.fetchVal(`SELECT ${lit}`)) as PgComposite
      expect(v.toObject()).toEqual({ j: { x: [1, 2] }, b: PgJson.null, n: 7, arr: [[1], "s", null] })
      // default mode: equal values (json's whitespace is not kept), n and the jsonb fields exactly
      const same = Option.getOrThrow(
        yield* conn.fetchVal(
          `SELECT (x).j::jsonb = (y).j::jsonb AND (x).b::text = (y).b::text AND (x).n = (y).n AND (x).arr::text = (y).arr::text
           FROM (SELECT $1::jpair AS x, ${lit} AS y) AS s`,
          [v],
        ),
      )
      expect(same).toBe(true)
      // lossless: the composite's json field keeps its exact text
      const exact = yield* connect({ codecs: lossless, serverSettings: { search_path: schema } })
      const w = Option.getOrThrow(yield* exact.fetchVal(`SELECT ${lit}`)) as PgComposite
      expect((w.j as PgJson).text).toBe('{"x" : [1, 2]}')
      expect(Option.getOrThrow(yield* exact.fetchVal(`SELECT $1::jpair::text = (${lit})::jpair::text`, [w]))).toBe(true)
      // a 2-D jsonb[] keeps its dimensions
      const twoSql = `'{{"[1]",2},{"{}","null"}}'::jsonb[]`
      const two = Option.getOrThrow(yield* conn.fetchVal(`SELECT ${twoSql}`))
      expect(two).toEqual([
        [[1], 2],
        [{}, PgJson.null],
      ])
      expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT $1::jsonb[]::text = ${twoSql}::text`, [two]))).toBe(true)
    }),
  )

  it.live(
    "property: 10,000 random documents round-trip through the server",
    () =>
      Effect.gen(function* () {
        const docs = randomJsonText(10_000, 0xc0ffee)
        const exact = yield* connect({ codecs: lossless })
        const parsed = yield* connect()
        const failures: Array<string> = []
        for (let at = 0; at < docs.length; at += 2_000) {
          const batch = docs.slice(at, at + 2_000)
          const raw = batch.map((d) => PgJson.raw(d))
          // json keeps the exact text; lossless jsonb gives the server's text back unchanged
          const rows = yield* exact.fetch(
            "SELECT j, j::text AS jt, b, b::text AS bt FROM unnest($1::json[], $1::jsonb[]) AS u(j, b)",
            [raw],
          )
          const again = Option.getOrThrow(
            yield* exact.fetchVal(
              "SELECT array_agg(x::text ORDER BY i) FROM unnest($1::jsonb[]) WITH ORDINALITY AS u(x, i)",
              [rows.map((r) => r.b)],
            ),
          )
          rows.forEach((r, i) => {
            if ((r.j as PgJson).text !== batch[i] || r.jt !== batch[i]) failures.push(`json: ${batch[i]}`)
            if ((r.b as PgJson).text !== r.bt || (again as Array<string>)[i] !== r.bt)
              failures.push(`jsonb: ${batch[i]}`)
          })
          // default mode: parsed values re-encode to equal documents (compared after JSON.parse)
          const values = Option.getOrThrow(
            yield* parsed.fetchVal(
              "SELECT array_agg(x ORDER BY i) FROM unnest($1::jsonb[]) WITH ORDINALITY AS u(x, i)",
              [raw],
            ),
          )
          const back = Option.getOrThrow(
            yield* parsed.fetchVal(
              "SELECT array_agg(x ORDER BY i) FROM unnest($1::jsonb[]) WITH ORDINALITY AS u(x, i)",
              [values],
            ),
          )
          ;(values as Array<unknown>).forEach((v, i) => {
            if (canonical(v) !== canonical(JSON.parse(batch[i]!))) failures.push(`default: ${batch[i]}`)
            if (canonical((back as Array<unknown>)[i]) !== canonical(v)) failures.push(`default again: ${batch[i]}`)
          })
        }
        expect(failures.slice(0, 5)).toEqual([])
      }),
    { timeout: 180_000 },
  )
})
