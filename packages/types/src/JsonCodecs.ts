/**
 * Codecs for `json` and `jsonb`.
 *
 * Decoding parses the document with `JSON.parse` (so numbers become JS numbers, losing precision
 * beyond 2^53 like any JSON.parse). Encoding takes a JS string as JSON text as-is (like asyncpg and
 * node-postgres, the server validates it); any other value is serialized with `JSON.stringify`.
 * `undefined`, functions, symbols, bigints and cyclic values are rejected with an EncodeError.
 *
 * Gotcha: SQL NULL is handled by the client before a codec runs, so a JS `null` passed to a json
 * parameter is SQL NULL, not the JSON `null` document; pass the string `"null"` for the latter.
 *
 * @since 0.1.0
 */
import type { Writer } from "@pgfx/protocol/Writer"
import { type Codec, decodeError, invalidType, invalidValue, make } from "./Codec.ts"
import { decodeUtf8 } from "./internal/utf8.ts"
import { Oids } from "./Oids.ts"

const EXPECTED = "a JSON text string or a JSON-serializable value"

/**
 * The JSON text for `value`: a string as-is, anything else through `JSON.stringify`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toJsonText = (typeName: string, value: unknown): string => {
  if (typeof value === "string") return value
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch {
    throw invalidValue(typeName, EXPECTED, value, "not JSON-serializable (contains a bigint or a cycle)")
  }
  if (json === undefined) throw invalidType(typeName, EXPECTED, value)
  return json
}

const parse = (typeName: string, text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    throw decodeError(typeName, "invalid JSON text")
  }
}

const decodeJsonBinary = (buf: Uint8Array, _view: DataView, offset: number, length: number): unknown =>
  parse("json", decodeUtf8(buf, offset, length))
const decodeJsonText = (text: string): unknown => parse("json", text)
const encodeJsonBinary = (value: unknown, w: Writer): void => {
  w.string(toJsonText("json", value))
}
const encodeJsonText = (value: unknown): string => toJsonText("json", value)

/**
 * `json` (OID 114) ↔ parsed JS value. The wire form is the JSON text.
 *
 * @since 0.1.0
 * @category codecs
 */
export const json: Codec<unknown> = make({
  name: "json",
  oid: Oids.json,
  arrayOid: Oids._json,
  binary: true,
  decodeBinary: decodeJsonBinary,
  decodeText: decodeJsonText,
  encodeBinary: encodeJsonBinary,
  encodeText: encodeJsonText,
  stringsAsText: false,
})

const decodeJsonbBinary = (buf: Uint8Array, _view: DataView, offset: number, length: number): unknown => {
  if (length < 1 || buf[offset] !== 1) throw decodeError("jsonb", "unsupported binary jsonb version")
  return parse("jsonb", decodeUtf8(buf, offset + 1, length - 1))
}
const decodeJsonbText = (text: string): unknown => parse("jsonb", text)
const encodeJsonbBinary = (value: unknown, w: Writer): void => {
  const text = toJsonText("jsonb", value)
  w.byte(1).string(text)
}
const encodeJsonbText = (value: unknown): string => toJsonText("jsonb", value)

/**
 * `jsonb` (OID 3802) ↔ parsed JS value. The binary wire form is a version byte (1) followed by
 * the JSON text. Decoded objects have the server's normalized key order.
 *
 * @since 0.1.0
 * @category codecs
 */
export const jsonb: Codec<unknown> = make({
  name: "jsonb",
  oid: Oids.jsonb,
  arrayOid: Oids._jsonb,
  binary: true,
  decodeBinary: decodeJsonbBinary,
  decodeText: decodeJsonbText,
  encodeBinary: encodeJsonbBinary,
  encodeText: encodeJsonbText,
  stringsAsText: false,
})
