/**
 * Codecs for `bool`, `int2`, `int4`, `int8`, `oid`, `float4` and `float8`.
 *
 * Representations:
 * - `bool` ↔ `boolean`.
 * - `int2`, `int4`, `oid` ↔ `number` (encode also accepts an in-range `bigint`).
 * - `int8` ↔ `bigint` (encode also accepts a safe-integer `number`).
 * - `float4`, `float8` ↔ `number`; NaN, ±Infinity and -0 survive both ways. A `float4` decodes to
 *   the exact double value of the single-precision number (`0.1::float4` → `0.10000000149011612`).
 *
 * @since 0.1.0
 */
import type { Writer } from "@pgfx/protocol/Writer"
import { checkLength, type Codec, decodeError, invalidType, invalidValue, make } from "./Codec.ts"
import { Oids } from "./Oids.ts"

// ---------------------------------------------------------------------------------------------
// bool

const decodeBoolBinary = (buf: Uint8Array, _view: DataView, offset: number, length: number): boolean => {
  checkLength("bool", length, 1)
  return buf[offset] !== 0
}

const decodeBoolText = (text: string): boolean => {
  if (text === "t") return true
  if (text === "f") return false
  const lower = text.trim().toLowerCase()
  if (lower === "true" || lower === "t" || lower === "on" || lower === "yes" || lower === "1") return true
  if (lower === "false" || lower === "f" || lower === "off" || lower === "no" || lower === "0") return false
  throw decodeError("bool", "invalid text value")
}

const encodeBoolBinary = (value: unknown, w: Writer): void => {
  if (typeof value !== "boolean") throw invalidType("bool", "a boolean", value)
  w.byte(value ? 1 : 0)
}

const encodeBoolText = (value: unknown): string => {
  if (typeof value !== "boolean") throw invalidType("bool", "a boolean", value)
  return value ? "t" : "f"
}

/**
 * `bool` (OID 16) ↔ `boolean`. Text form `t` / `f`.
 *
 * @since 0.1.0
 * @category codecs
 */
export const bool: Codec<boolean> = make({
  name: "bool",
  oid: Oids.bool,
  arrayOid: Oids._bool,
  binary: true,
  decodeBinary: decodeBoolBinary,
  decodeText: decodeBoolText,
  encodeBinary: encodeBoolBinary,
  encodeText: encodeBoolText,
  stringsAsText: true,
})

// ---------------------------------------------------------------------------------------------
// integers

const toInteger = (typeName: string, value: unknown, min: number, max: number): number => {
  if (typeof value === "number") {
    if (Number.isInteger(value) && value >= min && value <= max) return value
    throw invalidValue(
      typeName,
      `an integer number in [${min}, ${max}]`,
      value,
      Number.isInteger(value) ? "out of range" : "not an integer",
    )
  }
  if (typeof value === "bigint") {
    if (value >= BigInt(min) && value <= BigInt(max)) return Number(value)
    throw invalidValue(typeName, `an integer in [${min}, ${max}]`, value, "out of range")
  }
  throw invalidType(typeName, `an integer number in [${min}, ${max}]`, value)
}

const parseIntText = (typeName: string, text: string): number => {
  const n = Number(text)
  if (!Number.isInteger(n) || text.trim() === "") throw decodeError(typeName, "invalid integer text")
  return n
}

const decodeInt2Binary = (_buf: Uint8Array, view: DataView, offset: number, length: number): number => {
  checkLength("int2", length, 2)
  return view.getInt16(offset)
}
const decodeInt2Text = (text: string): number => parseIntText("int2", text)
const encodeInt2Binary = (value: unknown, w: Writer): void => {
  w.int16(toInteger("int2", value, -32768, 32767))
}
const encodeInt2Text = (value: unknown): string => String(toInteger("int2", value, -32768, 32767))

