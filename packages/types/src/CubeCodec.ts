/**
 * The `cube` extension type ↔ `string`, its text as the server prints it with the default
 * `extra_float_digits`: `(1, 2)` for a point, `(1, 2),(3, 4)` for a box, every coordinate with
 * the shortest digits that read back exactly.
 *
 * Binary format (`cube_send` / `cube_recv`, cube 1.5+): uint32 header (bits 0–30 the number of
 * dimensions, bit 31 set for a point), then float8 coordinates: `dim` for a point, else the
 * `dim` lower-left then the `dim` upper-right ones. Decoding formats them as `cube_out` does, so a
 * value read in binary is the text a session with default settings prints, whatever the
 * session's `extra_float_digits` (its text form, with `extra_float_digits = 0`, is rounded).
 *
 * Encoding takes the cube's text. As a parameter a string travels in text format and the server
 * parses it; where only binary can go (binary COPY, a composite sent in binary) pgfx parses the
 * input forms of `cube_in`: `x`, `x, y`, `(x, y)`, `(x, y),(u, v)`, `[(x, y),(u, v)]`, with
 * `Infinity` and `NaN`; a value the server would refuse (more than 100 dimensions, mismatched
 * corners, a float out of range) is an EncodeError.
 *
 * @since 0.1.0
 */
import type { Writer } from "@pgfx/protocol/Writer"
import { type Codec, decodeError, invalidType, invalidValue, make } from "./Codec.ts"
import { formatFloat8 } from "./internal/float.ts"

const POINT_BIT = 0x80000000
const DIM_MASK = 0x7fffffff
/** cube's CUBE_MAX_DIM. */
const MAX_DIM = 100
const EXPECTED = "a string, the cube's text (`(1, 2)`, `(1, 2),(3, 4)`)"

const coordinates = (values: ReadonlyArray<number>): string => `(${values.map(formatFloat8).join(", ")})`

/** The text `cube_out` prints for lower-left and upper-right corners (a point when they are equal). */
const cubeText = (ll: ReadonlyArray<number>, ur: ReadonlyArray<number>): string => {
  const point = ll.every((x, i) => x === ur[i])
  return point ? coordinates(ll) : `${coordinates(ll)},${coordinates(ur)}`
}

const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|infinity|nan)$/i

const coordinate = (name: string, token: string, value: unknown): number => {
  const t = token.trim()
  if (!FLOAT.test(t)) throw invalidValue(name, EXPECTED, value, "malformed cube")
  const lower = t.toLowerCase()
  if (lower.endsWith("nan")) {
    if (lower !== "nan") throw invalidValue(name, EXPECTED, value, "malformed cube")
    return NaN
  }
  if (lower.endsWith("infinity")) return lower.startsWith("-") ? -Infinity : Infinity
  const n = Number(t)
  if (!Number.isFinite(n) || (n === 0 && /[1-9]/.test(t.replace(/[eE].*$/, "")))) {
    throw invalidValue(name, EXPECTED, value, "a coordinate is out of range for float8")
  }
  return n
}

const list = (name: string, text: string, value: unknown): Array<number> => {
  const t = text.trim()
  if (t === "") return []
  return t.split(",").map((token) => coordinate(name, token, value))
}

/** Parses `cube_in`'s input forms into lower-left and upper-right corners. */
const parseCube = (name: string, value: string): { ll: Array<number>; ur: Array<number> } => {
  let t = value.trim()
  const bracketed = t.startsWith("[")
  if (bracketed) {
    if (!t.endsWith("]")) throw invalidValue(name, EXPECTED, value, "malformed cube")
    t = t.slice(1, -1).trim()
  }
  let ll: Array<number>
  let ur: Array<number>
  if (t.startsWith("(")) {
    const close = t.indexOf(")")
    if (close < 0) throw invalidValue(name, EXPECTED, value, "malformed cube")
    ll = list(name, t.slice(1, close), value)
    const rest = t.slice(close + 1).trim()
    if (rest === "" && !bracketed) ur = ll
    else {
      const m = /^,\s*\(([^()]*)\)$/.exec(rest)
      if (m === null) throw invalidValue(name, EXPECTED, value, "malformed cube")
      ur = list(name, m[1]!, value)
      if (ur.length !== ll.length) {
        throw invalidValue(name, EXPECTED, value, "the corners have different numbers of dimensions")
      }
    }
  } else {
    if (t === "" || bracketed) throw invalidValue(name, EXPECTED, value, "malformed cube")
    ll = ur = list(name, t, value)
  }
  if (ll.length > MAX_DIM) throw invalidValue(name, EXPECTED, value, `more than ${MAX_DIM} dimensions`)
  return { ll, ur }
}

/**
 * The codec of the `cube` extension type under its OID in a database (found by its binary
 * functions, `cube:cube_recv/cube_send`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const cubeCodec = (oid: number, name = "cube", arrayOid = 0): Codec<string> =>
  make({
    name,
    oid,
    arrayOid,
    binary: true,
    decodeBinary: (_buf, view, offset, length) => {
      if (length < 4) throw decodeError(name, "truncated binary value")
      const header = view.getUint32(offset)
      const dim = header & DIM_MASK
      const point = (header & POINT_BIT) !== 0
      const count = point ? dim : 2 * dim
      if (dim > MAX_DIM || length !== 4 + 8 * count) {
        throw decodeError(name, `binary value has ${length} bytes for ${dim} dimensions`)
      }
      const x = new Array<number>(count)
      for (let i = 0; i < count; i++) x[i] = view.getFloat64(offset + 4 + 8 * i)
      return point ? coordinates(x) : cubeText(x.slice(0, dim), x.slice(dim))
    },
    decodeText: (text) => text,
    encodeBinary: (value: unknown, w: Writer) => {
      if (typeof value !== "string") throw invalidType(name, EXPECTED, value)
      const { ll, ur } = parseCube(name, value)
      // cube_in stores one corner, or two equal ones (compared as C does: NaN never equals), as a point
      const point = ur === ll || ll.every((x, i) => x === ur[i])
      w.uint32((ll.length | (point ? POINT_BIT : 0)) >>> 0)
      for (const x of ll) w.float64(x)
      if (!point) for (const x of ur) w.float64(x)
    },
    encodeText: (value) => {
      if (typeof value !== "string") throw invalidType(name, EXPECTED, value)
      return value
    },
    stringsAsText: true,
    // the server's text of a cube prints floats per extra_float_digits
    textMayRound: true,
  })
