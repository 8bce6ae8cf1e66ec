/**
 * Codecs for the text-like types — `text`, `varchar`, `bpchar`, `name`, `xml`, `unknown` — all
 * `string` ↔ UTF-8 bytes (the client runs with `client_encoding=UTF8`), plus the one-byte `"char"`
 * type, the version-prefixed text of `ltree` and its kin ({@link versionedTextCodec}) and the
 * generic {@link textCodec} fallback for types without a codec.
 *
 * @since 0.1.0
 */
import type { Writer } from "@pgfx/protocol/Writer"
import { type Codec, decodeError, invalidType, invalidValue, make } from "./Codec.ts"
import { decodeUtf8 } from "./internal/utf8.ts"
import { VALUE_TEXT_EXPECTED, valueText } from "./internal/valueText.ts"
import { Oids } from "./Oids.ts"

const decodeStringBinary = (buf: Uint8Array, _view: DataView, offset: number, length: number): string =>
  decodeUtf8(buf, offset, length)

const identity = (text: string): string => text

/**
 * A codec for a text-like type: `string` ↔ UTF-8 bytes in both formats (the type's binary form is
 * its text), JS strings sent in binary as they are. With `acceptValues` (the `text` and `unknown`
 * types, which the server infers for an untyped parameter such as `SELECT $1`), a number, bigint,
 * boolean, `Date` or pgfx value is sent as its canonical text (`1`, `true`,
 * `2024-01-02T03:04:05.678Z`, `1 day`) instead of being refused.
 *
 * @since 0.1.0
 * @category constructors
 */
export const stringCodec = (name: string, oid: number, arrayOid: number, acceptValues = false): Codec<string> => {
  const expected = acceptValues ? VALUE_TEXT_EXPECTED : "a string"
  const encodeText = (value: unknown): string => {
    if (typeof value === "string") return value
    const text = acceptValues ? valueText(value) : undefined
    if (text === undefined) throw invalidType(name, expected, value)
    return text
  }
  const encodeBinary = (value: unknown, w: Writer): void => {
    w.string(typeof value === "string" ? value : encodeText(value))
  }
  return make({
    name,
    oid,
    arrayOid,
    binary: true,
    decodeBinary: decodeStringBinary,
    decodeText: identity,
    encodeBinary,
    encodeText,
    stringsAsText: false,
  })
}

/**
 * `text` (OID 25) ↔ `string`. Encoding also takes a number, bigint, boolean, `Date` or pgfx value
 * as its canonical text (see {@link stringCodec}).
 *
 * @since 0.1.0
 * @category codecs
 */
export const text: Codec<string> = stringCodec("text", Oids.text, Oids._text, true)

/**
 * `varchar` / `character varying` (OID 1043) ↔ `string`.
 *
 * @since 0.1.0
 * @category codecs
 */
export const varchar: Codec<string> = stringCodec("varchar", Oids.varchar, Oids._varchar)

/**
 * `bpchar` / `character(n)` (OID 1042) ↔ `string`, blank padding included as the server sends it.
 *
 * @since 0.1.0
 * @category codecs
 */
export const bpchar: Codec<string> = stringCodec("bpchar", Oids.bpchar, Oids._bpchar)

/**
 * `name` (OID 19) ↔ `string` (the server truncates to 63 bytes).
 *
 * @since 0.1.0
 * @category codecs
 */
export const name: Codec<string> = stringCodec("name", Oids.name, Oids._name)

/**
 * `xml` (OID 142) ↔ `string`, the document text (not parsed on the client).
 *
 * @since 0.1.0
 * @category codecs
 */
export const xml: Codec<string> = stringCodec("xml", Oids.xml, Oids._xml)

/**
 * `unknown` (OID 705) ↔ `string`: the type of untyped literals such as `SELECT 'a'`. Encoding
 * takes the same values as {@link text}.
 *
 * @since 0.1.0
 * @category codecs
 */
export const unknown: Codec<string> = stringCodec("unknown", Oids.unknown, 0, true)

// ---------------------------------------------------------------------------------------------
// "char"

const OCTAL_ESCAPE = /^\\[0-3][0-7][0-7]$/
const CHAR_EXPECTED = "a string of at most one ASCII character, or a \\ooo octal escape"

