/**
 * Decoders for frontend (client to server) messages: the reverse of `Frontend.ts`. A client never
 * needs them; tests and `MockBackend` do, to check what a client put on the wire.
 *
 * Two kinds of frames exist. The first frame(s) of a connection are untyped: a 4-byte length and
 * a 4-byte code (StartupMessage with a protocol version, SSLRequest, GSSENCRequest,
 * CancelRequest); see {@link decodeStartup}. After the StartupMessage every frame is typed (type
 * byte, length, body) like backend frames, so {@link Reader} frames them and {@link decode} turns
 * a body into a {@link FrontendMessage}. {@link FrontendReader} does both in sequence.
 *
 * The 'p' message is ambiguous on its own (PasswordMessage, SASLInitialResponse, SASLResponse and
 * GSSResponse share it; only the authentication exchange tells them apart), so it decodes to an
 * {@link AuthenticationResponse} holding the raw body, read with {@link passwordOf},
 * {@link saslInitialResponseOf} or {@link saslResponseOf}.
 *
 * Ownership: decoded messages own their data (strings and copied byte arrays).
 *
 * Errors: malformed bodies raise {@link ProtocolViolation}; the readers also raise the
 * {@link Reader}'s {@link MessageTooLarge} and {@link InvalidMessageLength}. Nothing else is
 * thrown.
 *
 * @since 0.1.0
 */
import { BodyReader, ProtocolViolation } from "./Backend.ts"
import { CANCEL_REQUEST_CODE, GSSENC_REQUEST_CODE, SSL_REQUEST_CODE } from "./Frontend.ts"
import { InvalidMessageLength, MessageTooLarge, Reader, type ReaderOptions } from "./Reader.ts"

/** Message type bytes of the typed frontend messages. @since 0.1.0 */
export const Type = {
  Bind: 0x42, // B
  Close: 0x43, // C
  CopyData: 0x64, // d
  CopyDone: 0x63, // c
  CopyFail: 0x66, // f
  Describe: 0x44, // D
  Execute: 0x45, // E
  Flush: 0x48, // H
  FunctionCall: 0x46, // F
  Parse: 0x50, // P
  AuthenticationResponse: 0x70, // p
  Query: 0x51, // Q
  Sync: 0x53, // S
  Terminate: 0x58, // X
} as const

/**
 * A 'p' message: the body of a PasswordMessage, SASLInitialResponse, SASLResponse or
 * GSSResponse; which one depends on the authentication request it answers.
 * @since 0.1.0
 */
export interface AuthenticationResponse {
  readonly _tag: "AuthenticationResponse"
  readonly body: Uint8Array
}

/** Every typed frontend message, discriminated by `_tag`. @since 0.1.0 */
export type FrontendMessage =
  | AuthenticationResponse
  | {
      readonly _tag: "Bind"
      readonly portal: string
      readonly statement: string
      readonly paramFormats: ReadonlyArray<number>
      readonly values: ReadonlyArray<Uint8Array | null>
      readonly resultFormats: ReadonlyArray<number>
    }
  | { readonly _tag: "Close"; readonly kind: "S" | "P"; readonly name: string }
  | { readonly _tag: "CopyData"; readonly data: Uint8Array }
  | { readonly _tag: "CopyDone" }
  | { readonly _tag: "CopyFail"; readonly message: string }
  | { readonly _tag: "Describe"; readonly kind: "S" | "P"; readonly name: string }
  | { readonly _tag: "Execute"; readonly portal: string; readonly maxRows: number }
  | { readonly _tag: "Flush" }
  | {
      readonly _tag: "FunctionCall"
      readonly functionOid: number
      readonly argFormats: ReadonlyArray<number>
      readonly args: ReadonlyArray<Uint8Array | null>
      readonly resultFormat: number
    }
  | {
      readonly _tag: "Parse"
      readonly name: string
      readonly sql: string
      readonly paramTypes: ReadonlyArray<number>
    }
  | { readonly _tag: "Query"; readonly sql: string }
  | { readonly _tag: "Sync" }
  | { readonly _tag: "Terminate" }

/** The untyped frames a connection may start with. @since 0.1.0 */
export type StartupFrame =
  | {
      readonly _tag: "StartupMessage"
      /** Protocol version: major in the high 16 bits, minor in the low 16 (196608 = 3.0). */
      readonly version: number
      readonly parameters: Readonly<Record<string, string>>
    }
  | { readonly _tag: "SSLRequest" }
  | { readonly _tag: "GSSENCRequest" }
  | {
      readonly _tag: "CancelRequest"
      readonly processId: number
      /** 4 bytes in protocol 3.0, up to 256 in 3.2. */
      readonly secretKey: Uint8Array
    }

/** Anything a client sends: a startup frame or a typed message. @since 0.1.0 */
export type ClientMessage = StartupFrame | FrontendMessage

/** PostgreSQL's limit on a startup packet (MAX_STARTUP_PACKET_LENGTH). @since 0.1.0 */
export const MAX_STARTUP_PACKET_LENGTH = 10000

