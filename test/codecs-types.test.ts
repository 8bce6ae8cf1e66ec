/**
 * Every built-in type against the server as the oracle, in both formats: each case runs on a
 * connection with the binary codecs and on one whose codecs are restricted to the text format
 * (see test/support/oracle.ts for the checks). NULLs, extremes and edge cases included.
 */
import { BitString } from "@pgfx/types/BitString"
import { Box, Circle, Line, LineSegment, Path, Point, Polygon } from "@pgfx/types/Geometry"
import { Interval } from "@pgfx/types/Interval"
import { PgDate } from "@pgfx/types/PgDate"
import { PgTime, PgTimeTz } from "@pgfx/types/PgTime"
import { PgTimestamp } from "@pgfx/types/PgTimestamp"
import { Range } from "@pgfx/types/Range"
import { Tid } from "@pgfx/types/Tid"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { testCluster } from "./support/cluster.ts"
import { connect } from "./support/connect.ts"
import { checkValue, type OracleOptions, SERVER_TEXT, textFormatRegistry } from "./support/oracle.ts"

interface Case {
  readonly type: string
  readonly values: ReadonlyArray<readonly [literal: string, value: unknown]>
  readonly options?: OracleOptions
  /** Lowest server major version that has the type / values. */
  readonly since?: number
}

const timestamp = (y: number, mo: number, d: number, h = 0, mi = 0, sec = 0, us = 0) =>
  PgTimestamp.make(y, mo, d, h, mi, sec, us, false)
const timestamptz = (y: number, mo: number, d: number, h = 0, mi = 0, sec = 0, us = 0) =>
  PgTimestamp.make(y, mo, d, h, mi, sec, us, true)
const bytes = (n: number) => new Uint8Array(Array.from({ length: n }, (_, i) => i))

