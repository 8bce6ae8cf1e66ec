/**
 * Keyword/value connection strings as libpq reads them: `host=localhost port=5432 dbname=app`.
 *
 * Spaces around `=` are allowed; a value may be single-quoted (`password='a b'`) to hold spaces
 * or be empty; inside or outside quotes a backslash escapes the next character (`\'`, `\\`).
 * Unknown keywords are an error, as in libpq.
 *
 * @internal
 */
import { configError } from "./ConfigError.ts"
import { applyKeyword, type Layer } from "./Keywords.ts"

const isSpace = (c: string | undefined): boolean => c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f"

/** Splits a keyword/value string into pairs, in order. */
export const tokenize = (text: string): Array<readonly [string, string]> => {
  const pairs: Array<readonly [string, string]> = []
  let i = 0
  const n = text.length
  while (i < n) {
    while (i < n && isSpace(text[i])) i++
    if (i >= n) break
    const start = i
    while (i < n && !isSpace(text[i]) && text[i] !== "=") i++
    const keyword = text.slice(start, i)
    while (i < n && isSpace(text[i])) i++
    if (text[i] !== "=") throw configError("dsn", keyword, `missing "=" after "${keyword}" in the connection string`)
    i++
    while (i < n && isSpace(text[i])) i++
    let value = ""
    if (text[i] === "'") {
      i++
      let closed = false
      while (i < n) {
        const c = text[i]
        if (c === "\\" && i + 1 < n) {
          value += text[i + 1]
          i += 2
        } else if (c === "'") {
          i++
          closed = true
          break
        } else {
          value += c
          i++
        }
      }
      if (!closed) throw configError("dsn", keyword, "unterminated quoted string in the connection string")
    } else {
      while (i < n && !isSpace(text[i])) {
        if (text[i] === "\\" && i + 1 < n) {
          value += text[i + 1]
          i += 2
        } else {
          value += text[i]
          i++
        }
      }
    }
    pairs.push([keyword, value])
  }
  return pairs
}

/** Parses a keyword/value string into a layer. */
export const parseKeywordValue = (text: string): Layer => {
  const layer: Layer = {}
  for (const [keyword, value] of tokenize(text)) applyKeyword(layer, keyword, value, "dsn")
  return layer
}
