import { describe, expect, it } from "@effect/vitest"
import * as Backend from "@pgfx/protocol/Backend"
import * as BackendEncoder from "@pgfx/protocol/BackendEncoder"
import { InvalidMessageLength, OVERSIZED_HEAD, Reader } from "@pgfx/protocol/Reader"
import { Writer } from "@pgfx/protocol/Writer"

const text = (s: string): Uint8Array => new TextEncoder().encode(s)

/** mulberry32: a small seeded PRNG so failures reproduce. */
const prng = (seed: number) => (): number => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const messages: ReadonlyArray<Backend.BackendMessage> = [
  { _tag: "AuthenticationOk" },
  { _tag: "ParameterStatus", name: "server_version", value: "18.0" },
  { _tag: "BackendKeyData", processId: 7, secretKey: new Uint8Array([1, 2, 3, 4]) },
  { _tag: "ReadyForQuery", status: "I" },
  { _tag: "ParseComplete" },
  { _tag: "BindComplete" },
  {
    _tag: "RowDescription",
    fields: [{ name: "n", tableOid: 0, columnAttribute: 0, typeOid: 23, typeSize: 4, typeModifier: -1, format: 1 }],
  },
  { _tag: "DataRow", fields: [new Uint8Array([0, 0, 0, 1])] },
  { _tag: "DataRow", fields: [null] },
  { _tag: "DataRow", fields: [text("x".repeat(300))] },
  { _tag: "EmptyQueryResponse" },
  { _tag: "CommandComplete", tag: "SELECT 3" },
  { _tag: "ReadyForQuery", status: "T" },
]

const stream = BackendEncoder.toBytes(...messages)

/** Feeds `chunks` to a fresh reader, decoding every frame as soon as it is complete. */
const feed = (chunks: Iterable<Uint8Array>, reader = new Reader()): Array<Backend.BackendMessage> => {
  const out: Array<Backend.BackendMessage> = []
  for (const c of chunks) {
    reader.push(c)
    while (reader.next()) out.push(Backend.decode(reader.type, reader.buf, reader.view, reader.start, reader.end))
  }
  return out
}

const caught = (f: () => unknown): unknown => {
  try {
    f()
  } catch (e) {
    return e
  }
  throw new Error("expected an error")
}

describe("Reader framing", () => {
  it("reads a whole stream pushed at once", () => {
    const r = new Reader()
    expect(feed([stream], r)).toEqual(messages)
    expect(r.buffered).toBe(0)
    expect(r.next()).toBe(false)
  })

  it("one byte at a time", () => {
    const r = new Reader()
    expect(
      feed(
        Array.from(stream, (b) => new Uint8Array([b])),
        r,
      ),
    ).toEqual(messages)
    expect(r.buffered).toBe(0)
  })

  it("split into two chunks at every byte boundary", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(feed([stream.subarray(0, cut), stream.subarray(cut)])).toEqual(messages)
    }
  })

  it("split into three chunks at many boundary pairs", () => {
    for (let a = 0; a < stream.length; a += 3) {
      for (let b = a; b <= stream.length; b += 7) {
        expect(feed([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)])).toEqual(messages)
      }
    }
  })

  it("random chunk sizes (seeded)", () => {
    const rand = prng(42)
    for (let iter = 0; iter < 300; iter++) {
      const chunks: Array<Uint8Array> = []
      for (let pos = 0; pos < stream.length;) {
        const size = 1 + Math.floor(rand() * (rand() < 0.5 ? 8 : 200))
        chunks.push(stream.slice(pos, pos + size))
        pos += size
      }
      expect(feed(chunks)).toEqual(messages)
    }
  })

  it("a frame stays valid until the next call, even when the pushed chunk is shared", () => {
    const r = new Reader()
    r.push(stream)
    expect(r.next()).toBe(true)
    expect(r.type).toBe(0x52)
    expect(r.end - r.start).toBe(4)
    expect(r.buf).toBe(stream) // no copy for a frame inside one chunk
  })

  it("a partial header is kept across pushes", () => {
    const r = new Reader()
    const rfq = BackendEncoder.toBytes({ _tag: "ReadyForQuery", status: "E" })
    r.push(rfq.subarray(0, 2))
    expect(r.next()).toBe(false)
    expect(r.buffered).toBe(2)
    r.push(rfq.subarray(2, 4))
    expect(r.next()).toBe(false)
    r.push(rfq.subarray(4))
    expect(r.next()).toBe(true)
    expect(Backend.decode(r.type, r.buf, r.view, r.start, r.end)).toEqual({ _tag: "ReadyForQuery", status: "E" })
  })

  it("empty pushes are ignored", () => {
    const r = new Reader()
    r.push(new Uint8Array(0))
    expect(r.next()).toBe(false)
    expect(feed([new Uint8Array(0), stream, new Uint8Array(0)], r)).toEqual(messages)
  })

  it("an empty body (length 4) is a valid frame", () => {
    const r = new Reader()
    r.push(new Uint8Array([0x31, 0, 0, 0, 4]))
    expect(r.next()).toBe(true)
    expect(r.end - r.start).toBe(0)
  })
})

