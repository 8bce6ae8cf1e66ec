/**
 * `Tid`: a PostgreSQL tuple identifier (`ctid`), the physical location of a row version: a block
 * number and an item offset inside the block. asyncpg returns a `(block, offset)` tuple; pgfx uses
 * a small class so that `tid[]` stays unambiguous.
 *
 * @since 0.1.0
 */

/**
 * A `tid` value `(block,offset)`.
 *
 * @example
 * ```ts
 * import { Tid } from "@pgfx/types/Tid"
 * String(new Tid(0, 1)) // "(0,1)"
 * ```
 * @since 0.1.0
 * @category models
 */
export class Tid {
  /** Block number, 0 to 4294967295. */
  readonly block: number
  /** Item offset within the block, 0 to 65535. */
  readonly offset: number
  constructor(block: number, offset: number) {
    if (!Number.isInteger(block) || block < 0 || block > 4294967295) throw new RangeError(`invalid block ${block}`)
    if (!Number.isInteger(offset) || offset < 0 || offset > 65535) throw new RangeError(`invalid offset ${offset}`)
    this.block = block
    this.offset = offset
  }
  /** `(block,offset)`, as PostgreSQL prints it. */
  toString(): string {
    return `(${this.block},${this.offset})`
  }
  toJSON(): string {
    return this.toString()
  }
  equals(that: Tid): boolean {
    return this.block === that.block && this.offset === that.offset
  }
}

const TID_TEXT = /^\((\d+),(\d+)\)$/

/**
 * Parses `(block,offset)`; undefined for anything else.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseTid = (text: string): Tid | undefined => {
  const m = TID_TEXT.exec(text)
  if (m === null) return undefined
  try {
    return new Tid(Number(m[1]), Number(m[2]))
  } catch {
    return undefined
  }
}
