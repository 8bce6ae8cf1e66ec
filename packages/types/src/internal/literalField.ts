/**
 * One field of a record literal (`(1,"a b",)`) or one bound of a range literal (`[1,"a b")`), as
 * `record_out` and `range_out` quote them: double quotes around a field, `""` or `\"` for a quote
 * inside them, a backslash escaping the next character anywhere. Read and written here.
 *
 * @internal
 */

/** A field read by {@link readLiteralField}: its text, whether it was quoted, and where it ended. */
export interface LiteralField {
  readonly text: string
  /** A quoted empty field is an empty string; an unquoted one is NULL (or an unbounded bound). */
  readonly quoted: boolean
  /** The index of the character after the field: the comma, or `last`. */
  readonly end: number
}

/**
 * Reads the field of `t` starting at `from`, up to an unquoted comma (unless `toEnd`) or `last`
 * (the index of the closing bracket); undefined when a quote is not closed before `last`.
 * @internal
 */
export const readLiteralField = (t: string, from: number, last: number, toEnd: boolean): LiteralField | undefined => {
  let i = from
  let s = ""
  let quoted = false
  while (i < last) {
    const c = t.charCodeAt(i)
    if (!toEnd && c === 44) break
    if (c === 34) {
      quoted = true
      i++
      for (;;) {
        if (i >= last) return undefined
        const q = t.charCodeAt(i)
        if (q === 34) {
          if (t.charCodeAt(i + 1) !== 34) break
          i++
        } else if (q === 92) {
          i++
        }
        s += t[i]
        i++
      }
      i++
      continue
    }
    if (c === 92) i++
    s += t[i]
    i++
  }
  return { text: s, quoted, end: i }
}

/**
 * `s` written as `record_out` writes a field, or with `range` as `range_out` writes a bound (which
 * also quotes `[` and `]`): quoted when empty or holding a delimiter, a quote, a backslash or
 * white space, with `"` and `\` doubled inside the quotes.
 * @internal
 */
export const writeLiteralField = (s: string, range: boolean): string => {
  let needs = s.length === 0
  for (let i = 0; !needs && i < s.length; i++) {
    const c = s.charCodeAt(i)
    needs =
      c === 34 ||
      c === 92 ||
      c === 40 ||
      c === 41 ||
      c === 44 ||
      c === 32 ||
      (c >= 9 && c <= 13) ||
      (range && (c === 91 || c === 93))
  }
  if (!needs) return s
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (c === '"' || c === "\\") out += c
    out += c
  }
  return `${out}"`
}
