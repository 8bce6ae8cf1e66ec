/**
 * Named parameters (`:name`) rewritten to PostgreSQL's `$n`. The scanner knows enough SQL
 * lexing to leave alone what is not a parameter: string literals (`'...'` with `''`, `E'...'`
 * with backslash escapes), quoted identifiers, dollar-quoted bodies (`$tag$...$tag$`), line and
 * (nested) block comments, and the `::` cast operator.
 */

/** The rewritten text and the parameter names, `names[0]` being `$1`. */
export interface NamedSql {
  readonly text: string
  readonly names: ReadonlyArray<string>
}

const isIdentStart = (c: string): boolean => /[A-Za-z_\u0080-\uffff]/.test(c)
const isIdentPart = (c: string): boolean => /[A-Za-z0-9_\u0080-\uffff]/.test(c)

/**
 * Rewrites `:name` placeholders to `$1`, `$2`, ... (the same name reuses its number). Throws an
 * `Error` when the text also uses `$n` placeholders (the two styles cannot mix).
 */
export const compileNamed = (sql: string): NamedSql => {
  const names: Array<string> = []
  const index = new Map<string, number>()
  let out = ""
  let i = 0
  const n = sql.length
  while (i < n) {
    const c = sql[i]!
    const next = sql[i + 1]
    if (c === "'") {
      const escapes = i > 0 && (sql[i - 1] === "E" || sql[i - 1] === "e") && !isIdentPart(sql[i - 2] ?? " ")
      let j = i + 1
      while (j < n) {
        if (escapes && sql[j] === "\\") j += 2
        else if (sql[j] === "'" && sql[j + 1] === "'") j += 2
        else if (sql[j] === "'") break
        else j++
      }
      out += sql.slice(i, j + 1)
      i = j + 1
    } else if (c === '"') {
      let j = i + 1
      while (j < n) {
        if (sql[j] === '"' && sql[j + 1] === '"') j += 2
        else if (sql[j] === '"') break
        else j++
      }
      out += sql.slice(i, j + 1)
      i = j + 1
    } else if (c === "-" && next === "-") {
      const end = sql.indexOf("\n", i)
      const j = end === -1 ? n : end
      out += sql.slice(i, j)
      i = j
    } else if (c === "/" && next === "*") {
      let depth = 1
      let j = i + 2
      while (j < n && depth > 0) {
        if (sql[j] === "/" && sql[j + 1] === "*") (depth++, (j += 2))
        else if (sql[j] === "*" && sql[j + 1] === "/") (depth--, (j += 2))
        else j++
      }
      out += sql.slice(i, j)
      i = j
    } else if (c === "$") {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))
      if (tag !== null && !(i > 0 && isIdentPart(sql[i - 1]!))) {
        const close = sql.indexOf(tag[0], i + tag[0].length)
        const j = close === -1 ? n : close + tag[0].length
        out += sql.slice(i, j)
        i = j
      } else if (next !== undefined && /[0-9]/.test(next)) {
        throw new Error("named parameters (:name) cannot be mixed with positional ones ($n)")
      } else {
        out += c
        i++
      }
    } else if (c === ":" && next === ":") {
      out += "::"
      i += 2
    } else if (c === ":" && next !== undefined && isIdentStart(next) && !(i > 0 && sql[i - 1] === ":")) {
      let j = i + 1
      while (j < n && isIdentPart(sql[j]!)) j++
      const name = sql.slice(i + 1, j)
      let k = index.get(name)
      if (k === undefined) {
        names.push(name)
        k = names.length
        index.set(name, k)
      }
      out += "$" + k
      i = j
    } else {
      out += c
      i++
    }
  }
  return { text: out, names }
}
