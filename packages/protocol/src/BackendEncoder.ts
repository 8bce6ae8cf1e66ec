/**
 * Encoders for backend (server to client) messages: the reverse of {@link decode} in
 * `Backend.ts`. A client never sends these; they exist so tests and `MockBackend` can play the
 * server and produce byte streams a real PostgreSQL would not (split frames, odd lengths,
 * unusual message orders).
 *
 * Every encoder appends one complete frame (type byte, length, body) at the writer's position,
 * so a whole server reply is built in one buffer.
 *
 * Ownership: encoders read the message and copy its data into the writer; nothing is retained.
 *
 * @since 0.1.0
 */
import type { Authentication, BackendMessage, CopyResponse, FieldDescription } from "./Backend.ts"
import { Type } from "./Backend.ts"
import { Writer } from "./Writer.ts"

/** The one-byte answer 'S' to an SSLRequest: the server will start TLS. @since 0.1.0 */
export const SSL_ACCEPTED: Uint8Array = new Uint8Array([0x53])
/** The one-byte answer 'N' to an SSLRequest or GSSENCRequest: no encryption. @since 0.1.0 */
export const ENCRYPTION_REFUSED: Uint8Array = new Uint8Array([0x4e])
/** The one-byte answer 'G' to a GSSENCRequest: the server will start GSSAPI encryption. @since 0.1.0 */
export const GSSENC_ACCEPTED: Uint8Array = new Uint8Array([0x47])

/**
 * The single byte a server answers to an SSLRequest: 'S' (go on with TLS) or 'N' (refused).
 * @since 0.1.0
 */
export const sslResponse = (w: Writer, accept: boolean): Writer => w.byte(accept ? 0x53 : 0x4e)

/**
 * The single byte a server answers to a GSSENCRequest: 'G' (go on with GSSAPI) or 'N'.
 * @since 0.1.0
 */
export const gssEncResponse = (w: Writer, accept: boolean): Writer => w.byte(accept ? 0x47 : 0x4e)

const begin = (w: Writer, type: number): number => {
  w.byte(type)
  return w.reserveLength()
}

const empty = (w: Writer, type: number): Writer => w.byte(type).int32(4)

const authentication = (w: Writer, msg: Authentication): Writer => {
  const at = begin(w, Type.Authentication)
  switch (msg._tag) {
    case "AuthenticationOk":
      w.int32(0)
      break
    case "AuthenticationKerberosV5":
      w.int32(2)
      break
    case "AuthenticationCleartextPassword":
      w.int32(3)
      break
    case "AuthenticationMD5Password":
      w.int32(5).bytes(msg.salt)
      break
    case "AuthenticationGSS":
      w.int32(7)
      break
    case "AuthenticationGSSContinue":
      w.int32(8).bytes(msg.data)
      break
    case "AuthenticationSSPI":
      w.int32(9)
      break
    case "AuthenticationSASL":
      w.int32(10)
      for (const m of msg.mechanisms) w.cstring(m)
      w.byte(0)
      break
    case "AuthenticationSASLContinue":
      w.int32(11).bytes(msg.data)
      break
    case "AuthenticationSASLFinal":
      w.int32(12).bytes(msg.data)
      break
  }
  return w.patchLength(at)
}

const fieldList = (w: Writer, type: number, fields: ReadonlyArray<readonly [string, string]>): Writer => {
  const at = begin(w, type)
  for (const [code, value] of fields) w.byte(code.charCodeAt(0)).cstring(value)
  return w.byte(0).patchLength(at)
}

const copyResponse = (w: Writer, msg: CopyResponse): Writer => {
  const type =
    msg._tag === "CopyInResponse"
      ? Type.CopyInResponse
      : msg._tag === "CopyOutResponse"
        ? Type.CopyOutResponse
        : Type.CopyBothResponse
  const at = begin(w, type)
  w.byte(msg.format).int16(msg.columnFormats.length)
  for (const f of msg.columnFormats) w.int16(f)
  return w.patchLength(at)
}

const rowDescription = (w: Writer, fields: ReadonlyArray<FieldDescription>): Writer => {
  const at = begin(w, Type.RowDescription)
  w.int16(fields.length)
  for (const f of fields) {
    w.cstring(f.name)
      .uint32(f.tableOid)
      .int16(f.columnAttribute)
      .uint32(f.typeOid)
      .int16(f.typeSize)
      .int32(f.typeModifier)
      .int16(f.format)
  }
  return w.patchLength(at)
}

const dataRow = (w: Writer, fields: ReadonlyArray<Uint8Array | null>): Writer => {
  const at = begin(w, Type.DataRow)
  w.int16(fields.length)
  for (const f of fields) {
    if (f === null) w.int32(-1)
    else w.int32(f.length).bytes(f)
  }
  return w.patchLength(at)
}

