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
import { HEX } from "./internal/utf8.ts"
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

const ipv4 = (buf: Uint8Array, at: number): string => `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`

/** PostgreSQL's inet_net_ntop_ipv6: longest zero run (≥ 2 words) as `::`, embedded IPv4 dotted. */
const ipv6 = (buf: Uint8Array, at: number): string => {
  const words = new Array<number>(8)
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
  let s = ""
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) s += ":"
      continue
    }
    if (i !== 0) s += ":"
    if (
      i === 6 &&
      bestBase === 0 &&
      (bestLen === 6 || (bestLen === 7 && words[7] !== 1) || (bestLen === 5 && words[5] === 0xffff))
    ) {
      s += ipv4(buf, at + 12)
      return s
    }
    s += words[i]!.toString(16)
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) s += ":"
  return s
}

const networkCodec = (name: string, oid: number, arrayOid: number, isCidr: boolean): Codec<string> =>
  stringValued(name, oid, arrayOid, (buf, _view, offset, length) => {
    if (length < 4) throw decodeError(name, "truncated binary value")
    const family = buf[offset]
    const bits = buf[offset + 1]!
    const nb = buf[offset + 3]
    if (family === AF_INET && nb === 4 && length === 8 && bits <= 32) {
      const addr = ipv4(buf, offset + 4)
      return isCidr || bits !== 32 ? `${addr}/${bits}` : addr
    }
    if (family === AF_INET6 && nb === 16 && length === 20 && bits <= 128) {
      const addr = ipv6(buf, offset + 4)
      return isCidr || bits !== 128 ? `${addr}/${bits}` : addr
    }
    throw decodeError(name, "invalid binary value")
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
    let s = HEX[buf[offset]!]!
    for (let i = 1; i < size; i++) s += `:${HEX[buf[offset + i]!]}`
    return s
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
