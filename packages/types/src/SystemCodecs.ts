/**
 * Codecs for PostgreSQL's system and special-purpose types:
 *
 * | type | JS value | format |
 * | --- | --- | --- |
 * | `xid`, `cid` | `number` (unsigned 32-bit) | binary |
 * | `xid8` | `bigint` (unsigned 64-bit) | binary |
 * | `tid` | {@link Tid} | binary |
 * | `pg_lsn` | `string` `"16/B374D848"` | binary (strings sent as text, `bigint` as binary) |
 * | `regclass`, `regtype`, `regproc`, ... | `string`, the object's name | text (a number is sent as the OID) |
 * | `money` | `string` as the server prints it (`"$1,234.50"`, depends on `lc_monetary`) | text |
 * | `tsvector`, `tsquery` | `string` as the server prints it | text |
 * | `jsonpath` | `string` | binary |
 * | `refcursor`, `cstring` | `string` | binary |
 * | `int2vector`, `oidvector` | `number[]` | binary |
 * | `void` | `null` | binary |
 *
 * @since 0.1.0
 */
import type { Writer } from "@pgfx/protocol/Writer"
import { checkLength, type Codec, decodeError, invalidType, invalidValue, make } from "./Codec.ts"
import { decodeUtf8, latin1 } from "./internal/utf8.ts"
import { stringValued } from "./NetworkCodecs.ts"
import { Oids } from "./Oids.ts"
import { stringCodec, textCodec } from "./TextCodecs.ts"
import { parseTid, Tid } from "./Tid.ts"

// ---------------------------------------------------------------------------------------------
// xid, cid

const uint32Codec = (name: string, oid: number, arrayOid: number): Codec<number> => {
  const expected = "an integer number in [0, 4294967295]"
  const check = (value: unknown): number => {
    if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 4294967295) return value
    if (typeof value === "bigint" && value >= 0n && value <= 4294967295n) return Number(value)
    if (typeof value === "number" || typeof value === "bigint")
      throw invalidValue(name, expected, value, "out of range")
    throw invalidType(name, expected, value)
  }
  return make({
    name,
    oid,
    arrayOid,
    binary: true,
    decodeBinary: (_buf, view, offset, length) => {
      checkLength(name, length, 4)
      return view.getUint32(offset)
    },
    decodeText: (text) => {
      const n = Number(text)
      if (!Number.isInteger(n) || text.trim() === "") throw decodeError(name, "invalid integer text")
      return n
    },
    encodeBinary: (value, w) => {
      w.uint32(check(value))
    },
    encodeText: (value) => String(check(value)),
    stringsAsText: true,
  })
}

/**
 * `xid` (OID 28) ↔ `number`: a 32-bit transaction id.
 *
 * @since 0.1.0
 * @category codecs
 */
export const xid: Codec<number> = uint32Codec("xid", Oids.xid, Oids._xid)

/**
 * `cid` (OID 29) ↔ `number`: a command id.
 *
 * @since 0.1.0
 * @category codecs
 */
export const cid: Codec<number> = uint32Codec("cid", Oids.cid, Oids._cid)

// ---------------------------------------------------------------------------------------------
// xid8

const UINT64_MAX = 2n ** 64n - 1n
const XID8_EXPECTED = "a bigint in [0, 2^64 - 1] or a non-negative safe integer number"

const toUint64 = (name: string, expected: string, value: unknown): bigint => {
  if (typeof value === "bigint") {
    if (value >= 0n && value <= UINT64_MAX) return value
    throw invalidValue(name, expected, value, "out of range")
  }
  if (typeof value === "number") {
    if (Number.isSafeInteger(value) && value >= 0) return BigInt(value)
    throw invalidValue(name, expected, value, "not a non-negative safe integer")
  }
  throw invalidType(name, expected, value)
}

const writeUint64 = (w: Writer, v: bigint): void => {
  w.int64(BigInt.asIntN(64, v))
}

