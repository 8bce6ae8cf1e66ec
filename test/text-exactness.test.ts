/**
 * Text comes through exactly, or not at all, against the real server: a leading U+FEFF is kept
 * in every format, a string that has no UTF-8 encoding (a lone surrogate) is refused before any
 * byte is sent, and a session whose client_encoding leaves UTF8 is closed instead of
 * mis-decoding text.
 */
import { PgConnectionError, PgEncodeError, PgInterfaceError, PgProtocolError } from "@pgfx/client/PgError"
import { PgJson } from "@pgfx/types/PgJson"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option } from "effect"
import { connect } from "./support/connect.ts"
import { ensureExtension } from "./support/schema.ts"

const BOM = "\uFEFF"

describe("a leading U+FEFF is part of the value", () => {
  it.live("citext (binary, as text), text and varchar, arrays, parameters, column names", () =>
    Effect.gen(function* () {
      yield* ensureExtension("citext")
      const conn = yield* connect()
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT E'\\uFEFFabc'::citext"))).toBe(`${BOM}abc`)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT E'\\uFEFFabc'::text"))).toBe(`${BOM}abc`)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT E'\\uFEFFabc'::varchar"))).toBe(`${BOM}abc`)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT ARRAY[E'\\uFEFFa', E'\\uFEFFb']::citext[]"))).toEqual([
        `${BOM}a`,
        `${BOM}b`,
      ])
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::text", [`${BOM}x`]))).toBe(`${BOM}x`)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::json", [{ k: `${BOM}v` }]))).toEqual({ k: `${BOM}v` })
      // Column names and command tags are decoded by the protocol layer.
      const rows = yield* conn.fetch(`SELECT 1 AS "${BOM}name"`)
      expect(rows[0]!.columns[0]!.name).toBe(`${BOM}name`)
      // The server sees the BOM too: its length counts it.
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT length($1::text)", [`${BOM}abc`]))).toBe(4)
    }),
  )
})

describe("a lone surrogate is refused before anything is sent", () => {
  it.live("text, text[], json and jsonb parameters fail with PgEncodeError naming the parameter", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      for (const [sql, args, parameter] of [
        ["SELECT $1::text", ["a\ud800b"], 1],
        ["SELECT $1::int4, $2::text", [1, "x".repeat(40) + "\udc00"], 2],
        ["SELECT $1::text[]", [["ok", "a\ud800b"]], 1],
        // raw JSON text (a plain string is a JSON string value, serialized with the escape)
        ["SELECT $1::json", [PgJson.raw('"a\ud800b"')], 1],
        ["SELECT $1::jsonb", [PgJson.raw('["a\ud800b"]')], 1],
        ["SELECT $1::varchar", ["\ud83d"], 1],
      ] as const) {
        const exit = yield* Effect.exit(Effect.map(conn.fetchVal(sql, args), Option.getOrThrow))
        expect(Exit.isFailure(exit)).toBe(true)
        const error = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
        const e = error !== undefined && error._tag === "Fail" ? error.error : undefined
        expect({ sql, error: e }).toMatchObject({ sql, error: expect.any(PgEncodeError) })
        expect((e as PgEncodeError).parameter).toBe(parameter)
        expect((e as PgEncodeError).message).toContain("lone surrogate")
      }
      // A JSON value (not JSON text) is serialized with the surrogate escaped (\ud800), which
      // is exact: json keeps it as written, jsonb refuses it (a typed server error).
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::json", [{ k: "a\ud800b" }]))).toEqual({ k: "a\ud800b" })
      const jsonb = yield* Effect.flip(
        Effect.map(conn.fetchVal("SELECT $1::jsonb", [{ k: "a\ud800b" }]), Option.getOrThrow),
      )
      expect(jsonb._tag).toBe("PgServerError")
      // Nothing reached the server: the session is in sync and a well-formed pair goes through.
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT $1::text", ["a\ud83d\ude00b"]))).toBe("a\ud83d\ude00b")
      expect(conn.isClosed).toBe(false)
    }),
  )

  it.live("in SQL text it is a PgInterfaceError", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const simple = yield* Effect.flip(conn.execute("SELECT 'a\ud800b'"))
      expect(simple).toBeInstanceOf(PgInterfaceError)
      const extended = yield* Effect.flip(conn.fetch("SELECT 'a\ud800b', $1::int4", [1]))
      expect(extended).toBeInstanceOf(PgInterfaceError)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1"))).toBe(1)
    }),
  )
})

describe("startup values", () => {
  it.live("a lone surrogate in the user, the database or a server setting is a typed config error", () =>
    Effect.gen(function* () {
      for (const overrides of [
        { user: "a\ud800" },
        { database: "db\udc00" },
        { serverSettings: { search_path: "s\ud800" } },
      ]) {
        const error = yield* Effect.flip(Effect.scoped(connect(overrides)))
        expect({ overrides, tag: error._tag }).toEqual({ overrides, tag: "PgConfigError" })
        expect(error.message).toContain("lone UTF-16 surrogate")
      }
    }),
  )
})

describe("client_encoding must stay UTF8", () => {
  it.live("SET client_encoding = 'SQL_ASCII' closes the connection with a typed error; nothing is mis-decoded", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const set = yield* Effect.flip(conn.execute("SET client_encoding = 'SQL_ASCII'"))
      expect(set).toBeInstanceOf(PgProtocolError)
      expect(set.message).toContain(`client_encoding changed to "SQL_ASCII"`)
      expect(conn.isClosed).toBe(true)
      const after = yield* Effect.flip(Effect.map(conn.fetchVal("SELECT E'\\xff'::text"), Option.getOrThrow))
      expect(after).toBeInstanceOf(PgConnectionError)
    }),
  )
})
