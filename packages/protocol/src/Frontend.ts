/**
 * Frontend (client to server) messages of the PostgreSQL protocol 3.0 / 3.2: encoders that append
 * complete frames to a {@link Writer}, plus the untyped startup frames.
 *
 * Every encoder writes one whole message (type byte, length, body) at the writer's position, so
 * a batch of messages (Parse/Bind/Describe/Execute/Sync) is built in one buffer and sent with one
 * socket write. Constant frames (Sync, Flush, Terminate, CopyDone) are built once: see
 * {@link SYNC}, {@link FLUSH}, {@link TERMINATE}, {@link COPY_DONE}.
 *
 * Ownership: encoders read their arguments and copy them into the writer; nothing is retained.
 *
 * @since 0.1.0
 */
import { Writer } from "./Writer.ts"

/** Protocol version 3.0 as sent in StartupMessage. @since 0.1.0 */
export const PROTOCOL_3_0 = 196608
/** Protocol version 3.2 (PostgreSQL 18: variable-length cancel keys). @since 0.1.0 */
export const PROTOCOL_3_2 = 196610
/** The SSLRequest code. @since 0.1.0 */
export const SSL_REQUEST_CODE = 80877103
/** The GSSENCRequest code. @since 0.1.0 */
export const GSSENC_REQUEST_CODE = 80877104
/** The CancelRequest code. @since 0.1.0 */
export const CANCEL_REQUEST_CODE = 80877102

/** Format code of a parameter or result column: 0 = text, 1 = binary. @since 0.1.0 */
export type FormatCode = 0 | 1

const simple = (type: number): Uint8Array => new Uint8Array([type, 0, 0, 0, 4])

/** The Sync message, built once. @since 0.1.0 */
export const SYNC: Uint8Array = simple(0x53)
/** The Flush message, built once. @since 0.1.0 */
export const FLUSH: Uint8Array = simple(0x48)
/** The Terminate message, built once. @since 0.1.0 */
export const TERMINATE: Uint8Array = simple(0x58)
/** The CopyDone message, built once. @since 0.1.0 */
export const COPY_DONE: Uint8Array = simple(0x63)

/**
 * StartupMessage: protocol version then name/value pairs (user, database, options, any server
 * setting such as application_name), terminated by an empty name.
 *
 * @example
 * ```ts
 * const w = new Writer()
 * startup(w, { user: "postgres", database: "app" })
 * ```
 * @since 0.1.0
 */
export const startup = (
  w: Writer,
  parameters: Readonly<Record<string, string>>,
  version: number = PROTOCOL_3_0,
): Writer => {
  const at = w.reserveLength()
  w.int32(version)
  for (const key of Object.keys(parameters)) {
    const value = parameters[key]
    if (value === undefined) continue
    w.cstring(key).cstring(value)
  }
  w.byte(0)
  return w.patchLength(at)
}

/** SSLRequest: asks the server to switch to TLS; the answer is one byte, 'S' or 'N'. @since 0.1.0 */
export const sslRequest = (w: Writer): Writer => w.int32(8).int32(SSL_REQUEST_CODE)

/** GSSENCRequest: asks for GSSAPI encryption; the answer is one byte, 'G' or 'N'. @since 0.1.0 */
export const gssEncRequest = (w: Writer): Writer => w.int32(8).int32(GSSENC_REQUEST_CODE)

/**
 * CancelRequest, sent on a new connection: the backend's process id and secret key. The key is 4
 * bytes in protocol 3.0 and up to 256 bytes in 3.2.
 * @since 0.1.0
 */
export const cancelRequest = (w: Writer, processId: number, secretKey: Uint8Array): Writer =>
  w
    .int32(12 + secretKey.length)
    .int32(CANCEL_REQUEST_CODE)
    .int32(processId)
    .bytes(secretKey)

const begin = (w: Writer, type: number): number => {
  w.byte(type)
  return w.reserveLength()
}

/** PasswordMessage: a cleartext or MD5-hashed password, NUL-terminated. @since 0.1.0 */
export const password = (w: Writer, value: string): Writer => {
  const at = begin(w, 0x70)
  return w.cstring(value).patchLength(at)
}

/** SASLInitialResponse: the chosen mechanism and the client-first-message. @since 0.1.0 */
export const saslInitialResponse = (w: Writer, mechanism: string, data: Uint8Array | undefined): Writer => {
  const at = begin(w, 0x70)
  w.cstring(mechanism)
  // -1: the mechanism has no initial response (not the same as an empty one)
  if (data === undefined) return w.int32(-1).patchLength(at)
  return w.int32(data.length).bytes(data).patchLength(at)
}

/** SASLResponse (also GSSResponse): raw mechanism data. @since 0.1.0 */
export const saslResponse = (w: Writer, data: Uint8Array): Writer => {
  const at = begin(w, 0x70)
  return w.bytes(data).patchLength(at)
}

/**
 * GSSResponse: a GSSAPI (or SSPI) token. The same frame as SASLResponse; only the
 * authentication exchange tells them apart.
 * @since 0.1.0
 */
export const gssResponse: (w: Writer, token: Uint8Array) => Writer = saslResponse

/** Query: a simple-protocol query string (may hold several statements). @since 0.1.0 */
export const query = (w: Writer, sql: string): Writer => {
  const at = begin(w, 0x51)
  return w.cstring(sql).patchLength(at)
}

/**
 * Parse: prepares `sql` as statement `name` ("" = unnamed) with the given parameter type OIDs
 * (0 = let the server infer).
 * @since 0.1.0
 */
