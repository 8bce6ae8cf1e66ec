/**
 * Codecs for `json` and `jsonb`, in two modes.
 *
 * **Default ({@link json}, {@link jsonb}): parsed values.** Decoding parses the document with
 * `JSON.parse`; a top-level JSON `null` decodes to {@link PgJson.null} so that it differs from SQL
 * NULL (`null`). Numbers are JS numbers, so a number beyond double precision is rounded like any
 * `JSON.parse` (`12345678901234567890123` → `12345678901234567000000`).
 *
 * **Lossless ({@link jsonLossless}, {@link jsonbLossless}): exact text.** Every value decodes to a
 * {@link PgJson} holding the server's text: a `json` value keeps its whitespace, key order and
 * duplicate keys; `PgJson.value` parses it with every number exact.
 *
 * Encoding is the same in both modes: a {@link PgJson} is sent as its text verbatim (this is how
 * raw JSON text is sent: `PgJson.raw(text)`); any other value — a JS string included, which becomes
 * a JSON string — is serialized with `JSON.stringify` (so `JSON.rawJSON` leaves and nested
 * `PgJson` values keep their exact text). A `bigint` is written as its exact digits where the
 * engine has `JSON.rawJSON`. `undefined`, functions, symbols and cyclic values are rejected with an
 * EncodeError. A JS `null` parameter is SQL NULL; `PgJson.null` is the JSON `null` document.
 *
 * @since 0.1.0
 */
import type { Writer } from "@pgfx/protocol/Writer"
import { type Codec, decodeError, invalidType, invalidValue, make } from "./Codec.ts"
import { decodeUtf8 } from "./internal/utf8.ts"
import { Oids } from "./Oids.ts"
import { PgJson } from "./PgJson.ts"

const EXPECTED = "a JSON-serializable value (a string is a JSON string), or PgJson.raw(text) / PgJson.null"

const rawJSON = (JSON as { readonly rawJSON?: (text: string) => unknown }).rawJSON
const bigintsExact = (_key: string, value: unknown): unknown =>
  typeof value === "bigint" ? rawJSON!(String(value)) : value

/**
 * The JSON text for `value`: a {@link PgJson}'s text as-is, anything else through
 * `JSON.stringify`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toJsonText = (typeName: string, value: unknown): string => {
  if (value instanceof PgJson) return value.text
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch (first) {
    // JSON.stringify recurses: a value nested a few thousand levels deep overflows the stack
    if (first instanceof RangeError) {
      throw invalidValue(typeName, EXPECTED, value, "nested too deeply for JSON.stringify (send PgJson.raw(text))")
    }
    try {
      // bigints have no JSON form in JSON.stringify; with JSON.rawJSON their digits are exact.
      if (rawJSON !== undefined) json = JSON.stringify(value, bigintsExact)
    } catch {
      // a cycle, or a throwing toJSON: reported below
    }
    if (json === undefined) {
      throw invalidValue(typeName, EXPECTED, value, "not JSON-serializable (contains a cycle, or a bigint)")
    }
  }
  if (json === undefined) throw invalidType(typeName, EXPECTED, value)
  return json
}

const parse = (typeName: string, text: string): unknown => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw decodeError(typeName, "invalid JSON text")
  }
  return value === null ? PgJson.null : value
}

const jsonbText = (buf: Uint8Array, offset: number, length: number): string => {
  if (length < 1 || buf[offset] !== 1) throw decodeError("jsonb", "unsupported binary jsonb version")
  return decodeUtf8(buf, offset + 1, length - 1)
}

const encodeJsonBinary = (value: unknown, w: Writer): void => {
  w.string(toJsonText("json", value))
}
const encodeJsonText = (value: unknown): string => toJsonText("json", value)
const encodeJsonbBinary = (value: unknown, w: Writer): void => {
  const text = toJsonText("jsonb", value)
  w.byte(1).string(text)
}
const encodeJsonbText = (value: unknown): string => toJsonText("jsonb", value)

/**
 * `json` (OID 114) ↔ parsed JS value (`PgJson.null` for the JSON `null`). The wire form is the
 * JSON text.
 *
 * @since 0.1.0
 * @category codecs
 */
export const json: Codec<unknown> = make({
  name: "json",
  oid: Oids.json,
  arrayOid: Oids._json,
  binary: true,
  decodeBinary: (buf, _view, offset, length) => parse("json", decodeUtf8(buf, offset, length)),
  decodeText: (text) => parse("json", text),
  encodeBinary: encodeJsonBinary,
  encodeText: encodeJsonText,
  stringsAsText: false,
})

/**
 * `jsonb` (OID 3802) ↔ parsed JS value (`PgJson.null` for the JSON `null`). The binary wire form
 * is a version byte (1) followed by the JSON text. Decoded objects have the server's normalized
 * key order.
 *
 * @since 0.1.0
 * @category codecs
 */
export const jsonb: Codec<unknown> = make({
  name: "jsonb",
  oid: Oids.jsonb,
  arrayOid: Oids._jsonb,
  binary: true,
  decodeBinary: (buf, _view, offset, length) => parse("jsonb", jsonbText(buf, offset, length)),
  decodeText: (text) => parse("jsonb", text),
  encodeBinary: encodeJsonbBinary,
  encodeText: encodeJsonbText,
  stringsAsText: false,
})

/**
 * `json` ↔ {@link PgJson}: the document's exact text (whitespace, key order, duplicate keys).
 * Select it with `CodecRegistry.builtins.withLosslessJson()` or
 * `setBuiltinTypeCodec("json", "json_lossless")`.
 *
 * @since 0.1.0
 * @category codecs
 */
export const jsonLossless: Codec<PgJson> = make({
  name: "json",
  oid: Oids.json,
  arrayOid: Oids._json,
  binary: true,
  decodeBinary: (buf, _view, offset, length) => PgJson.raw(decodeUtf8(buf, offset, length)),
  decodeText: PgJson.raw,
  encodeBinary: encodeJsonBinary,
  encodeText: encodeJsonText,
  stringsAsText: false,
})

/**
 * `jsonb` ↔ {@link PgJson}: the server's normalized text, every number exact. Select it with
 * `CodecRegistry.builtins.withLosslessJson()` or `setBuiltinTypeCodec("jsonb", "jsonb_lossless")`.
 *
 * @since 0.1.0
 * @category codecs
 */
export const jsonbLossless: Codec<PgJson> = make({
  name: "jsonb",
  oid: Oids.jsonb,
  arrayOid: Oids._jsonb,
  binary: true,
  decodeBinary: (buf, _view, offset, length) => PgJson.raw(jsonbText(buf, offset, length)),
  decodeText: PgJson.raw,
  encodeBinary: encodeJsonbBinary,
  encodeText: encodeJsonbText,
  stringsAsText: false,
})
