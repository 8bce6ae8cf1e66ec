/**
 * The text of COPY statements: quoted identifiers and literals, the option list asyncpg passes
 * through, and the checks PostgreSQL would make on invalid combinations (done here so they fail
 * before anything is sent, with a typed error).
 *
 * @internal
 */
import { PgInterfaceError } from "../../PgError.ts"
import type { CopyOptions } from "../Options.ts"

/** A double-quoted identifier (`"my ""table"""`). */
export const quoteIdent = (name: string): string => {
  if (name.includes("\0")) throw new PgInterfaceError({ message: "an identifier cannot contain a NUL character" })
  return `"${name.replace(/"/g, '""')}"`
}

/** A string literal, safe whatever `standard_conforming_strings` says (backslashes use E''). */
export const quoteLiteral = (value: string): string => {
  if (value.includes("\0")) throw new PgInterfaceError({ message: "a COPY option cannot contain a NUL character" })
  const quoted = value.replace(/'/g, "''")
  return value.includes("\\") ? `E'${quoted.replace(/\\/g, "\\\\")}'` : `'${quoted}'`
}

/** `"schema"."table" ("a", "b")` */
export const tableTarget = (
  table: string,
  schemaName: string | undefined,
  columns: ReadonlyArray<string> | undefined,
): string => {
  if (typeof table !== "string" || table.length === 0) {
    throw new PgInterfaceError({ message: "the table name must be a non-empty string" })
  }
  const name = schemaName === undefined ? quoteIdent(table) : `${quoteIdent(schemaName)}.${quoteIdent(table)}`
  return columns === undefined || columns.length === 0 ? name : `${name} (${columns.map(quoteIdent).join(", ")})`
}

const singleByte = (value: string): boolean => value.length === 1 && value.charCodeAt(0) < 0x80

const invalid = (message: string): PgInterfaceError =>
  new PgInterfaceError({ message: `invalid COPY options: ${message}` })

/** Checks what PostgreSQL would reject; throws PgInterfaceError. */
const check = (o: CopyOptions, direction: "to" | "from"): void => {
  const format = o.format ?? "text"
  if (format !== "text" && format !== "csv" && format !== "binary") {
    throw invalid(`format must be "text", "csv" or "binary", got ${JSON.stringify(format)}`)
  }
  const csv = format === "csv"
  if (format === "binary") {
    for (const k of ["delimiter", "null", "header", "quote", "escape"] as const) {
      if (o[k] !== undefined) throw invalid(`${k} cannot be used with the binary format`)
    }
  }
  if (!csv) {
    for (const k of ["quote", "escape", "forceQuote", "forceNotNull", "forceNull"] as const) {
      if (o[k] !== undefined) throw invalid(`${k} is only available with the csv format`)
    }
  }
  if (o.delimiter !== undefined && !singleByte(o.delimiter)) {
    throw invalid("delimiter must be a single one-byte character")
  }
  if (o.delimiter === "\r" || o.delimiter === "\n") throw invalid("delimiter cannot be a newline or carriage return")
  if (o.null !== undefined && (o.null.includes("\r") || o.null.includes("\n"))) {
    throw invalid("null cannot contain a newline or carriage return")
  }
  if (o.quote !== undefined && !singleByte(o.quote)) throw invalid("quote must be a single one-byte character")
  if (o.escape !== undefined && !singleByte(o.escape)) throw invalid("escape must be a single one-byte character")
  if (o.delimiter !== undefined && o.delimiter === (o.quote ?? (csv ? '"' : undefined))) {
    throw invalid("delimiter and quote must be different")
  }
  if (o.delimiter !== undefined && o.null !== undefined && o.null.includes(o.delimiter)) {
    throw invalid("null cannot contain the delimiter")
  }
  if (direction === "to") {
    if (o.freeze !== undefined) throw invalid("freeze is only available when copying into a table")
    if (o.forceNotNull !== undefined) throw invalid("forceNotNull is only available when copying into a table")
    if (o.forceNull !== undefined) throw invalid("forceNull is only available when copying into a table")
  } else if (o.forceQuote !== undefined) {
    throw invalid("forceQuote is only available when copying out of a table or query")
  }
  if (o.header === "match" && direction === "to") throw invalid('header "match" is only available when copying in')
}

const columnList = (name: string, cols: ReadonlyArray<string>): string => {
  if (cols.length === 0) throw invalid(`${name} needs at least one column`)
  return `(${cols.map(quoteIdent).join(", ")})`
}

/** The parenthesised option list (asyncpg's `_format_copy_opts`), or "" when none is set. */
export const formatOptions = (o: CopyOptions, direction: "to" | "from"): string => {
  check(o, direction)
  const opts: Array<string> = []
  if (o.format !== undefined) opts.push(`FORMAT ${o.format}`)
  if (o.oids !== undefined) opts.push(`OIDS ${o.oids ? "true" : "false"}`)
  if (o.freeze !== undefined) opts.push(`FREEZE ${o.freeze ? "true" : "false"}`)
  if (o.delimiter !== undefined) opts.push(`DELIMITER ${quoteLiteral(o.delimiter)}`)
  if (o.null !== undefined) opts.push(`NULL ${quoteLiteral(o.null)}`)
  if (o.header !== undefined) opts.push(`HEADER ${o.header === "match" ? "match" : o.header ? "true" : "false"}`)
  if (o.quote !== undefined) opts.push(`QUOTE ${quoteLiteral(o.quote)}`)
  if (o.escape !== undefined) opts.push(`ESCAPE ${quoteLiteral(o.escape)}`)
  if (o.forceQuote !== undefined) {
    if (o.forceQuote === true) opts.push("FORCE_QUOTE *")
    else if (o.forceQuote !== false) opts.push(`FORCE_QUOTE ${columnList("forceQuote", o.forceQuote)}`)
  }
  if (o.forceNotNull !== undefined) opts.push(`FORCE_NOT_NULL ${columnList("forceNotNull", o.forceNotNull)}`)
  if (o.forceNull !== undefined) opts.push(`FORCE_NULL ${columnList("forceNull", o.forceNull)}`)
  if (o.encoding !== undefined) opts.push(`ENCODING ${quoteLiteral(o.encoding)}`)
  return opts.length === 0 ? "" : ` (${opts.join(", ")})`
}

/** `COPY <target> TO STDOUT (...)`; `source` is a quoted table target or a parenthesised query. */
export const copyOutSql = (source: string, o: CopyOptions): string =>
  `COPY ${source} TO STDOUT${formatOptions(o, "to")}`

/** `COPY <target> FROM STDIN (...) [WHERE ...]`. */
export const copyInSql = (target: string, o: CopyOptions, where: string | undefined): string =>
  `COPY ${target} FROM STDIN${formatOptions(o, "from")}${where === undefined ? "" : ` WHERE ${where}`}`
