/**
 * A raw protocol connection for the golden capture scripts: it speaks the protocol over a
 * `node:net` socket using only `@pgfx/protocol`'s encoders and reader, and records both sides of
 * each step as hex.
 */
import * as net from "node:net"
import * as Backend from "@pgfx/protocol/Backend"
import * as Frontend from "@pgfx/protocol/Frontend"
import { Reader } from "@pgfx/protocol/Reader"
import type { Writer } from "@pgfx/protocol/Writer"

export interface Target {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly database: string
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex")
export const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => Buffer.concat(parts)
export const build = (f: (w: Writer) => unknown): Uint8Array => Frontend.build(f)

export interface Frame {
  readonly bytes: Uint8Array
  readonly msg: Backend.BackendMessage
}

/** A raw protocol connection: sends bytes, frames and decodes what the server answers. */
export class RawConn {
  readonly socket: net.Socket
  private readonly reader = new Reader()
  private readonly frames: Array<Frame> = []
  private raw: Array<number> | undefined = undefined
  private wake: (() => void) | undefined = undefined
  private ended = false
  private failure: Error | undefined = undefined

  private constructor(socket: net.Socket) {
    this.socket = socket
    socket.on("data", (chunk: Buffer) => this.onData(new Uint8Array(chunk)))
    socket.on("error", (e) => {
      this.failure = e
      this.notify()
    })
    socket.on("close", () => {
      this.ended = true
      this.notify()
    })
  }

  static open(t: Target): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: t.host, port: t.port })
      socket.setNoDelay(true)
      socket.once("connect", () => resolve(new RawConn(socket)))
      socket.once("error", reject)
    })
  }

  private notify(): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  private onData(chunk: Uint8Array): void {
    let rest = chunk
    // Raw mode: the server's single-byte answer to SSLRequest / GSSENCRequest.
    if (this.raw !== undefined && rest.length > 0) {
      this.raw.push(rest[0]!)
      rest = rest.subarray(1)
    }
    this.reader.push(rest)
    while (this.reader.next()) {
      const r = this.reader
      const bytes = r.buf.slice(r.start - 5, r.end)
      this.frames.push({ bytes, msg: Backend.decode(r.type, r.buf, r.view, r.start, r.end) })
    }
    this.notify()
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes)
  }

  private wait(what: string): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.ended) return Promise.reject(new Error(`connection closed while waiting for ${what}`))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 15_000)
      this.wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  /** Takes the frames up to and including the first one matching `pred`. */
  async until(what: string, pred: (m: Backend.BackendMessage) => boolean): Promise<Array<Frame>> {
    for (;;) {
      const i = this.frames.findIndex((f) => pred(f.msg))
      if (i >= 0) return this.frames.splice(0, i + 1)
      await this.wait(what)
    }
  }

  untilReady(): Promise<Array<Frame>> {
    return this.until("ReadyForQuery", (m) => m._tag === "ReadyForQuery")
  }

  /** Sends a request whose answer is one untyped byte, and returns that byte. */
  async oneByteAnswer(request: Uint8Array): Promise<number> {
    this.raw = []
    this.send(request)
    while (this.raw.length === 0) await this.wait("a one-byte answer")
    const b = this.raw[0]!
    this.raw = undefined
    return b
  }

  async closed(): Promise<void> {
    while (!this.ended) await this.wait("close").catch(() => undefined)
  }

  close(): void {
    this.socket.destroy()
  }
}

export interface Step {
  readonly name: string
  readonly description: string
  readonly client: string
  readonly server: string
}

export const steps = (): { readonly list: Array<Step>; add: (s: Step) => void } => {
  const list: Array<Step> = []
  return { list, add: (s) => void list.push(s) }
}

/** Sends `client`, waits for ReadyForQuery, records both sides. */
export const exchange = async (
  conn: RawConn,
  record: (s: Step) => void,
  name: string,
  description: string,
  client: Uint8Array,
): Promise<Array<Frame>> => {
  conn.send(client)
  const frames = await conn.untilReady()
  record({ name, description, client: hex(client), server: hex(concat(frames.map((f) => f.bytes))) })
  return frames
}
