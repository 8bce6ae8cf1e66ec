/**
 * `PgJson`: a JSON document kept as its exact text.
 *
 * Three jobs, one class:
 *
 * - **Raw JSON text you send.** `PgJson.raw('{"a": 1}')` is sent as that text, byte for byte (the
 *   server validates it). A plain JS string given for a `json` / `jsonb` parameter is a JSON
 *   _string_ value instead (`"abc"` is sent as `"\"abc\""`).
 * - **The JSON `null` document.** `PgJson.null` is the JSON value `null`, distinct from SQL NULL
 *   (a JS `null` / `undefined` parameter). The default codecs decode a top-level JSON `null` to
 *   `PgJson.null`, so a row tells the two apart; `JSON.stringify(PgJson.null)` is `"null"`.
 * - **Lossless decoding.** With the lossless codecs (`CodecRegistry.builtins.withLosslessJson()`)
 *   every `json` / `jsonb` value decodes to a `PgJson` holding the server's exact text (for `json`:
 *   whitespace, key order and duplicate keys included; for `jsonb`: its normalized text, every
 *   number exact). {@link PgJson.value} parses it without rounding any number.
 *
 * @since 0.1.0
 */

/** `JSON.rawJSON` / the reviver's source text (Node 22+, Deno); absent on older engines. */
interface JsonWithSource {
  readonly rawJSON?: (text: string) => unknown
}
const rawJSON = (JSON as JsonWithSource).rawJSON
const sourceAccess = ((): boolean => {
  try {
    let seen = false
    JSON.parse("1", function (this: unknown, _key: string, value: unknown, context?: { source?: string }) {
      seen = context?.source === "1"
      return value
    } as (this: unknown, key: string, value: unknown) => unknown)
    return seen && typeof rawJSON === "function"
  } catch {
    return false
  }
})()

/** True when JS reads the number text `source` as exactly the number it prints back. */
const isExact = (value: number, source: string): boolean => String(value) === source

const reviveExact = function (
  this: unknown,
  _key: string,
  value: unknown,
  context?: { readonly source?: string },
): unknown {
  if (typeof value === "number" && context?.source !== undefined && !isExact(value, context.source)) {
    return rawJSON!(context.source)
  }
  return value
} as (this: unknown, key: string, value: unknown) => unknown

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y

/** Without source access: true when every number token of `text` reads back exactly. */
const allNumbersExact = (text: string): boolean => {
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === 34 /* " */) {
      for (i++; i < n && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      NUMBER.lastIndex = i
      const m = NUMBER.exec(text)
      if (m === null) return true // malformed: JSON.parse reports it
      if (!isExact(Number(m[0]), m[0])) return false
      i += m[0].length - 1
    }
  }
  return true
}

/**
 * Parses JSON text without rounding a number: a number whose text is not exactly what JS prints
 * for it (beyond double precision such as `12345678901234567890123`, `1e400`, or written
 * differently such as `1.0`) becomes a `JSON.rawJSON(text)` object, which `JSON.stringify` writes
 * back verbatim (read its digits with `.rawJSON`). Throws `SyntaxError` for invalid JSON, and
 * `RangeError` on an engine without `JSON.rawJSON` when some number cannot be represented.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseExact = (text: string): unknown => {
  if (sourceAccess) return JSON.parse(text, reviveExact)
  if (!allNumbersExact(text)) {
    throw new RangeError("this JavaScript engine has no JSON.rawJSON: read the exact document from PgJson.text")
  }
  return JSON.parse(text)
}

/**
 * A JSON document as its exact text.
 *
 * @example
 * ```ts
 * import { PgJson } from "@pgfx/types/PgJson"
 * // raw JSON text, sent verbatim
 * const doc = PgJson.raw('{"amount": 12345678901234567890.5}')
 * // the JSON null document (a JS null parameter is SQL NULL)
 * const jsonNull = PgJson.null
 * doc.text                   // '{"amount": 12345678901234567890.5}'
 * JSON.stringify({ doc })    // '{"doc":{"amount":12345678901234567890.5}}'
 * ```
 * @since 0.1.0
 * @category models
 */
export class PgJson {
  /** The JSON text, exactly as given or as the server sent it. */
  readonly text: string

  private constructor(text: string) {
    this.text = text
  }

  /** The JSON `null` document (not SQL NULL). */
  static readonly null: PgJson = new PgJson("null")

  /**
   * The document whose JSON text is `text`, sent to the server verbatim. The text is not checked
   * here: the server rejects invalid JSON.
   */
  static raw(text: string): PgJson {
    return text === "null" ? PgJson.null : new PgJson(text)
  }

  /** True for a `PgJson` value. */
  static is(value: unknown): value is PgJson {
    return value instanceof PgJson
  }

  /** True when the document is the JSON `null`. */
  get isNull(): boolean {
    return this === PgJson.null || this.text.trim() === "null"
  }

  /** The parsed document with every number exact (see {@link parseExact}). */
  get value(): unknown {
    return parseExact(this.text)
  }

  /** The parsed document, so `JSON.stringify` embeds it with its numbers exact. */
  toJSON(): unknown {
    return this.value
  }

  /** The JSON text. */
  toString(): string {
    return this.text
  }

  /** True when both texts are identical. */
  equals(that: PgJson): boolean {
    return this.text === that.text
  }
}
