/**
 * String helpers for the decode hot path: each produces the result string and nothing else (no
 * subarray views, no intermediate strings), using Node's native `Buffer` slicers when present.
 *
 * @internal
 */
import { Buffer } from "node:buffer"

interface Slicers {
  readonly utf8Slice?: (this: Uint8Array, start: number, end: number) => string
  readonly latin1Slice?: (this: Uint8Array, start: number, end: number) => string
}

const slicers = Buffer.prototype as unknown as Slicers
const utf8Slice = slicers.utf8Slice
const latin1Slice = slicers.latin1Slice
// ignoreBOM: a leading U+FEFF is part of the value (a plain TextDecoder strips it).
const decoder = new TextDecoder("utf-8", { ignoreBOM: true })

/**
 * Decodes `buf[offset, offset + length)` as UTF-8. Invalid sequences become U+FFFD.
 *
 * @internal
 */
export const decodeUtf8: (buf: Uint8Array, offset: number, length: number) => string =
  utf8Slice !== undefined
    ? (buf, offset, length) => (length === 0 ? "" : utf8Slice.call(buf, offset, offset + length))
    : (buf, offset, length) => (length === 0 ? "" : decoder.decode(buf.subarray(offset, offset + length)))

/**
 * The string of the single-byte (ASCII / Latin-1) characters `buf[start, end)`: for text the
 * decoders assemble byte by byte in a scratch buffer (uuid, numeric).
 *
 * @internal
 */
export const latin1: (buf: Uint8Array, start: number, end: number) => string =
  latin1Slice !== undefined
    ? (buf, start, end) => latin1Slice.call(buf, start, end)
    : (buf, start, end) => {
        let s = ""
        for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!)
        return s
      }

/** Lowercase two-digit hex strings for each byte value. @internal */
export const HEX: ReadonlyArray<string> = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/** Char codes of the high / low hex digit of each byte value. @internal */
export const HEX_HI: Uint8Array = Uint8Array.from(HEX, (h) => h.charCodeAt(0))
/** @internal */
export const HEX_LO: Uint8Array = Uint8Array.from(HEX, (h) => h.charCodeAt(1))

/** Value of one hex digit char code, or -1. @internal */
export const hexValue = (c: number): number => {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}
