/**
 * Codec for `bytea` ↔ `Uint8Array`.
 *
 * @since 0.1.0
 */
import type { Writer } from "@pgfx/protocol/Writer"
import { type Codec, decodeError, invalidType, make } from "./Codec.ts"
import { HEX, hexValue } from "./internal/utf8.ts"
import { Oids } from "./Oids.ts"

const EXPECTED = "a Uint8Array (or Buffer)"

const decodeByteaBinary = (buf: Uint8Array, _view: DataView, offset: number, length: number): Uint8Array =>
  buf.slice(offset, offset + length)

/**
 * Parses PostgreSQL's `bytea` text output: hex format (`\x0a0b`) or the old escape format.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseByteaText = (text: string): Uint8Array => {
  if (text.length >= 2 && text.charCodeAt(0) === 92 && (text.charCodeAt(1) === 120 || text.charCodeAt(1) === 88)) {
    const out = new Uint8Array((text.length - 2) >> 1)
    let n = 0
    for (let i = 2; i < text.length; i++) {
      const hi = hexValue(text.charCodeAt(i))
      if (hi < 0) {
        if (text.charCodeAt(i) <= 32) continue // whitespace between digit pairs is allowed
        throw decodeError("bytea", "invalid hex digit")
      }
      const lo = i + 1 < text.length ? hexValue(text.charCodeAt(i + 1)) : -1
      if (lo < 0) throw decodeError("bytea", "odd number of hex digits")
      out[n++] = (hi << 4) | lo
      i++
    }
    return n === out.length ? out : out.slice(0, n)
  }
  // escape format: \\ is a backslash, \ooo an octal byte, anything else a literal byte
  const out = new Uint8Array(text.length)
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c !== 92) {
      if (c > 0xff) throw decodeError("bytea", "non-byte character in escape format")
      out[n++] = c
    } else if (text.charCodeAt(i + 1) === 92) {
      out[n++] = 92
      i++
    } else {
      const o = text.slice(i + 1, i + 4)
      if (!/^[0-3][0-7][0-7]$/.test(o)) throw decodeError("bytea", "invalid escape sequence")
      out[n++] = parseInt(o, 8)
      i += 3
    }
  }
  return out.slice(0, n)
}

const encodeByteaBinary = (value: unknown, w: Writer): void => {
  if (!(value instanceof Uint8Array)) throw invalidType("bytea", EXPECTED, value)
  w.bytes(value)
}

const encodeByteaText = (value: unknown): string => {
  if (!(value instanceof Uint8Array)) throw invalidType("bytea", EXPECTED, value)
  let s = "\\x"
  for (let i = 0; i < value.length; i++) s += HEX[value[i]]
  return s
}

/**
 * `bytea` (OID 17) ↔ `Uint8Array`. Decoding copies the bytes out of the read buffer. Encode
 * accepts any `Uint8Array` (a Node `Buffer` included); a JS string given for a `bytea` parameter is
 * sent as text, so the server parses `\x...` hex or escape input.
 *
 * @since 0.1.0
 * @category codecs
 */
export const bytea: Codec<Uint8Array> = make({
  name: "bytea",
  oid: Oids.bytea,
  arrayOid: Oids._bytea,
  binary: true,
  decodeBinary: decodeByteaBinary,
  decodeText: parseByteaText,
  encodeBinary: encodeByteaBinary,
  encodeText: encodeByteaText,
  stringsAsText: true,
})
