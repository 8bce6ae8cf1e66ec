/**
 * Values that arrive as text (in text format, or inside a composite that holds a text-only type
 * such as seg) are read right whatever the session's IntervalStyle, TimeZone and ISO day
 * order: the text decode equals the binary decode, and sending the decoded value back gives the
 * server's own text. A DateStyle pgfx cannot read is refused with a typed error.
 */
import * as PgError from "@pgfx/client/PgError"
import type { PgComposite } from "@pgfx/types/PgComposite"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { connect } from "./support/connect.ts"
import { comparable, textFormatRegistry } from "./support/oracle.ts"
import { ensureExtension, schemaConnect } from "./support/schema.ts"

const intervals = [
  "1 year 2 mons -3 days 04:05:06.789",
  "-1 year -2 mons",
  "3 days",
  "-3 days -04:05:06",
  "00:00:00",
  "-00:00:00.000001",
  "1 mon -1 day +1 hour",
  "1 day -00:00:00.000001",
  "-1 mon 2 days -3 seconds",
  "178000000 years",
  "-178000000 years",
  "2147483647 days",
  "100 hours 1 second",
  "-2562047788:00:54.775807",
  "1 year 1 day",
  "-1 year -1 day -1 second",
  "1 second",
  "-1 second",
  "infinity",
  "-infinity",
]

const styles = ["postgres", "postgres_verbose", "sql_standard", "iso_8601"] as const

describe("text values under every IntervalStyle", () => {
  for (const style of styles) {
    it.live(`interval text (${style}): decoded like binary, re-encoded to the server's text`, () =>
      Effect.gen(function* () {
        const binary = yield* connect({ serverSettings: { IntervalStyle: style } })
        const text = yield* connect({ codecs: textFormatRegistry(), serverSettings: { IntervalStyle: style } })
        for (const lit of intervals) {
          const sql = `SELECT '${lit}'::interval AS v, '${lit}'::interval::text AS t`
          const b = (yield* binary.fetch(sql))[0]!
          const t = (yield* text.fetch(sql))[0]!
          expect(comparable(t.v), `${style} ${String(t.t)}`).toEqual(comparable(b.v))
          expect(Option.getOrThrow(yield* text.fetchVal("SELECT $1::interval::text", [t.v])), `${style} ${lit}`).toBe(
            t.t,
          )
          const arr = Option.getOrThrow(yield* text.fetchVal(`SELECT ARRAY['${lit}'::interval, NULL]`))
          expect(comparable(arr)).toEqual(comparable([b.v, null]))
        }
      }),
    )
  }

  it.live("an interval inside a composite with a text-only field, under every IntervalStyle", () =>
    Effect.gen(function* () {
      yield* ensureExtension("seg")
      const { conn } = yield* schemaConnect()
      // seg has no binary form, so the composite travels as text
      yield* conn.execute("CREATE TYPE ci AS (t seg, i interval, a interval[])")
      const lit = `ROW('1', '1 day 02:00', ARRAY['-1 year 2 mons 3 seconds'::interval, '00:00'])::ci`
      for (const style of styles) {
        yield* conn.execute(`SET IntervalStyle = ${style}`)
        const row = (yield* conn.fetch(`SELECT ${lit} AS v, (${lit})::text AS t`))[0]!
        expect(row.columns[0]!.format, "the composite travels as text").toBe(0)
        const v = row.v as PgComposite
        expect(String(v.i), style).toBe("1 day 02:00:00")
        expect((v.a as Array<unknown>).map(String), style).toEqual(["-10 mons +00:00:03", "00:00:00"])
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::ci::text", [v])), style).toBe(row.t)
      }
    }),
  )
})

/** Literals of every type whose text pgfx parses, with old dates whose zones have odd offsets. */
const dateTimes: ReadonlyArray<readonly [type: string, literal: string]> = [
  ["date", "2024-02-29"],
  ["date", "0044-03-15 BC"],
  ["date", "infinity"],
  ["timestamp", "2024-01-02 03:04:05.123456"],
  ["timestamp", "1999-12-31 23:59:59.999999 BC"],
  ["timestamptz", "2024-01-02 03:04:05.123456+00"],
  ["timestamptz", "2024-07-02 03:04:05+00"],
  ["timestamptz", "1850-01-01 00:00:00+00"],
  ["timestamptz", "0100-01-01 00:00:00+00 BC"],
  ["timestamptz", "-infinity"],
  ["time", "23:59:59.999999"],
  ["time", "24:00:00"],
  ["timetz", "04:05:06.5+05:30"],
  ["timetz", "04:05:06-15:59:59"],
  ["interval", "1 day -01:00:00.5"],
  ["tstzrange", "[2024-01-02 03:04:05+00,2024-07-01 00:00:00+00)"],
  ["daterange", "[2024-01-02,2024-03-01)"],
  ["tsrange", "(,2024-01-02 03:04:05]"],
]

const zones = ["UTC", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham", "Europe/Amsterdam", "Africa/Monrovia"]

describe("text values under changed TimeZone and ISO day order", () => {
  for (const dateStyle of ["ISO, DMY", "ISO, YMD"]) {
    it.live(`every text-decoded date/time type, DateStyle ${dateStyle}, in ${zones.length} zones`, () =>
      Effect.gen(function* () {
        const binary = yield* connect()
        const text = yield* connect({ codecs: textFormatRegistry(), serverSettings: { DateStyle: dateStyle } })
        for (const zone of zones) {
          yield* binary.execute(`SET TimeZone = '${zone}'`)
          yield* text.execute(`SET TimeZone = '${zone}'`)
          for (const [type, lit] of dateTimes) {
            const sql = `SELECT '${lit}'::${type} AS v, '${lit}'::${type}::text AS t, ARRAY['${lit}'::${type}, NULL] AS a`
            const b = (yield* binary.fetch(sql))[0]!
            const t = (yield* text.fetch(sql))[0]!
            const label = `${zone} ${type} ${String(t.t)}`
            expect(comparable(t.v), label).toEqual(comparable(b.v))
            expect(comparable(t.a), label).toEqual(comparable(b.a))
            expect(Option.getOrThrow(yield* text.fetchVal(`SELECT $1::${type}::text`, [t.v])), label).toBe(t.t)
          }
        }
      }),
    )
  }

  it.live("a DateStyle pgfx cannot read is refused with a typed error (the connection closes)", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const err = yield* conn.execute("SET DateStyle = 'SQL, DMY'").pipe(Effect.flip)
      expect(err).toBeInstanceOf(PgError.PgProtocolError)
      expect(err.message).toContain('DateStyle changed to "SQL, DMY"')
      expect(conn.isClosed).toBe(true)
      const refused = yield* connect({ serverSettings: { DateStyle: "German" } }).pipe(Effect.flip)
      expect(refused.message).toContain("DateStyle")
      // the default connection reads ISO whatever the server's configured default
      const fresh = yield* connect()
      expect(fresh.settings.get("DateStyle")).toMatch(/^ISO/)
    }),
  )
})