/**
 * `xid8` (OID 5069) ↔ `bigint`: a 64-bit (epoch-extended) transaction id, as `pg_current_xact_id()`
 * returns.
 *
 * @since 0.1.0
 * @category codecs
 */
export const xid8: Codec<bigint> = make({
  name: "xid8",
  oid: Oids.xid8,
  arrayOid: Oids._xid8,
  binary: true,
  decodeBinary: (_buf, view, offset, length) => {
    checkLength("xid8", length, 8)
    return view.getBigUint64(offset)
  },
  decodeText: (text) => {
    try {
      return BigInt(text)
    } catch {
      throw decodeError("xid8", "invalid integer text")
    }
  },
  encodeBinary: (value, w) => writeUint64(w, toUint64("xid8", XID8_EXPECTED, value)),
  encodeText: (value) => String(toUint64("xid8", XID8_EXPECTED, value)),
  stringsAsText: true,
})

// ---------------------------------------------------------------------------------------------
// tid

const toTid = (value: unknown): Tid => {
  if (value instanceof Tid) return value
  if (typeof value === "object" && value !== null && "block" in value && "offset" in value) {
    const o = value as { block: unknown; offset: unknown }
    if (typeof o.block === "number" && typeof o.offset === "number") {
      try {
        return new Tid(o.block, o.offset)
      } catch (e) {
        throw invalidValue("tid", "a Tid", value, (e as Error).message)
      }
    }
  }
  throw invalidType("tid", "a Tid or { block, offset }", value)
}

/**
 * `tid` (OID 27) ↔ {@link Tid}.
 *
 * @since 0.1.0
 * @category codecs
 */
export const tid: Codec<Tid> = make({
  name: "tid",
  oid: Oids.tid,
  arrayOid: Oids._tid,
  binary: true,
  decodeBinary: (_buf, view, offset, length) => {
    checkLength("tid", length, 6)
    return new Tid(view.getUint32(offset), view.getUint16(offset + 4))
  },
  decodeText: (text) => {
    const t = parseTid(text)
    if (t === undefined) throw decodeError("tid", "invalid text value")
    return t
  },
  encodeBinary: (value, w) => {
    const t = toTid(value)
    w.uint32(t.block).uint16(t.offset)
  },
  encodeText: (value) => toTid(value).toString(),
  stringsAsText: true,
})

// ---------------------------------------------------------------------------------------------
// pg_lsn

const LSN_EXPECTED = 'an LSN string ("16/B374D848", sent as text) or a bigint'

/**
 * The text of a WAL position (`"16/B374D848"`) from its 64-bit value.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatLsn = (lsn: bigint): string =>
  `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`

const UPPER_HEX = "0123456789ABCDEF"
const lsnText = new Uint8Array(17)

/** Writes a 32-bit word in uppercase hex without leading zeros at `n`. */
const putHex32 = (v: number, n: number): number => {
  let started = false
  for (let shift = 28; shift >= 0; shift -= 4) {
    const d = (v >>> shift) & 15
    if (d !== 0 || started || shift === 0) {
      lsnText[n++] = UPPER_HEX.charCodeAt(d)
      started = true
    }
  }
  return n
}

const lsnDecodeBinary = (_buf: Uint8Array, view: DataView, offset: number, length: number): string => {
  checkLength("pg_lsn", length, 8)
  let n = putHex32(view.getUint32(offset), 0)
  lsnText[n++] = 47
  n = putHex32(view.getUint32(offset + 4), n)
  return latin1(lsnText, 0, n)
}

const lsnBase = stringValued("pg_lsn", Oids.pg_lsn, Oids._pg_lsn, lsnDecodeBinary)

/**
 * `pg_lsn` (OID 3220) ↔ `string` as PostgreSQL prints it (`"16/B374D848"`). Encode accepts that
 * string (sent as text) or the position as a `bigint`.
 *
 * @since 0.1.0
 * @category codecs
 */
