/**
 * The core codecs against the server as the oracle: what the driver decodes equals what the
 * server means (checked through `::text`), and what the driver encodes the server reads back as
 * the same value. Types without a codec travel as text.
 */
import { PgDate } from "@pgfx/types/PgDate"
import { PgTimestamp } from "@pgfx/types/PgTimestamp"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { connect } from "./support/connect.ts"

interface Case {
  readonly type: string
  /** A SQL literal and the JS value it decodes to. */
  readonly values: ReadonlyArray<readonly [literal: string, value: unknown]>
}

const cases: ReadonlyArray<Case> = [
  {
    type: "bool",
    values: [
      ["true", true],
      ["false", false],
    ],
  },
  {
    type: "int2",
    values: [
      ["-32768", -32768],
      ["32767", 32767],
      ["0", 0],
    ],
  },
  {
    type: "int4",
    values: [
      ["-2147483648", -2147483648],
      ["2147483647", 2147483647],
    ],
  },
  {
    type: "int8",
    values: [
      ["-9223372036854775808", -9223372036854775808n],
      ["9223372036854775807", 9223372036854775807n],
      ["1", 1n],
    ],
  },
  {
    type: "oid",
    values: [
      ["4294967295", 4294967295],
      ["0", 0],
    ],
  },
  {
    type: "float4",
    values: [
      ["1.5", 1.5],
      ["'NaN'", Number.NaN],
      ["'-Infinity'", -Infinity],
      ["'-0'", -0],
    ],
  },
  {
    type: "float8",
    values: [
      ["0.1", 0.1],
      ["'Infinity'", Infinity],
      ["1e308", 1e308],
      ["'-0'", -0],
      ["'NaN'", Number.NaN],
    ],
  },
  {
    type: "text",
    values: [
      ["'héllo wörld ✓'", "héllo wörld ✓"],
      ["''", ""],
    ],
  },
  { type: "varchar", values: [["'abc'", "abc"]] },
  { type: "name", values: [["'pg_class'", "pg_class"]] },
  {
    type: "bytea",
    values: [
      ["'\\x00ff10'", new Uint8Array([0, 255, 16])],
      ["''", new Uint8Array([])],
    ],
  },
  { type: "uuid", values: [["'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]] },
  {
    type: "json",
    values: [
      [`'{"a": [1, 2.5, null, "x"]}'`, { a: [1, 2.5, null, "x"] }],
      ["'3'", 3],
    ],
  },
  {
    type: "jsonb",
    values: [
      [`'{"b": {"c": true}}'`, { b: { c: true } }],
      [`'"str"'`, "str"],
    ],
  },
  {
    type: "numeric",
    values: [
      ["'123456789012345678901234567890.123456789'", "123456789012345678901234567890.123456789"],
      ["'1.500'", "1.500"],
      ["'-0.0000001'", "-0.0000001"],
      ["'NaN'", "NaN"],
      ["'Infinity'", "Infinity"],
      ["'-Infinity'", "-Infinity"],
      ["0", "0"],
    ],
  },
  {
    type: "date",
    values: [
      ["'2024-02-29'", PgDate.make(2024, 2, 29)],
      ["'0044-03-15 BC'", PgDate.make(-43, 3, 15)],
      ["'infinity'", PgDate.infinity],
      ["'-infinity'", PgDate.negativeInfinity],
    ],
  },
]

describe("core codecs against the server", () => {
  for (const c of cases) {
    it.live(`${c.type}: decode, encode, and text agree with the server`, () =>
      Effect.gen(function* () {
        const conn = yield* connect()
        for (const [literal, value] of c.values) {
          const sqlValue = `(${literal})::${c.type}`
          const row = (yield* conn.fetch(`SELECT ${sqlValue} AS v, ${sqlValue}::text AS t`))[0]!
          expect(row.v, `${c.type} ${literal} decoded`).toEqual(value)
          // Encoding: the server reads our binary value back as the same value.
          const isJson = c.type === "json" || c.type === "jsonb"
          const param = value
          const cast = c.type === "json" ? "::jsonb" : ""
          const same = Option.getOrThrow(
            yield* conn.fetchVal(`SELECT $1::${c.type}${cast} IS NOT DISTINCT FROM ${sqlValue}${cast}`, [param]),
          )
          expect(same, `${c.type} ${literal} encoded`).toBe(true)
          const echoed = Option.getOrThrow(yield* conn.fetchVal(`SELECT $1::${c.type}::text`, [param]))
          if (!isJson) expect(echoed, `${c.type} ${literal} text`).toBe(row.t)
          // NULL both ways.
          expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT $1::${c.type}`, [null]))).toBe(null)
        }
      }),
    )
  }

  it.live("timestamp and timestamptz keep microseconds and infinities", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("SET TimeZone = 'UTC'")
      const ts = Option.getOrThrow(
        yield* conn.fetchVal("SELECT '2024-01-02 03:04:05.123456+00'::timestamptz"),
      ) as PgTimestamp
      expect(ts).toBeInstanceOf(PgTimestamp)
      expect(ts.toISOString()).toBe("2024-01-02T03:04:05.123456Z")
      expect(String(ts)).toBe(
        Option.getOrThrow(yield* conn.fetchVal("SELECT '2024-01-02 03:04:05.123456+00'::timestamptz::text")),
      )
      expect(
        Option.getOrThrow(yield* conn.fetchVal("SELECT $1::timestamptz = '2024-01-02 03:04:05.123456+00'", [ts])),
      ).toBe(true)
      const local = Option.getOrThrow(
        yield* conn.fetchVal("SELECT '1999-12-31 23:59:59.999999'::timestamp"),
      ) as PgTimestamp
      expect(String(local)).toBe("1999-12-31 23:59:59.999999")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::timestamp::text", [local]))).toBe(
        "1999-12-31 23:59:59.999999",
      )
      const inf = Option.getOrThrow(yield* conn.fetchVal("SELECT 'infinity'::timestamptz")) as PgTimestamp
      expect(inf.isFinite).toBe(false)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::timestamptz = 'infinity'", [inf]))).toBe(true)
      // A JS Date is accepted as input.
      expect(
        Option.getOrThrow(yield* conn.fetchVal("SELECT $1::timestamptz::text", [new Date("2020-05-06T07:08:09.010Z")])),
      ).toBe("2020-05-06 07:08:09.01+00")
    }),
  )

  it.live("strings for non-string types travel as text and the server parses them", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::int8", ["9007199254740993"]))).toBe(9007199254740993n)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::date::text", ["infinity"]))).toBe("infinity")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::numeric", ["1e3"]))).toBe("1000")
    }),
  )

  it.live("a type with no codec is exchanged in text format", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const sql =
        "SELECT '10:20:10,14,15'::pg_snapshot AS s, $1::pg_snapshot AS p, '{10:20:}'::pg_snapshot[] AS a, " +
        "'10:20:10,14,15'::pg_snapshot::text AS t"
      const row = (yield* conn.fetch(sql, ["10:20:"]))[0]!
      expect(row.s).toBe(row.t)
      expect(row.s).toBe("10:20:10,14,15")
      expect(row.p).toBe("10:20:")
      // its array type is found by introspection and parsed into a JS array of texts
      expect(row.a).toEqual(["10:20:"])
      expect(row.columns.map((c) => c.format)).toEqual([0, 0, 0, 1])
    }),
  )

  it.live("arrays of core types, with NULLs and several dimensions", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT ARRAY[[1, 2], [3, NULL]]::int4[]"))).toEqual([
        [1, 2],
        [3, null],
      ])
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::text[]", [["a", null, "c,d"]]))).toEqual([
        "a",
        null,
        "c,d",
      ])
      expect(
        Option.getOrThrow(
          yield* conn.fetchVal("SELECT $1::int8[]::text", [
            [
              [1n, 2n],
              [3n, 4n],
            ],
          ]),
        ),
      ).toBe("{{1,2},{3,4}}")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT '{}'::int4[]"))).toEqual([])
    }),
  )
})
