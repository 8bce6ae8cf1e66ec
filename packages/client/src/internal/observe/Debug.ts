/**
 * Debug mode (`debug` option, `PGFX_DEBUG`): a readable trace of every protocol message both
 * ways, the full validation of every message, and leak reports. Nothing here runs unless debug
 * mode is on: a session without it pays one `undefined` check per message.
 *
 * - **Trace** (libpq's PQtrace, readable): one line per message, `F` for the client's, `B` for
 *   the server's, with the connection's number: `pgfx[1] F Query "SELECT 1"`. Parameter values,
 *   row values, COPY data and notification payloads are shown as their sizes unless `showValues`;
 *   authentication responses (passwords, SCRAM proofs, GSSAPI tokens) are never shown.
 * - **Checks**: every backend message is decoded in full (the hot path reads only what it needs),
 *   so a malformed one closes the session with `PgProtocolError`; every frontend message is
 *   decoded too, and one the client itself encoded wrongly is a defect naming it.
 * - **Leaks**: a connection or pool checkout handed out in debug mode is watched with a
 *   `FinalizationRegistry`; when its handle is garbage-collected while the connection is still
 *   open (never closed, or its Scope never closed), a report with the stack that opened it is
 *   written.
 *
 * @internal
 */
import * as Backend from "@pgfx/protocol/Backend"
import * as FrontendDecoder from "@pgfx/protocol/FrontendDecoder"
import type { PgConnectionOptions, PgDebugOptions } from "../../config/Options.ts"

/** Debug mode as resolved from the option and `PGFX_DEBUG`. */
export interface DebugSettings {
  readonly trace: boolean
  readonly showValues: boolean
  readonly checks: boolean
  readonly leaks: boolean
  readonly log: (line: string) => void
}

const stderr = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

/**
 * The settings for `option` (the `debug` option) and `env` (`PGFX_DEBUG`: `1`/`true`/`on` turn
 * everything on, `values` also shows values, `0`/`false`/`off`/empty leave it off). The option
 * wins over the variable.
 */
export const resolveDebug = (
  option: boolean | PgDebugOptions | undefined,
  env: string | undefined,
): DebugSettings | undefined => {
  let options: PgDebugOptions | undefined
  if (option === false) return undefined
  if (option === true) options = {}
  else if (option !== undefined) options = option
  else {
    const value = env?.trim().toLowerCase() ?? ""
    if (value === "" || value === "0" || value === "false" || value === "off") return undefined
    options = value === "values" ? { showValues: true } : {}
  }
  return {
    trace: options.trace ?? true,
    showValues: options.showValues ?? false,
    checks: options.checks ?? true,
    leaks: options.leaks ?? true,
    log: options.log ?? stderr,
  }
}

const quote = (s: string): string => JSON.stringify(s)

const size = (bytes: Uint8Array | null): string => (bytes === null ? "NULL" : `<${bytes.length} bytes>`)

const hex = (bytes: Uint8Array): string => {
  let out = "\\x"
  for (const b of bytes) out += b.toString(16).padStart(2, "0")
  return out
}

/** A value as `showValues` allows: text for text format, hex for binary. */
const value = (bytes: Uint8Array | null, binary: boolean, show: boolean): string => {
  if (!show || bytes === null) return size(bytes)
  return binary ? hex(bytes) : quote(new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes))
}

const formatOf = (formats: ReadonlyArray<number>, i: number): boolean =>
  (formats.length === 1 ? formats[0] : formats[i]) === 1

/** One line for a frontend message (`authResponse`: an authentication response, never shown). */
export const describeFrontend = (msg: FrontendDecoder.ClientMessage, show: boolean): string => {
  switch (msg._tag) {
    case "StartupMessage":
      return `StartupMessage ${msg.version >>> 16}.${msg.version & 0xffff} ${Object.entries(msg.parameters)
        .map(([k, v]) => `${k}=${quote(v)}`)
        .join(" ")}`
    case "CancelRequest":
      return `CancelRequest pid=${msg.processId} <key>`
    case "AuthenticationResponse":
      return `AuthenticationResponse <${msg.body.length} bytes, not shown>`
    case "Query":
      return `Query ${quote(msg.sql)}`
    case "Parse":
      return `Parse ${quote(msg.name)} ${quote(msg.sql)} [${msg.paramTypes.join(",")}]`
    case "Bind":
      return `Bind ${quote(msg.portal)} ${quote(msg.statement)} ${msg.values.length} params${msg.values
        .map((v, i) => ` ${value(v, formatOf(msg.paramFormats, i), show)}`)
        .join("")} results [${msg.resultFormats.join(",")}]`
    case "Describe":
    case "Close":
      return `${msg._tag} ${msg.kind} ${quote(msg.name)}`
    case "Execute":
      return `Execute ${quote(msg.portal)} ${msg.maxRows}`
    case "CopyData":
      return `CopyData ${value(msg.data, false, show)}`
    case "CopyFail":
      return `CopyFail ${quote(msg.message)}`
    case "FunctionCall":
      return `FunctionCall ${msg.functionOid} ${msg.args.length} args`
    default:
      return msg._tag
  }
}

const fields = (f: ReadonlyArray<readonly [string, string]>, show: boolean): string => {
  const get = (code: string) => f.find(([c]) => c === code)?.[1]
  const detail = show ? get("D") : undefined
  return `${get("S") ?? ""} ${get("C") ?? ""} ${quote(get("M") ?? "")}${detail === undefined ? "" : ` detail=${quote(detail)}`}`
}

