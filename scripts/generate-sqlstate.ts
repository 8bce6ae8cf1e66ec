/**
 * Generates `packages/protocol/src/SqlState.ts` from PostgreSQL's `errcodes.txt`.
 *
 * Usage:
 *
 * ```sh
 * node scripts/generate-sqlstate.ts                     # writes packages/protocol/src/SqlState.ts
 * node scripts/generate-sqlstate.ts --out /tmp/x.ts     # writes somewhere else (the freshness test)
 * node scripts/generate-sqlstate.ts --in other.txt      # reads another copy of errcodes.txt
 * ```
 *
 * `scripts/errcodes.txt` is a verbatim copy of `src/backend/utils/errcodes.txt` from PostgreSQL
 * (PostgreSQL License). To update the table, replace that file with a newer copy and rerun this
 * script; the unit test `packages/protocol/test/SqlState.test.ts` fails while the committed
 * `SqlState.ts` differs from what this script would write.
 *
 * The output is a pure function of the input text (no dates, no paths), so regenerating an
 * unchanged input gives byte-identical output.
 *
 * @since 0.1.0
 */
import { readFileSync, writeFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"

/** One SQLSTATE class, from a `Section: Class XX - Title` line. @since 0.1.0 */
export interface ErrcodeClass {
  /** Two-character class code, e.g. `"23"`. */
  readonly code: string
  /** The title as written, e.g. `"Integrity Constraint Violation"`. */
  readonly title: string
  /** The title as an identifier, e.g. `"integrity_constraint_violation"`. */
  readonly name: string
}

/** One code line of `errcodes.txt`, with the key it gets in the generated table. @since 0.1.0 */
export interface ErrcodeEntry {
  readonly code: string
  /** `E` (error), `W` (warning) or `S` (success). */
  readonly kind: "E" | "W" | "S"
  /** The C macro, e.g. `ERRCODE_UNIQUE_VIOLATION`. */
  readonly macro: string
  /** The PL/pgSQL condition name (4th column), when the line has one. */
  readonly specName: string | undefined
  /** The class of the code (its first two characters). */
  readonly klass: ErrcodeClass
  /** The section the line appears under (differs from `klass` for a few aliases). */
  readonly section: ErrcodeClass
  /** The unique key in the generated `SqlState` object (see {@link resolveNames}). */
  readonly name: string
}

/** The parsed file: classes and code lines in file order. @since 0.1.0 */
export interface Errcodes {
  readonly classes: ReadonlyArray<ErrcodeClass>
  readonly entries: ReadonlyArray<ErrcodeEntry>
}

const sectionLine = /^Section:\s+Class\s+([0-9A-Z]{2})\s+-\s+(.+?)\s*$/
const codeLine = /^([0-9A-Z]{5})\s+([EWS])\s+(ERRCODE_[A-Z0-9_]+)(?:\s+([a-z0-9_]+))?\s*$/

/**
 * A section title as an identifier: a trailing parenthesised remark is dropped, the rest is
 * lowercased and every run of non-alphanumeric characters becomes one `_`.
 * `"System Error (errors external to PostgreSQL itself)"` becomes `"system_error"`,
 * `"PL/pgSQL Error"` becomes `"pl_pgsql_error"`.
 *
 * @since 0.1.0
 */
export const classIdentifier = (title: string): string =>
  title
    .replace(/\s*\([^)]*\)\s*$/, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")

/** A code line before names are resolved. @since 0.1.0 */
export interface RawEntry {
  readonly code: string
  readonly kind: "E" | "W" | "S"
  readonly macro: string
  readonly specName: string | undefined
  readonly klass: ErrcodeClass
  readonly section: ErrcodeClass
}

/** The name an entry asks for before collisions are resolved. */
const baseName = (e: RawEntry): string => e.specName ?? e.macro.replace(/^ERRCODE_/, "").toLowerCase()

/**
 * Gives every entry a unique key. The rule (repeated in the generated file's header):
 *
 * 1. An entry's name is its spec name (the PL/pgSQL condition name); a line without one gets its
 *    macro name without `ERRCODE_`, lowercased (`ERRCODE_UNDEFINED_CURSOR` -> `undefined_cursor`).
 * 2. When one name is claimed by lines with different codes, one line keeps the bare name: the
 *    line whose macro is exactly `ERRCODE_<NAME>`, or failing that the first such line in file
 *    order. Every other line is renamed `<class name>_<name>`, the class name coming from its
 *    section header (`01004` -> `warning_string_data_right_truncation`).
 * 3. If a name is still not unique the generator stops with an error rather than guess.
 *
 * @since 0.1.0
 */
export const resolveNames = (raw: ReadonlyArray<RawEntry>): ReadonlyArray<ErrcodeEntry> => {
  const byBase = new Map<string, Array<RawEntry>>()
  for (const e of raw) {
    const list = byBase.get(baseName(e)) ?? []
    list.push(e)
    byBase.set(baseName(e), list)
  }
  const names = new Map<RawEntry, string>()
  for (const [base, list] of byBase) {
    const codes = new Set(list.map((e) => e.code))
    if (codes.size === 1) {
      if (list.length > 1) throw new Error(`errcodes.txt lists ${base} (${list[0].code}) twice`)
      names.set(list[0], base)
      continue
    }
    const owner = list.find((e) => e.macro === `ERRCODE_${base.toUpperCase()}`) ?? list[0]
    for (const e of list) names.set(e, e === owner ? base : `${e.klass.name}_${base}`)
  }
  const seen = new Map<string, string>()
  return raw.map((e) => {
    const name = names.get(e) as string
    const previous = seen.get(name)
    if (previous !== undefined) {
      throw new Error(`name ${name} is claimed by ${previous} and ${e.code}; extend the rule in generate-sqlstate.ts`)
    }
    seen.set(name, e.code)
    return { ...e, name }
  })
}

/**
 * Parses the text of `errcodes.txt`. Blank lines and `#` comments are skipped; every other line
 * must be a `Section:` line or a code line, and every code's class must have a `Section:` line
 * (before the code line).
 *
 * @since 0.1.0
 */
export const parseErrcodes = (text: string): Errcodes => {
  const classes: Array<ErrcodeClass> = []
  const raw: Array<RawEntry> = []
  let current: ErrcodeClass | undefined
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "" || line.startsWith("#")) return
    const section = sectionLine.exec(line)
    if (section !== null) {
      current = { code: section[1], title: section[2], name: classIdentifier(section[2]) }
      if (classes.some((c) => c.code === current?.code)) throw new Error(`line ${i + 1}: class ${section[1]} repeated`)
      classes.push(current)
      return
    }
    const entry = codeLine.exec(line)
    if (entry === null) throw new Error(`line ${i + 1}: cannot parse ${JSON.stringify(line)}`)
    if (current === undefined) throw new Error(`line ${i + 1}: code before any Section line`)
    const code = entry[1]
    // A few lines (ERRCODE_UNDEFINED_CURSOR and friends, listed under class 42) alias a code of
    // another class: such a line belongs to the class of its code, but keeps its place in the file.
    const klass = classes.find((c) => c.code === code.slice(0, 2))
    if (klass === undefined) throw new Error(`line ${i + 1}: ${code} has no class`)
    raw.push({ code, kind: entry[2] as "E" | "W" | "S", macro: entry[3], specName: entry[4], klass, section: current })
  })
  return { classes, entries: resolveNames(raw) }
}