const cases: ReadonlyArray<Case> = [
  {
    type: "bool",
    values: [
      ["true", true],
      ["false", false],
    ],
    options: { noPrint: true },
  },
  {
    type: "int2",
    values: [
      ["-32768", -32768],
      ["32767", 32767],
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
    ],
  },
  {
    type: "oid",
    values: [
      ["0", 0],
      ["4294967295", 4294967295],
    ],
  },
  {
    type: "float4",
    values: [
      ["1.5", 1.5],
      ["'NaN'", NaN],
      ["'-Infinity'", -Infinity],
      ["'-0'", -0],
      ["'3.4028235e38'", 3.4028234663852886e38],
      ["'1e-45'", 1.401298464324817e-45],
    ],
  },
  {
    type: "float8",
    values: [
      ["0.1", 0.1],
      ["1e308", 1e308],
      ["'5e-324'", 5e-324],
      ["'-0'", -0],
      ["'NaN'", NaN],
      ["'Infinity'", Infinity],
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
      [`'${"9".repeat(1000)}.${"1".repeat(1000)}'`, `${"9".repeat(1000)}.${"1".repeat(1000)}`],
      ["'1e-16383'", `0.${"0".repeat(16382)}1`],
      ["'1e131071'", `1${"0".repeat(131071)}`],
    ],
  },
  {
    type: "text",
    values: [
      ["'héllo wörld ✓ 𝄞'", "héllo wörld ✓ 𝄞"],
      ["''", ""],
      ["E'tab\\there\\nnew \"quoted\" \\\\ back'", 'tab\there\nnew "quoted" \\ back'],
    ],
  },
  { type: "varchar(10)", values: [["'abc'", "abc"]] },
  {
    type: "bpchar(4)",
    values: [
      ["'ab'", "ab  "],
      ["'abcd'", "abcd"],
    ],
  },
  { type: "name", values: [["'pg_class'", "pg_class"]] },
  {
    type: '"char"',
    values: [
      ["'a'", "a"],
      ["''", ""],
    ],
  },
  { type: "xml", values: [["'<a x=\"1\">t</a>'", '<a x="1">t</a>']], options: { compareAs: (x) => `${x}::text` } },
  {
    type: "bytea",
    values: [
      [`'\\x${Array.from(bytes(256), (b) => b.toString(16).padStart(2, "0")).join("")}'`, bytes(256)],
      ["''", new Uint8Array(0)],
    ],
  },
  {
    type: "uuid",
    values: [
      ["'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"],
      ["'00000000-0000-0000-0000-000000000000'", "00000000-0000-0000-0000-000000000000"],
    ],
  },
  {
    type: "jsonb",
    values: [
      [`'{"b": {"c": [1, 2.5, null, "x"]}, "a": true}'`, { a: true, b: { c: [1, 2.5, null, "x"] } }],
      [`'[1, "x", {"y": null}]'`, [1, "x", { y: null }]],
    ],
    options: { noPrint: true, noArray: true },
  },
  {
    type: "json",
    values: [[`'{"a":[1,2.5,null,"x"]}'`, { a: [1, 2.5, null, "x"] }]],
    options: { noPrint: true, compareAs: (x) => `${x}::jsonb`, noArray: true },
  },
  {
    type: "date",
    values: [
      ["'2024-02-29'", PgDate.make(2024, 2, 29)],
      ["'0044-03-15 BC'", PgDate.make(-43, 3, 15)],
      ["'4714-11-24 BC'", PgDate.make(-4713, 11, 24)],
      ["'5874897-12-31'", PgDate.make(5874897, 12, 31)],
      ["'275760-09-13'", PgDate.make(275760, 9, 13)],
      ["'275761-01-01'", PgDate.make(275761, 1, 1)],
      ["'infinity'", PgDate.infinity],
      ["'-infinity'", PgDate.negativeInfinity],
    ],
  },
  {
    type: "timestamp",
    values: [
      ["'1999-12-31 23:59:59.999999'", timestamp(1999, 12, 31, 23, 59, 59, 999_999)],
      ["'2000-01-01 00:00:00'", timestamp(2000, 1, 1)],
      ["'4714-11-24 00:00:00 BC'", timestamp(-4713, 11, 24)],
      ["'294276-12-31 23:59:59.999999'", timestamp(294276, 12, 31, 23, 59, 59, 999_999)],
      ["'infinity'", PgTimestamp.infinityOf(1, false)],
      ["'-infinity'", PgTimestamp.infinityOf(-1, false)],
    ],
  },
  {
    type: "timestamptz",
    values: [
      ["'2024-01-02 03:04:05.123456+00'", timestamptz(2024, 1, 2, 3, 4, 5, 123_456)],
      ["'2024-01-02 03:04:05+05:30'", timestamptz(2024, 1, 1, 21, 34, 5)],
      ["'0001-01-01 00:00:00+00 BC'", timestamptz(0, 1, 1)],
      ["'275760-09-13 00:00:00.000001+00'", timestamptz(275760, 9, 13, 0, 0, 0, 1)],
      ["'infinity'", PgTimestamp.infinity],
    ],
  },
  {
    type: "time",
    values: [
      ["'00:00:00'", PgTime.make(0)],
      ["'04:05:06.789'", PgTime.make(4, 5, 6, 789_000)],
      ["'23:59:59.999999'", PgTime.make(23, 59, 59, 999_999)],
      ["'24:00:00'", PgTime.make(24)],
    ],
  },
  {
    type: "timetz",
    values: [
      ["'04:05:06.789+05:30'", PgTimeTz.make(4, 5, 6, 789_000, 19_800)],
      ["'04:05:06-08'", PgTimeTz.make(4, 5, 6, 0, -8 * 3600)],
      ["'23:59:59.999999-15:59:59'", PgTimeTz.make(23, 59, 59, 999_999, -(15 * 3600 + 59 * 60 + 59))],
      ["'00:00:00+00'", PgTimeTz.make(0)],
    ],
  },
  {
    type: "interval",
    values: [
      ["'1 year 2 mons -3 days 04:05:06.789'", Interval.make({ months: 14, days: -3, microseconds: 14_706_789_000n })],
      ["'-1 day -00:00:01'", new Interval(0, -1, -1_000_000n)],
      ["'1 mon -1 sec'", new Interval(1, 0, -1_000_000n)],
      ["'0'", new Interval()],
      ["'100000 hours'", new Interval(0, 0, 360_000_000_000_000n)],
      ["'-0.000001 sec'", new Interval(0, 0, -1n)],
      ["'2147483647 days 2562047788:00:54.775807'", new Interval(0, 2147483647, 2n ** 63n - 1n)],
      ["'-2147483647 days -2562047788:00:54.775807'", new Interval(0, -2147483647, -(2n ** 63n) + 1n)],
      ["'178956970 years 7 mons'", new Interval(2147483647, 0, 0n)],
      ["'-178956970 years -7 mons'", new Interval(-2147483647, 0, 0n)],
    ],
  },
  {
    type: "interval",
    since: 17,
    values: [
      ["'infinity'", Interval.infinity],
      ["'-infinity'", Interval.negativeInfinity],
    ],
  },
  {
    type: "bit(4)",
    values: [
      ["B'0101'", new BitString("0101")],
      ["B'1111'", new BitString("1111")],
    ],
  },
  {
    type: "varbit",
    values: [
      ["B''", new BitString("")],
      ["B'1'", new BitString("1")],
      [`B'${"10".repeat(500)}1'`, new BitString(`${"10".repeat(500)}1`)],
    ],
  },
  {
    type: "point",
    values: [
      ["'(1.5,-2)'", new Point(1.5, -2)],
      ["'(1e+300,-1e-300)'", new Point(1e300, -1e-300)],
      ["'(0.1,1e16)'", new Point(0.1, 1e16)],
      ["'(NaN,Infinity)'", new Point(NaN, Infinity)],
    ],
  },
  { type: "line", values: [["'{1,-1,0.5}'", new Line(1, -1, 0.5)]] },
  { type: "lseg", values: [["'[(1,2),(3,4)]'", new LineSegment([1, 2], [3, 4])]] },
  {
    type: "box",
    values: [
      ["'(3,4),(1,2)'", new Box([3, 4], [1, 2])],
      ["'(1,2),(3,4)'", new Box([1, 2], [3, 4])],
    ],
  },
  {
    type: "path",
    values: [
      ["'[(1,2),(3,4),(5,6.5)]'", new Path([new Point(1, 2), { x: 3, y: 4 }, [5, 6.5]])],
      ["'((1,2),(3,4))'", new Path([new Point(1, 2), new Point(3, 4)], true)],
    ],
  },
  {
    type: "polygon",
    values: [
      [
        "'((0,0),(1,1),(1,0))'",
        new Polygon([
          [0, 0],
          [1, 1],
          [1, 0],
        ]),
      ],
    ],
  },
  { type: "circle", values: [["'<(1,2),3.5>'", new Circle([1, 2], 3.5)]] },
  {
    type: "inet",
    values: [
      ["'192.168.0.1'", "192.168.0.1"],
      ["'192.168.1.5/24'", "192.168.1.5/24"],
      ["'::1'", "::1"],
      ["'::'", "::"],
      ["'1::'", "1::"],
      ["'::ffff:1.2.3.4'", "::ffff:1.2.3.4"],
      ["'::1.2.3.4'", "::1.2.3.4"],
      ["'2001:db8::1/64'", "2001:db8::1/64"],
      ["'2001:db8:0:0:1:0:0:1'", "2001:db8::1:0:0:1"],
      ["'fe80:1:2:3:4:5:6:7'", "fe80:1:2:3:4:5:6:7"],
      ["'1:0:1:0:1:0:1:0'", "1:0:1:0:1:0:1:0"],
    ],
  },
  {
    type: "cidr",
    values: [
      ["'10.0.0.0/8'", "10.0.0.0/8"],
      ["'10/8'", "10.0.0.0/8"],
      ["'0.0.0.0/0'", "0.0.0.0/0"],
      ["'2001:db8::/32'", "2001:db8::/32"],
      ["'::/0'", "::/0"],
      ["'192.168.0.1/32'", "192.168.0.1/32"],
    ],
  },
  {
    type: "macaddr",
    values: [
      ["'08:00:2b:01:02:03'", "08:00:2b:01:02:03"],
      ["'0800.2B01.0203'", "08:00:2b:01:02:03"],
    ],
  },
  { type: "macaddr8", values: [["'08:00:2b:01:02:03:04:05'", "08:00:2b:01:02:03:04:05"]] },
  {
    type: "money",
    values: [
      ["12.34", SERVER_TEXT],
      ["-1000000.99", SERVER_TEXT],
      ["'92233720368547758.07'", SERVER_TEXT],
    ],
  },
  {
    type: "pg_lsn",
    values: [
      ["'16/B374D848'", "16/B374D848"],
      ["'0/0'", "0/0"],
      ["'FFFFFFFF/FFFFFFFF'", "FFFFFFFF/FFFFFFFF"],
    ],
  },
  {
    type: "tid",
    values: [
      ["'(0,1)'", new Tid(0, 1)],
      ["'(4294967295,65535)'", new Tid(4294967295, 65535)],
    ],
  },
  { type: "xid", values: [["'4294967295'", 4294967295]], options: { compareAs: (x) => `${x}::text` } },
  { type: "cid", values: [["'42'", 42]], options: { compareAs: (x) => `${x}::text` } },
  {
    type: "xid8",
    values: [
      ["'0'", 0n],
      ["'18446744073709551615'", 18446744073709551615n],
    ],
  },
  {
    type: "regclass",
    values: [
      ["'pg_class'", "pg_class"],
      ["'pg_catalog.pg_type'", "pg_type"],
    ],
  },
  { type: "regtype", values: [["'int4'", "integer"]] },
  { type: "regproc", values: [["'now'", "now"]] },
  { type: "regprocedure", values: [["'sum(int4)'", "sum(integer)"]] },
  { type: "regoper", values: [["'||/'", "||/"]] },
  { type: "regoperator", values: [["'+(int4,int4)'", "+(integer,integer)"]] },
  { type: "regconfig", values: [["'english'", "english"]] },
  { type: "regdictionary", values: [["'simple'", "simple"]] },
  { type: "regnamespace", values: [["'pg_catalog'", "pg_catalog"]] },
  { type: "regrole", values: [["'pg_monitor'", "pg_monitor"]] },
  { type: "regcollation", values: [["'\"C\"'", '"C"']] },
  {
    type: "tsvector",
    values: [
      ["'a fat cat sat:3A,5 on mat'", SERVER_TEXT],
      ["$$'it''s' '\\\\x'$$", SERVER_TEXT],
    ],
    options: { compareAs: (x) => `${x}::text` },
  },
  {
    type: "tsquery",
    values: [["$$'it''s' & cat:AB | !dog <-> rat:*$$", SERVER_TEXT]],
    options: { compareAs: (x) => `${x}::text` },
  },
  { type: "jsonpath", values: [["'$.a[*] ? (@ > 1)'", SERVER_TEXT]], options: { compareAs: (x) => `${x}::text` } },
  { type: "refcursor", values: [["'my cursor'", "my cursor"]] },
  {
    type: "int2vector",
    values: [
      ["'1 2 -3'", [1, 2, -3]],
      ["''", []],
    ],
    options: { compareAs: (x) => `${x}::text` },
  },
  {
    type: "oidvector",
    values: [["'23 25 4294967295'", [23, 25, 4294967295]]],
    options: { compareAs: (x) => `${x}::text` },
  },
  {
    type: "int4range",
    values: [
      ["'[1,10)'", new Range(1, 10)],
      ["'[1,3]'", new Range(1, 4)],
      ["'(,5]'", new Range(null, 6)],
      ["'[1,)'", new Range(1, null)],
      ["'(,)'", new Range()],
      ["'empty'", Range.empty()],
    ],
  },
  {
    type: "int8range",
    values: [["'[-9223372036854775808,9223372036854775807)'", new Range(-(2n ** 63n), 2n ** 63n - 1n)]],
  },
  {
    type: "numrange",
    values: [
      ["'[1.5,2.50]'", new Range("1.5", "2.50", { upperInc: true })],
      ["'(NaN,)'", new Range("NaN", null, { lowerInc: false })],
      ["'(-Infinity,Infinity)'", new Range("-Infinity", "Infinity", { lowerInc: false })],
    ],
  },
  {
    type: "daterange",
    values: [
      ["'[2020-01-01,infinity)'", new Range(PgDate.make(2020, 1, 1), PgDate.infinity)],
      ["'(2020-01-01,2020-01-05]'", new Range(PgDate.make(2020, 1, 2), PgDate.make(2020, 1, 6))],
    ],
  },
  {
    type: "tsrange",
    values: [
      [
        "'[2020-01-01 00:00:00,2020-01-02 12:00:00.5)'",
        new Range(timestamp(2020, 1, 1), timestamp(2020, 1, 2, 12, 0, 0, 500_000)),
      ],
    ],
  },
  {
    type: "tstzrange",
    values: [
      ["'(2020-01-01 00:00:00+00,)'", new Range(timestamptz(2020, 1, 1), null, { lowerInc: false })],
      ["'[-infinity,infinity]'", new Range(PgTimestamp.negativeInfinity, PgTimestamp.infinity, { upperInc: true })],
    ],
  },
  {
    type: "int4multirange",
    since: 14,
    values: [
      ["'{}'", []],
      ["'{[1,3),[5,7)}'", [new Range(1, 3), new Range(5, 7)]],
      ["'{(,2),[4,)}'", [new Range(null, 2), new Range(4, null)]],
    ],
    options: { compareAs: (x) => `${x}::text` },
  },
  {
    type: "nummultirange",
    since: 14,
    values: [["'{[1.5,2),(3,4]}'", [new Range("1.5", "2"), new Range("3", "4", { lowerInc: false, upperInc: true })]]],
    options: { compareAs: (x) => `${x}::text` },
  },
  {
    type: "datemultirange",
    since: 14,
    values: [["'{[2020-01-01,2020-02-01)}'", [new Range(PgDate.make(2020, 1, 1), PgDate.make(2020, 2, 1))]]],
    options: { compareAs: (x) => `${x}::text` },
  },
  {
    type: "int8multirange",
    since: 14,
    values: [["'{[1,2)}'", [new Range(1n, 2n)]]],
    options: { compareAs: (x) => `${x}::text` },
  },
  {
    type: "tstzmultirange",
    since: 14,
    values: [["'{[2020-01-01 00:00:00+00,)}'", [new Range(timestamptz(2020, 1, 1), null)]]],
    options: { compareAs: (x) => `${x}::text` },
  },
  {
    type: "tsmultirange",
    since: 14,
    values: [["'{[2020-01-01 00:00:00,)}'", [new Range(timestamp(2020, 1, 1), null)]]],
    options: { compareAs: (x) => `${x}::text` },
  },
]