/**
 * Appends one backend message frame to `w`, dispatching on `_tag`.
 *
 * Details: the encoder writes what the message says without validating it (a 2-byte secret key,
 * a status other than I/T/E cast in, a field count past 32767 all go through), so tests can build
 * malformed streams from typed values. `decode(encode(m)) = m` for every well-formed message.
 *
 * @example
 * ```ts
 * import { Writer } from "@pgfx/protocol/Writer"
 * import * as BackendEncoder from "@pgfx/protocol/BackendEncoder"
 * const w = new Writer()
 * BackendEncoder.encode(w, { _tag: "ReadyForQuery", status: "I" })
 * w.finish() // Uint8Array [0x5a, 0, 0, 0, 5, 0x49]
 * ```
 * @since 0.1.0
 */
export const encode = (w: Writer, msg: BackendMessage): Writer => {
  switch (msg._tag) {
    case "AuthenticationOk":
    case "AuthenticationKerberosV5":
    case "AuthenticationCleartextPassword":
    case "AuthenticationMD5Password":
    case "AuthenticationGSS":
    case "AuthenticationGSSContinue":
    case "AuthenticationSSPI":
    case "AuthenticationSASL":
    case "AuthenticationSASLContinue":
    case "AuthenticationSASLFinal":
      return authentication(w, msg)
    case "BackendKeyData": {
      const at = begin(w, Type.BackendKeyData)
      return w.int32(msg.processId).bytes(msg.secretKey).patchLength(at)
    }
    case "BindComplete":
      return empty(w, Type.BindComplete)
    case "CloseComplete":
      return empty(w, Type.CloseComplete)
    case "CommandComplete": {
      const at = begin(w, Type.CommandComplete)
      return w.cstring(msg.tag).patchLength(at)
    }
    case "CopyData": {
      const at = begin(w, Type.CopyData)
      return w.bytes(msg.data).patchLength(at)
    }
    case "CopyDone":
      return empty(w, Type.CopyDone)
    case "CopyInResponse":
    case "CopyOutResponse":
    case "CopyBothResponse":
      return copyResponse(w, msg)
    case "DataRow":
      return dataRow(w, msg.fields)
    case "EmptyQueryResponse":
      return empty(w, Type.EmptyQueryResponse)
    case "ErrorResponse":
      return fieldList(w, Type.ErrorResponse, msg.fields)
    case "FunctionCallResponse": {
      const at = begin(w, Type.FunctionCallResponse)
      if (msg.result === null) w.int32(-1)
      else w.int32(msg.result.length).bytes(msg.result)
      return w.patchLength(at)
    }
    case "NegotiateProtocolVersion": {
      const at = begin(w, Type.NegotiateProtocolVersion)
      w.int32((3 << 16) | (msg.newestMinor & 0xffff)).int32(msg.unrecognized.length)
      for (const o of msg.unrecognized) w.cstring(o)
      return w.patchLength(at)
    }
    case "NoData":
      return empty(w, Type.NoData)
    case "NoticeResponse":
      return fieldList(w, Type.NoticeResponse, msg.fields)
    case "NotificationResponse": {
      const at = begin(w, Type.NotificationResponse)
      return w.int32(msg.processId).cstring(msg.channel).cstring(msg.payload).patchLength(at)
    }
    case "ParameterDescription": {
      const at = begin(w, Type.ParameterDescription)
      w.uint16(msg.typeOids.length)
      for (const oid of msg.typeOids) w.uint32(oid)
      return w.patchLength(at)
    }
    case "ParameterStatus": {
      const at = begin(w, Type.ParameterStatus)
      return w.cstring(msg.name).cstring(msg.value).patchLength(at)
    }
    case "ParseComplete":
      return empty(w, Type.ParseComplete)
    case "PortalSuspended":
      return empty(w, Type.PortalSuspended)
    case "ReadyForQuery":
      return w.byte(Type.ReadyForQuery).int32(5).byte(msg.status.charCodeAt(0))
    case "RowDescription":
      return rowDescription(w, msg.fields)
  }
}

/** Appends several backend messages to `w` in order. @since 0.1.0 */
export const encodeAll = (w: Writer, messages: Iterable<BackendMessage>): Writer => {
  for (const m of messages) encode(w, m)
  return w
}

/**
 * Encodes messages into a fresh array, for fixtures and mock scripts.
 *
 * @example
 * ```ts
 * const bytes = BackendEncoder.toBytes({ _tag: "ParseComplete" }, { _tag: "BindComplete" })
 * ```
 * @since 0.1.0
 */
export const toBytes = (...messages: ReadonlyArray<BackendMessage>): Uint8Array => {
  const w = new Writer(256)
  encodeAll(w, messages)
  return w.finishCopy()
}
