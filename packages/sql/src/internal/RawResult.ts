/**
 * What `executeRaw` (drizzle's `db.execute`) returns: the result object `@effect/sql-pg` returns
 * for the same statement (command, affected-row count, insert oid, rows as objects, fields).
 */
import type { PgResult } from "@pgfx/client/PgConnection"

/** A result column: its name and type OID. */
export interface RawField {
  readonly name: string
  readonly dataTypeId: number
}

/** The raw result of one statement. */
export interface RawResult {
  /** The command word of the tag (`"INSERT"`, `"SELECT"`, `"CALL"`). */
  readonly command: string
  /** The row count of the tag (affected or returned rows), 0 when the tag has none. */
  readonly rowCount: number
  /** The oid of `INSERT oid count` (always 0 on current servers), else null. */
  readonly oid: number | null
  readonly rows: ReadonlyArray<Record<string, unknown>>
  readonly fields: ReadonlyArray<RawField>
}

const isDigits = (s: string): boolean => s.length > 0 && /^[0-9]+$/.test(s)

/** Splits a command tag (`"INSERT 0 3"`, `"UPDATE 2"`, `"CREATE TABLE"`) into its parts. */
export const parseTag = (tag: string): Pick<RawResult, "command" | "rowCount" | "oid"> => {
  const parts = tag.split(" ")
  const command = parts[0]!
  if (parts.length === 1) return { command, rowCount: 0, oid: null }
  if (command === "INSERT" && parts.length === 3) {
    return { command, rowCount: Number(parts[2]), oid: Number(parts[1]) }
  }
  const last = parts[parts.length - 1]!
  return { command, rowCount: isDigits(last) ? Number(last) : 0, oid: null }
}

/** The raw result of a pgfx result. */
export const rawResult = (result: PgResult): RawResult => {
  const rows = new Array<Record<string, unknown>>(result.rows.length)
  for (let i = 0; i < rows.length; i++) rows[i] = result.rows[i]!.toObject()
  return {
    ...parseTag(result.command),
    rows,
    fields: result.columns.map((c) => ({ name: c.name, dataTypeId: c.typeOid })),
  }
}
