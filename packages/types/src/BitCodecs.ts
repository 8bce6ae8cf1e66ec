/**
 * Codecs for `bit(n)` and `varbit` ↔ {@link BitString}.
 *
 * Wire format: int32 bit count, then the bits packed most significant first, the last byte
 * zero-padded. Encode accepts a `BitString`; a JS string (`"0101"`) is sent as text for the server
 * to parse (it also understands `"x1F"` hex input).
 *
 * @since 0.1.0
 */
import { BitString } from "./BitString.ts"
import { type Codec, decodeError, invalidType, make } from "./Codec.ts"
import { Oids } from "./Oids.ts"

const bitCodec = (name: string, oid: number, arrayOid: number): Codec<BitString> => {
  const toBits = (value: unknown): BitString => {
    if (value instanceof BitString) return value
    throw invalidType(name, "a BitString (or a string of 0s and 1s, sent as text)", value)
  }
  return make({
    name,
    oid,
    arrayOid,
    binary: true,
    decodeBinary: (buf, view, offset, length) => {
      if (length < 4) throw decodeError(name, "truncated binary value")
      const bits = view.getInt32(offset)
      if (bits < 0 || 4 + ((bits + 7) >> 3) !== length)
        throw decodeError(name, `binary value does not hold ${bits} bits`)
      return BitString.wrap(buf.slice(offset + 4, offset + length), bits)
    },
    decodeText: (text) => {
      try {
        return new BitString(text)
      } catch {
        throw decodeError(name, "invalid text value")
      }
    },
    encodeBinary: (value, w) => {
      const b = toBits(value)
      w.int32(b.length).bytes(b.bytes)
    },
    encodeText: (value) => toBits(value).toString(),
    stringsAsText: true,
  })
}

/**
 * `bit(n)` (OID 1560) ↔ {@link BitString}.
 *
 * @since 0.1.0
 * @category codecs
 */
export const bit: Codec<BitString> = bitCodec("bit", Oids.bit, Oids._bit)

/**
 * `varbit` / `bit varying(n)` (OID 1562) ↔ {@link BitString}.
 *
 * @since 0.1.0
 * @category codecs
 */
export const varbit: Codec<BitString> = bitCodec("varbit", Oids.varbit, Oids._varbit)
