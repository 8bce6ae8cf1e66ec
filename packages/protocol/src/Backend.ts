/**
 * Backend (server to client) messages of the PostgreSQL protocol 3.0 / 3.2: their types and a
 * decoder from one framed message body to a value.
 *
 * Ownership: `decode` reads `buf[start, end)` and returns a message that owns its data (strings
 * and copied byte arrays), so it stays valid after the reader reuses its buffer. The hot path of a
 * client does not call `decode` for DataRow: it reads cells straight from the frame (see
 * {@link dataRowFieldCount} and the client's row decoder).
 *
 * Malformed bodies (a length that runs past the frame, a missing NUL) raise
 * {@link ProtocolViolation}, the only error this module throws.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/** Thrown for a message body that does not follow the protocol. @since 0.1.0 */
export class ProtocolViolation extends Data.TaggedError("ProtocolViolation")<{
  readonly message: string
  readonly messageType?: string
}> {}

/** One column of a RowDescription. @since 0.1.0 */
export interface FieldDescription {
  readonly name: string
  readonly tableOid: number
  readonly columnAttribute: number
  readonly typeOid: number
  readonly typeSize: number
  readonly typeModifier: number
  readonly format: number
}

/** Transaction status from ReadyForQuery: idle, in a transaction block, or in a failed one. @since 0.1.0 */
export type TransactionStatus = "I" | "T" | "E"

/** The authentication requests ('R'). @since 0.1.0 */
export type Authentication =
  | { readonly _tag: "AuthenticationOk" }
  | { readonly _tag: "AuthenticationKerberosV5" }
  | { readonly _tag: "AuthenticationCleartextPassword" }
  | { readonly _tag: "AuthenticationMD5Password"; readonly salt: Uint8Array }
  | { readonly _tag: "AuthenticationGSS" }
  | { readonly _tag: "AuthenticationGSSContinue"; readonly data: Uint8Array }
  | { readonly _tag: "AuthenticationSSPI" }
  | { readonly _tag: "AuthenticationSASL"; readonly mechanisms: ReadonlyArray<string> }
  | { readonly _tag: "AuthenticationSASLContinue"; readonly data: Uint8Array }
  | { readonly _tag: "AuthenticationSASLFinal"; readonly data: Uint8Array }

/** Every backend message, discriminated by `_tag`. @since 0.1.0 */
export type BackendMessage =
  | Authentication
  | { readonly _tag: "BackendKeyData"; readonly processId: number; readonly secretKey: Uint8Array }
  | { readonly _tag: "BindComplete" }
  | { readonly _tag: "CloseComplete" }
  | { readonly _tag: "CommandComplete"; readonly tag: string }
  | { readonly _tag: "CopyData"; readonly data: Uint8Array }
  | { readonly _tag: "CopyDone" }
  | CopyResponse
  | { readonly _tag: "DataRow"; readonly fields: ReadonlyArray<Uint8Array | null> }
  | { readonly _tag: "EmptyQueryResponse" }
  | { readonly _tag: "ErrorResponse"; readonly fields: ReadonlyArray<readonly [string, string]> }
  | { readonly _tag: "FunctionCallResponse"; readonly result: Uint8Array | null }
  | {
      readonly _tag: "NegotiateProtocolVersion"
      /**
       * Newest minor version the server supports for major version 3. On the wire the server
       * sends the whole version number (196610 for 3.2); decode keeps the minor part.
       */
      readonly newestMinor: number
      readonly unrecognized: ReadonlyArray<string>
    }
  | { readonly _tag: "NoData" }
  | { readonly _tag: "NoticeResponse"; readonly fields: ReadonlyArray<readonly [string, string]> }
  | {
      readonly _tag: "NotificationResponse"
      readonly processId: number
      readonly channel: string
      readonly payload: string
    }
  | { readonly _tag: "ParameterDescription"; readonly typeOids: ReadonlyArray<number> }
  | { readonly _tag: "ParameterStatus"; readonly name: string; readonly value: string }
  | { readonly _tag: "ParseComplete" }
  | { readonly _tag: "PortalSuspended" }
  | { readonly _tag: "ReadyForQuery"; readonly status: TransactionStatus }
  | { readonly _tag: "RowDescription"; readonly fields: ReadonlyArray<FieldDescription> }

/** CopyInResponse, CopyOutResponse and CopyBothResponse. @since 0.1.0 */
export interface CopyResponse {
  readonly _tag: "CopyInResponse" | "CopyOutResponse" | "CopyBothResponse"
  /** 0 = text (rows separated by newlines), 1 = binary. */
  readonly format: number
  readonly columnFormats: ReadonlyArray<number>
}

