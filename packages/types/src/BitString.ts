/**
 * `BitString`: an immutable `bit(n)` / `varbit` value, like asyncpg's `BitString`.
 *
 * The bits are kept packed (most significant bit of each byte first, the last byte zero-padded),
 * exactly as on the wire. `toString()` gives PostgreSQL's text (`"0101"`); `fromInt` / `toInt`
 * convert to and from integers like asyncpg's `from_int` / `to_int` (`bigint` on the JS side, so
 * any length works).
 *
 * @since 0.1.0
 */

/**
 * Which end of the bit string holds the most significant bit.
 *
 * @since 0.1.0
 * @category models
 */
export type BitOrder = "big" | "little"

const NO_BYTES = new Uint8Array(0)

/**
 * A string of bits.
 *
 * @example
 * ```ts
 * import { BitString } from "@pgfx/types/BitString"
 * const b = new BitString("1010")
 * b.length                           // 4
 * b.toInt()                          // 10n
 * String(BitString.fromInt(-1, 4, "big", { signed: true })) // "1111"
 * ```
 * @since 0.1.0
 * @category models
 */
export class BitString {
  #bytes: Uint8Array
  /** The number of bits. */
  readonly length: number

  /** A bit string from its text: `"0101"` (only `0` and `1`; throws RangeError otherwise). */
  constructor(bits = "") {
    if (bits.length === 0) {
      this.#bytes = NO_BYTES
      this.length = 0
      return
    }
    const bytes = new Uint8Array((bits.length + 7) >> 3)
    for (let i = 0; i < bits.length; i++) {
      const c = bits.charCodeAt(i)
      if (c === 49) bytes[i >> 3]! |= 0x80 >> (i & 7)
      else if (c !== 48) throw new RangeError(`"${bits[i]}" is not a valid binary digit`)
    }
    this.#bytes = bytes
    this.length = bits.length
  }

  /**
   * A bit string of `bitLength` bits packed in `bytes` (most significant bit first); the bytes are
   * copied and bits past `bitLength` cleared. Throws RangeError when `bytes` is too short.
   */
  static fromBytes(bytes: Uint8Array, bitLength: number = bytes.length * 8): BitString {
    const n = (bitLength + 7) >> 3
    if (!Number.isInteger(bitLength) || bitLength < 0 || bytes.length < n) {
      throw new RangeError(`${bytes.length} bytes cannot hold ${bitLength} bits`)
    }
    const copy = bytes.slice(0, n)
    if (bitLength & 7) copy[n - 1]! &= (0xff << (8 - (bitLength & 7))) & 0xff
    return BitString.wrap(copy, bitLength)
  }

  /**
   * Takes ownership of `bytes` (already zero-padded) without copying: for the codec's decoder.
   *
   * @internal
   */
  static wrap(bytes: Uint8Array, bitLength: number): BitString {
    const b = new BitString()
    b.#bytes = bytes
    ;(b as { length: number }).length = bitLength
    return b
  }

  /**
   * The bit string of `length` bits holding integer `x` (asyncpg's `from_int`). Negative integers
   * use two's complement and need `signed: true`. With `bitorder: "little"` the most significant
   * bit is at the end of the string. Throws RangeError when `x` does not fit.
   */
  static fromInt(
    x: bigint | number,
    length: number,
    bitorder: BitOrder = "big",
    options: { readonly signed?: boolean } = {},
  ): BitString {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`invalid bit length ${length}`)
    let v = BigInt(x)
    const size = 1n << BigInt(length)
    const min = options.signed === true ? -(size >> 1n) : 0n
    const max = options.signed === true ? (size >> 1n) - 1n : size - 1n
    if (length === 0 ? v !== 0n : v < min || v > max) {
      throw new RangeError(`${x} does not fit in ${length} ${options.signed === true ? "signed" : "unsigned"} bits`)
    }
    if (v < 0n) v += size
    let bits = length === 0 ? "" : v.toString(2).padStart(length, "0")
    if (bitorder === "little") bits = [...bits].reverse().join("")
    return new BitString(bits)
  }

  /**
   * The integer the bits spell (asyncpg's `to_int`): most significant bit first, or last with
   * `bitorder: "little"`; two's complement with `signed: true`.
   */
  toInt(bitorder: BitOrder = "big", options: { readonly signed?: boolean } = {}): bigint {
    if (this.length === 0) return 0n
    let bits = this.toString()
    if (bitorder === "little") bits = [...bits].reverse().join("")
    const v = BigInt(`0b${bits}`)
    return options.signed === true && bits.charCodeAt(0) === 49 ? v - (1n << BigInt(this.length)) : v
  }

  /** The packed bytes (a copy). */
  get bytes(): Uint8Array {
    return this.#bytes.slice()
  }

  /** The bit at `index` (0 is the first bit), or undefined past the end. */
  get(index: number): 0 | 1 | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) return undefined
    return (this.#bytes[index >> 3]! >> (7 - (index & 7))) & 1 ? 1 : 0
  }

  /** `"0101"`, as PostgreSQL prints it. */
  toString(): string {
    let s = ""
    for (let i = 0; i < this.length; i++) s += (this.#bytes[i >> 3]! >> (7 - (i & 7))) & 1 ? "1" : "0"
    return s
  }

  /** Same as {@link toString}. */
  toJSON(): string {
    return this.toString()
  }

  /** True when `that` has the same bits. */
  equals(that: BitString): boolean {
    if (this.length !== that.length) return false
    const a = this.#bytes
    const b = that.#bytes
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
  }

  /** The bits, first to last. */
  *[Symbol.iterator](): IterableIterator<0 | 1> {
    for (let i = 0; i < this.length; i++) yield this.get(i)!
  }
}
