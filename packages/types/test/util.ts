import { Writer } from "@pgfx/protocol/Writer"
import type { Codec } from "@pgfx/types/Codec"
import { EncodeError } from "@pgfx/types/Codec"

/** Encodes `value` in binary; returns a copy of the bytes. */
export const encode = (codec: Codec, value: unknown): Uint8Array => {
  const w = new Writer(8)
  codec.encodeBinary(value, w)
  return w.finishCopy()
}

/** Decodes `bytes` placed at a non-zero offset inside a larger buffer (checks offset handling). */
export const decode = <A>(codec: Codec<A>, bytes: Uint8Array): A => {
  const buf = new Uint8Array(bytes.length + 7)
  buf.fill(0xee)
  buf.set(bytes, 3)
  return codec.decodeBinary(buf, new DataView(buf.buffer), 3, bytes.length)
}

/** Binary encode then decode. */
export const roundTrip = <A>(codec: Codec<A>, value: unknown): A => decode(codec, encode(codec, value))

/** Hex string of bytes. */
export const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

/** Bytes of a hex string (spaces ignored). */
export const fromHex = (s: string): Uint8Array => {
  const clean = s.replace(/\s+/g, "")
  const out = new Uint8Array(clean.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16)
  return out
}

/** Runs `f` and returns the EncodeError it throws (fails otherwise). */
export const encodeErrorOf = (f: () => unknown): EncodeError => {
  try {
    f()
  } catch (e) {
    if (e instanceof EncodeError) return e
    throw new Error(`expected EncodeError, got ${String(e)}`)
  }
  throw new Error("expected EncodeError, nothing thrown")
}
