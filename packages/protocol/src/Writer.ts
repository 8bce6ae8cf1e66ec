/**
 * A growable big-endian byte writer used to build protocol frames and encode parameter values.
 *
 * Ownership: the writer owns one backing buffer and reuses it across frames. `finish()` returns a
 * copy-free view (`subarray`) that stays valid only until the next write or `reset()`; call
 * `finishCopy()` when the bytes must outlive the writer's next use (for example a frame that is
 * cached or handed to a socket that writes later).
 *
 * Errors: {@link Writer.string} throws {@link MalformedString} for a string with a lone surrogate
 * (it has no UTF-8 encoding; TextEncoder would silently write U+FFFD instead).
 *
 * @since 0.1.0
 */
import { Data } from "effect"

const textEncoder = new TextEncoder()

/**
 * A string that is not well-formed UTF-16 (a lone surrogate) cannot be written as UTF-8.
 * @since 0.1.0
 */
export class MalformedString extends Data.TaggedError("MalformedString")<{
  readonly message: string
  /** The index of the first lone surrogate. */
  readonly index: number
}> {}

const malformed = (s: string): MalformedString => {
  let index = 0
  for (; index < s.length; index++) {
    const c = s.charCodeAt(index)
    if (c < 0xd800 || c > 0xdfff) continue
    const next = s.charCodeAt(index + 1)
    if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) break
    index++
  }
  const unit = s.charCodeAt(index).toString(16).toUpperCase()
  return new MalformedString({
    message: `the string has a lone surrogate (U+${unit}) at index ${index}, which has no UTF-8 encoding`,
    index,
  })
}

/**
 * A reusable byte buffer with cursor, big-endian integer writers and length back-patching.
 *
 * @example
 * ```ts
 * import { Writer } from "@pgfx/protocol/Writer"
 * const w = new Writer()
 * w.int32(42).cstring("hello")
 * const bytes = w.finishCopy()
 * ```
 * @since 0.1.0
 */
export class Writer {
  /** The backing buffer; grows by doubling. */
  buf: Uint8Array
  /** The view over `buf` for multi-byte writes. */
  view: DataView
  /** The write position. */
  pos = 0

  constructor(initialSize = 4096) {
    this.buf = new Uint8Array(initialSize)
    this.view = new DataView(this.buf.buffer)
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): this {
    const need = this.pos + n
    if (need > this.buf.length) {
      let size = this.buf.length * 2
      while (size < need) size *= 2
      const next = new Uint8Array(size)
      next.set(this.buf.subarray(0, this.pos))
      this.buf = next
      this.view = new DataView(next.buffer)
    }
    return this
  }

  /** Writes one unsigned byte. */
  byte(b: number): this {
    this.ensure(1)
    this.buf[this.pos++] = b
    return this
  }

  /** Writes a signed 16-bit integer, big-endian. */
  int16(n: number): this {
    this.ensure(2)
    this.view.setInt16(this.pos, n)
    this.pos += 2
    return this
  }

  /** Writes an unsigned 16-bit integer, big-endian. */
  uint16(n: number): this {
    this.ensure(2)
    this.view.setUint16(this.pos, n)
    this.pos += 2
    return this
  }

  /** Writes a signed 32-bit integer, big-endian. */
  int32(n: number): this {
    this.ensure(4)
    this.view.setInt32(this.pos, n)
    this.pos += 4
    return this
  }

  /** Writes an unsigned 32-bit integer, big-endian. */
  uint32(n: number): this {
    this.ensure(4)
    this.view.setUint32(this.pos, n)
    this.pos += 4
    return this
  }

  /** Writes a signed 64-bit integer, big-endian. */
  int64(n: bigint): this {
    this.ensure(8)
    this.view.setBigInt64(this.pos, n)
    this.pos += 8
    return this
  }

  /** Writes a 32-bit IEEE float, big-endian. */
  float32(n: number): this {
    this.ensure(4)
    this.view.setFloat32(this.pos, n)
    this.pos += 4
    return this
  }

  /** Writes a 64-bit IEEE float, big-endian. */
  float64(n: number): this {
    this.ensure(8)
    this.view.setFloat64(this.pos, n)
    this.pos += 8
    return this
  }

  /** Writes raw bytes. */
  bytes(b: Uint8Array): this {
    this.ensure(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
    return this
  }

  /** Writes a string as UTF-8 without a terminator; throws {@link MalformedString} for a lone surrogate. */
  string(s: string): this {
    // Worst case 3 bytes per UTF-16 unit.
    const n = s.length
    this.ensure(n * 3)
    // Short ASCII strings (statement and portal names, identifiers): a plain loop is cheaper
    // than a TextEncoder call and its subarray view.
    if (n <= 32) {
      const buf = this.buf
      const pos = this.pos
      let i = 0
      for (; i < n; i++) {
        const c = s.charCodeAt(i)
        if (c >= 0x80) break
        buf[pos + i] = c
      }
      if (i === n) {
        this.pos = pos + n
        return this
      }
    }
    if (!s.isWellFormed()) throw malformed(s)
    const { written } = textEncoder.encodeInto(s, this.buf.subarray(this.pos))
    this.pos += written
    return this
  }

  /** Writes a string as UTF-8 followed by a NUL byte. */
  cstring(s: string): this {
    return this.string(s).byte(0)
  }

  /** Reserves 4 bytes for a length and returns their offset, for {@link patchLength}. */
  reserveLength(): number {
    const at = this.pos
    this.ensure(4)
    this.pos += 4
    return at
  }

  /** Writes at `at` the number of bytes written since `at` (the length includes itself). */
  patchLength(at: number): this {
    this.view.setInt32(at, this.pos - at)
    return this
  }

  /** Writes at `at` the number of bytes written after the 4-byte slot (a value length). */
  patchValueLength(at: number): this {
    this.view.setInt32(at, this.pos - at - 4)
    return this
  }

  /** The bytes written so far, as a view valid until the next write or reset. */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos)
  }

  /** The bytes written so far, copied into a new array. */
  finishCopy(): Uint8Array {
    return this.buf.slice(0, this.pos)
  }

  /** Forgets everything written; keeps the backing buffer. */
  reset(): this {
    this.pos = 0
    return this
  }
}
