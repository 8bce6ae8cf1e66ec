/**
 * UTF-8 helpers for the decode hot path.
 *
 * @internal
 */

const decoder = new TextDecoder()

/** Short ASCII runs are decoded with a loop (no view allocation); longer or non-ASCII input uses TextDecoder. */
const SHORT = 16

/**
 * Decodes `buf[offset, offset + length)` as UTF-8. Invalid sequences become U+FFFD.
 *
 * @internal
 */
export const decodeUtf8 = (buf: Uint8Array, offset: number, length: number): string => {
  if (length === 0) return ""
  if (length <= SHORT) {
    let s = ""
    const end = offset + length
    for (let i = offset; i < end; i++) {
      const b = buf[i]
      if (b >= 0x80) return decoder.decode(buf.subarray(offset, end))
      s += String.fromCharCode(b)
    }
    return s
  }
  return decoder.decode(buf.subarray(offset, offset + length))
}

/** Lowercase two-digit hex strings for each byte value. @internal */
export const HEX: ReadonlyArray<string> = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/** Value of one hex digit char code, or -1. @internal */
export const hexValue = (c: number): number => {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}
