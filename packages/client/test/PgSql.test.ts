/**
 * The `sql` tagged template compiles to `$n` text and values, never splicing values into text.
 */
import { describe, expect, it } from "@effect/vitest"
import { isFragment, normalize, quoteIdentifier, sql } from "@pgfx/client/PgSql"

describe("sql template", () => {
  it("values become numbered parameters", () => {
    const q = sql`SELECT * FROM users WHERE id = ${7} AND name = ${"x"}`
    expect(q.text).toBe("SELECT * FROM users WHERE id = $1 AND name = $2")
    expect(q.values).toEqual([7, "x"])
    expect(isFragment(q)).toBe(true)
  })

  it("an array value is one parameter (a PostgreSQL array)", () => {
    const q = sql`SELECT ${[1, 2, 3]}::int[]`
    expect(q.text).toBe("SELECT $1::int[]")
    expect(q.values).toEqual([[1, 2, 3]])
  })

  it("nested fragments are renumbered, at any depth and repeated", () => {
    const cond = (v: number) => sql`x = ${v}`
    const inner = sql`${cond(1)} OR ${cond(2)}`
    const q = sql`SELECT ${"a"} WHERE (${inner}) AND ${cond(3)} AND (${inner})`
    expect(q.text).toBe("SELECT $1 WHERE (x = $2 OR x = $3) AND x = $4 AND (x = $5 OR x = $6)")
    expect(q.values).toEqual(["a", 1, 2, 3, 1, 2])
    // The inner fragment compiled alone keeps its own numbering.
    expect(inner.text).toBe("x = $1 OR x = $2")
  })

  it("identifiers are quoted and qualified; quotes inside are doubled", () => {
    expect(sql`SELECT * FROM ${sql.id("users")}`.text).toBe('SELECT * FROM "users"')
    expect(sql.id("app", "users").text).toBe('"app"."users"')
    expect(sql.id('we"ird', "Mixed Case").text).toBe('"we""ird"."Mixed Case"')
    expect(sql.id('x"; DROP TABLE t; --').text).toBe('"x""; DROP TABLE t; --"')
    expect(sql.id("a.b").text).toBe('"a.b"')
    expect(() => sql.id("")).toThrow(/non-empty/)
    expect(() => sql.id("a\u0000b")).toThrow(/NUL/)
    expect(() => sql.id()).toThrow(/at least one/)
    expect(quoteIdentifier("ünïcødé")).toBe('"ünïcødé"')
  })

  it("IN lists", () => {
    const q = sql`SELECT * FROM t WHERE a = ${0} AND id IN ${sql.in([1, 2, 3])}`
    expect(q.text).toBe("SELECT * FROM t WHERE a = $1 AND id IN ($2, $3, $4)")
    expect(q.values).toEqual([0, 1, 2, 3])
    expect(sql`x IN ${sql.in([])}`.text).toBe("x IN (NULL)")
  })

  it("multi-row insert from records; missing keys are DEFAULT", () => {
    const q = sql`INSERT INTO ${sql.id("t")} ${sql.insert([
      { a: 1, b: "x" },
      { a: 2, c: true },
    ])} RETURNING *`
    expect(q.text).toBe('INSERT INTO "t" ("a", "b", "c") VALUES ($1, $2, DEFAULT), ($3, DEFAULT, $4) RETURNING *')
    expect(q.values).toEqual([1, "x", 2, true])
    const one = sql.insert({ n: null }, { columns: ["n"] })
    expect(one.text).toBe('("n") VALUES ($1)')
    expect(one.values).toEqual([null])
    expect(() => sql.insert([])).toThrow(/at least one record/)
    expect(() => sql.insert({})).toThrow(/at least one column/)
  })

  it("update SET list, omitting keys and undefined", () => {
    const q = sql`UPDATE t SET ${sql.update({ id: 1, name: "n", skip: undefined, qty: 2 }, ["id"])} WHERE id = ${1}`
    expect(q.text).toBe('UPDATE t SET "name" = $1, "qty" = $2 WHERE id = $3')
    expect(q.values).toEqual(["n", 2, 1])
    expect(() => sql.update({ id: 1 }, ["id"])).toThrow(/at least one column/)
  })

  it("join, and, or, unsafe, empty, param", () => {
    expect(sql.join([sql`a = ${1}`, sql`b = ${2}`], " AND ").text).toBe("a = $1 AND b = $2")
    expect(sql.join([1, 2]).text).toBe("$1, $2")
    expect(sql.and([]).text).toBe("TRUE")
    expect(sql.or([]).text).toBe("FALSE")
    expect(sql.and([sql`a = ${1}`]).text).toBe("a = $1")
    const q = sql`SELECT 1 WHERE ${sql.and([sql`a = ${1}`, sql.or([sql`b = ${2}`, sql`c = ${3}`])])}`
    expect(q.text).toBe("SELECT 1 WHERE (a = $1 AND (b = $2 OR c = $3))")
    expect(sql`SELECT ${sql.unsafe("now()")}${sql.empty}`.text).toBe("SELECT now()")
    expect(sql`${sql.param(5)}`.values).toEqual([5])
  })

  it("injection attempts in values stay parameters", () => {
    const evil = ["'; DROP TABLE users; --", "\\'", "$1", "a'b\"c", ";--", "\u0000", "😀 ünï"]
    for (const value of evil) {
      const q = sql`SELECT * FROM users WHERE name = ${value}`
      expect(q.text).toBe("SELECT * FROM users WHERE name = $1")
      expect(q.values).toEqual([value])
    }
  })

  it("normalize accepts (text, args, options) and (fragment, options)", () => {
    expect(normalize("SELECT $1", [1], { timeout: 1 })).toEqual(["SELECT $1", [1], { timeout: 1 }])
    expect(normalize(sql`SELECT ${1}`, { timeout: 1 }, undefined)).toEqual(["SELECT $1", [1], { timeout: 1 }])
    expect(normalize(sql`SELECT 1`, undefined, undefined)).toEqual(["SELECT 1", [], undefined])
  })
})