/** Message type bytes of the backend messages. @since 0.1.0 */
export const Type = {
  Authentication: 0x52, // R
  BackendKeyData: 0x4b, // K
  BindComplete: 0x32, // 2
  CloseComplete: 0x33, // 3
  CommandComplete: 0x43, // C
  CopyData: 0x64, // d
  CopyDone: 0x63, // c
  CopyInResponse: 0x47, // G
  CopyOutResponse: 0x48, // H
  CopyBothResponse: 0x57, // W
  DataRow: 0x44, // D
  EmptyQueryResponse: 0x49, // I
  ErrorResponse: 0x45, // E
  FunctionCallResponse: 0x56, // V
  NegotiateProtocolVersion: 0x76, // v
  NoData: 0x6e, // n
  NoticeResponse: 0x4e, // N
  NotificationResponse: 0x41, // A
  ParameterDescription: 0x74, // t
  ParameterStatus: 0x53, // S
  ParseComplete: 0x31, // 1
  PortalSuspended: 0x73, // s
  ReadyForQuery: 0x5a, // Z
  RowDescription: 0x54, // T
} as const

const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true })

/**
 * UTF-8 text of `buf[start, end)`: Node's native `Buffer` slicer where present (no subarray view,
 * much cheaper for the short strings of tags and field names), else a TextDecoder.
 */
const utf8Slice = (globalThis as { Buffer?: { prototype: object } }).Buffer?.prototype as
  { utf8Slice?: (this: Uint8Array, start: number, end: number) => string } | undefined
const decodeUtf8: (buf: Uint8Array, start: number, end: number) => string =
  utf8Slice?.utf8Slice !== undefined
    ? (
        (slice) => (buf, start, end) =>
          slice.call(buf, start, end)
      )(utf8Slice.utf8Slice)
    : (buf, start, end) => utf8.decode(buf.subarray(start, end))

/**
 * A cursor over one message body with bounds checks; every read past `end` raises
 * {@link ProtocolViolation}.
 * @since 0.1.0
 */
export class BodyReader {
  buf: Uint8Array
  view: DataView
  pos: number
  end: number
  type: number

  constructor(buf: Uint8Array, view: DataView, start: number, end: number, type: number) {
    this.buf = buf
    this.view = view
    this.pos = start
    this.end = end
    this.type = type
  }

  fail(what: string): never {
    throw new ProtocolViolation({
      message: `malformed ${String.fromCharCode(this.type)} message: ${what}`,
      messageType: String.fromCharCode(this.type),
    })
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) this.fail("truncated body")
  }

  int8(): number {
    this.need(1)
    return this.buf[this.pos++]!
  }

  int16(): number {
    this.need(2)
    const v = this.view.getInt16(this.pos)
    this.pos += 2
    return v
  }

  uint16(): number {
    this.need(2)
    const v = this.view.getUint16(this.pos)
    this.pos += 2
    return v
  }

  int32(): number {
    this.need(4)
    const v = this.view.getInt32(this.pos)
    this.pos += 4
    return v
  }

  uint32(): number {
    this.need(4)
    const v = this.view.getUint32(this.pos)
    this.pos += 4
    return v
  }

  bytes(n: number): Uint8Array {
    this.need(n)
    const v = this.buf.slice(this.pos, this.pos + n)
    this.pos += n
    return v
  }

  rest(): Uint8Array {
    return this.bytes(this.end - this.pos)
  }

  cstring(): string {
    const nul = this.buf.indexOf(0, this.pos)
    if (nul < 0 || nul >= this.end) this.fail("unterminated string")
    const s = decodeUtf8(this.buf, this.pos, nul)
    this.pos = nul + 1
    return s
  }

  done(): void {
    if (this.pos !== this.end) this.fail(`${this.end - this.pos} unexpected trailing bytes`)
  }
}

/**
 * The longest value kept of one ErrorResponse or NoticeResponse field, in UTF-8 bytes. A longer
 * value (say a 64 MiB `RAISE EXCEPTION` message) is cut at a character boundary and ends with
 * {@link TRUNCATED_MARK}: an error object never holds the whole of a huge message.
 * @since 0.1.0
 */
export const MAX_FIELD_BYTES = 8192

/** What ends a field value cut to {@link MAX_FIELD_BYTES} (or cut off by `maxMessageSize`). @since 0.1.0 */
export const TRUNCATED_MARK = "… [truncated]"

