/** The text of COPY statements: quoting and the option list (no server needed). */
import { describe, expect, it } from "@effect/vitest"
import { copyInSql, copyOutSql, quoteIdent, quoteLiteral, tableTarget } from "@pgfx/client/internal/copy/CopySql"

describe("CopySql", () => {
  it("quotes identifiers and literals", () => {
    expect(quoteIdent('we"ird')).toBe('"we""ird"')
    expect(quoteLiteral("it's")).toBe("'it''s'")
    expect(quoteLiteral("a\\b'")).toBe("E'a\\\\b'''")
    expect(() => quoteLiteral("a\0")).toThrow("NUL")
    expect(tableTarget("t", "s", ["a", 'b"'])).toBe('"s"."t" ("a", "b""")')
  })

  it("writes asyncpg's option list in order", () => {
    expect(copyOutSql('"t"', {})).toBe('COPY "t" TO STDOUT')
    expect(
      copyOutSql('"t"', {
        format: "csv",
        delimiter: ";",
        null: "",
        header: true,
        quote: "'",
        escape: "\\",
        forceQuote: ["a"],
        encoding: "UTF8",
      }),
    ).toBe(
      `COPY "t" TO STDOUT (FORMAT csv, DELIMITER ';', NULL '', HEADER true, QUOTE '''', ESCAPE E'\\\\', FORCE_QUOTE ("a"), ENCODING 'UTF8')`,
    )
    expect(copyOutSql('"t"', { format: "csv", forceQuote: true })).toBe(
      'COPY "t" TO STDOUT (FORMAT csv, FORCE_QUOTE *)',
    )
    expect(
      copyInSql(
        '"t"',
        { format: "csv", freeze: true, forceNotNull: ["a"], forceNull: ["b"], header: "match" },
        "a > 1",
      ),
    ).toBe(
      'COPY "t" FROM STDIN (FORMAT csv, FREEZE true, HEADER match, FORCE_NOT_NULL ("a"), FORCE_NULL ("b")) WHERE a > 1',
    )
  })

  it("refuses invalid combinations", () => {
    expect(() => copyOutSql('"t"', { format: "binary", header: true })).toThrow("binary")
    expect(() => copyOutSql('"t"', { escape: "\\" })).toThrow("csv")
    expect(() => copyOutSql('"t"', { freeze: true })).toThrow("freeze")
    expect(() => copyInSql('"t"', { format: "csv", forceQuote: ["a"] }, undefined)).toThrow("forceQuote")
    expect(() => copyInSql('"t"', { format: "csv", forceNull: [] }, undefined)).toThrow("at least one column")
    expect(() => copyOutSql('"t"', { null: "a,b", delimiter: "," })).toThrow("null cannot contain the delimiter")
    expect(() => tableTarget("", undefined, undefined)).toThrow("non-empty")
  })
})
