/**
 * The password file (`~/.pgpass`, or `passfile` / PGPASSFILE): lines of
 * `hostname:port:database:username:password`, first match wins.
 *
 * - `*` in any of the first four fields matches anything; `\:` and `\\` escape a colon and a
 *   backslash; lines starting with `#` are comments.
 * - The host of a unix-socket connection is matched as `localhost` when the socket directory is
 *   a default one, otherwise as the directory path (libpq's rule).
 * - As in libpq, a file that group or others can read is ignored with a warning, and so is
 *   anything that is not a regular file. A missing file is silently ignored.
 *
 * @internal
 */
import * as fs from "node:fs"

/** One usable line. */
export interface PgpassEntry {
  readonly host: string
  readonly port: string
  readonly database: string
  readonly user: string
  readonly password: string
}

/** Splits one line into its fields, undoing `\:` and `\\`. Undefined for comments and short lines. */
const parseLine = (line: string): PgpassEntry | undefined => {
  if (line.startsWith("#") || line.trim() === "") return undefined
  const fields: Array<string> = []
  let field = ""
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (c === "\\" && i + 1 < line.length) {
      field += line[++i]
    } else if (c === ":" && fields.length < 4) {
      fields.push(field)
      field = ""
    } else {
      field += c
    }
  }
  fields.push(field)
  if (fields.length < 5) return undefined
  const [host, port, database, user, password] = fields as [string, string, string, string, string]
  return { host, port, database, user, password }
}

/** Every usable line of a password file's text. */
export const parsePgpass = (text: string): Array<PgpassEntry> => {
  const entries: Array<PgpassEntry> = []
  for (const raw of text.split("\n")) {
    const entry = parseLine(raw.replace(/\r$/, ""))
    if (entry !== undefined) entries.push(entry)
  }
  return entries
}

const matches = (field: string, value: string): boolean => field === "*" || field === value

/** The password of the first line matching the connection, if any. */
export const lookupPgpass = (
  entries: ReadonlyArray<PgpassEntry>,
  host: string,
  port: number,
  database: string,
  user: string,
): string | undefined =>
  entries.find(
    (e) =>
      matches(e.host, host) && matches(e.port, String(port)) && matches(e.database, database) && matches(e.user, user),
  )?.password

/** The outcome of reading a password file: its lines, or why it was skipped. */
export type PgpassFile =
  | { readonly _tag: "Read"; readonly entries: ReadonlyArray<PgpassEntry> }
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Ignored"; readonly warning: string }

/** Reads a password file with libpq's checks (regular file; no group/world access on Unix). */
export const readPgpass = (file: string): PgpassFile => {
  let stat: fs.Stats
  try {
    stat = fs.statSync(file)
  } catch {
    return { _tag: "Missing" }
  }
  if (!stat.isFile()) {
    return { _tag: "Ignored", warning: `password file "${file}" is not a plain file; it is ignored` }
  }
  if (process.platform !== "win32" && (stat.mode & 0o077) !== 0) {
    return {
      _tag: "Ignored",
      warning: `password file "${file}" has group or world access; permissions should be u=rw (0600) or less; it is ignored`,
    }
  }
  let text: string
  try {
    text = fs.readFileSync(file, "utf8")
  } catch {
    return { _tag: "Ignored", warning: `password file "${file}" cannot be read; it is ignored` }
  }
  return { _tag: "Read", entries: parsePgpass(text) }
}
