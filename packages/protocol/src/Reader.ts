/**
 * The incremental message reader: byte chunks in (as they arrive from a socket), complete
 * backend messages out, with a size limit.
 *
 * Usage: `push(chunk)` then call `next()` until it returns false; after each `true` the current
 * frame is `type` plus the body `buf[start, end)` (with `view` indexing the same bytes).
 *
 * Ownership: a frame usually points into the pushed chunk itself (no copy); a message split
 * across chunks is assembled into a buffer that grows with the bytes actually received (doubling,
 * up to the message's size), never allocated up front from the length a header announces. A frame is valid until the next
 * call to `next()` or `push()`: decode what you need before moving on. Pushed chunks must not be
 * mutated afterwards.
 *
 * Oversized messages: a message whose body is over `maxMessageSize` is not assembled. Its first
 * {@link OVERSIZED_HEAD} bytes (or `maxMessageSize`, when smaller) are kept (enough for the
 * leading fields of an ErrorResponse), the
 * rest is discarded as it arrives, and the frame is returned once the whole message has passed,
 * with {@link Reader.oversized} set to the announced body size (0 for every other frame). The
 * caller decides what an oversized message means (a typed error for a row, a truncated error
 * message, or a broken stream); the reader stays in sync either way.
 *
 * Errors: `next()` throws {@link InvalidMessageLength} for a length below 4, which leaves the
 * reader unusable (the stream is out of sync); it is the only thing the reader throws.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * A message larger than the configured limit where none may be (the reader itself skips oversized
 * messages and reports them through {@link Reader.oversized}; its users throw this). @since 0.1.0
 */
export class MessageTooLarge extends Data.TaggedError("MessageTooLarge")<{
  readonly messageType: number
  readonly size: number
  readonly limit: number
}> {
  override get message(): string {
    return `message '${String.fromCharCode(this.messageType)}' of ${this.size} bytes exceeds the limit of ${this.limit} bytes`
  }
}

/** A header announced a length below 4, which the protocol forbids. @since 0.1.0 */
export class InvalidMessageLength extends Data.TaggedError("InvalidMessageLength")<{
  readonly messageType: number
  readonly length: number
}> {
  override get message(): string {
    return `message '${String.fromCharCode(this.messageType)}' has invalid length ${this.length}`
  }
}

/** Options of {@link Reader}. @since 0.1.0 */
export interface ReaderOptions {
  /** Largest accepted message body in bytes (default 1 GiB, PostgreSQL's own limit). */
  readonly maxMessageSize?: number
}

/** The bytes kept of a message over `maxMessageSize` (see {@link Reader.oversized}). @since 0.1.0 */
export const OVERSIZED_HEAD = 64 * 1024

const EMPTY = new Uint8Array(0)
/** Initial capacity of the buffer a message split across chunks is assembled in. */
const INITIAL_ASSEMBLY = 1024 * 1024
const EMPTY_VIEW = new DataView(EMPTY.buffer)

const viewOf = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength)

/**
 * Frames PostgreSQL backend messages out of a byte stream.
 *
 * @example
 * ```ts
 * const reader = new Reader()
 * reader.push(new Uint8Array([0x5a, 0, 0, 0, 5, 0x49]))
 * while (reader.next()) console.log(String.fromCharCode(reader.type), reader.end - reader.start)
 * ```
 * @since 0.1.0
 */
export class Reader {
  /** Message type byte of the current frame. */
  type = 0
  /** Buffer holding the current frame's body. */
  buf: Uint8Array = EMPTY
  /** DataView over `buf`, same indexes. */
  view: DataView = EMPTY_VIEW
  /** Body start (inclusive). */
  start = 0
  /** Body end (exclusive). */
  end = 0
  /**
   * 0, or for a message over `maxMessageSize` its announced body size: the frame then holds only
   * the body's first {@link OVERSIZED_HEAD} bytes (or fewer), the rest was discarded.
   */
  oversized = 0

  readonly maxMessageSize: number
  /** The bytes kept of an oversized message's body: {@link OVERSIZED_HEAD}, or the limit when smaller. */
  private readonly headSize: number

