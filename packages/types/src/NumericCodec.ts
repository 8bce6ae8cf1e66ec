/**
 * Codec for `numeric` ↔ exact decimal `string` in PostgreSQL's own text form.
 *
 * Wire format (`numeric_send` / `numeric_recv`): uint16 ndigits, int16 weight, uint16 sign,
 * uint16 dscale (at most 0x3FFF), then ndigits int16 base-10000 digits. ndigits is unsigned: a
 * value with more than 32,767 digit groups (131,068 decimal digits) is legal and readable. The value is
 * `Σ digit[i] × 10000^(weight − i)`; sign is 0x0000 (+), 0x4000 (−), 0xC000 (NaN), 0xD000
 * (+Infinity) or 0xF000 (−Infinity); dscale is the number of decimal digits shown after the point,
 * which is what keeps trailing zeros (`1.500`).
 *
 * @since 0.1.0
 */
import { Writer } from "@pgfx/protocol/Writer"
import { type Codec, decodeError, invalidType, invalidValue, make } from "./Codec.ts"
import { latin1 } from "./internal/utf8.ts"
import { Oids } from "./Oids.ts"

const POS = 0x0000
const NEG = 0x4000
const NAN = 0xc000
const PINF = 0xd000
const NINF = 0xf000

const WEIGHT_MAX = 0x7fff
const DSCALE_MAX = 0x3fff

const EXPECTED = 'a decimal string (e.g. "12.50", "1.5e3", "NaN"), a number or a bigint'

/** Scratch space where the decoder assembles the digits; grows to the largest value seen. */
let out = new Uint8Array(128)

/** Writes the 4 digits of a base-10000 digit at `n` (zero-padded). */
const put4 = (dig: number, n: number): void => {
  out[n] = 48 + ((dig / 1000) | 0)
  out[n + 1] = 48 + (((dig / 100) | 0) % 10)
  out[n + 2] = 48 + (((dig / 10) | 0) % 10)
  out[n + 3] = 48 + (dig % 10)
}

