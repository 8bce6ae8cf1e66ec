/**
 * Codec for `uuid` ↔ lowercase canonical string (`"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`).
 *
 * @since 0.1.0
 */
import type { Writer } from "@pgfx/protocol/Writer"
import { checkLength, type Codec, invalidType, invalidValue, make } from "./Codec.ts"
import { HEX_HI, HEX_LO, hexValue, latin1 } from "./internal/utf8.ts"
import { Oids } from "./Oids.ts"

const EXPECTED = "a UUID string (36 chars with dashes, or 32 hex digits)"

/** Positions of the 16 byte pairs in the 36-char form. */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34]
const text = new Uint8Array(36).fill(45) // '-' stays at 8, 13, 18, 23

const decodeUuidBinary = (buf: Uint8Array, _view: DataView, o: number, length: number): string => {
  checkLength("uuid", length, 16)
  for (let i = 0; i < 16; i++) {
    const b = buf[o + i]!
    const at = AT[i]!
    text[at] = HEX_HI[b]!
    text[at + 1] = HEX_LO[b]!
  }
  return latin1(text, 0, 36)
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