  private cur: Uint8Array = EMPTY
  private curView: DataView = EMPTY_VIEW
  private off = 0
  // A message being assembled across chunks: `filled` of its `bigSize` bytes are in `big`.
  private big: Uint8Array | undefined = undefined
  private bigSize = 0
  private filled = 0
  private bigReady = false
  // An oversized message: its body size, and how many of its bytes are still to be discarded.
  private bigOversized = 0
  private skip = 0

  constructor(options: ReaderOptions = {}) {
    this.maxMessageSize = options.maxMessageSize ?? 1024 * 1024 * 1024
    this.headSize = Math.min(OVERSIZED_HEAD, this.maxMessageSize)
  }

  /** Bytes pushed but not yet returned as frames. */
  get buffered(): number {
    return this.cur.length - this.off + (this.big === undefined ? 0 : this.filled)
  }

  /**
   * Adds a chunk of bytes. A Node `Buffer` is viewed as a plain `Uint8Array` (no copy), so that
   * `slice` in decoders copies as the standard says (a Buffer's `slice` is a view).
   */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    if (Object.getPrototypeOf(chunk) !== Uint8Array.prototype) {
      chunk = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    }
    if (this.big !== undefined && !this.bigReady) {
      const need = this.bigSize - this.filled
      if (need > 0) {
        const take = chunk.length < need ? chunk.length : need
        const big = this.grow(this.filled + take)
        big.set(take === chunk.length ? chunk : chunk.subarray(0, take), this.filled)
        this.filled += take
        if (take < need) return
        chunk = chunk.subarray(take)
      }
      if (this.skip > 0) {
        const drop = chunk.length < this.skip ? chunk.length : this.skip
        this.skip -= drop
        if (this.skip > 0) return
        chunk = chunk.subarray(drop)
      }
      this.bigReady = true
      if (chunk.length === 0) return
    }
    const left = this.cur.length - this.off
    if (left === 0) {
      this.cur = chunk
      this.off = 0
    } else {
      // Only a partial header (< 5 bytes) or unread frames can remain; merge them.
      const merged = new Uint8Array(left + chunk.length)
      merged.set(this.cur.subarray(this.off), 0)
      merged.set(chunk, left)
      this.cur = merged
      this.off = 0
    }
    this.curView = viewOf(this.cur)
  }

  /** Advances to the next complete message; returns false when more bytes are needed. */
  next(): boolean {
    if (this.big !== undefined) {
      if (!this.bigReady) return false
      const big = this.big
      this.big = undefined
      this.bigReady = false
      this.type = big[0]!
      this.buf = big
      this.view = viewOf(big)
      this.start = 5
      this.end = this.bigSize
      this.oversized = this.bigOversized
      this.bigOversized = 0
      return true
    }
    const cur = this.cur
    const off = this.off
    const left = cur.length - off
    if (left < 5) return false
    const type = cur[off]!
    const length = this.curView.getInt32(off + 1)
    if (length < 4) throw new InvalidMessageLength({ messageType: type, length })
    const bodySize = length - 4
    const total = length + 1
    const oversized = bodySize > this.maxMessageSize
    // What is returned of the message: all of it, or the head of an oversized one.
    const kept = oversized ? 5 + Math.min(bodySize, this.headSize) : total
    if (left >= total) {
      this.type = type
      this.buf = cur
      this.view = this.curView
      this.start = off + 5
      this.end = off + kept
      this.off = off + total
      this.oversized = oversized ? bodySize : 0
      return true
    }
    // Start assembling a message that spans chunks (only its head, when oversized).
    const have = left < kept ? left : kept
    this.bigSize = kept
    this.big = new Uint8Array(oversized ? kept : Math.min(total, Math.max(left, INITIAL_ASSEMBLY)))
    this.big.set(cur.subarray(off, off + have), 0)
    this.filled = have
    this.skip = total - kept - (left - have)
    this.bigOversized = oversized ? bodySize : 0
    this.bigReady = false
    this.cur = EMPTY
    this.curView = EMPTY_VIEW
    this.off = 0
    return false
  }

  /** The assembly buffer with room for `size` bytes: doubled as needed, never beyond the message. */
  private grow(size: number): Uint8Array {
    const big = this.big!
    if (size <= big.length) return big
    const grown = new Uint8Array(Math.min(this.bigSize, Math.max(size, big.length * 2)))
    grown.set(big.subarray(0, this.filled), 0)
    this.big = grown
    return grown
  }
}