describe("Reader large messages", () => {
  it("assembles a 4 MiB DataRow from 64 KiB chunks, then continues with the next frame", () => {
    const cell = new Uint8Array(4 * 1024 * 1024)
    for (let i = 0; i < cell.length; i++) cell[i] = (i * 31) & 0xff
    const w = new Writer()
    BackendEncoder.encode(w, { _tag: "CommandComplete", tag: "BEGIN" })
    BackendEncoder.encode(w, { _tag: "DataRow", fields: [cell, null] })
    BackendEncoder.encode(w, { _tag: "CommandComplete", tag: "SELECT 1" })
    const all = w.finishCopy()
    const chunks: Array<Uint8Array> = []
    for (let pos = 0; pos < all.length; pos += 65536) chunks.push(all.subarray(pos, pos + 65536))
    expect(chunks.length).toBeGreaterThan(50)
    const r = new Reader()
    const got = feed(chunks, r)
    expect(got.map((m) => m._tag)).toEqual(["CommandComplete", "DataRow", "CommandComplete"])
    const row = got[1]!
    const got0 = row._tag === "DataRow" ? row.fields[0] : null
    expect(got0 != null && Buffer.from(got0).equals(Buffer.from(cell))).toBe(true)
    expect(r.buffered).toBe(0)
  })

  it("a big message's final chunk may carry the following frames", () => {
    const big = BackendEncoder.toBytes({ _tag: "CopyData", data: new Uint8Array(10_000).fill(9) })
    const tail = BackendEncoder.toBytes({ _tag: "CopyDone" }, { _tag: "CommandComplete", tag: "COPY 1" })
    const joined = new Uint8Array(big.length + tail.length)
    joined.set(big)
    joined.set(tail, big.length)
    const got = feed([joined.subarray(0, 100), joined.subarray(100, 5000), joined.subarray(5000)])
    expect(got.map((m) => m._tag)).toEqual(["CopyData", "CopyDone", "CommandComplete"])
  })

  it("the limit allows exactly maxMessageSize bytes of body", () => {
    const r = new Reader({ maxMessageSize: 100 })
    const ok = BackendEncoder.toBytes({ _tag: "CopyData", data: new Uint8Array(100) })
    expect(feed([ok], r).length).toBe(1)
  })

  it("a message over the limit is skipped: its head kept, oversized set, the stream stays in sync", () => {
    const big = BackendEncoder.toBytes({ _tag: "CopyData", data: new Uint8Array(200_000).fill(7) })
    const small = BackendEncoder.toBytes({ _tag: "CopyData", data: new Uint8Array(500).fill(8) })
    const ready = BackendEncoder.toBytes({ _tag: "ReadyForQuery", status: "I" })
    const stream = new Uint8Array([...big, ...small, ...ready])
    const rand = prng(26)
    for (const mode of ["whole", "random", "split"] as const) {
      const r = new Reader({ maxMessageSize: 1024 })
      const frames: Array<{ type: number; length: number; oversized: number; first: number }> = []
      const drain = () => {
        while (r.next()) {
          frames.push({ type: r.type, length: r.end - r.start, oversized: r.oversized, first: r.buf[r.start] ?? -1 })
        }
      }
      if (mode === "whole") r.push(stream)
      let at = 0
      while (mode !== "whole" && at < stream.length) {
        const n = mode === "split" ? (at === 0 ? 3 : stream.length) : 1 + Math.floor(rand() * 9000)
        r.push(stream.subarray(at, at + n))
        at += n
        drain()
      }
      drain()
      expect(frames).toEqual([
        { type: 0x64, length: 1024, oversized: 200_000, first: 7 },
        { type: 0x64, length: 500, oversized: 0, first: 8 },
        { type: 0x5a, length: 1, oversized: 0, first: 0x49 },
      ])
      expect(r.buffered).toBe(0)
    }
  })

  it("the head kept is at most OVERSIZED_HEAD, and at most the limit", () => {
    const r = new Reader({ maxMessageSize: 1024 })
    r.push(BackendEncoder.toBytes({ _tag: "CopyData", data: new Uint8Array(5000) }))
    expect(r.next()).toBe(true)
    expect([r.end - r.start, r.oversized]).toEqual([1024, 5000])
    const big = new Reader({ maxMessageSize: 100_000 })
    big.push(BackendEncoder.toBytes({ _tag: "CopyData", data: new Uint8Array(300_000) }))
    expect(big.next()).toBe(true)
    expect([big.end - big.start, big.oversized]).toEqual([OVERSIZED_HEAD, 300_000])
  })

  it("a 2 GiB header over the default limit (1 GiB) allocates only the head", () => {
    const r = new Reader()
    const before = process.memoryUsage().arrayBuffers
    r.push(new Uint8Array([0x44, 0x7f, 0xff, 0xff, 0xff]))
    expect(r.next()).toBe(false)
    r.push(new Uint8Array(4 * 1024 * 1024))
    expect(r.next()).toBe(false)
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024)
  })
})

