/**
 * SQL composition: the `sql` tagged template builds a {@link Fragment}, SQL text with `$n`
 * parameters and their values kept apart. A value is never spliced into the text: every
 * interpolated value becomes a parameter, so quotes, backslashes, `$1`, `;--` or any other
 * character in a value cannot change the statement.
 *
 * What an interpolation can be:
 *
 * | interpolated | becomes |
 * | --- | --- |
 * | any value (number, string, Date, array, object, `null`) | one parameter `$n` (an array is one PostgreSQL array) |
 * | another fragment | its text, its parameters renumbered to follow the ones before it |
 * | `sql.id("t")`, `sql.id("s", "t")` | a quoted (qualified) identifier: `"t"`, `"s"."t"` |
 * | `sql.in([1, 2])` | a parenthesised list `($1, $2)` |
 * | `sql.insert(rows)` | `("a", "b") VALUES ($1, $2), ($3, $4)` for `INSERT INTO t ${...}` |
 * | `sql.update(record)` | `"a" = $1, "b" = $2` for `UPDATE t SET ${...}` |
 * | `sql.join(fragments, sep)` / `sql.and(...)` / `sql.or(...)` | the fragments joined |
 * | `sql.unsafe(text)` | raw text, for what you trust (SQL you wrote, never user input) |
 *
 * Connections, pools and `PgClient` take a fragment wherever they take SQL text:
 * `conn.fetch(sql\`...\`)`, `PgClient.fetchVal(sql\`...\`, { timeout })`.
 *
 * @example
 * ```ts
 * import { sql } from "@pgfx/client/PgSql"
 *
 * const byStatus = (status: string) => sql`status = ${status}`
 * const query = sql`SELECT * FROM ${sql.id("app", "users")} WHERE ${byStatus("active")} AND id IN ${sql.in([1, 2, 3])}`
 * query.text   // SELECT * FROM "app"."users" WHERE status = $1 AND id IN ($2, $3, $4)
 * query.values // ["active", 1, 2, 3]
 * yield* conn.fetch(query)
 * ```
 *
 * Gotchas: the template's own text is taken as written, so a literal `$1` typed into the
 * template (not interpolated) is a parameter reference and collides with the numbering: write
 * `${value}` instead. `sql.in([])` is `(NULL)`, which matches nothing with `IN` and also
 * nothing with `NOT IN`; use `<> ALL(${array})` when the list may be empty.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { PgInterfaceError } from "./PgError.ts"

const FragmentTypeId: unique symbol = Symbol.for("@pgfx/client/PgSql/Fragment")

/** One piece of a fragment: raw text, a parameter value, or a nested fragment. */
type Part =
  | { readonly _tag: "Text"; readonly text: string }
  | { readonly _tag: "Param"; readonly value: unknown }
  | { readonly _tag: "Nested"; readonly fragment: Fragment }

/**
 * A piece of SQL with its parameters, built by the `sql` template and its helpers. `text` uses
 * `$1`, `$2`, ... in order; `values` are the parameters in that order (computed once).
 * @since 0.1.0
 */
export class Fragment {
  readonly [FragmentTypeId] = FragmentTypeId
  readonly parts: ReadonlyArray<Part>
  #compiled: { readonly text: string; readonly values: ReadonlyArray<unknown> } | undefined

  constructor(parts: ReadonlyArray<Part>) {
    this.parts = parts
  }

  /** The SQL text with `$n` placeholders. */
  get text(): string {
    return this.compiled().text
  }

  /** The parameter values, `values[0]` is `$1`. */
  get values(): ReadonlyArray<unknown> {
    return this.compiled().values
  }

  private compiled() {
    if (this.#compiled === undefined) {
      const values: Array<unknown> = []
      const text = compileInto(this, values)
      this.#compiled = { text, values }
    }
    return this.#compiled
  }

  toString(): string {
    return this.text
  }
}

const compileInto = (fragment: Fragment, values: Array<unknown>): string => {
  let text = ""
  for (const part of fragment.parts) {
    switch (part._tag) {
      case "Text":
        text += part.text
        break
      case "Param":
        values.push(part.value)
        text += "$" + values.length
        break
      case "Nested":
        text += compileInto(part.fragment, values)
        break
    }
  }
  return text
}

/**
 * Tests whether a value is a {@link Fragment}.
 * @since 0.1.0
 */
export const isFragment = (u: unknown): u is Fragment => typeof u === "object" && u !== null && FragmentTypeId in u

