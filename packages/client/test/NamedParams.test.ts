import { describe, expect, it } from "@effect/vitest"
import { compileNamed } from "@pgfx/client/internal/query/NamedParams"

describe("named parameters", () => {
  it("rewrites :name to $n, reusing numbers", () => {
    expect(compileNamed("SELECT * FROM t WHERE a = :a AND b = :b OR a = :a")).toEqual({
      text: "SELECT * FROM t WHERE a = $1 AND b = $2 OR a = $1",
      names: ["a", "b"],
    })
  })

  it("leaves casts, strings, identifiers, comments and dollar quotes alone", () => {
    const sql = `SELECT :x::int, ':no', E'\\':no', "col:no", $$ :no $$, $t$ :no $t$ -- :no
      /* :no /* nested :no */ :no */ , ':''no', :y`
    const out = compileNamed(sql)
    expect(out.names).toEqual(["x", "y"])
    expect(out.text).toBe(sql.replace(":x", "$1").replace(":y", "$2"))
  })

  it("unicode names and refuses $n mixed in", () => {
    expect(compileNamed("SELECT :nämé").names).toEqual(["nämé"])
    expect(() => compileNamed("SELECT :a, $1")).toThrow(/cannot be mixed/)
  })
})