const violation = (message: string, messageType?: string): ProtocolViolation =>
  messageType === undefined ? new ProtocolViolation({ message }) : new ProtocolViolation({ message, messageType })

class StartupBody extends BodyReader {
  override fail(what: string): never {
    throw violation(`malformed startup packet: ${what}`)
  }
}

const viewOf = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength)

const formatList = (r: BodyReader): Array<number> => {
  const n = r.uint16()
  const out: Array<number> = []
  for (let i = 0; i < n; i++) out.push(r.int16())
  return out
}

const valueList = (r: BodyReader): Array<Uint8Array | null> => {
  const n = r.uint16()
  const out: Array<Uint8Array | null> = []
  for (let i = 0; i < n; i++) {
    const len = r.int32()
    if (len < -1) r.fail(`bad value length ${len}`)
    out.push(len === -1 ? null : r.bytes(len))
  }
  return out
}

const kindOf = (r: BodyReader): "S" | "P" => {
  const k = r.int8()
  if (k === 0x53) return "S"
  if (k === 0x50) return "P"
  return r.fail(`bad target kind 0x${k.toString(16)}`)
}

const noBody = <T extends string>(r: BodyReader, tag: T): { readonly _tag: T } => {
  r.done()
  return { _tag: tag }
}

/**
 * Decodes one typed frontend message body `buf[start, end)` of type byte `type` (as framed by
 * {@link Reader}).
 *
 * Errors: throws {@link ProtocolViolation} on an unknown type or a malformed body.
 *
 * @example
 * ```ts
 * const body = new TextEncoder().encode("SELECT 1\0")
 * decode(0x51, body, new DataView(body.buffer), 0, body.length)
 * // { _tag: "Query", sql: "SELECT 1" }
 * ```
 * @since 0.1.0
 */
export const decode = (type: number, buf: Uint8Array, view: DataView, start: number, end: number): FrontendMessage => {
  const r = new BodyReader(buf, view, start, end, type)
  let msg: FrontendMessage
  switch (type) {
    case Type.AuthenticationResponse:
      return { _tag: "AuthenticationResponse", body: r.rest() }
    case Type.Bind: {
      const portal = r.cstring()
      const statement = r.cstring()
      const paramFormats = formatList(r)
      const values = valueList(r)
      const resultFormats = formatList(r)
      msg = { _tag: "Bind", portal, statement, paramFormats, values, resultFormats }
      break
    }
    case Type.Close:
      msg = { _tag: "Close", kind: kindOf(r), name: r.cstring() }
      break
    case Type.CopyData:
      return { _tag: "CopyData", data: r.rest() }
    case Type.CopyDone:
      return noBody(r, "CopyDone")
    case Type.CopyFail:
      msg = { _tag: "CopyFail", message: r.cstring() }
      break
    case Type.Describe:
      msg = { _tag: "Describe", kind: kindOf(r), name: r.cstring() }
      break
    case Type.Execute:
      msg = { _tag: "Execute", portal: r.cstring(), maxRows: r.int32() }
      break
    case Type.Flush:
      return noBody(r, "Flush")
    case Type.FunctionCall: {
      const functionOid = r.uint32()
      const argFormats = formatList(r)
      const args = valueList(r)
      const resultFormat = r.int16()
      msg = { _tag: "FunctionCall", functionOid, argFormats, args, resultFormat }
      break
    }
    case Type.Parse: {
      const name = r.cstring()
      const sql = r.cstring()
      const n = r.uint16()
      const paramTypes: Array<number> = []
      for (let i = 0; i < n; i++) paramTypes.push(r.uint32())
      msg = { _tag: "Parse", name, sql, paramTypes }
      break
    }
    case Type.Query:
      msg = { _tag: "Query", sql: r.cstring() }
      break
    case Type.Sync:
      return noBody(r, "Sync")
    case Type.Terminate:
      return noBody(r, "Terminate")
    default:
      throw violation(`unknown frontend message type 0x${type.toString(16)}`, String.fromCharCode(type))
  }
  r.done()
  return msg
}

/**
 * Decodes one complete untyped startup frame: `frame` holds the whole packet, starting with its
 * 4-byte length (which must equal `frame.length`).
 *
 * Details: codes 80877103 / 80877104 / 80877102 are SSLRequest / GSSENCRequest / CancelRequest;
 * any other code with major version 1234 is refused; everything else is a StartupMessage whose
 * version the caller judges (PostgreSQL accepts 3.x and negotiates the minor).
 *
 * Errors: {@link ProtocolViolation} for a malformed packet.
 * @since 0.1.0
 */