const text = (s: string): Part => ({ _tag: "Text", text: s })
const param = (value: unknown): Part => ({ _tag: "Param", value })
const nested = (fragment: Fragment): Part => ({ _tag: "Nested", fragment })
const partOf = (value: unknown): Part => (isFragment(value) ? nested(value) : param(value))

/**
 * Quotes one identifier part: wrapped in double quotes, inner double quotes doubled. Fails with
 * `PgInterfaceError` (thrown) for an empty name or one containing NUL, which PostgreSQL cannot
 * represent.
 * @since 0.1.0
 */
export const quoteIdentifier = (name: string): string => {
  if (typeof name !== "string" || name.length === 0) {
    throw new PgInterfaceError({ message: "an identifier must be a non-empty string" })
  }
  if (name.includes("\u0000")) {
    throw new PgInterfaceError({ message: "an identifier cannot contain the NUL character" })
  }
  return '"' + name.replaceAll('"', '""') + '"'
}

const template = (strings: TemplateStringsArray, ...args: ReadonlyArray<unknown>): Fragment => {
  const parts: Array<Part> = []
  for (let i = 0; i < strings.length; i++) {
    const s = strings[i]!
    if (s.length > 0) parts.push(text(s))
    if (i < args.length) parts.push(partOf(args[i]))
  }
  return new Fragment(parts)
}

/**
 * A quoted identifier, qualified when given several parts: `sql.id("app", "users")` is
 * `"app"."users"`. Quotes inside a name are doubled, so no name can end the identifier.
 *
 * Errors: throws `PgInterfaceError` for an empty name or a name with NUL.
 */
const id = (...names: ReadonlyArray<string>): Fragment => {
  if (names.length === 0) throw new PgInterfaceError({ message: "sql.id needs at least one name" })
  return new Fragment([text(names.map(quoteIdentifier).join("."))])
}

/** Joins fragments and values (values become parameters) with a separator (default `, `). */
const join = (items: ReadonlyArray<unknown>, separator: Fragment | string = ", "): Fragment => {
  const sep = typeof separator === "string" ? text(separator) : nested(separator)
  const parts: Array<Part> = []
  items.forEach((item, i) => {
    if (i > 0) parts.push(sep)
    parts.push(partOf(item))
  })
  return new Fragment(parts)
}

/** A parenthesised list of parameters for `IN`: `($1, $2, $3)`; `(NULL)` when empty. */
const inList = (values: ReadonlyArray<unknown>): Fragment =>
  values.length === 0 ? new Fragment([text("(NULL)")]) : new Fragment([text("("), nested(join(values)), text(")")])

/** Options of `sql.insert`. */
interface InsertOptions {
  /** The columns, in order (default: every key of every record, in order of first appearance). */
  readonly columns?: ReadonlyArray<string> | undefined
}

/**
 * The column list and VALUES of a multi-row insert: `("a", "b") VALUES ($1, $2), ($3, $4)`.
 * A record without one of the columns (or with `undefined` there) gets `DEFAULT`.
 *
 * Errors: throws `PgInterfaceError` with no records or no columns.
 */
const insert = (
  records: ReadonlyArray<Readonly<Record<string, unknown>>> | Readonly<Record<string, unknown>>,
  options?: InsertOptions,
): Fragment => {
  const rows: ReadonlyArray<Readonly<Record<string, unknown>>> = Array.isArray(records) ? records : [records]
  if (rows.length === 0) throw new PgInterfaceError({ message: "sql.insert needs at least one record" })
  let columns = options?.columns
  if (columns === undefined) {
    const seen = new Set<string>()
    for (const row of rows) for (const key of Object.keys(row)) seen.add(key)
    columns = [...seen]
  }
  if (columns.length === 0) throw new PgInterfaceError({ message: "sql.insert needs at least one column" })
  const parts: Array<Part> = [text("(" + columns.map(quoteIdentifier).join(", ") + ") VALUES ")]
  rows.forEach((row, r) => {
    parts.push(text(r === 0 ? "(" : ", ("))
    columns.forEach((column, c) => {
      if (c > 0) parts.push(text(", "))
      const value = row[column]
      parts.push(value === undefined ? text("DEFAULT") : partOf(value))
    })
    parts.push(text(")"))
  })
  return new Fragment(parts)
}

/**
 * The SET list of an update: `"a" = $1, "b" = $2`, skipping `undefined` values and the
 * columns in `omit` (e.g. the key).
 *
 * Errors: throws `PgInterfaceError` when no column is left.
 */