/** One field value, cut to {@link MAX_FIELD_BYTES}; `lenient`: a value without terminator is the cut-off rest. */
const fieldValue = (r: BodyReader, lenient: boolean): string => {
  const start = r.pos
  const nul = r.buf.indexOf(0, start)
  const cutOff = nul < 0 || nul >= r.end
  if (cutOff && !lenient) r.fail("unterminated string")
  const stop = cutOff ? r.end : nul
  r.pos = cutOff ? r.end : nul + 1
  if (!cutOff && stop - start <= MAX_FIELD_BYTES) return decodeUtf8(r.buf, start, stop)
  let last = Math.min(stop, start + MAX_FIELD_BYTES)
  // Never split a character: back up to the first byte of the one that would be cut.
  while (last > start && last < stop && (r.buf[last]! & 0xc0) === 0x80) last--
  return decodeUtf8(r.buf, start, last) + TRUNCATED_MARK
}

const fieldList = (r: BodyReader, lenient = false): Array<readonly [string, string]> => {
  const out: Array<readonly [string, string]> = []
  for (;;) {
    if (lenient && r.pos >= r.end) break
    const code = r.int8()
    if (code === 0) break
    out.push([String.fromCharCode(code), fieldValue(r, lenient)])
  }
  return out
}

/**
 * The fields of the first bytes of an ErrorResponse or NoticeResponse body whose end was cut off
 * (a message over the reader's `maxMessageSize`): complete fields as they are, the field cut off
 * ending in {@link TRUNCATED_MARK}. Every value is cut to {@link MAX_FIELD_BYTES}.
 * @since 0.1.0
 */
export const decodeFieldsHead = (
  buf: Uint8Array,
  view: DataView,
  start: number,
  end: number,
  type: number,
): Array<readonly [string, string]> => fieldList(new BodyReader(buf, view, start, end, type), true)

const decodeAuthentication = (r: BodyReader): Authentication => {
  const code = r.int32()
  switch (code) {
    case 0:
      return { _tag: "AuthenticationOk" }
    case 2:
      return { _tag: "AuthenticationKerberosV5" }
    case 3:
      return { _tag: "AuthenticationCleartextPassword" }
    case 5:
      return { _tag: "AuthenticationMD5Password", salt: r.bytes(4) }
    case 7:
      return { _tag: "AuthenticationGSS" }
    case 8:
      return { _tag: "AuthenticationGSSContinue", data: r.rest() }
    case 9:
      return { _tag: "AuthenticationSSPI" }
    case 10: {
      const mechanisms: Array<string> = []
      for (;;) {
        const m = r.cstring()
        if (m === "") break
        mechanisms.push(m)
      }
      return { _tag: "AuthenticationSASL", mechanisms }
    }
    case 11:
      return { _tag: "AuthenticationSASLContinue", data: r.rest() }
    case 12:
      return { _tag: "AuthenticationSASLFinal", data: r.rest() }
    default:
      return r.fail(`unknown authentication request ${code}`)
  }
}

const decodeCopyResponse = (r: BodyReader, tag: CopyResponse["_tag"]): CopyResponse => {
  const format = r.int8()
  const n = r.int16()
  const columnFormats: Array<number> = []
  for (let i = 0; i < n; i++) columnFormats.push(r.int16())
  return { _tag: tag, format, columnFormats }
}

const decodeRowDescription = (r: BodyReader): BackendMessage => {
  const n = r.int16()
  if (n < 0) r.fail("negative field count")
  const fields: Array<FieldDescription> = []
  for (let i = 0; i < n; i++) {
    const name = r.cstring()
    fields.push({
      name,
      tableOid: r.uint32(),
      columnAttribute: r.int16(),
      typeOid: r.uint32(),
      typeSize: r.int16(),
      typeModifier: r.int32(),
      format: r.int16(),
    })
  }
  return { _tag: "RowDescription", fields }
}

const decodeDataRow = (r: BodyReader): BackendMessage => {
  const n = r.int16()
  if (n < 0) r.fail("negative field count")
  const fields: Array<Uint8Array | null> = []
  for (let i = 0; i < n; i++) {
    const len = r.int32()
    if (len < -1) r.fail(`invalid field length ${len}`)
    fields.push(len === -1 ? null : r.bytes(len))
  }
  return { _tag: "DataRow", fields }
}

const noBody = <T extends string>(r: BodyReader, tag: T): { readonly _tag: T } => {
  r.done()
  return { _tag: tag }
}

/**
 * Decodes one backend message body `buf[start, end)` of type byte `type`.
 *
 * Errors: throws {@link ProtocolViolation} on an unknown type or a malformed body.
 *
 * @example
 * ```ts
 * const msg = decode(0x5a, new Uint8Array([0x49]), new DataView(new ArrayBuffer(1)), 0, 1)
 * // { _tag: "ReadyForQuery", status: "I" }
 * ```
 * @since 0.1.0
 */
