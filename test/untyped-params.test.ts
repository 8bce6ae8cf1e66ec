/**
 * Parameters whose type the server infers as `text` (`SELECT $1`): numbers, bigints, booleans,
 * Dates and pgfx values are sent as their canonical text (code moving from postgres.js or
 * @effect/sql-pg does this at once: `sql\`select ${1}\``), and the server reads them back as the
 * same value when the text is cast.
 */
import * as PgError from "@pgfx/client/PgError"
import { sql } from "@pgfx/client/PgSql"
import { Interval } from "@pgfx/types/Interval"
import { PgDate } from "@pgfx/types/PgDate"
import { PgTimestamp } from "@pgfx/types/PgTimestamp"
import { Range } from "@pgfx/types/Range"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { connect } from "./support/connect.ts"

describe("untyped parameters", () => {
  it.live("SELECT $1 takes numbers, bigints, booleans, Dates and pgfx values as their text", () =>
    Effect.gen(function* () {
      const conn = yield* connect({ serverSettings: { TimeZone: "UTC" } })
      const date = new Date("2024-01-02T03:04:05.678Z")
      const cases: ReadonlyArray<readonly [unknown, string, string]> = [
        [1, "1", "int4"],
        [-1.5, "-1.5", "float8"],
        [0.1, "0.1", "float8"],
        [12345678901234567890n, "12345678901234567890", "numeric"],
        [true, "true", "bool"],
        [false, "false", "bool"],
        [date, "2024-01-02T03:04:05.678Z", "timestamptz"],
        [PgTimestamp.make(2024, 1, 2, 3, 4, 5, 6), "2024-01-02 03:04:05.000006+00", "timestamptz"],
        [PgDate.make(2024, 2, 29), "2024-02-29", "date"],
        [Interval.make({ months: 14, days: -3, seconds: 4.5 }), "1 year 2 mons -3 days +00:00:04.5", "interval"],
        [new Range(1, 5), "[1,5)", "int4range"],
      ]
      for (const [value, text, type] of cases) {
        const row = (yield* conn.fetch(`SELECT $1 AS v`, [value]))[0]!
        expect(row.v, `${String(value)}`).toBe(text)
        expect(row.columns[0]!.typeOid).toBe(25) // the server inferred text
        // the text is the value: the server reads it back as the same value of its own type
        const same = Option.getOrThrow(yield* conn.fetchVal(`SELECT $1::text::${type} = $2::${type}`, [value, value]))
        expect(same, `${String(value)} as ${type}`).toBe(true)
      }
      // through the sql template, as code from postgres.js writes it
      expect(Option.getOrThrow(yield* conn.fetchVal(sql`select ${1}`))).toBe("1")
      expect(Option.getOrThrow(yield* conn.fetchVal(sql`select ${true}, ${date}`))).toBe("true")
      // a text column takes them too
      yield* conn.execute("CREATE TEMP TABLE untyped (t text)")
      yield* conn.execute("INSERT INTO untyped VALUES ($1), ($2), ($3)", [42, false, date])
      expect((yield* conn.fetch("SELECT t FROM untyped")).map((r) => r.t)).toEqual([
        "42",
        "false",
        "2024-01-02T03:04:05.678Z",
      ])
      // anything without a canonical text is still refused before a byte is sent
      const err = yield* Effect.map(conn.fetchVal("SELECT $1", [{ a: 1 }]), Option.getOrThrow).pipe(Effect.flip)
      expect(err).toBeInstanceOf(PgError.PgEncodeError)
      expect(err.message).toContain("$1")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1"))).toBe(1)
    }),
  )
})