/** One line for a backend message; `resultFormats`: the formats of the last RowDescription. */
export const describeBackend = (
  msg: Backend.BackendMessage,
  show: boolean,
  resultFormats: ReadonlyArray<number> = [],
): string => {
  switch (msg._tag) {
    case "AuthenticationSASL":
      return `AuthenticationSASL ${msg.mechanisms.join(",")}`
    case "AuthenticationSASLContinue":
    case "AuthenticationSASLFinal":
    case "AuthenticationGSSContinue":
      return `${msg._tag} <${msg.data.length} bytes, not shown>`
    case "AuthenticationMD5Password":
      return "AuthenticationMD5Password <salt>"
    case "BackendKeyData":
      return `BackendKeyData pid=${msg.processId} <key>`
    case "CommandComplete":
      return `CommandComplete ${quote(msg.tag)}`
    case "CopyData":
      return `CopyData ${value(msg.data, false, show)}`
    case "CopyInResponse":
    case "CopyOutResponse":
    case "CopyBothResponse":
      return `${msg._tag} ${msg.format === 1 ? "binary" : "text"} ${msg.columnFormats.length} columns`
    case "DataRow":
      return `DataRow ${msg.fields.length} fields${msg.fields
        .map((f, i) => ` ${value(f, resultFormats[i] === 1, show)}`)
        .join("")}`
    case "ErrorResponse":
    case "NoticeResponse":
      return `${msg._tag} ${fields(msg.fields, show)}`
    case "FunctionCallResponse":
      return `FunctionCallResponse ${size(msg.result)}`
    case "NegotiateProtocolVersion":
      return `NegotiateProtocolVersion 3.${msg.newestMinor} [${msg.unrecognized.join(",")}]`
    case "NotificationResponse":
      return `NotificationResponse pid=${msg.processId} ${quote(msg.channel)} ${
        show ? quote(msg.payload) : `<${msg.payload.length} chars>`
      }`
    case "ParameterDescription":
      return `ParameterDescription [${msg.typeOids.join(",")}]`
    case "ParameterStatus":
      return `ParameterStatus ${msg.name}=${quote(msg.value)}`
    case "ReadyForQuery":
      return `ReadyForQuery ${msg.status}`
    case "RowDescription":
      return `RowDescription ${msg.fields.length} fields${msg.fields
        .map((f) => ` ${quote(f.name)}:${f.typeOid}${f.format === 1 ? "b" : ""}`)
        .join("")}`
    default:
      return msg._tag
  }
}

let sessions = 0

/** A session's debug hooks: `backend` for every message read, `frontend` for every write. */
export class SessionDebug {
  readonly settings: DebugSettings
  /** The connection's number in this process, in every line. */
  readonly id = ++sessions
  private readonly written = new FrontendDecoder.FrontendReader()
  /** The column formats of the last RowDescription, to show DataRow values. */
  private resultFormats: ReadonlyArray<number> = []

  constructor(settings: DebugSettings) {
    this.settings = settings
  }

  backend(type: number, buf: Uint8Array, view: DataView, start: number, end: number): void {
    // Backend.decode reads the whole message and throws ProtocolViolation when it is malformed.
    const msg = Backend.decode(type, buf, view, start, end)
    if (msg._tag === "RowDescription") this.resultFormats = msg.fields.map((f) => f.format)
    if (this.settings.trace) {
      this.settings.log(`pgfx[${this.id}] B ${describeBackend(msg, this.settings.showValues, this.resultFormats)}`)
    }
  }

  frontend(bytes: Uint8Array): void {
    this.written.push(bytes)
    for (;;) {
      let msg: FrontendDecoder.ClientMessage | undefined
      try {
        msg = this.written.next()
      } catch (e) {
        throw new Error(`pgfx debug check: the client wrote a malformed message: ${e instanceof Error ? e.message : e}`)
      }
      if (msg === undefined) return
      if (this.settings.trace)
        this.settings.log(`pgfx[${this.id}] F ${describeFrontend(msg, this.settings.showValues)}`)
    }
  }
}

interface Watched {
  readonly what: string
  readonly opened: string
  readonly isOpen: () => boolean
  readonly log: (line: string) => void
}

const leaks = new FinalizationRegistry<Watched>((w) => {
  if (w.isOpen()) {
    w.log(
      `pgfx debug: leak: ${w.what} was garbage-collected while still open (never closed, or its Scope never closed). Opened at:\n${w.opened}`,
    )
  }
})

/**
 * Reports `handle` if it is garbage-collected while `isOpen()` (which must not reach `handle`).
 */
export const watchLeak = (
  handle: object,
  what: string,
  isOpen: () => boolean,
  settings: DebugSettings,
  opened: string = stackHere(),
): void => {
  if (!settings.leaks) return
  leaks.register(handle, { what, opened, isOpen, log: settings.log }, handle)
}

const stackHere = (): string => (new Error().stack ?? "").split("\n").slice(2).join("\n")

/**
 * The caller's stack when `options` ask for debug mode's leak reports (the option, else
 * `PGFX_DEBUG`), taken synchronously where a connection is asked for: inside the Effect that
 * opens it, the stack would only show the fiber's run loop.
 */
export const callSite = (options: PgConnectionOptions): string | undefined =>
  resolveDebug(options.debug, (options.environment ?? process.env).PGFX_DEBUG)?.leaks === true ? stackHere() : undefined

/** Stops watching `handle` (its connection was handed to an owner that closes it, e.g. a pool). */
export const unwatchLeak = (handle: object): void => {
  leaks.unregister(handle)
}
