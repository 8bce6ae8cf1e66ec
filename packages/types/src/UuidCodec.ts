/**
 * Codec for `uuid` ↔ lowercase canonical string (`"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`).
 *
 * @since 0.1.0
 */
import type { Writer } from "@pgfx/protocol/Writer"
import { checkLength, type Codec, invalidType, invalidValue, make } from "./Codec.ts"
import { HEX, hexValue } from "./internal/utf8.ts"
import { Oids } from "./Oids.ts"

const EXPECTED = "a UUID string (36 chars with dashes, or 32 hex digits)"

const decodeUuidBinary = (buf: Uint8Array, _view: DataView, o: number, length: number): string => {
  checkLength("uuid", length, 16)
  return (
    HEX[buf[o]] +
    HEX[buf[o + 1]] +
    HEX[buf[o + 2]] +
    HEX[buf[o + 3]] +
    "-" +
    HEX[buf[o + 4]] +
    HEX[buf[o + 5]] +
    "-" +
    HEX[buf[o + 6]] +
    HEX[buf[o + 7]] +
    "-" +
    HEX[buf[o + 8]] +
    HEX[buf[o + 9]] +
    "-" +
    HEX[buf[o + 10]] +
    HEX[buf[o + 11]] +
    HEX[buf[o + 12]] +
    HEX[buf[o + 13]] +
    HEX[buf[o + 14]] +
    HEX[buf[o + 15]]
  )
}

/**
 * Writes the 16 bytes of a UUID string into `out` at `at`; false when the string is not a UUID in
 * 36-char dashed or 32-hex-digit form.
 */
const parseUuidInto = (s: string, out: Uint8Array, at: number): boolean => {
  const dashed = s.length === 36
  if (!dashed && s.length !== 32) return false
  if (
    dashed &&
    (s.charCodeAt(8) !== 45 || s.charCodeAt(13) !== 45 || s.charCodeAt(18) !== 45 || s.charCodeAt(23) !== 45)
  ) {
    return false
  }
  let i = 0
  for (let b = 0; b < 16; b++) {
    if (dashed && (i === 8 || i === 13 || i === 18 || i === 23)) i++
    const hi = hexValue(s.charCodeAt(i))
    const lo = hexValue(s.charCodeAt(i + 1))
    if (hi < 0 || lo < 0) return false
    out[at + b] = (hi << 4) | lo
    i += 2
  }
  return true
}

const encodeUuidBinary = (value: unknown, w: Writer): void => {
  if (typeof value !== "string") throw invalidType("uuid", EXPECTED, value)
  w.ensure(16)
  if (!parseUuidInto(value, w.buf, w.pos)) throw invalidValue("uuid", EXPECTED, value, "malformed UUID")
  w.pos += 16
}

const scratch = new Uint8Array(16)
const scratchView = new DataView(scratch.buffer)

const encodeUuidText = (value: unknown): string => {
  if (typeof value !== "string") throw invalidType("uuid", EXPECTED, value)
  if (!parseUuidInto(value, scratch, 0)) throw invalidValue("uuid", EXPECTED, value, "malformed UUID")
  return decodeUuidBinary(scratch, scratchView, 0, 16)
}

const decodeUuidText = (text: string): string => text.toLowerCase()

/**
 * `uuid` (OID 2950) ↔ lowercase canonical string. Encode accepts a 36-char dashed or 32-hex-digit
 * string in either case (binary); other spellings (braces, ...) are left to the server, which
 * receives JS strings for scalar `uuid` parameters in text format.
 *
 * @since 0.1.0
 * @category codecs
 */
export const uuid: Codec<string> = make({
  name: "uuid",
  oid: Oids.uuid,
  arrayOid: Oids._uuid,
  binary: true,
  decodeBinary: decodeUuidBinary,
  decodeText: decodeUuidText,
  encodeBinary: encodeUuidBinary,
  encodeText: encodeUuidText,
  stringsAsText: true,
})