export const decode = (type: number, buf: Uint8Array, view: DataView, start: number, end: number): BackendMessage => {
  const r = new BodyReader(buf, view, start, end, type)
  let msg: BackendMessage
  switch (type) {
    case Type.Authentication:
      msg = decodeAuthentication(r)
      break
    case Type.BackendKeyData: {
      const processId = r.int32()
      const secretKey = r.rest()
      if (secretKey.length < 4 || secretKey.length > 256) r.fail("bad secret key length")
      msg = { _tag: "BackendKeyData", processId, secretKey }
      break
    }
    case Type.BindComplete:
      return noBody(r, "BindComplete")
    case Type.CloseComplete:
      return noBody(r, "CloseComplete")
    case Type.CommandComplete:
      msg = { _tag: "CommandComplete", tag: r.cstring() }
      break
    case Type.CopyData:
      return { _tag: "CopyData", data: r.rest() }
    case Type.CopyDone:
      return noBody(r, "CopyDone")
    case Type.CopyInResponse:
      msg = decodeCopyResponse(r, "CopyInResponse")
      break
    case Type.CopyOutResponse:
      msg = decodeCopyResponse(r, "CopyOutResponse")
      break
    case Type.CopyBothResponse:
      msg = decodeCopyResponse(r, "CopyBothResponse")
      break
    case Type.DataRow:
      msg = decodeDataRow(r)
      break
    case Type.EmptyQueryResponse:
      return noBody(r, "EmptyQueryResponse")
    case Type.ErrorResponse:
      msg = { _tag: "ErrorResponse", fields: fieldList(r) }
      break
    case Type.FunctionCallResponse: {
      const len = r.int32()
      if (len < -1) r.fail(`invalid result length ${len}`)
      msg = { _tag: "FunctionCallResponse", result: len === -1 ? null : r.bytes(len) }
      break
    }
    case Type.NegotiateProtocolVersion: {
      // The server sends a full version number (PG_PROTOCOL(3, minor)), not a bare minor.
      const version = r.int32()
      if (version >>> 16 !== 3) r.fail(`unexpected protocol version ${version}`)
      const newestMinor = version & 0xffff
      const n = r.int32()
      if (n < 0) r.fail("negative option count")
      const unrecognized: Array<string> = []
      for (let i = 0; i < n; i++) unrecognized.push(r.cstring())
      msg = { _tag: "NegotiateProtocolVersion", newestMinor, unrecognized }
      break
    }
    case Type.NoData:
      return noBody(r, "NoData")
    case Type.NoticeResponse:
      msg = { _tag: "NoticeResponse", fields: fieldList(r) }
      break
    case Type.NotificationResponse:
      msg = {
        _tag: "NotificationResponse",
        processId: r.int32(),
        channel: r.cstring(),
        payload: r.cstring(),
      }
      break
    case Type.ParameterDescription: {
      // Unsigned: a statement may have up to 65535 parameters. The server writes the count in 16
      // bits even when a statement has more (it accepts $65536 and above), so the count wraps;
      // the message's length still holds every OID, so the real count is read from it and the
      // client refuses to bind such a statement (65,535 is the protocol's limit for Bind).
      const announced = r.uint16()
      const oidBytes = r.end - r.pos
      const n =
        oidBytes % 4 === 0 && oidBytes / 4 > 0xffff && (oidBytes / 4) % 0x10000 === announced ? oidBytes / 4 : announced
      const typeOids: Array<number> = []
      for (let i = 0; i < n; i++) typeOids.push(r.uint32())
      msg = { _tag: "ParameterDescription", typeOids }
      break
    }
    case Type.ParameterStatus:
      msg = { _tag: "ParameterStatus", name: r.cstring(), value: r.cstring() }
      break
    case Type.ParseComplete:
      return noBody(r, "ParseComplete")
    case Type.PortalSuspended:
      return noBody(r, "PortalSuspended")
    case Type.ReadyForQuery: {
      const s = r.int8()
      if (s !== 0x49 && s !== 0x54 && s !== 0x45) r.fail("bad transaction status")
      msg = { _tag: "ReadyForQuery", status: String.fromCharCode(s) as TransactionStatus }
      break
    }
    case Type.RowDescription:
      msg = decodeRowDescription(r)
      break
    default:
      throw new ProtocolViolation({
        message: `unknown backend message type 0x${type.toString(16)}`,
        messageType: String.fromCharCode(type),
      })
  }
  r.done()
  return msg
}

/**
 * Reads the status tag of a CommandComplete ("INSERT 0 3", "SELECT 5") and returns the row count
 * it reports, or `undefined` for commands that report none.
 * @since 0.1.0
 */
export const rowCountOf = (tag: string): number | undefined => {
  const space = tag.lastIndexOf(" ")
  if (space < 0) return undefined
  const digits = tag.slice(space + 1)
  // Only plain decimal digits: Number("") is 0 and Number("0x1f") is 31.
  if (!/^[0-9]+$/.test(digits)) return undefined
  return Number(digits)
}