/**
 * `int2` / `smallint` (OID 21) ↔ `number`.
 *
 * @since 0.1.0
 * @category codecs
 */
export const int2: Codec<number> = make({
  name: "int2",
  oid: Oids.int2,
  arrayOid: Oids._int2,
  binary: true,
  decodeBinary: decodeInt2Binary,
  decodeText: decodeInt2Text,
  encodeBinary: encodeInt2Binary,
  encodeText: encodeInt2Text,
  stringsAsText: true,
})

const decodeInt4Binary = (_buf: Uint8Array, view: DataView, offset: number, length: number): number => {
  checkLength("int4", length, 4)
  return view.getInt32(offset)
}
const decodeInt4Text = (text: string): number => parseIntText("int4", text)
const encodeInt4Binary = (value: unknown, w: Writer): void => {
  w.int32(toInteger("int4", value, -2147483648, 2147483647))
}
const encodeInt4Text = (value: unknown): string => String(toInteger("int4", value, -2147483648, 2147483647))

/**
 * `int4` / `integer` (OID 23) ↔ `number`.
 *
 * @since 0.1.0
 * @category codecs
 */
export const int4: Codec<number> = make({
  name: "int4",
  oid: Oids.int4,
  arrayOid: Oids._int4,
  binary: true,
  decodeBinary: decodeInt4Binary,
  decodeText: decodeInt4Text,
  encodeBinary: encodeInt4Binary,
  encodeText: encodeInt4Text,
  stringsAsText: true,
})

const decodeOidBinary = (_buf: Uint8Array, view: DataView, offset: number, length: number): number => {
  checkLength("oid", length, 4)
  return view.getUint32(offset)
}
const decodeOidText = (text: string): number => parseIntText("oid", text)
const encodeOidBinary = (value: unknown, w: Writer): void => {
  w.uint32(toInteger("oid", value, 0, 4294967295))
}
const encodeOidText = (value: unknown): string => String(toInteger("oid", value, 0, 4294967295))

/**
 * `oid` (OID 26) ↔ `number` (unsigned 32-bit).
 *
 * @since 0.1.0
 * @category codecs
 */
export const oid: Codec<number> = make({
  name: "oid",
  oid: Oids.oid,
  arrayOid: Oids._oid,
  binary: true,
  decodeBinary: decodeOidBinary,
  decodeText: decodeOidText,
  encodeBinary: encodeOidBinary,
  encodeText: encodeOidText,
  stringsAsText: true,
})

const INT8_MIN = -(2n ** 63n)
const INT8_MAX = 2n ** 63n - 1n
const INT8_EXPECTED = "a bigint in the int8 range, or a safe integer number"

const toInt8 = (value: unknown): bigint => {
  if (typeof value === "bigint") {
    if (value >= INT8_MIN && value <= INT8_MAX) return value
    throw invalidValue("int8", INT8_EXPECTED, value, "out of range")
  }
  if (typeof value === "number") {
    if (Number.isSafeInteger(value)) return BigInt(value)
    throw invalidValue(
      "int8",
      INT8_EXPECTED,
      value,
      Number.isInteger(value) ? "not a safe integer (pass a bigint)" : "not an integer",
    )
  }
  throw invalidType("int8", INT8_EXPECTED, value)
}

const decodeInt8Binary = (_buf: Uint8Array, view: DataView, offset: number, length: number): bigint => {
  checkLength("int8", length, 8)
  return view.getBigInt64(offset)
}
const decodeInt8Text = (text: string): bigint => {
  try {
    return BigInt(text)
  } catch {
    throw decodeError("int8", "invalid integer text")
  }
}
const encodeInt8Binary = (value: unknown, w: Writer): void => {
  if (typeof value === "number" && Number.isSafeInteger(value)) {
    w.int64(BigInt(value))
    return
  }
  w.int64(toInt8(value))
}
const encodeInt8Text = (value: unknown): string => {
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value)
  return String(toInt8(value))
}