const decodeNumericBinary = (_buf: Uint8Array, view: DataView, offset: number, length: number): string => {
  if (length < 8) throw decodeError("numeric", `binary value has ${length} bytes, expected at least 8`)
  const ndigits = view.getUint16(offset)
  const weight = view.getInt16(offset + 2)
  const sign = view.getUint16(offset + 4)
  const dscale = view.getUint16(offset + 6)
  if (length !== 8 + 2 * ndigits) {
    throw decodeError("numeric", `binary value has ${length} bytes for ${ndigits} digits`)
  }
  if (sign !== POS && sign !== NEG) {
    if (sign === NAN) return "NaN"
    if (sign === PINF) return "Infinity"
    if (sign === NINF) return "-Infinity"
    throw decodeError("numeric", `invalid sign 0x${sign.toString(16)}`)
  }
  if (dscale > DSCALE_MAX) throw decodeError("numeric", `invalid dscale ${dscale}`)
  const need = 2 + 4 * Math.max(weight + 1, 1) + dscale + 4
  if (out.length < need) out = new Uint8Array(need * 2)
  const d0 = offset + 8
  // out[0] is the sign slot; digits start at 1
  let n = 1
  let nonzero = false
  // integer part: digit groups with weight >= 0, the first without leading zeros
  for (let k = 0; k <= weight; k++) {
    const dig = k < ndigits ? view.getInt16(d0 + 2 * k) : 0
    if (n === 1) {
      if (dig === 0) continue
      nonzero = true
      if (dig >= 1000) out[n++] = 48 + ((dig / 1000) | 0)
      if (dig >= 100) out[n++] = 48 + (((dig / 100) | 0) % 10)
      if (dig >= 10) out[n++] = 48 + (((dig / 10) | 0) % 10)
      out[n++] = 48 + (dig % 10)
    } else {
      put4(dig, n)
      n += 4
    }
  }
  if (n === 1) out[n++] = 48
  if (dscale > 0) {
    out[n++] = 46
    const end = n + dscale
    for (let k = weight + 1; n < end; k++) {
      const dig = k >= 0 && k < ndigits ? view.getInt16(d0 + 2 * k) : 0
      if (dig !== 0) nonzero = true
      put4(dig, n)
      n += 4
    }
    n = end
  }
  if (sign === NEG && nonzero) {
    out[0] = 45
    return latin1(out, 0, n)
  }
  return latin1(out, 1, n)
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57

/**
 * Parses a decimal string and writes its binary numeric form to `w`; false (nothing written) when
 * `s` is not a decimal number. Throws an EncodeError, before writing, when it is one but does not
 * fit numeric's format.
 */
const writeDecimal = (s: string, w: Writer, original: unknown): boolean => {
  let start = 0
  let end = s.length
  while (start < end && s.charCodeAt(start) <= 32) start++
  while (end > start && s.charCodeAt(end - 1) <= 32) end--
  let i = start
  let negative = false
  const c0 = s.charCodeAt(i)
  if (c0 === 43 /* + */ || c0 === 45 /* - */) {
    negative = c0 === 45
    i++
  }
  const c1 = s.charCodeAt(i)
  if (!isDigit(c1) && c1 !== 46) {
    const rest = s.slice(i, end).toLowerCase()
    if (rest === "nan" || rest === "infinity" || rest === "inf") {
      if (rest === "nan" && i !== start) return false
      w.int16(0)
        .int16(0)
        .uint16(rest === "nan" ? NAN : negative ? NINF : PINF)
        .int16(0)
      return true
    }
    return false
  }
  const intStart = i
  while (i < end && isDigit(s.charCodeAt(i))) i++
  const intEnd = i
  let fracStart = i
  let fracEnd = i
  if (i < end && s.charCodeAt(i) === 46 /* . */) {
    i++
    fracStart = i
    while (i < end && isDigit(s.charCodeAt(i))) i++
    fracEnd = i
  }
  if (intEnd === intStart && fracEnd === fracStart) return false
  let exponent = 0
  if (i < end && (s.charCodeAt(i) === 101 || s.charCodeAt(i) === 69)) {
    i++
    let expNeg = false
    if (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45) {
      expNeg = s.charCodeAt(i) === 45
      i++
    }
    const expStart = i
    while (i < end && isDigit(s.charCodeAt(i))) i++
    if (i === expStart) return false
    if (i - expStart > 9) throw invalidValue("numeric", EXPECTED, original, "exponent out of range")
    exponent = Number(s.slice(expStart, i))
    if (expNeg) exponent = -exponent
  }
  if (i !== end) return false

  const fracLen = fracEnd - fracStart
  const dscale = Math.max(0, fracLen - exponent)
  // D = int digits ++ frac digits; `point` below = how many significant digits of D precede the
  // decimal point (may be <= 0 or > the digit count)
  const digits = fracLen === 0 ? s.slice(intStart, intEnd) : s.slice(intStart, intEnd) + s.slice(fracStart, fracEnd)
  const total = digits.length
  let first = 0
  while (first < total && digits.charCodeAt(first) === 48) first++
  if (dscale > DSCALE_MAX) throw invalidValue("numeric", EXPECTED, original, "too many digits after the decimal point")
  if (first === total) {
    w.int16(0).int16(0).uint16(POS).int16(dscale)
    return true
  }
  let last = total
  while (digits.charCodeAt(last - 1) === 48) last--
  const point = intEnd - intStart + exponent - first
  const count = last - first
  const padLeft = ((-point % 4) + 4) % 4
  const weight = (point + padLeft) / 4 - 1
  if (weight > WEIGHT_MAX) throw invalidValue("numeric", EXPECTED, original, "value overflows numeric format")
  const ngroups = Math.ceil((padLeft + count) / 4)
  w.uint16(ngroups)
    .int16(weight)
    .uint16(negative ? NEG : POS)
    .uint16(dscale)
  for (let g = 0; g < ngroups; g++) {
    let dig = 0
    for (let j = 0; j < 4; j++) {
      const idx = g * 4 + j - padLeft
      dig = dig * 10 + (idx >= 0 && idx < count ? digits.charCodeAt(first + idx) - 48 : 0)
    }
    w.int16(dig)
  }
  return true
}

const encodeNumericBinary = (value: unknown, w: Writer): void => {
  switch (typeof value) {
    case "string":
      if (!writeDecimal(value, w, value)) throw invalidValue("numeric", EXPECTED, value, "not a decimal number")
      return
    case "number":
      if (Number.isNaN(value)) w.int16(0).int16(0).uint16(NAN).int16(0)
      else if (value === Infinity) w.int16(0).int16(0).uint16(PINF).int16(0)
      else if (value === -Infinity) w.int16(0).int16(0).uint16(NINF).int16(0)
      else writeDecimal(String(value), w, value)
      return
    case "bigint":
      writeDecimal(String(value), w, value)
      return
    default:
      throw invalidType("numeric", EXPECTED, value)
  }
}

const scratch = new Writer(256)

const encodeNumericText = (value: unknown): string => {
  scratch.reset()
  encodeNumericBinary(value, scratch)
  return decodeNumericBinary(scratch.buf, scratch.view, 0, scratch.pos)
}

const decodeNumericText = (text: string): string => text

/**
 * `numeric` / `decimal` (OID 1700) ↔ exact decimal `string` equal to PostgreSQL's `v::text`
 * (`"123.4500"`, `"-0.0000001"`, `"NaN"`, `"Infinity"`, `"-Infinity"`); the display scale is kept,
 * so trailing zeros survive a round trip.
 *
 * Encode accepts a decimal string (sign, digits, optional fraction and exponent such as
 * `"1.5e3"`, which like PostgreSQL's own input gives `1500`; `NaN`, `Infinity`, `inf`), a
 * `number` (finite numbers through their shortest round-trip string, so `0.1` is `0.1`; NaN and
 * ±Infinity allowed) or a `bigint`. `encodeText` returns the canonical text of the same value.
 *
 * @since 0.1.0
 * @category codecs
 */
export const numeric: Codec<string> = make({
  name: "numeric",
  oid: Oids.numeric,
  arrayOid: Oids._numeric,
  binary: true,
  decodeBinary: decodeNumericBinary,
  decodeText: decodeNumericText,
  encodeBinary: encodeNumericBinary,
  encodeText: encodeNumericText,
  stringsAsText: true,
})
