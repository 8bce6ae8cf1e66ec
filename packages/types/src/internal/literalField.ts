/**
 * One field of a record literal (`(1,"a b",)`) or one bound of a range literal (`[1,"a b")`), as
 * `record_out` and `range_out` quote them: double quotes around a field, `""` or `\"` for a quote
 * inside them, a backslash escaping the next character anywhere.
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
