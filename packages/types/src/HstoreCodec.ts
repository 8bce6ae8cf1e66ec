/**
 * Codec for the `hstore` extension type ↔ `Record<string, string | null>` (asyncpg's
 * `pg_contrib.hstore` codec). hstore has no fixed OID, so the codec is built for the OID the
 * connection finds: pgfx does that automatically for a type whose receive function is
 * `hstore_recv`, and `setBuiltinTypeCodec(typeName, "hstore")` does it for any other name.
 *
 * Wire format: int32 pair count, then per pair int32 key length + key, int32 value length
 * (−1 = NULL) + value. Encode accepts a plain object or a `Map` of string keys to string / null
 * values (numbers, bigints and booleans are stringified).
 *
 * @since 0.1.0
 */
import type { Writer } from "@pgfx/protocol/Writer"
import { type Codec, decodeError, invalidType, invalidValue, make } from "./Codec.ts"
import { decodeUtf8 } from "./internal/utf8.ts"

/**
 * A decoded hstore: keys to values, `null` for NULL values.
 *
 * @since 0.1.0
 * @category models
 */
export type Hstore = Record<string, string | null>

const EXPECTED = "a plain object or Map of string keys to string or null values"

const set = (out: Hstore, key: string, value: string | null): void => {
  if (key === "__proto__") {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  } else out[key] = value
}

const pairsOf = (typeName: string, value: unknown): Array<[string, string | null]> => {
  let entries: Iterable<[unknown, unknown]>
  if (value instanceof Map) entries = value
  else if (typeof value === "object" && value !== null && !Array.isArray(value)) entries = Object.entries(value)
  else throw invalidType(typeName, EXPECTED, value)
  const out: Array<[string, string | null]> = []
  for (const [k, v] of entries) {
    if (typeof k !== "string") throw invalidValue(typeName, EXPECTED, k, "a key is not a string")
    if (v === null || v === undefined) out.push([k, null])
    else if (typeof v === "string") out.push([k, v])
    else if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") out.push([k, String(v)])
    else throw invalidValue(typeName, EXPECTED, v, `the value of a key is a ${typeof v}`)
  }
  return out
}

const quote = (s: string): string => `"${s.replace(/["\\]/g, "\\$&")}"`

/**
 * Parses hstore text (`"a"=>"1", "b"=>NULL`); undefined when malformed.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseHstore = (text: string): Hstore | undefined => {
  const out: Hstore = {}
  let i = 0
  const n = text.length
  const skip = () => {
    while (i < n && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++
  }
  const item = (): string | null | undefined => {
    skip()
    if (text[i] === '"') {
      i++
      let s = ""
      while (i < n && text[i] !== '"') {
        if (text[i] === "\\") i++
        s += text[i]
        i++
      }
      if (i >= n) return undefined
      i++
      return s
    }
    const start = i
    while (i < n && !/[\s,=]/.test(text[i]!)) {
      if (text[i] === "\\") i++
      i++
    }
    const s = text.slice(start, i).replace(/\\(.)/g, "$1")
    if (s.length === 0) return undefined
    return s.toUpperCase() === "NULL" ? null : s
  }
  skip()
  while (i < n) {
    const key = item()
    if (key === undefined || key === null) return undefined
    skip()
    if (text.slice(i, i + 2) !== "=>") return undefined
    i += 2
    const value = item()
    if (value === undefined) return undefined
    set(out, key, value)
    skip()
    if (i < n) {
      if (text[i] !== ",") return undefined
      i++
      skip()
    }
  }
  return out
}

/**
 * The hstore codec for a type OID.
 *
 * @since 0.1.0
 * @category constructors
 */
export const hstoreCodec = (oid: number, name = "hstore", arrayOid = 0): Codec<Hstore> =>
  make({
    name,
    oid,
    arrayOid,
    binary: true,
    decodeBinary: (buf, view, offset, length) => {
      if (length < 4) throw decodeError(name, "truncated binary value")
      const count = view.getInt32(offset)
      const end = offset + length
      let pos = offset + 4
      const out: Hstore = {}
      for (let i = 0; i < count; i++) {
        if (pos + 4 > end) throw decodeError(name, "truncated binary value")
        const klen = view.getInt32(pos)
        pos += 4
        if (klen < 0 || pos + klen + 4 > end) throw decodeError(name, "invalid key length")
        const key = decodeUtf8(buf, pos, klen)
        pos += klen
        const vlen = view.getInt32(pos)
        pos += 4
        if (vlen === -1) {
          set(out, key, null)
          continue
        }
        if (vlen < 0 || pos + vlen > end) throw decodeError(name, "invalid value length")
        set(out, key, decodeUtf8(buf, pos, vlen))
        pos += vlen
      }
      if (pos !== end) throw decodeError(name, `${end - pos} trailing bytes`)
      return out
    },
    decodeText: (text) => {
      const h = parseHstore(text)
      if (h === undefined) throw decodeError(name, "malformed hstore text")
      return h
    },
    encodeBinary: (value: unknown, w: Writer) => {
      const pairs = pairsOf(name, value)
      w.int32(pairs.length)
      for (const [k, v] of pairs) {
        const at = w.reserveLength()
        w.string(k)
        w.patchValueLength(at)
        if (v === null) w.int32(-1)
        else {
          const vat = w.reserveLength()
          w.string(v)
          w.patchValueLength(vat)
        }
      }
    },
    encodeText: (value) =>
      pairsOf(name, value)
        .map(([k, v]) => `${quote(k)}=>${v === null ? "NULL" : quote(v)}`)
        .join(", "),
    stringsAsText: true,
  })