export const parse = (w: Writer, name: string, sql: string, paramTypes: ReadonlyArray<number> = []): Writer => {
  const at = begin(w, 0x50)
  w.cstring(name).cstring(sql).int16(paramTypes.length)
  for (let i = 0; i < paramTypes.length; i++) w.uint32(paramTypes[i]!)
  return w.patchLength(at)
}

/**
 * A parameter value writer used by {@link bind}: appends the value's bytes (no length prefix) to
 * `w` and returns nothing; a `null` value is sent as SQL NULL without calling it.
 * @since 0.1.0
 */
export type ParamWriter = (w: Writer, index: number) => void

/**
 * Bind, with pre-encoded parameter values: `values[i]` is the encoded bytes, or `null` for NULL.
 * `paramFormats` and `resultFormats` follow the protocol's rules: empty = all text, one entry =
 * applies to all, else one per item.
 * @since 0.1.0
 */
export const bind = (
  w: Writer,
  portal: string,
  statement: string,
  paramFormats: ReadonlyArray<FormatCode>,
  values: ReadonlyArray<Uint8Array | null>,
  resultFormats: ReadonlyArray<FormatCode>,
): Writer => {
  const at = begin(w, 0x42)
  w.cstring(portal).cstring(statement)
  w.int16(paramFormats.length)
  for (let i = 0; i < paramFormats.length; i++) w.int16(paramFormats[i]!)
  w.int16(values.length)
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (v === null) w.int32(-1)
    else w.int32(v.length).bytes(v)
  }
  w.int16(resultFormats.length)
  for (let i = 0; i < resultFormats.length; i++) w.int16(resultFormats[i]!)
  return w.patchLength(at)
}

/**
 * Bind that encodes parameter values straight into the frame (no intermediate buffers):
 * `encode(w, i)` appends value i's bytes; `isNull(i)` says whether it is NULL.
 * @since 0.1.0
 */
export const bindWith = (
  w: Writer,
  portal: string,
  statement: string,
  paramFormats: ReadonlyArray<FormatCode>,
  count: number,
  isNull: (index: number) => boolean,
  encode: ParamWriter,
  resultFormats: ReadonlyArray<FormatCode>,
): Writer => {
  const at = begin(w, 0x42)
  w.cstring(portal).cstring(statement)
  w.int16(paramFormats.length)
  for (let i = 0; i < paramFormats.length; i++) w.int16(paramFormats[i]!)
  w.int16(count)
  for (let i = 0; i < count; i++) {
    if (isNull(i)) {
      w.int32(-1)
      continue
    }
    const len = w.reserveLength()
    encode(w, i)
    w.patchValueLength(len)
  }
  w.int16(resultFormats.length)
  for (let i = 0; i < resultFormats.length; i++) w.int16(resultFormats[i]!)
  return w.patchLength(at)
}

/** Describe a prepared statement ('S') or a portal ('P'). @since 0.1.0 */
export const describe = (w: Writer, kind: "S" | "P", name: string): Writer => {
  const at = begin(w, 0x44)
  return w
    .byte(kind === "S" ? 0x53 : 0x50)
    .cstring(name)
    .patchLength(at)
}

/** Execute a portal, returning at most `maxRows` rows (0 = all). @since 0.1.0 */
export const execute = (w: Writer, portal: string, maxRows = 0): Writer => {
  const at = begin(w, 0x45)
  return w.cstring(portal).int32(maxRows).patchLength(at)
}

/** Close a prepared statement ('S') or a portal ('P'). @since 0.1.0 */
export const close = (w: Writer, kind: "S" | "P", name: string): Writer => {
  const at = begin(w, 0x43)
  return w
    .byte(kind === "S" ? 0x53 : 0x50)
    .cstring(name)
    .patchLength(at)
}

/** Sync: ends an extended-protocol batch; the server answers ReadyForQuery. @since 0.1.0 */
export const sync = (w: Writer): Writer => w.bytes(SYNC)

/** Flush: asks the server to send everything it has buffered. @since 0.1.0 */
export const flush = (w: Writer): Writer => w.bytes(FLUSH)

/** Terminate: the graceful goodbye before closing the socket. @since 0.1.0 */
export const terminate = (w: Writer): Writer => w.bytes(TERMINATE)

/** CopyData: a chunk of COPY data. @since 0.1.0 */
export const copyData = (w: Writer, data: Uint8Array): Writer => {
  const at = begin(w, 0x64)
  return w.bytes(data).patchLength(at)
}

/** CopyDone: the end of COPY FROM STDIN data. @since 0.1.0 */
export const copyDone = (w: Writer): Writer => w.bytes(COPY_DONE)

/** CopyFail: aborts COPY FROM STDIN with an error message. @since 0.1.0 */
export const copyFail = (w: Writer, message: string): Writer => {
  const at = begin(w, 0x66)
  return w.cstring(message).patchLength(at)
}

/**
 * FunctionCall (legacy fast-path): function OID, argument formats, arguments, result format.
 * @since 0.1.0
 */
export const functionCall = (
  w: Writer,
  functionOid: number,
  argFormats: ReadonlyArray<FormatCode>,
  args: ReadonlyArray<Uint8Array | null>,
  resultFormat: FormatCode,
): Writer => {
  const at = begin(w, 0x46)
  w.uint32(functionOid).int16(argFormats.length)
  for (let i = 0; i < argFormats.length; i++) w.int16(argFormats[i]!)
  w.int16(args.length)
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === null) w.int32(-1)
    else w.int32(a.length).bytes(a)
  }
  return w.int16(resultFormat).patchLength(at)
}

/** Builds a frame into a fresh array: `build((w) => Frontend.query(w, "SELECT 1"))`. @since 0.1.0 */
export const build = (f: (w: Writer) => unknown): Uint8Array => {
  const w = new Writer(256)
  f(w)
  return w.finishCopy()
}