export const decodeStartup = (frame: Uint8Array): StartupFrame => {
  const r = new StartupBody(frame, viewOf(frame), 0, frame.length, 0)
  const length = r.int32()
  if (length !== frame.length) r.fail(`length ${length} does not match frame size ${frame.length}`)
  const code = r.int32()
  switch (code) {
    case SSL_REQUEST_CODE:
      r.done()
      return { _tag: "SSLRequest" }
    case GSSENC_REQUEST_CODE:
      r.done()
      return { _tag: "GSSENCRequest" }
    case CANCEL_REQUEST_CODE: {
      const processId = r.int32()
      const secretKey = r.rest()
      if (secretKey.length < 4 || secretKey.length > 256) {
        r.fail(`bad cancel key length ${secretKey.length}`)
      }
      return { _tag: "CancelRequest", processId, secretKey }
    }
  }
  if (code >>> 16 === 1234) r.fail(`unknown request code ${code}`)
  const entries: Array<[string, string]> = []
  for (;;) {
    const name = r.cstring()
    if (name === "") break
    entries.push([name, r.cstring()])
  }
  r.done()
  // fromEntries defines own properties, so a "__proto__" parameter cannot touch the prototype.
  return { _tag: "StartupMessage", version: code, parameters: Object.fromEntries(entries) }
}

/**
 * Reads a PasswordMessage: the NUL-terminated password (cleartext or "md5..." hash).
 * Errors: {@link ProtocolViolation} if the body is not one C string.
 * @since 0.1.0
 */
export const passwordOf = (msg: AuthenticationResponse): string => {
  const r = new BodyReader(msg.body, viewOf(msg.body), 0, msg.body.length, Type.AuthenticationResponse)
  const s = r.cstring()
  r.done()
  return s
}

/**
 * Reads a SASLInitialResponse: the chosen mechanism and the initial data (`null` when the client
 * sent length -1, i.e. no initial response).
 * Errors: {@link ProtocolViolation} if the body does not have that shape.
 * @since 0.1.0
 */
export const saslInitialResponseOf = (
  msg: AuthenticationResponse,
): { readonly mechanism: string; readonly data: Uint8Array | null } => {
  const r = new BodyReader(msg.body, viewOf(msg.body), 0, msg.body.length, Type.AuthenticationResponse)
  const mechanism = r.cstring()
  const len = r.int32()
  if (len < -1) r.fail(`bad SASL data length ${len}`)
  const data = len === -1 ? null : r.bytes(len)
  r.done()
  return { mechanism, data }
}

/** Reads a SASLResponse (or GSSResponse): the raw mechanism data. @since 0.1.0 */
export const saslResponseOf = (msg: AuthenticationResponse): Uint8Array => msg.body.slice()

/**
 * Reads a client's byte stream the way a server does: untyped startup frames first (SSLRequest
 * and GSSENCRequest may precede the StartupMessage), typed messages after the StartupMessage.
 *
 * Usage: `push(chunk)`, then call `next()` until it returns `undefined`.
 *
 * Errors: `next()` throws {@link ProtocolViolation}, {@link MessageTooLarge} (a startup packet
 * over {@link MAX_STARTUP_PACKET_LENGTH}, a typed message over `maxMessageSize`) or
 * {@link InvalidMessageLength}; after an error the stream is out of sync.
 *
 * @example
 * ```ts
 * const reader = new FrontendReader()
 * reader.push(Frontend.build((w) => Frontend.startup(w, { user: "u" })))
 * reader.next() // { _tag: "StartupMessage", version: 196608, parameters: { user: "u" } }
 * ```
 * @since 0.1.0
 */
export class FrontendReader {
  /** True until a StartupMessage (or CancelRequest) has been read. */
  inStartup = true
  private readonly reader: Reader
  private pending: Uint8Array = new Uint8Array(0)

  constructor(options: ReaderOptions = {}) {
    this.reader = new Reader(options)
  }

  /** Adds a chunk of bytes; chunks must not be mutated afterwards. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    if (!this.inStartup) {
      this.reader.push(chunk)
      return
    }
    const merged = new Uint8Array(this.pending.length + chunk.length)
    merged.set(this.pending, 0)
    merged.set(chunk, this.pending.length)
    this.pending = merged
  }

  /** The next complete message, or `undefined` when more bytes are needed. */
  next(): ClientMessage | undefined {
    if (!this.inStartup) {
      const r = this.reader
      if (!r.next()) return undefined
      if (r.oversized !== 0)
        throw new MessageTooLarge({ messageType: r.type, size: r.oversized, limit: r.maxMessageSize })
      return decode(r.type, r.buf, r.view, r.start, r.end)
    }
    const p = this.pending
    if (p.length < 4) return undefined
    const length = viewOf(p).getInt32(0)
    if (length < 8) throw new InvalidMessageLength({ messageType: 0, length })
    if (length > MAX_STARTUP_PACKET_LENGTH) {
      throw new MessageTooLarge({ messageType: 0, size: length, limit: MAX_STARTUP_PACKET_LENGTH })
    }
    if (p.length < length) return undefined
    const frame = decodeStartup(p.subarray(0, length))
    this.pending = p.subarray(length)
    if (frame._tag === "StartupMessage" || frame._tag === "CancelRequest") {
      this.inStartup = false
      const rest = this.pending
      this.pending = new Uint8Array(0)
      this.reader.push(rest)
    }
    return frame
  }
}