/** One entry per code, the one `conditionNameOf` answers with: the first line with a spec name, else the first line. */
const canonicalEntries = (entries: ReadonlyArray<ErrcodeEntry>): ReadonlyArray<ErrcodeEntry> => {
  const chosen = new Map<string, ErrcodeEntry>()
  for (const e of entries) {
    const previous = chosen.get(e.code)
    if (previous === undefined || (previous.specName === undefined && e.specName !== undefined)) chosen.set(e.code, e)
  }
  return [...chosen.values()]
}

const kindWord = { E: "error", W: "warning", S: "success" } as const

/**
 * Renders `SqlState.ts` from the text of `errcodes.txt`.
 *
 * @since 0.1.0
 */
export const render = (text: string): string => {
  const { classes, entries } = parseErrcodes(text)
  const canonical = canonicalEntries(entries)
  const copyright = /Copyright \(c\) ([0-9-]+), PostgreSQL Global Development Group/.exec(text)?.[1] ?? "unknown"
  const renamed = entries.filter((e) => e.specName !== undefined && e.name !== e.specName)
  const derived = entries.filter((e) => e.specName === undefined)
  const aliasNote = (e: ErrcodeEntry): string => {
    const main = canonical.find((c) => c.code === e.code)
    return main !== undefined && main !== e ? ` Same code as \`${main.name}\`.` : ""
  }

  const out: Array<string> = []
  out.push(
    "/**",
    " * GENERATED FILE, do not edit: run `node scripts/generate-sqlstate.ts` (npm run generate:sqlstate).",
    " *",
    " * Every SQLSTATE code PostgreSQL defines, keyed by condition name, from `scripts/errcodes.txt`",
    ` * (a verbatim copy of PostgreSQL's \`src/backend/utils/errcodes.txt\`, copyright (c) ${copyright}`,
    " * PostgreSQL Global Development Group, PostgreSQL License). The unit test",
    " * `packages/protocol/test/SqlState.test.ts` fails while this file is out of date.",
    " *",
    " * Naming rule for the keys of {@link SqlState}:",
    " *",
    " * 1. A code's key is its PL/pgSQL condition name (`unique_violation`). A line of errcodes.txt",
    " *    without one gets its C macro name without `ERRCODE_`, lowercased",
    " *    (`ERRCODE_UNDEFINED_CURSOR` -> `undefined_cursor`).",
    " * 2. When one name belongs to lines with different codes, the line whose macro is exactly",
    " *    `ERRCODE_<NAME>` keeps the bare name (or, if none is, the first such line in file order) and",
    " *    the others are prefixed with their class name from the section header, e.g. `01004` becomes",
    " *    `warning_string_data_right_truncation` and `22001` stays `string_data_right_truncation`.",
    " *",
    " * Renamed by rule 2 in this version:",
    ...(renamed.length === 0
      ? [" * (none)"]
      : renamed.map((e) => ` * - \`${e.name}\` (${e.code}; PL/pgSQL calls it \`${e.specName}\`)`)),
    " *",
    " * Some codes have more than one key (an alias kept from errcodes.txt, such as",
    " * `undefined_cursor` for `34000`, whose condition name is `invalid_cursor_name`). Keys derived",
    " * from macro names by rule 1 in this version:",
    ...derived.map((e) => ` * - \`${e.name}\` (${e.code})`),
    " *",
    " * {@link conditionNameOf} maps a code back to one key: the line with a PL/pgSQL condition name,",
    " * or the first line for that code.",
    " *",
    " * @since 0.1.0",
    " */",
    "",
  )

  out.push(
    "/**",
    " * SQLSTATE codes by condition name, in the order of errcodes.txt.",
    " *",
    " * @example",
    " * ```ts",
    ' * import { SqlState } from "@pgfx/protocol/SqlState"',
    ' * SqlState.unique_violation // "23505"',
    ' * if (fields.code === SqlState.unique_violation) return "duplicate"',
    " * ```",
    " * @since 0.1.0",
    " * @category codes",
    " */",
    "export const SqlState = {",
  )
  let lastClass = ""
  for (const e of entries) {
    if (e.section.code !== lastClass) {
      if (lastClass !== "") out.push("")
      out.push(`  // Class ${e.section.code} - ${e.section.title}`)
      lastClass = e.section.code
    }
    out.push(`  /** ${e.code}: ${kindWord[e.kind]} \`${e.macro}\`.${aliasNote(e)} */`)
    out.push(`  ${e.name}: ${JSON.stringify(e.code)},`)
  }
  out.push("} as const", "")

  out.push(
    "/**",
    ' * A key of {@link SqlState}, such as `"unique_violation"`.',
    " *",
    " * @since 0.1.0",
    " * @category codes",
    " */",
    "export type SqlStateName = keyof typeof SqlState",
    "",
    "/**",
    ' * A SQLSTATE code PostgreSQL defines, such as `"23505"`. Servers, extensions and other',
    " * databases speaking the protocol can send codes outside this set, so code received from the",
    " * wire is typed `string` and narrowed with {@link conditionNameOf}.",
    " *",
    " * @since 0.1.0",
    " * @category codes",
    " */",
    "export type SqlStateCode = (typeof SqlState)[SqlStateName]",
    "",
    "/**",
    " * SQLSTATE classes (the first two characters of a code) by class code, with the name taken from",
    " * the section header of errcodes.txt (`Class 23 - Integrity Constraint Violation` ->",
    " * `integrity_constraint_violation`; a trailing parenthesised remark is dropped).",
    " *",
    " * @since 0.1.0",
    " * @category classes",
    " */",
    "export const SqlStateClass = {",
    ...classes.map(
      (c) => `  /** Class ${c.code} - ${c.title} */\n  ${JSON.stringify(c.code)}: ${JSON.stringify(c.name)},`,
    ),
    "} as const",
    "",
    "/**",
    " * A two-character class code, a key of {@link SqlStateClass}.",
    " *",
    " * @since 0.1.0",
    " * @category classes",
    " */",
    "export type SqlStateClassCode = keyof typeof SqlStateClass",
    "",
    "/**",
    " * A class name, a value of {@link SqlStateClass}.",
    " *",
    " * @since 0.1.0",
    " * @category classes",
    " */",
    "export type SqlStateClassName = (typeof SqlStateClass)[SqlStateClassCode]",
    "",
    "const nameByCode: ReadonlyMap<string, SqlStateName> = new Map<string, SqlStateName>([",
    ...canonical.map((e) => `  [${JSON.stringify(e.code)}, ${JSON.stringify(e.name)}],`),
    "])",
    "",
    "/**",
    " * The condition name of a SQLSTATE code, or `undefined` for a code PostgreSQL does not define.",
    ' * For a code with several keys it returns the PL/pgSQL condition name (`"34000"` ->',
    ' * `"invalid_cursor_name"`, not the alias `undefined_cursor`).',
    " *",
    " * @example",
    " * ```ts",
    ' * conditionNameOf("40001") // "serialization_failure"',
    ' * conditionNameOf("ZZ999") // undefined',
    " * ```",
    " * @since 0.1.0",
    " * @category lookup",
    " */",
    "export const conditionNameOf = (code: string): SqlStateName | undefined => nameByCode.get(code)",
    "",
    "/**",
    " * The class name for a code's first two characters (a whole code or just its class), or",
    " * `undefined` for a class PostgreSQL does not define.",
    " *",
    " * @example",
    " * ```ts",
    ' * classNameOf("23505") // "integrity_constraint_violation"',
    ' * classNameOf("23")    // "integrity_constraint_violation"',
    " * ```",
    " * @since 0.1.0",
    " * @category lookup",
    " */",
    "export const classNameOf = (code: string): SqlStateClassName | undefined => {",
    "  const klass = code.slice(0, 2)",
    "  return Object.hasOwn(SqlStateClass, klass) ? SqlStateClass[klass as SqlStateClassCode] : undefined",
    "}",
    "",
    "/**",
    " * Whether rerunning the whole transaction from its start may succeed: true for",
    " * `serialization_failure` (40001) and `deadlock_detected` (40P01), where the server rolled the",
    " * transaction back because of a conflict with concurrent transactions.",
    " *",
    " * Details: this judges the error code only. It says nothing about whether the statement reached",
    " * the server (pgx's `SafeToRetry` answers that other question: the request failed before any byte",
    " * was sent), and it does not make a single statement of a larger transaction safe to repeat on",
    " * its own. Other codes of class 40, connection errors (class 08) and `admin_shutdown` can also",
    " * be worth a retry, but whether the work was done is unknown, so they are left to the caller.",
    " *",
    " * @example",
    " * ```ts",
    " * isRetryable(SqlState.serialization_failure) // true",
    " * isRetryable(SqlState.unique_violation)      // false",
    " * ```",
    " * @since 0.1.0",
    " * @category predicates",
    " */",
    "export const isRetryable = (code: string): boolean =>",
    "  code === SqlState.serialization_failure || code === SqlState.deadlock_detected",
    "",
  )
  return out.join("\n")
}

const here = dirname(fileURLToPath(import.meta.url))

/** Reads `--in` (default `scripts/errcodes.txt`) and writes `--out` (default the protocol package). */
const main = (argv: ReadonlyArray<string>): void => {
  const option = (flag: string): string | undefined => {
    const i = argv.indexOf(flag)
    return i >= 0 ? argv[i + 1] : undefined
  }
  const input = resolve(option("--in") ?? resolve(here, "errcodes.txt"))
  const output = resolve(option("--out") ?? resolve(here, "../packages/protocol/src/SqlState.ts"))
  writeFileSync(output, render(readFileSync(input, "utf8")))
  process.stdout.write(`wrote ${output}\n`)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2))
}
