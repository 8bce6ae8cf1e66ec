import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { errorFieldCode, errorFieldName, parseErrorFields, toErrorFieldList } from "../src/ErrorFields.ts"
import type { SqlStateName } from "../src/SqlState.ts"
import { classNameOf, conditionNameOf, isRetryable, SqlState, SqlStateClass } from "../src/SqlState.ts"

const root = resolve(fileURLToPath(import.meta.url), "../../../..")
const names = Object.keys(SqlState) as Array<SqlStateName>

describe("SqlState", () => {
  it("knows the codes clients branch on", () => {
    expect(SqlState.unique_violation).toBe("23505")
    expect(SqlState.serialization_failure).toBe("40001")
    expect(SqlState.deadlock_detected).toBe("40P01")
    expect(SqlState.query_canceled).toBe("57014")
    expect(SqlState.invalid_password).toBe("28P01")
    expect(SqlState.undefined_table).toBe("42P01")
    expect(SqlState.admin_shutdown).toBe("57P01")
    expect(SqlState.successful_completion).toBe("00000")
    expect(SqlState.transaction_timeout).toBe("25P04")
  })

  it("disambiguates names shared by several codes", () => {
    expect(SqlState.string_data_right_truncation).toBe("22001")
    expect(SqlState.warning_string_data_right_truncation).toBe("01004")
    expect(SqlState.null_value_not_allowed).toBe("22004")
    expect(SqlState.external_routine_invocation_exception_null_value_not_allowed).toBe("39004")
    expect(SqlState.modifying_sql_data_not_permitted).toBe("2F002")
    expect(SqlState.external_routine_exception_modifying_sql_data_not_permitted).toBe("38002")
  })

  it("keeps macro-only aliases and maps their codes to the condition name", () => {
    expect(SqlState.undefined_cursor).toBe("34000")
    expect(conditionNameOf("34000")).toBe("invalid_cursor_name")
    expect(SqlState.array_element_error).toBe("2202E")
    expect(conditionNameOf("2202E")).toBe("array_subscript_error")
  })

  it("has well-formed, unique keys", () => {
    for (const name of names) {
      expect(name).toMatch(/^[a-z][a-z0-9_]*$/)
      expect(SqlState[name]).toMatch(/^[0-9A-Z]{5}$/)
    }
    expect(new Set(names).size).toBe(names.length)
  })

  it("round-trips every entry through conditionNameOf", () => {
    for (const name of names) {
      const code = SqlState[name]
      const back = conditionNameOf(code)
      expect(back, name).toBeDefined()
      if (back !== undefined) expect(SqlState[back]).toBe(code)
    }
    const codes = new Set(Object.values(SqlState))
    for (const code of codes) expect(conditionNameOf(code), code).toBeDefined()
  })

  it("returns undefined for unknown codes", () => {
    expect(conditionNameOf("ZZ999")).toBeUndefined()
    expect(conditionNameOf("")).toBeUndefined()
    expect(conditionNameOf("constructor")).toBeUndefined()
    expect(classNameOf("ZZ000")).toBeUndefined()
    expect(classNameOf("toString")).toBeUndefined()
  })

  it("names classes from the section headers", () => {
    expect(classNameOf("23")).toBe("integrity_constraint_violation")
    expect(classNameOf("23505")).toBe("integrity_constraint_violation")
    expect(classNameOf("40001")).toBe("transaction_rollback")
    expect(classNameOf("02000")).toBe("no_data")
    expect(classNameOf("58P01")).toBe("system_error")
    expect(classNameOf("P0001")).toBe("pl_pgsql_error")
    expect(classNameOf("HV000")).toBe("foreign_data_wrapper_error")
    expect(SqlStateClass["08"]).toBe("connection_exception")
    for (const code of Object.values(SqlState)) expect(classNameOf(code), code).toBeDefined()
  })

  it("treats only serialization failures and deadlocks as retryable", () => {
    expect(isRetryable("40001")).toBe(true)
    expect(isRetryable("40P01")).toBe(true)
    expect(isRetryable(SqlState.unique_violation)).toBe(false)
    expect(isRetryable(SqlState.transaction_rollback)).toBe(false)
    expect(isRetryable("")).toBe(false)
  })

  it("is up to date with scripts/errcodes.txt", () => {
    const dir = mkdtempSync(join(tmpdir(), "pgfx-sqlstate-"))
    try {
      const out = join(dir, "SqlState.ts")
      execFileSync(process.execPath, [join(root, "scripts/generate-sqlstate.ts"), "--out", out], { stdio: "pipe" })
      const committed = readFileSync(join(root, "packages/protocol/src/SqlState.ts"), "utf8")
      expect(readFileSync(out, "utf8") === committed, "run: node scripts/generate-sqlstate.ts").toBe(true)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe("ErrorFields", () => {
  it("parses every documented field", () => {
    const fields = parseErrorFields([
      ["S", "FEHLER"],
      ["V", "ERROR"],
      ["C", "23505"],
      ["M", 'duplicate key value violates unique constraint "users_pkey"'],
      ["D", "Key (id)=(1) already exists."],
      ["H", "a hint"],
      ["P", "15"],
      ["p", "3"],
      ["q", "select 1"],
      ["W", "PL/pgSQL function f() line 3 at SQL statement"],
      ["s", "public"],
      ["t", "users"],
      ["c", "id"],
      ["d", "int4"],
      ["n", "users_pkey"],
      ["F", "nbtinsert.c"],
      ["L", "666"],
      ["R", "_bt_check_unique"],
    ])
    expect(fields).toEqual({
      severityLocalized: "FEHLER",
      severity: "ERROR",
      code: "23505",
      message: 'duplicate key value violates unique constraint "users_pkey"',
      detail: "Key (id)=(1) already exists.",
      hint: "a hint",
      position: "15",
      internalPosition: "3",
      internalQuery: "select 1",
      where: "PL/pgSQL function f() line 3 at SQL statement",
      schema: "public",
      table: "users",
      column: "id",
      dataType: "int4",
      constraint: "users_pkey",
      file: "nbtinsert.c",
      line: "666",
      routine: "_bt_check_unique",
    })
  })

  it("ignores unknown codes, defaults the required fields, leaves optional ones absent", () => {
    const fields = parseErrorFields([
      ["X", "future field"],
      ["constructor", "x"],
      ["D", "detail"],
    ])
    expect(fields).toEqual({ severity: "", severityLocalized: "", code: "", message: "", detail: "detail" })
    expect("hint" in fields).toBe(false)
  })

  it("falls back to S for severity when V is missing (servers before 9.6)", () => {
    const fields = parseErrorFields([
      ["S", "NOTICE"],
      ["C", "00000"],
      ["M", "hello"],
    ])
    expect(fields.severity).toBe("NOTICE")
    expect(fields.severityLocalized).toBe("NOTICE")
  })

  it("keeps the last value of a repeated field", () => {
    expect(
      parseErrorFields([
        ["M", "first"],
        ["M", "second"],
      ]).message,
    ).toBe("second")
  })

  it("has inverse code tables and round-trips through toErrorFieldList", () => {
    for (const [code, name] of Object.entries(errorFieldName)) expect(errorFieldCode[name]).toBe(code)
    expect(Object.keys(errorFieldName)).toHaveLength(Object.keys(errorFieldCode).length)
    const fields = parseErrorFields([
      ["S", "ERROR"],
      ["V", "ERROR"],
      ["C", "42P01"],
      ["M", "no table"],
      ["P", "15"],
    ])
    const list = toErrorFieldList(fields)
    expect(list).toEqual([
      ["S", "ERROR"],
      ["V", "ERROR"],
      ["C", "42P01"],
      ["M", "no table"],
      ["P", "15"],
    ])
    expect(parseErrorFields(list)).toEqual(fields)
  })
})
