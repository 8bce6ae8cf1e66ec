/**
 * The streaming replication sub-protocol spoken inside CopyBoth mode (after `START_REPLICATION`):
 * the server's CopyData payloads XLogData ('w') and Primary keepalive ('k'), the client's
 * Standby status update ('r'), and LSN arithmetic.
 *
 * Pure: bytes in, values out. {@link decodeCopyData} reads one CopyData body `buf[start, end)`;
 * XLogData keeps `dataStart`/`dataEnd` offsets into that same buffer instead of copying the WAL
 * payload (the caller decodes it with `PgOutput.decode` before the buffer is reused).
 *
 * LSNs and timestamps are `bigint`: an LSN is an unsigned 64-bit WAL position ("16/B374D848" in
 * text), a timestamp is microseconds since 2000-01-01 00:00:00 UTC (PostgreSQL's epoch).
 *
 * Errors: a malformed or unknown payload raises `Backend.ProtocolViolation`.
 *
 * @since 0.1.0
 */
import { BodyReader, ProtocolViolation } from "./Backend.ts"
import type { Writer } from "./Writer.ts"

/** A WAL position (unsigned 64-bit). @since 0.1.0 */
export type Lsn = bigint

/** Microseconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01 (UTC). @since 0.1.0 */
export const POSTGRES_EPOCH_MICROS = 946_684_800_000_000n

/**
 * The text form of an LSN, as PostgreSQL prints it (`pg_lsn`): two hexadecimal halves.
 *
 * @example
 * ```ts
 * formatLsn(0x16b374d848n) // "16/B374D848"
 * ```
 * @since 0.1.0
 */
export const formatLsn = (lsn: Lsn): string =>
  `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`

/**
 * Reads an LSN in PostgreSQL's text form; `undefined` when `text` is not one.
 *
 * @example
 * ```ts
 * parseLsn("16/B374D848") // 0x16b374d848n
 * ```
 * @since 0.1.0
 */
export const parseLsn = (text: string): Lsn | undefined => {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text)
  if (m === null) return undefined
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`)
}

/**
 * A PostgreSQL timestamp (microseconds since 2000-01-01 UTC) as a `Date` (millisecond precision).
 * @since 0.1.0
 */
export const timestampToDate = (micros: bigint): Date => new Date(Number((micros + POSTGRES_EPOCH_MICROS) / 1000n))

/** The current time as a PostgreSQL timestamp. @since 0.1.0 */
export const nowTimestamp = (): bigint => BigInt(Date.now()) * 1000n - POSTGRES_EPOCH_MICROS

/** A CopyData payload the server sends during streaming replication. @since 0.1.0 */
export type ServerCopyData =
  | {
      readonly _tag: "XLogData"
      /** The WAL position of the start of the payload. */
      readonly walStart: Lsn
      /** The current end of WAL on the server. */
      readonly walEnd: Lsn
      readonly sendTime: bigint
      /** The payload (one pgoutput message for logical replication) is `buf[dataStart, dataEnd)`. */
      readonly dataStart: number
      readonly dataEnd: number
    }
  | {
      readonly _tag: "PrimaryKeepalive"
      readonly walEnd: Lsn
      readonly sendTime: bigint
      /** The server asks for a Standby status update at once (else it times the client out). */
      readonly replyRequested: boolean
    }

/** Type bytes of the replication CopyData payloads. @since 0.1.0 */
export const CopyDataType = {
  XLogData: 0x77, // w
  PrimaryKeepalive: 0x6b, // k
  StandbyStatusUpdate: 0x72, // r
} as const

/** Reads an unsigned 64-bit integer. @since 0.1.0 */
export const uint64 = (r: BodyReader): bigint => {
  r.need(8)
  const v = r.view.getBigUint64(r.pos)
  r.pos += 8
  return v
}

/** Reads a signed 64-bit integer. @since 0.1.0 */
export const int64 = (r: BodyReader): bigint => {
  r.need(8)
  const v = r.view.getBigInt64(r.pos)
  r.pos += 8
  return v
}

/**
 * Decodes one CopyData body `buf[start, end)` received in CopyBoth mode.
 *
 * @example
 * ```ts
 * const msg = decodeCopyData(buf, view, start, end)
 * if (msg._tag === "XLogData") PgOutput.decode(buf, view, msg.dataStart, msg.dataEnd, false)
 * ```
 * @since 0.1.0
 */
export const decodeCopyData = (buf: Uint8Array, view: DataView, start: number, end: number): ServerCopyData => {
  const r = new BodyReader(buf, view, start, end, 0x64)
  const kind = r.int8()
  if (kind === CopyDataType.XLogData) {
    const walStart = uint64(r)
    const walEnd = uint64(r)
    const sendTime = int64(r)
    return { _tag: "XLogData", walStart, walEnd, sendTime, dataStart: r.pos, dataEnd: end }
  }
  if (kind === CopyDataType.PrimaryKeepalive) {
    const walEnd = uint64(r)
    const sendTime = int64(r)
    const reply = r.int8()
    if (reply > 1) r.fail(`invalid reply flag ${reply} in a keepalive`)
    r.done()
    return { _tag: "PrimaryKeepalive", walEnd, sendTime, replyRequested: reply === 1 }
  }
  throw new ProtocolViolation({
    message: `unknown replication message 0x${kind.toString(16)} in CopyData`,
    messageType: "d",
  })
}

/** The positions a Standby status update reports. @since 0.1.0 */
export interface StandbyStatus {
  /** WAL received (written) by the client, plus one byte. */
  readonly write: Lsn
  /** WAL the client has durably processed: for a logical slot this becomes its `confirmed_flush_lsn`. */
  readonly flush: Lsn
  /** WAL applied. */
  readonly apply: Lsn
  /** The client's clock (PostgreSQL timestamp); defaults to now. */
  readonly clientTime?: bigint | undefined
  /** Asks the server to answer with a keepalive at once. */
  readonly replyRequested?: boolean | undefined
}

/**
 * Appends a CopyData message holding a Standby status update ('r') to `w`.
 *
 * @example
 * ```ts
 * const bytes = Frontend.build((w) => standbyStatusUpdate(w, { write: lsn, flush: lsn, apply: lsn }))
 * ```
 * @since 0.1.0
 */
export const standbyStatusUpdate = (w: Writer, status: StandbyStatus): Writer => {
  w.byte(0x64).int32(4 + 1 + 8 * 4 + 1)
  w.byte(CopyDataType.StandbyStatusUpdate)
  w.int64(BigInt.asIntN(64, status.write))
  w.int64(BigInt.asIntN(64, status.flush))
  w.int64(BigInt.asIntN(64, status.apply))
  w.int64(status.clientTime ?? nowTimestamp())
  w.byte(status.replyRequested === true ? 1 : 0)
  return w
}

/**
 * Reads the body of a Standby status update (a CopyData payload starting with 'r'), for tests and
 * fake servers.
 * @since 0.1.0
 */
export const decodeStandbyStatus = (
  buf: Uint8Array,
  view: DataView,
  start: number,
  end: number,
): Required<StandbyStatus> => {
  const r = new BodyReader(buf, view, start, end, 0x64)
  if (r.int8() !== CopyDataType.StandbyStatusUpdate) r.fail("not a standby status update")
  const status = {
    write: uint64(r),
    flush: uint64(r),
    apply: uint64(r),
    clientTime: int64(r),
    replyRequested: r.int8() === 1,
  }
  r.done()
  return status
}