const formats = [
  ["binary", {}],
  ["text", { codecs: textFormatRegistry() }],
] as const

describe("built-in types against the server, both formats", () => {
  for (const c of cases) {
    for (const [format, options] of formats) {
      it.live(`${c.type} (${format})${c.since === undefined ? "" : ` [PostgreSQL ${c.since}+]`}`, () =>
        Effect.gen(function* () {
          const conn = yield* connect({ ...options, serverSettings: { TimeZone: "UTC" } })
          if (c.since !== undefined && testCluster().version < c.since) {
            // An older server must reject these values (so the gate is right, and nothing is skipped silently).
            for (const [literal] of c.values) {
              const error = yield* Effect.flip(conn.fetchVal(`SELECT (${literal})::${c.type}`))
              expect(error._tag).toBe("PgServerError")
            }
            return
          }
          for (const [literal, value] of c.values) yield* checkValue(conn, c.type, literal, value, c.options)
        }),
      )
    }
  }

  it.live("every result column is binary with the default codecs, text with the text-format registry", () =>
    Effect.gen(function* () {
      const sql = "SELECT '1 day'::interval, '(1,2)'::point, '::1'::inet, B'1', int4range(1, 2), '04:05'::time"
      const bin = yield* connect()
      expect((yield* bin.fetch(sql))[0]!.columns.map((c) => c.format)).toEqual([1, 1, 1, 1, 1, 1])
      const txt = yield* connect({ codecs: textFormatRegistry() })
      expect((yield* txt.fetch(sql))[0]!.columns.map((c) => c.format)).toEqual([0, 0, 0, 0, 0, 0])
    }),
  )

  it.live("wrong JS values fail before anything is sent, naming the parameter, its type and the JS type", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const bad: ReadonlyArray<readonly [string, unknown, string]> = [
        ["point", 5, "number"],
        ["circle", new Point(1, 2), "Point"],
        ["interval", new Date(0), "Date"],
        ["time", 5, "number"],
        ["timetz", PgTime.make(1), "PgTime"],
        ["int4range", [1, 2], "Array"],
        ["int4range", new Range(1.5, 2), "number"],
        ["inet", 3232235521, "number"],
        ["bit", 5n, "bigint"],
        ["tid", "x".length, "number"],
        ["xid8", -1n, "bigint"],
        ["int4[]", [[1], [2, 3]], "Array"],
      ]
      for (const [type, value, actualType] of bad) {
        const e = yield* Effect.flip(conn.fetchVal(`SELECT $1::int4, $2::${type}`, [1, value]))
        expect(e, type).toMatchObject({ _tag: "PgEncodeError", parameter: 2, actualType })
        expect(e.message, type).toContain("$2")
      }
      expect(conn.transactionStatus).toBe("idle")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::point::text", [new Point(1, 2)]))).toBe("(1,2)")
    }),
  )

  it.live("void results decode to null", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT pg_sleep(0)"))).toBe(null)
    }),
  )

  it.live("JSON arrays in json[] / jsonb[] are elements; strings are JSON strings", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const docs = [{ a: 1 }, [1, 2], "[1,2]", null]
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::jsonb[]", [docs]))).toEqual(docs)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::json[]::jsonb[]::text", [docs]))).toBe(
        '{"{\\"a\\": 1}","[1, 2]","\\"[1,2]\\"",NULL}',
      )
    }),
  )
})