const update = (record: Readonly<Record<string, unknown>>, omit: ReadonlyArray<string> = []): Fragment => {
  const entries = Object.entries(record).filter(([k, v]) => v !== undefined && !omit.includes(k))
  if (entries.length === 0) throw new PgInterfaceError({ message: "sql.update needs at least one column to set" })
  const parts: Array<Part> = []
  entries.forEach(([column, value], i) => {
    parts.push(text((i > 0 ? ", " : "") + quoteIdentifier(column) + " = "), partOf(value))
  })
  return new Fragment(parts)
}

const clauses = (items: ReadonlyArray<Fragment>, op: string, empty: string): Fragment =>
  items.length === 0
    ? new Fragment([text(empty)])
    : items.length === 1
      ? items[0]!
      : new Fragment([text("("), nested(join(items, ` ${op} `)), text(")")])

/** The `sql` tag and its helpers. @since 0.1.0 */
export interface SqlTag {
  (strings: TemplateStringsArray, ...values: ReadonlyArray<unknown>): Fragment
  /** A quoted, optionally qualified identifier: `sql.id("app", "users")` is `"app"."users"`. */
  readonly id: typeof id
  /** A parameter list for `IN`: `sql.in([1, 2])` is `($1, $2)`. */
  readonly in: typeof inList
  /** Columns and VALUES of a (multi-row) insert from records. */
  readonly insert: typeof insert
  /** The SET list of an update from a record. */
  readonly update: typeof update
  /** Fragments or values joined with a separator (default `, `). */
  readonly join: typeof join
  /** Conditions joined with AND, parenthesised; `TRUE` when empty. */
  readonly and: (clauses: ReadonlyArray<Fragment>) => Fragment
  /** Conditions joined with OR, parenthesised; `FALSE` when empty. */
  readonly or: (clauses: ReadonlyArray<Fragment>) => Fragment
  /** Raw SQL text, inserted as is. Never pass user input. */
  readonly unsafe: (text: string) => Fragment
  /** One parameter (the same as interpolating the value). */
  readonly param: (value: unknown) => Fragment
  /** An empty fragment, e.g. for an optional clause. */
  readonly empty: Fragment
}

/**
 * The SQL tagged template. See the module documentation.
 *
 * @example
 * ```ts
 * const rows = [{ name: "a", qty: 1 }, { name: "b", qty: 2 }]
 * yield* conn.execute(sql`INSERT INTO ${sql.id("items")} ${sql.insert(rows)}`)
 * yield* conn.execute(sql`UPDATE items SET ${sql.update({ qty: 3 })} WHERE name = ${"a"}`)
 * ```
 * @since 0.1.0
 */
export const sql: SqlTag = Object.assign(template, {
  id,
  in: inList,
  insert,
  update,
  join,
  and: (items: ReadonlyArray<Fragment>) => clauses(items, "AND", "TRUE"),
  or: (items: ReadonlyArray<Fragment>) => clauses(items, "OR", "FALSE"),
  unsafe: (s: string) => new Fragment([text(s)]),
  param: (value: unknown) => new Fragment([param(value)]),
  empty: new Fragment([]),
})

/**
 * Splits the arguments of a query method that takes either `(sql, args?, options?)` or
 * `(fragment, options?)` into text, parameters and options.
 * @since 0.1.0
 */
export const normalize = <O>(
  query: string | Fragment,
  argsOrOptions: ReadonlyArray<unknown> | O | undefined,
  options: O | undefined,
): readonly [string, ReadonlyArray<unknown> | undefined, O | undefined] => {
  if (typeof query === "string") return [query, argsOrOptions as ReadonlyArray<unknown> | undefined, options]
  return Array.isArray(argsOrOptions)
    ? [query.text, query.values, options]
    : [query.text, query.values, (argsOrOptions as O | undefined) ?? options]
}

/**
 * The SQL text of a statement whose parameters are given separately (`executeMany`, `fetchMany`,
 * `prepare`): the text itself, or a fragment's text when the fragment has no parameters (e.g.
 * built with `sql.id` for a table name). A fragment with parameters fails with
 * `PgInterfaceError`: its values would be lost.
 *
 * @example
 * ```ts
 * const insert = sql`INSERT INTO ${sql.id("app", "events")} (kind) VALUES ($1)`
 * yield* conn.executeMany(insert, [["a"], ["b"]])
 * ```
 * @since 0.1.0
 */
export const statementText = (query: string | Fragment, call: string): Effect.Effect<string, PgInterfaceError> => {
  if (typeof query === "string") return Effect.succeed(query)
  if (query.values.length === 0) return Effect.succeed(query.text)
  return Effect.fail(
    new PgInterfaceError({
      message: `${call} takes its parameters separately: the sql fragment must have no interpolated values (it has ${query.values.length})`,
    }),
  )
}
