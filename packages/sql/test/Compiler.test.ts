/**
 * The compiler of the effect/sql adapter, ported from @effect/sql-pg's compiler tests:
 * placeholders, identifiers, insert / update / updateValues helpers, IN lists, and/or.
 */
import { describe, expect, it } from "@effect/vitest"
import * as PgSqlClient from "@pgfx/sql/PgSqlClient"
import { Effect, String as Str } from "effect"
import * as Statement from "effect/sql/Statement"

const sql = Statement.make(Effect.die("no connection in compiler tests"), PgSqlClient.makeCompiler(), [], undefined)
const sqlSnake = Statement.make(
  Effect.die("no connection in compiler tests"),
  PgSqlClient.makeCompiler(Str.camelToSnake),
  [],
  undefined,
)

describe("compiler", () => {
  it("placeholders", () => {
    expect(sql`SELECT * FROM people WHERE id = ${1} AND name = ${"a"}`.compile()).toEqual([
      "SELECT * FROM people WHERE id = $1 AND name = $2",
      [1, "a"],
    ])
  })

  it("identifiers are double-quoted, quotes doubled", () => {
    expect(sql`SELECT * FROM ${sql("people")}`.compile()).toEqual(['SELECT * FROM "people"', []])
    expect(sql`SELECT * FROM ${sql('pe"ople')}`.compile()).toEqual(['SELECT * FROM "pe""ople"', []])
    expect(sql`SELECT * FROM ${sql("public.people")}`.compile()).toEqual(['SELECT * FROM "public"."people"', []])
  })

  it("insert one and many", () => {
    expect(sql`INSERT INTO people ${sql.insert({ name: "Tim", age: 10 })}`.compile()).toEqual([
      'INSERT INTO people ("name","age") VALUES ($1,$2)',
      ["Tim", 10],
    ])
    expect(
      sql`INSERT INTO people ${sql.insert([
        { name: "Tim", age: 10 },
        { name: "Bob", age: 20 },
      ])}`.compile(),
    ).toEqual(['INSERT INTO people ("name","age") VALUES ($1,$2),($3,$4)', ["Tim", 10, "Bob", 20]])
  })

  it("insert returning and transformed names", () => {
    expect(sqlSnake`INSERT INTO people ${sqlSnake.insert({ firstName: "Tim" }).returning("*")}`.compile()).toEqual([
      'INSERT INTO people ("first_name") VALUES ($1) RETURNING *',
      ["Tim"],
    ])
  })

  it("update and updateValues", () => {
    expect(sql`UPDATE people SET ${sql.update({ id: 1, name: "Tim" }, ["id"])} WHERE id = ${1}`.compile()).toEqual([
      'UPDATE people SET "name" = $1 WHERE id = $2',
      ["Tim", 1],
    ])
    expect(
      sql`UPDATE people SET name = data.name FROM ${sql.updateValues(
        [
          { id: 1, name: "Tim" },
          { id: 2, name: "John" },
        ],
        "data",
      )} WHERE people.id = data.id`.compile(),
    ).toEqual([
      'UPDATE people SET name = data.name FROM (values ($1,$2),($3,$4)) AS "data"("id","name") WHERE people.id = data.id',
      [1, "Tim", 2, "John"],
    ])
  })

  it("in, and, or", () => {
    expect(sql`SELECT * FROM people WHERE ${sql.in("id", [1, 2, 3])}`.compile()).toEqual([
      'SELECT * FROM people WHERE "id" IN ($1,$2,$3)',
      [1, 2, 3],
    ])
    expect(
      sql`SELECT * FROM people WHERE ${sql.and([sql`a = ${1}`, sql.or([sql`b = ${2}`, sql`c = ${3}`])])}`.compile(),
    ).toEqual(["SELECT * FROM people WHERE (a = $1 AND (b = $2 OR c = $3))", [1, 2, 3]])
  })

  it("injection attempts in values stay parameters", () => {
    const evil = "'; DROP TABLE people; --"
    expect(sql`SELECT * FROM people WHERE name = ${evil}`.compile()).toEqual([
      "SELECT * FROM people WHERE name = $1",
      [evil],
    ])
  })
})
