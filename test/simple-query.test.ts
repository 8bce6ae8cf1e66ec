/**
 * `simpleQuery` (the simple query protocol with each statement's rows and command tag) and
 * `fetchResult` (one statement's rows with its tag) on a connection: whether a statement returns
 * rows is the server's answer, values are decoded from text through the connection's codecs, and
 * failures leave the session usable.
 */
import { describe, expect, it } from "@effect/vitest"
import * as CompatCodecs from "@pgfx/types/CompatCodecs"
import { PgDate } from "@pgfx/types/PgDate"
import { PgTimestamp } from "@pgfx/types/PgTimestamp"
import { Effect, Option, Schema } from "effect"
import { connect } from "./support/connect.ts"
import { failureOf } from "./support/failure.ts"

const objects = (result: { readonly rows: ReadonlyArray<{ toObject(): object }> }) =>
  result.rows.map((r) => r.toObject())

describe("simpleQuery", () => {
  it.live("returns every statement's rows and tag, whatever the text looks like", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const results = yield* conn.simpleQuery(`
        /* leading comment */ CREATE TEMP TABLE s (a int);
        -- a line comment
        INSERT INTO s VALUES (1), (2) RETURNING a;
        (SELECT a FROM s) UNION ALL (SELECT 3) ORDER BY 1;
        UPDATE s SET a = a + 10;
        ;`)
      expect(results.map((r) => r.command)).toEqual(["CREATE TABLE", "INSERT 0 2", "SELECT 3", "UPDATE 2"])
      expect(results.map(objects)).toEqual([[], [{ a: 1 }, { a: 2 }], [{ a: 1 }, { a: 2 }, { a: 3 }], []])
      expect(results[2]!.columns.map((c) => [c.name, c.typeOid, c.format])).toEqual([["a", 23, 0]])
      expect(yield* conn.simpleQuery("")).toEqual([])
    }),
  )

  it.live("a procedure's OUT parameters come back as its row", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute(
        "CREATE PROCEDURE pg_temp.twice(INOUT x int, OUT y text) LANGUAGE plpgsql AS $$ BEGIN x := x * 2; y := 'ok'; END $$",
      )
      const [call] = yield* conn.simpleQuery("CALL pg_temp.twice(21, NULL)")
      expect(call!.command).toBe("CALL")
      expect(objects(call!)).toEqual([{ x: 42, y: "ok" }])
    }),
  )

  it.live("text values are decoded through the connection's codecs", () =>
    Effect.gen(function* () {
      const conn = yield* connect({ serverSettings: { TimeZone: "UTC" } })
      const [result] = yield* conn.simpleQuery(
        `SELECT 9007199254740993::int8 AS big, 1.50::numeric AS num, true AS b, '\\x0a0b'::bytea AS bytes,
          '{"k": [1, null]}'::jsonb AS j, ARRAY[1, NULL, 3] AS arr, '2024-01-02 03:04:05.678901+00'::timestamptz AS tz,
          '2024-01-02'::date AS d, NULL::text AS nothing, 'x'::unknown AS u`,
      )
      expect(result!.rows[0]!.toObject()).toEqual({
        big: 9007199254740993n,
        num: "1.50",
        b: true,
        bytes: new Uint8Array([10, 11]),
        j: { k: [1, null] },
        arr: [1, null, 3],
        tz: PgTimestamp.make(2024, 1, 2, 3, 4, 5, 678901),
        d: PgDate.make(2024, 1, 2),
        nothing: null,
        u: "x",
      })
      const compat = yield* connect({ codecs: CompatCodecs.effectSqlPg(), serverSettings: { TimeZone: "UTC" } })
      const [dates] = yield* compat.simpleQuery("SELECT '2024-01-02 03:04:05.678901+00'::timestamptz AS tz")
      expect(dates!.rows[0]!.toObject()).toEqual({ tz: new Date("2024-01-02T03:04:05.678Z") })
    }),
  )

  it.live("a failing statement fails the call; later statements do not run; the session stays usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE f (a int)")
      const error = failureOf(
        yield* Effect.exit(conn.simpleQuery("INSERT INTO f VALUES (1); SELECT 1/0; INSERT INTO f VALUES (2)")),
      )
      expect(error).toMatchObject({ _tag: "PgServerError", code: "22012" })
      // the simple protocol runs the statements in one implicit transaction: all rolled back
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*)::int FROM f"))).toBe(0)
      const copy = failureOf(yield* Effect.exit(conn.simpleQuery("COPY f FROM STDIN")))
      expect(copy._tag).toBe("PgServerError")
      const [out] = yield* conn.simpleQuery("COPY (SELECT 1) TO STDOUT")
      expect(out!.command).toBe("COPY 1")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 7"))).toBe(7)
    }),
  )

  it.live("an undecodable value fails with PgDecodeError and the session stays usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      // a codec that refuses every int4 but 1
      yield* conn.setTypeCodec("int4", { format: "text", schema: Schema.Literal("1"), schemaName: "pg_catalog" })
      const error = failureOf(yield* Effect.exit(conn.simpleQuery("SELECT 2::int4 AS d")))
      expect(error._tag).toBe("PgDecodeError")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 'usable'::text"))).toBe("usable")
    }),
  )
})

describe("fetchResult", () => {
  it.live("returns the rows with the command tag (an affected-row count)", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE r (a int)")
      const insert = yield* conn.fetchResult("INSERT INTO r SELECT generate_series(1, $1::int) RETURNING a", [3])
      expect(insert.command).toBe("INSERT 0 3")
      expect(objects(insert)).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }])
      const update = yield* conn.fetchResult("UPDATE r SET a = a * 10 WHERE a > $1", [1])
      expect(update).toMatchObject({ command: "UPDATE 2", rows: [], columns: [] })
      const select = yield* conn.fetchResult("SELECT a FROM r ORDER BY a")
      expect(select.command).toBe("SELECT 3")
      expect(select.columns.map((c) => c.name)).toEqual(["a"])
    }),
  )
})