export const pg_lsn: Codec<string> = make({
  name: "pg_lsn",
  oid: Oids.pg_lsn,
  arrayOid: Oids._pg_lsn,
  binary: true,
  decodeBinary: lsnDecodeBinary,
  decodeText: lsnBase.decodeText,
  encodeBinary: (value, w) => writeUint64(w, toUint64("pg_lsn", LSN_EXPECTED, value)),
  encodeText: (value) => (typeof value === "string" ? value : formatLsn(toUint64("pg_lsn", LSN_EXPECTED, value))),
  stringsAsText: true,
})

// ---------------------------------------------------------------------------------------------
// text-format types

/**
 * The object-identifier alias types (`regclass`, `regtype`, `regproc`, `regprocedure`, `regoper`,
 * `regoperator`, `regconfig`, `regdictionary`, `regnamespace`, `regrole`, `regcollation`) ↔
 * `string`: the object's name as the server prints it (`"pg_class"`, `"integer"`), exchanged as
 * text. Encode also accepts a number (the OID). For the numeric OID instead, cast in SQL
 * (`x::oid`) or use `setBuiltinTypeCodec(name, "oid")`.
 *
 * @since 0.1.0
 * @category codecs
 */
export const regTypes: ReadonlyArray<Codec<string>> = (
  [
    ["regproc", Oids.regproc, Oids._regproc],
    ["regprocedure", Oids.regprocedure, Oids._regprocedure],
    ["regoper", Oids.regoper, Oids._regoper],
    ["regoperator", Oids.regoperator, Oids._regoperator],
    ["regclass", Oids.regclass, Oids._regclass],
    ["regtype", Oids.regtype, Oids._regtype],
    ["regconfig", Oids.regconfig, Oids._regconfig],
    ["regdictionary", Oids.regdictionary, Oids._regdictionary],
    ["regnamespace", Oids.regnamespace, Oids._regnamespace],
    ["regrole", Oids.regrole, Oids._regrole],
    ["regcollation", Oids.regcollation, Oids._regcollation],
  ] as const
).map(([name, oid, arrayOid]) => textCodec(oid, name, arrayOid))

/**
 * `money` (OID 790) ↔ `string` exactly as the server prints it (`"$1,234.50"`; the format follows
 * the server's `lc_monetary`), exchanged as text like asyncpg. Encode accepts a string, number or
 * bigint (`"12.34"`, `12.34`). For the amount in minor units as a `bigint` (binary, locale-free),
 * use `setBuiltinTypeCodec("money", "int8")`.
 *
 * @since 0.1.0
 * @category codecs
 */
export const money: Codec<string> = textCodec(Oids.money, "money", Oids._money)

/**
 * `tsvector` (OID 3614) ↔ `string` as the server prints it (`"'cat':3 'fat':2"`), exchanged as text.
 *
 * @since 0.1.0
 * @category codecs
 */
export const tsvector: Codec<string> = textCodec(Oids.tsvector, "tsvector", Oids._tsvector)

/**
 * `tsquery` (OID 3615) ↔ `string` as the server prints it (`"'fat' & 'rat'"`), exchanged as text.
 *
 * @since 0.1.0
 * @category codecs
 */
export const tsquery: Codec<string> = textCodec(Oids.tsquery, "tsquery", Oids._tsquery)

/**
 * `refcursor` (OID 1790) ↔ `string`, the cursor name.
 *
 * @since 0.1.0
 * @category codecs
 */
export const refcursor: Codec<string> = stringCodec("refcursor", Oids.refcursor, Oids._refcursor)

/**
 * `cstring` (OID 2275) ↔ `string`.
 *
 * @since 0.1.0
 * @category codecs
 */
export const cstring: Codec<string> = stringCodec("cstring", Oids.cstring, Oids._cstring)

/**
 * `jsonpath` (OID 4072) ↔ `string`, the path as the server prints it. The binary form is a version
 * byte (1) and the text.
 *
 * @since 0.1.0
 * @category codecs
 */