const charByte = (value: unknown): number => {
  if (typeof value !== "string") throw invalidType("char", CHAR_EXPECTED, value)
  if (value.length === 0) return 0
  if (value.length === 1) {
    const c = value.charCodeAt(0)
    if (c < 0x80) return c
  } else if (value.length === 4 && OCTAL_ESCAPE.test(value)) {
    return parseInt(value.slice(1), 8)
  }
  throw invalidValue("char", CHAR_EXPECTED, value, "not a single byte")
}

const charFromByte = (b: number): string =>
  b === 0 ? "" : b < 0x80 ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, "0")}`

const decodeCharBinary = (buf: Uint8Array, _view: DataView, offset: number, length: number): string =>
  length === 0 ? "" : charFromByte(buf[offset])

const encodeCharBinary = (value: unknown, w: Writer): void => {
  w.byte(charByte(value))
}

const encodeCharText = (value: unknown): string => charFromByte(charByte(value))

/**
 * `"char"` (OID 18), PostgreSQL's internal one-byte type ↔ `string`: `""` for the zero byte, the
 * character for ASCII bytes, and PostgreSQL's `\ooo` octal escape for bytes ≥ 0x80 (as
 * `SELECT v::text` shows them since PostgreSQL 15). Encode accepts the same forms.
 *
 * @since 0.1.0
 * @category codecs
 */
export const char: Codec<string> = make({
  name: "char",
  oid: Oids.char,
  arrayOid: Oids._char,
  binary: true,
  decodeBinary: decodeCharBinary,
  decodeText: identity,
  encodeBinary: encodeCharBinary,
  encodeText: encodeCharText,
  stringsAsText: false,
})

// ---------------------------------------------------------------------------------------------
// versioned text

/**
 * A codec for an extension type whose binary form is a version byte (1) followed by its text, as
 * `ltree`, `lquery` and `ltxtquery` send it ↔ `string`, the type's text. A value with another
 * version byte is a DecodeError (its layout is unknown), never guessed at.
 *
 * @since 0.1.0
 * @category constructors
 */
export const versionedTextCodec = (oid: number, name: string, arrayOid = 0): Codec<string> => {
  const encodeText = (value: unknown): string => {
    if (typeof value !== "string") throw invalidType(name, "a string", value)
    return value
  }
  return make({
    name,
    oid,
    arrayOid,
    binary: true,
    decodeBinary: (buf, _view, offset, length) => {
      if (length < 1 || buf[offset] !== 1) {
        throw decodeError(name, `unsupported binary format version ${length < 1 ? "(none)" : String(buf[offset])}`)
      }
      return decodeUtf8(buf, offset + 1, length - 1)
    },
    decodeText: identity,
    encodeBinary: (value, w) => {
      w.byte(1)
      w.string(encodeText(value))
    },
    encodeText,
    stringsAsText: false,
  })
}

// ---------------------------------------------------------------------------------------------
// fallback

const FALLBACK_EXPECTED = "a string (the type's text form), number, bigint or boolean"

/**
 * A text-format codec for a type with no dedicated codec (enums, extension types, ...).
 *
 * Decoding returns the server's text as-is. `binary` is false, so the client asks for and sends
 * the text format; `decodeBinary`/`encodeBinary` treat the bytes as UTF-8, which is right only for
 * types whose binary form is their text (enums, `citext`, ...). Encode accepts a string (sent as
 * the type's input text), or a number, bigint or boolean (sent as `String(value)`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const textCodec = (oid: number, name: string, arrayOid = 0): Codec<string> => {
  const encodeText = (value: unknown): string => {
    switch (typeof value) {
      case "string":
        return value
      case "number":
      case "bigint":
      case "boolean":
        return String(value)
      default:
        throw invalidType(name, FALLBACK_EXPECTED, value)
    }
  }
  const encodeBinary = (value: unknown, w: Writer): void => {
    w.string(encodeText(value))
  }
  return make({
    name,
    oid,
    arrayOid,
    binary: false,
    decodeBinary: decodeStringBinary,
    decodeText: identity,
    encodeBinary,
    encodeText,
    stringsAsText: true,
  })
}
