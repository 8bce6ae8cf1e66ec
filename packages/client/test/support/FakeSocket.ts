/**
 * A socket for sessions under test without a server: it records what the session writes and
 * how it ends the connection; the test feeds the server's bytes with `socket.emit("data", ...)`.
 */
import { EventEmitter } from "node:events"
import type * as net from "node:net"

export class FakeSocket extends EventEmitter {
  /** Each `write` call's bytes, in order. */
  readonly writes: Array<Uint8Array> = []
  /** The bytes of `end`, when the session ended the connection (Terminate). */
  ended: Uint8Array | undefined = undefined
  destroyed = false
  paused = false
  write(b: Uint8Array): boolean {
    this.writes.push(b)
    return true
  }
  destroy(): this {
    this.destroyed = true
    return this
  }
  pause(): this {
    this.paused = true
    return this
  }
  resume(): this {
    this.paused = false
    return this
  }
  cork(): void {}
  uncork(): void {}
  end(bytes?: Uint8Array): void {
    this.ended = bytes ?? new Uint8Array(0)
  }
  /** This socket as the type sessions take. */
  get asSocket(): net.Socket {
    return this as unknown as net.Socket
  }
}