export const jsonpath: Codec<string> = make({
  name: "jsonpath",
  oid: Oids.jsonpath,
  arrayOid: Oids._jsonpath,
  binary: true,
  decodeBinary: (buf, _view, offset, length) => {
    if (length < 1 || buf[offset] !== 1) throw decodeError("jsonpath", "unsupported binary jsonpath version")
    return decodeUtf8(buf, offset + 1, length - 1)
  },
  decodeText: (text) => text,
  encodeBinary: (value, w) => {
    if (typeof value !== "string") throw invalidType("jsonpath", "a string", value)
    w.byte(1).string(value)
  },
  encodeText: (value) => {
    if (typeof value !== "string") throw invalidType("jsonpath", "a string", value)
    return value
  },
  stringsAsText: false,
})

// ---------------------------------------------------------------------------------------------
// int2vector, oidvector

const vectorCodec = (
  name: string,
  oid: number,
  arrayOid: number,
  elementOid: number,
  size: 2 | 4,
  max: number,
): Codec<Array<number>> => {
  const expected = `an array of integers in [${size === 2 ? -32768 : 0}, ${max}]`
  const check = (value: unknown): Array<number> => {
    if (!Array.isArray(value)) throw invalidType(name, expected, value)
    for (const v of value) {
      if (typeof v !== "number" || !Number.isInteger(v) || v > max || v < (size === 2 ? -32768 : 0)) {
        throw invalidValue(name, expected, v, "invalid element")
      }
    }
    return value as Array<number>
  }
  return make({
    name,
    oid,
    arrayOid,
    binary: true,
    decodeBinary: (_buf, view, offset, length) => {
      if (length < 12) throw decodeError(name, "truncated binary value")
      const ndim = view.getInt32(offset)
      if (ndim === 0) return []
      const n = view.getInt32(offset + 12)
      if (ndim !== 1 || length !== 20 + n * (4 + size)) throw decodeError(name, "invalid binary value")
      const out = new Array<number>(n)
      for (let i = 0; i < n; i++) {
        const at = offset + 20 + i * (4 + size) + 4
        out[i] = size === 2 ? view.getInt16(at) : view.getUint32(at)
      }
      return out
    },
    decodeText: (text) => (text === "" ? [] : text.split(" ").map(Number)),
    encodeBinary: (value, w) => {
      const v = check(value)
      w.int32(1).int32(0).uint32(elementOid).int32(v.length).int32(0)
      for (const x of v) {
        w.int32(size)
        if (size === 2) w.int16(x)
        else w.uint32(x)
      }
    },
    encodeText: (value) => check(value).join(" "),
    stringsAsText: true,
    // The server cannot receive an empty vector in binary (array_recv drops its dimension).
    sendAsText: (value) => typeof value === "string" || (Array.isArray(value) && value.length === 0),
  })
}

/**
 * `int2vector` (OID 22) ↔ `number[]` (e.g. `pg_index.indkey`).
 *
 * @since 0.1.0
 * @category codecs
 */
export const int2vector: Codec<Array<number>> = vectorCodec(
  "int2vector",
  Oids.int2vector,
  Oids._int2vector,
  Oids.int2,
  2,
  32767,
)

/**
 * `oidvector` (OID 30) ↔ `number[]` (e.g. `pg_proc.proargtypes`).
 *
 * @since 0.1.0
 * @category codecs
 */
export const oidvector: Codec<Array<number>> = vectorCodec(
  "oidvector",
  Oids.oidvector,
  Oids._oidvector,
  Oids.oid,
  4,
  4294967295,
)

// ---------------------------------------------------------------------------------------------
// void

/**
 * `void` (OID 2278) ↔ `null`: the result of functions that return nothing (`SELECT pg_sleep(0)`).
 *
 * @since 0.1.0
 * @category codecs
 */
export const voidCodec: Codec<null> = make({
  name: "void",
  oid: Oids.void,
  arrayOid: 0,
  binary: true,
  decodeBinary: () => null,
  decodeText: () => null,
  encodeBinary: (value) => {
    throw invalidType("void", "nothing (void has no values)", value)
  },
  encodeText: (value) => {
    throw invalidType("void", "nothing (void has no values)", value)
  },
  stringsAsText: false,
})
