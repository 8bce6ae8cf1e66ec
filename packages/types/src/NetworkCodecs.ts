/**
 * Codecs for `inet`, `cidr`, `macaddr` and `macaddr8` ↔ `string`, exactly as PostgreSQL prints
 * them (`"192.168.0.1"`, `"10.0.0.0/8"`, `"::ffff:1.2.3.4"`, `"08:00:2b:01:02:03"`).
 *
 * JS has no address type, and a string in the server's canonical form is lossless, compares with
 * `===`, works as a Map key and serializes to JSON. Results are decoded from the binary format
 * (reproducing the server's formatting, IPv6 `::` compression and embedded IPv4 included).
 * Parameters are strings sent in text format, so the server's own parser accepts every spelling
 * it knows (`"10/8"` for a cidr, `"0800.2b01.0203"` for a macaddr).
 *
 * @since 0.1.0
 */
import { checkLength, type Codec, decodeError, invalidType, make } from "./Codec.ts"
import { HEX_HI, HEX_LO, latin1 } from "./internal/utf8.ts"
import { Oids } from "./Oids.ts"

/**
 * A codec for a type whose JS value is its text form: binary results decoded by `decodeBinary`,
 * text results as-is, parameters must be strings and always travel as text.
 *
 * @since 0.1.0
 * @category constructors
 */
export const stringValued = (
  name: string,
  oid: number,
  arrayOid: number,
  decodeBinary: (buf: Uint8Array, view: DataView, offset: number, length: number) => string,
): Codec<string> => {
  const expected = `a string (${name} text, sent in text format)`
  const encodeText = (value: unknown): string => {
    if (typeof value !== "string") throw invalidType(name, expected, value)
    return value
  }
  return make({
    name,
    oid,
    arrayOid,
    binary: true,
    decodeBinary,
    decodeText: (text) => text,
    encodeBinary: (value) => {
      throw invalidType(name, expected, value)
    },
    encodeText,
    stringsAsText: true,
    sendAsText: (value) => typeof value === "string",
  })
}

const AF_INET = 2
const AF_INET6 = 3

/** Scratch space the decoders write the text into (longest: an IPv6 address with `/128`). */
const out = new Uint8Array(64)
const words = new Uint16Array(8)

/** Writes the decimal digits of 0 ≤ v < 1000 at `n`; returns the new position. */
const putDecimal = (v: number, n: number): number => {
  if (v >= 100) out[n++] = 48 + ((v / 100) | 0)
  if (v >= 10) out[n++] = 48 + (((v / 10) | 0) % 10)
  out[n++] = 48 + (v % 10)
  return n
}

const HEX_DIGITS = "0123456789abcdef"

/** Writes a 16-bit word in hex without leading zeros at `n`. */
const putHexWord = (v: number, n: number): number => {
  let started = false
  for (let shift = 12; shift >= 0; shift -= 4) {
    const d = (v >> shift) & 15
    if (d !== 0 || started || shift === 0) {
      out[n++] = HEX_DIGITS.charCodeAt(d)
      started = true
    }
  }
  return n
}

const putIpv4 = (buf: Uint8Array, at: number, n: number): number => {
  for (let i = 0; i < 4; i++) {
    if (i > 0) out[n++] = 46
    n = putDecimal(buf[at + i]!, n)
  }
  return n
}

/** PostgreSQL's inet_net_ntop_ipv6: longest zero run (≥ 2 words) as `::`, embedded IPv4 dotted. */
const putIpv6 = (buf: Uint8Array, at: number, n: number): number => {
  for (let i = 0; i < 8; i++) words[i] = (buf[at + 2 * i]! << 8) | buf[at + 2 * i + 1]!
  let bestBase = -1
  let bestLen = 0
  let curBase = -1
  let curLen = 0
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase === -1) {
        curBase = i
        curLen = 1
      } else curLen++
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) {
        bestBase = curBase
        bestLen = curLen
      }
      curBase = -1
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) {
    bestBase = curBase
    bestLen = curLen
  }
  if (bestBase !== -1 && bestLen < 2) bestBase = -1
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out[n++] = 58
      continue
    }
    if (i !== 0) out[n++] = 58
    if (
      i === 6 &&
      bestBase === 0 &&
      (bestLen === 6 || (bestLen === 7 && words[7] !== 1) || (bestLen === 5 && words[5] === 0xffff))
    ) {
      return putIpv4(buf, at + 12, n)
    }
    n = putHexWord(words[i]!, n)
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out[n++] = 58
  return n
}

const networkCodec = (name: string, oid: number, arrayOid: number, isCidr: boolean): Codec<string> =>
  stringValued(name, oid, arrayOid, (buf, _view, offset, length) => {
    if (length < 4) throw decodeError(name, "truncated binary value")
    const family = buf[offset]
    const bits = buf[offset + 1]!
    const nb = buf[offset + 3]
    let n: number
    let full: number
    if (family === AF_INET && nb === 4 && length === 8 && bits <= 32) {
      n = putIpv4(buf, offset + 4, 0)
      full = 32
    } else if (family === AF_INET6 && nb === 16 && length === 20 && bits <= 128) {
      n = putIpv6(buf, offset + 4, 0)
      full = 128
    } else {
      throw decodeError(name, "invalid binary value")
    }
    if (isCidr || bits !== full) {
      out[n++] = 47
      n = putDecimal(bits, n)
    }
    return latin1(out, 0, n)
  })

/**
 * `inet` (OID 869) ↔ `string`: the address, with `/bits` unless it is a single host.
 *
 * @since 0.1.0
 * @category codecs
 */
export const inet: Codec<string> = networkCodec("inet", Oids.inet, Oids._inet, false)

/**
 * `cidr` (OID 650) ↔ `string`: the network with its `/bits`.
 *
 * @since 0.1.0
 * @category codecs
 */
export const cidr: Codec<string> = networkCodec("cidr", Oids.cidr, Oids._cidr, true)

const macCodec = (name: string, oid: number, arrayOid: number, size: number): Codec<string> =>
  stringValued(name, oid, arrayOid, (buf, _view, offset, length) => {
    checkLength(name, length, size)
    let n = 0
    for (let i = 0; i < size; i++) {
      if (i > 0) out[n++] = 58
      const b = buf[offset + i]!
      out[n++] = HEX_HI[b]!
      out[n++] = HEX_LO[b]!
    }
    return latin1(out, 0, n)
  })

/**
 * `macaddr` (OID 829) ↔ `string` (`"08:00:2b:01:02:03"`).
 *
 * @since 0.1.0
 * @category codecs
 */
export const macaddr: Codec<string> = macCodec("macaddr", Oids.macaddr, Oids._macaddr, 6)

/**
 * `macaddr8` (OID 774) ↔ `string` (`"08:00:2b:01:02:03:04:05"`).
 *
 * @since 0.1.0
 * @category codecs
 */
export const macaddr8: Codec<string> = macCodec("macaddr8", Oids.macaddr8, Oids._macaddr8, 8)
