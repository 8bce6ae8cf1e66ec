/**
 * The operation name and summary pgfx derives from SQL text for spans: first keyword, first
 * table, never a literal.
 */
import * as PgTracing from "@pgfx/client/PgTracing"
import { describe, expect, it } from "@effect/vitest"

describe("operationName", () => {
  it("is the first keyword, upper-cased, after comments and parentheses", () => {
    expect(PgTracing.operationName("select 1")).toBe("SELECT")
    expect(PgTracing.operationName("  -- leading comment\n  insert into t values (1)")).toBe("INSERT")
    expect(PgTracing.operationName("/* a /* nested */ comment */ UPDATE t SET a = 1")).toBe("UPDATE")
    expect(PgTracing.operationName("(SELECT 1) UNION (SELECT 2)")).toBe("SELECT")
    expect(PgTracing.operationName("WITH x AS (SELECT 1) SELECT * FROM x")).toBe("WITH")
    expect(PgTracing.operationName('LISTEN "chan"')).toBe("LISTEN")
  })

  it("is undefined for an empty statement or one that does not start with a word", () => {
    expect(PgTracing.operationName("")).toBeUndefined()
    expect(PgTracing.operationName("  ; ")).toBeUndefined()
    expect(PgTracing.operationName("-- only a comment")).toBeUndefined()
    expect(PgTracing.operationName("'literal'")).toBeUndefined()
  })
})

describe("summarize", () => {
  it("is the operation and the first table it names", () => {
    expect(PgTracing.summarize("SELECT * FROM users WHERE id = $1")).toBe("SELECT users")
    expect(PgTracing.summarize("select a from public.accounts a join b on true")).toBe("SELECT public.accounts")
    expect(PgTracing.summarize('SELECT * FROM "Weird Table"')).toBe('SELECT "Weird Table"')
    expect(PgTracing.summarize("INSERT INTO orders (id) VALUES ($1)")).toBe("INSERT orders")
    expect(PgTracing.summarize("UPDATE ONLY stock SET n = n - 1")).toBe("UPDATE stock")
    expect(PgTracing.summarize("DELETE FROM sessions WHERE expired")).toBe("DELETE sessions")
    expect(PgTracing.summarize("CREATE TABLE IF NOT EXISTS t (a int)")).toBe("CREATE t")
    expect(PgTracing.summarize("COPY items FROM STDIN")).toBe("COPY items")
    expect(PgTracing.summarize("SELECT 1")).toBe("SELECT")
    expect(PgTracing.summarize("BEGIN")).toBe("BEGIN")
    expect(PgTracing.summarize("")).toBe("EMPTY")
  })

  it("never includes literals, even ones that look like SQL", () => {
    expect(PgTracing.summarize("SELECT 'from secrets' FROM t")).toBe("SELECT t")
    expect(PgTracing.summarize("SELECT $$ FROM secrets $$ FROM t")).toBe("SELECT t")
    expect(PgTracing.summarize("SELECT $tag$ FROM secrets $tag$ FROM t")).toBe("SELECT t")
    expect(PgTracing.summarize("SELECT 'it''s' -- FROM secrets\n FROM t")).toBe("SELECT t")
    expect(PgTracing.summarize("SELECT 'unterminated FROM secrets")).toBe("SELECT")
  })
})