/**
 * `int8` / `bigint` (OID 20) ↔ `bigint`. Encode accepts a `bigint` in range or a safe-integer
 * `number`; other numbers are rejected rather than rounded.
 *
 * @since 0.1.0
 * @category codecs
 */
export const int8: Codec<bigint> = make({
  name: "int8",
  oid: Oids.int8,
  arrayOid: Oids._int8,
  binary: true,
  decodeBinary: decodeInt8Binary,
  decodeText: decodeInt8Text,
  encodeBinary: encodeInt8Binary,
  encodeText: encodeInt8Text,
  stringsAsText: true,
})

// ---------------------------------------------------------------------------------------------
// floats

const FLOAT4_MAX = 3.4028234663852886e38

const floatText = (n: number): string => (Object.is(n, -0) ? "-0" : String(n))

const parseFloatText = (typeName: string, text: string): number => {
  const n = Number(text)
  if (Number.isNaN(n) && text !== "NaN") {
    const lower = text.trim().toLowerCase()
    if (lower === "nan") return NaN
    if (lower === "inf" || lower === "+inf" || lower === "+infinity") return Infinity
    if (lower === "-inf") return -Infinity
    throw decodeError(typeName, "invalid floating-point text")
  }
  return n
}

const toFloat4 = (value: unknown): number => {
  if (typeof value !== "number") throw invalidType("float4", "a number", value)
  if ((value > FLOAT4_MAX || value < -FLOAT4_MAX) && Number.isFinite(value)) {
    throw invalidValue("float4", "a number within the float4 range", value, "out of range")
  }
  return value
}

const decodeFloat4Binary = (_buf: Uint8Array, view: DataView, offset: number, length: number): number => {
  checkLength("float4", length, 4)
  return view.getFloat32(offset)
}
const decodeFloat4Text = (text: string): number => Math.fround(parseFloatText("float4", text))
const encodeFloat4Binary = (value: unknown, w: Writer): void => {
  w.float32(toFloat4(value))
}
const encodeFloat4Text = (value: unknown): string => floatText(toFloat4(value))

/**
 * `float4` / `real` (OID 700) ↔ `number`. Encode rejects finite numbers beyond the float4 range;
 * other numbers are rounded to single precision by the wire format.
 *
 * @since 0.1.0
 * @category codecs
 */
export const float4: Codec<number> = make({
  name: "float4",
  oid: Oids.float4,
  arrayOid: Oids._float4,
  binary: true,
  decodeBinary: decodeFloat4Binary,
  decodeText: decodeFloat4Text,
  encodeBinary: encodeFloat4Binary,
  encodeText: encodeFloat4Text,
  stringsAsText: true,
  textMayRound: true,
})

const decodeFloat8Binary = (_buf: Uint8Array, view: DataView, offset: number, length: number): number => {
  checkLength("float8", length, 8)
  return view.getFloat64(offset)
}
const decodeFloat8Text = (text: string): number => parseFloatText("float8", text)
const encodeFloat8Binary = (value: unknown, w: Writer): void => {
  if (typeof value !== "number") throw invalidType("float8", "a number", value)
  w.float64(value)
}
const encodeFloat8Text = (value: unknown): string => {
  if (typeof value !== "number") throw invalidType("float8", "a number", value)
  return floatText(value)
}

/**
 * `float8` / `double precision` (OID 701) ↔ `number`, bit-exact (NaN, ±Infinity, -0 included).
 *
 * @since 0.1.0
 * @category codecs
 */
export const float8: Codec<number> = make({
  name: "float8",
  oid: Oids.float8,
  arrayOid: Oids._float8,
  binary: true,
  decodeBinary: decodeFloat8Binary,
  decodeText: decodeFloat8Text,
  encodeBinary: encodeFloat8Binary,
  encodeText: encodeFloat8Text,
  stringsAsText: true,
  textMayRound: true,
})