describe("Reader memory follows the bytes received", () => {
  it("a header announcing 1 GiB does not allocate 1 GiB: the buffer grows with what arrives", () => {
    const r = new Reader()
    const before = process.memoryUsage().arrayBuffers
    // DataRow announcing a body of exactly the default limit, followed by 3 MiB of it.
    const header = new Uint8Array([0x44, 0x40, 0x00, 0x00, 0x04])
    r.push(header)
    expect(r.next()).toBe(false)
    const piece = new Uint8Array(64 * 1024)
    for (let i = 0; i < 48; i++) {
      r.push(piece)
      expect(r.next()).toBe(false)
    }
    expect(r.buffered).toBe(5 + 48 * piece.length)
    const grown = process.memoryUsage().arrayBuffers - before
    // At most twice what arrived (doubling) plus the initial capacity; nowhere near 1 GiB.
    expect(grown).toBeLessThan(16 * 1024 * 1024)
  })

  it("a message assembled through several growths comes out intact", () => {
    const cell = new Uint8Array(5 * 1024 * 1024 + 17)
    for (let i = 0; i < cell.length; i++) cell[i] = (i * 7 + 3) & 0xff
    const all = BackendEncoder.toBytes({ _tag: "DataRow", fields: [cell] }, { _tag: "CommandComplete", tag: "X" })
    const rand = prng(15)
    const chunks: Array<Uint8Array> = []
    for (let pos = 0; pos < all.length;) {
      const n = 1 + Math.floor(rand() * 300_000)
      chunks.push(all.subarray(pos, pos + n))
      pos += n
    }
    const got = feed(chunks)
    expect(got.map((m) => m._tag)).toEqual(["DataRow", "CommandComplete"])
    const row = got[0]!
    const field = row._tag === "DataRow" ? row.fields[0] : null
    expect(field != null && Buffer.from(field).equals(Buffer.from(cell))).toBe(true)
  })
})

describe("Reader invalid lengths", () => {
  for (const length of [0, 1, 3, -1, -2147483648]) {
    it(`length ${length} raises InvalidMessageLength`, () => {
      const w = new Writer(16)
      w.byte(0x5a).int32(length).byte(0x49)
      const r = new Reader()
      r.push(w.finishCopy())
      const e = caught(() => r.next())
      expect(e).toBeInstanceOf(InvalidMessageLength)
      expect((e as InvalidMessageLength).length).toBe(length)
      expect((e as InvalidMessageLength).messageType).toBe(0x5a)
    })
  }

  it("after valid frames", () => {
    const w = new Writer()
    w.bytes(stream).byte(0x5a).int32(2)
    const r = new Reader()
    r.push(w.finishCopy())
    let n = 0
    expect(
      caught(() => {
        while (r.next()) n++
      }),
    ).toBeInstanceOf(InvalidMessageLength)
    expect(n).toBe(messages.length)
  })
})
