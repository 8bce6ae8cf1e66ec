/**
 * The messages of `pgoutput`, PostgreSQL's logical decoding output plugin (the payload of each
 * XLogData during logical replication), protocol versions 1 to 4: a decoder from one message's
 * bytes to a value.
 *
 * | version | server | adds                                                                 |
 * | ------- | ------ | -------------------------------------------------------------------- |
 * | 1       | 10     | Begin, Commit, Origin, Relation, Type, Insert, Update, Delete, Truncate (11), Message (14) |
 * | 2       | 14     | streamed transactions: Stream Start/Stop/Commit/Abort; an xid on the messages inside a stream |
 * | 3       | 15     | two-phase: Begin Prepare, Prepare, Commit Prepared, Rollback Prepared, Stream Prepare |
 * | 4       | 16     | parallel streaming: Stream Abort carries the abort LSN and time       |
 *
 * Which messages carry a transaction id depends on whether they arrive between Stream Start and
 * Stream Stop: the caller says so (`inStream`), since the bytes alone do not tell. The Stream
 * Abort's extra fields are present exactly when the server was asked for `streaming 'parallel'`;
 * they are read when the message is long enough to hold them.
 *
 * Ownership: strings and `Message.content` are copies, but column values are **views into the
 * message buffer** (`subarray`, no copy: one row costs no allocation per column beyond its
 * value object), so they are valid as long as `buf` is not reused; copy them (`slice()`) to keep
 * them longer. Column values stay bytes here (text or binary, as the server sent them); turning
 * them into JS values is the client's job (it has the codecs). A TOASTed column the UPDATE did
 * not change is {@link Unchanged}, never NULL.
 *
 * Errors: a malformed or unknown message raises `Backend.ProtocolViolation`.
 *
 * @since 0.1.0
 */
import { BodyReader } from "./Backend.ts"
import { int64, type Lsn, uint64 } from "./Replication.ts"

/** A column value of a row image (`data` is a view into the message buffer). @since 0.1.0 */
export type TupleValue =
  | typeof Null
  | typeof Unchanged
  | { readonly _tag: "Text"; readonly data: Uint8Array }
  | { readonly _tag: "Binary"; readonly data: Uint8Array }

/** SQL NULL ('n'). @since 0.1.0 */
export const Null: { readonly _tag: "Null" } = { _tag: "Null" }

/**
 * An unchanged TOASTed value ('u'): the UPDATE did not touch it and the server did not send it.
 * It is not NULL: the column keeps its old value.
 * @since 0.1.0
 */
export const Unchanged: { readonly _tag: "Unchanged" } = { _tag: "Unchanged" }

/** A row image: one value per column of the relation. @since 0.1.0 */
export type TupleData = ReadonlyArray<TupleValue>

/** One column of a Relation message. @since 0.1.0 */
export interface RelationColumn {
  /** Part of the replica identity (the key an UPDATE or DELETE identifies its row by). */
  readonly key: boolean
  readonly name: string
  readonly typeOid: number
  readonly typeModifier: number
}

/**
 * The replica identity setting of a relation: `d` default (primary key), `n` nothing, `f` full
 * (every column), `i` an index.
 * @since 0.1.0
 */
export type ReplicaIdentity = "d" | "n" | "f" | "i"

/** Every pgoutput message, discriminated by `_tag`. `xid` is present inside a streamed transaction. @since 0.1.0 */
export type Message =
  | { readonly _tag: "Begin"; readonly finalLsn: Lsn; readonly commitTime: bigint; readonly xid: number }
  | {
      readonly _tag: "Commit"
      readonly flags: number
      readonly commitLsn: Lsn
      readonly endLsn: Lsn
      readonly commitTime: bigint
    }
  | { readonly _tag: "Origin"; readonly commitLsn: Lsn; readonly name: string }
  | {
      readonly _tag: "Relation"
      readonly xid?: number
      readonly relationOid: number
      readonly namespace: string
      readonly name: string
      readonly replicaIdentity: ReplicaIdentity
      readonly columns: ReadonlyArray<RelationColumn>
    }
  | {
      readonly _tag: "Type"
      readonly xid?: number
      readonly typeOid: number
      readonly namespace: string
      readonly name: string
    }
  | { readonly _tag: "Insert"; readonly xid?: number; readonly relationOid: number; readonly newTuple: TupleData }
  | {
      readonly _tag: "Update"
      readonly xid?: number
      readonly relationOid: number
      /** 'K': the old key columns (the replica identity changed); 'O': the whole old row (REPLICA IDENTITY FULL). */
      readonly old?: { readonly kind: "key" | "row"; readonly tuple: TupleData }
      readonly newTuple: TupleData
    }
  | {
      readonly _tag: "Delete"
      readonly xid?: number
      readonly relationOid: number
      readonly old: { readonly kind: "key" | "row"; readonly tuple: TupleData }
    }
  | {
      readonly _tag: "Truncate"
      readonly xid?: number
      readonly cascade: boolean
      readonly restartIdentity: boolean
      readonly relationOids: ReadonlyArray<number>
    }
  | {
      readonly _tag: "Message"
      readonly xid?: number
      readonly transactional: boolean
      readonly lsn: Lsn
      readonly prefix: string
      readonly content: Uint8Array
    }
  | { readonly _tag: "StreamStart"; readonly xid: number; readonly firstSegment: boolean }
  | { readonly _tag: "StreamStop" }
  | {
      readonly _tag: "StreamCommit"
      readonly xid: number
      readonly flags: number
      readonly commitLsn: Lsn
      readonly endLsn: Lsn
      readonly commitTime: bigint
    }
  | {
      readonly _tag: "StreamAbort"
      readonly xid: number
      readonly subXid: number
      /** Protocol 4 with `streaming 'parallel'` only. */
      readonly abortLsn?: Lsn
      readonly abortTime?: bigint
    }
  | {
      readonly _tag: "BeginPrepare"
      readonly prepareLsn: Lsn
      readonly endLsn: Lsn
      readonly prepareTime: bigint
      readonly xid: number
      readonly gid: string
    }
  | {
      readonly _tag: "Prepare" | "StreamPrepare"
      readonly flags: number
      readonly prepareLsn: Lsn
      readonly endLsn: Lsn
      readonly prepareTime: bigint
      readonly xid: number
      readonly gid: string
    }
  | {
      readonly _tag: "CommitPrepared"
      readonly flags: number
      readonly commitLsn: Lsn
      readonly endLsn: Lsn
      readonly commitTime: bigint
      readonly xid: number
      readonly gid: string
    }
  | {
      readonly _tag: "RollbackPrepared"
      readonly flags: number
      /** The end of the PREPARE TRANSACTION record. */
      readonly prepareEndLsn: Lsn
      /** The end of the ROLLBACK PREPARED record. */
      readonly rollbackEndLsn: Lsn
      readonly prepareTime: bigint
      readonly rollbackTime: bigint
      readonly xid: number
      readonly gid: string
    }

/** Type bytes of the pgoutput messages. @since 0.1.0 */
export const Type = {
  Begin: 0x42, // B
  Commit: 0x43, // C
  Origin: 0x4f, // O
  Relation: 0x52, // R
  Type: 0x59, // Y
  Insert: 0x49, // I
  Update: 0x55, // U
  Delete: 0x44, // D
  Truncate: 0x54, // T
  Message: 0x4d, // M
  StreamStart: 0x53, // S
  StreamStop: 0x45, // E
  StreamCommit: 0x63, // c
  StreamAbort: 0x41, // A
  BeginPrepare: 0x62, // b
  Prepare: 0x50, // P
  CommitPrepared: 0x4b, // K
  RollbackPrepared: 0x72, // r
  StreamPrepare: 0x70, // p
} as const

const tupleData = (r: BodyReader): TupleData => {
  const n = r.int16()
  if (n < 0) r.fail("negative column count")
  const out: Array<TupleValue> = new Array(n)
  for (let i = 0; i < n; i++) {
    const kind = r.int8()
    switch (kind) {
      case 0x6e: // n
        out[i] = Null
        break
      case 0x75: // u
        out[i] = Unchanged
        break
      case 0x74: // t
      case 0x62: {
        // b
        const len = r.int32()
        if (len < 0) r.fail(`invalid column length ${len}`)
        r.need(len)
        const data = r.buf.subarray(r.pos, r.pos + len)
        r.pos += len
        out[i] = kind === 0x74 ? { _tag: "Text", data } : { _tag: "Binary", data }
        break
      }
      default:
        r.fail(`unknown column kind 0x${kind.toString(16)}`)
    }
  }
  return out
}

const oldTuple = (r: BodyReader, kind: number): { readonly kind: "key" | "row"; readonly tuple: TupleData } => {
  if (kind !== 0x4b && kind !== 0x4f) r.fail(`expected 'K' or 'O', got 0x${kind.toString(16)}`)
  return { kind: kind === 0x4b ? "key" : "row", tuple: tupleData(r) }
}

const expectNew = (r: BodyReader, kind: number): TupleData => {
  if (kind !== 0x4e) r.fail(`expected 'N', got 0x${kind.toString(16)}`)
  return tupleData(r)
}

const withXid = <A extends object>(xid: number | undefined, msg: A): A => (xid === undefined ? msg : { ...msg, xid })

const relation = (r: BodyReader, xid: number | undefined): Message => {
  const relationOid = r.uint32()
  const namespace = r.cstring()
  const name = r.cstring()
  const identity = String.fromCharCode(r.int8())
  if (identity !== "d" && identity !== "n" && identity !== "f" && identity !== "i") {
    r.fail(`unknown replica identity '${identity}'`)
  }
  const n = r.int16()
  if (n < 0) r.fail("negative column count")
  const columns: Array<RelationColumn> = []
  for (let i = 0; i < n; i++) {
    const flags = r.int8()
    columns.push({ key: (flags & 1) === 1, name: r.cstring(), typeOid: r.uint32(), typeModifier: r.int32() })
  }
  return withXid(xid, {
    _tag: "Relation" as const,
    relationOid,
    namespace,
    name,
    replicaIdentity: identity as ReplicaIdentity,
    columns,
  })
}

const prepareLike = (r: BodyReader, tag: "Prepare" | "StreamPrepare"): Message => ({
  _tag: tag,
  flags: r.int8(),
  prepareLsn: uint64(r),
  endLsn: uint64(r),
  prepareTime: int64(r),
  xid: r.uint32(),
  gid: r.cstring(),
})

const decodeBody = (r: BodyReader, type: number, inStream: boolean): Message => {
  // Inside a streamed transaction (protocol 2+), the data messages start with the xid.
  const xid = (): number | undefined => (inStream ? r.uint32() : undefined)
  switch (type) {
    case Type.Begin:
      return { _tag: "Begin", finalLsn: uint64(r), commitTime: int64(r), xid: r.uint32() }
    case Type.Commit:
      return { _tag: "Commit", flags: r.int8(), commitLsn: uint64(r), endLsn: uint64(r), commitTime: int64(r) }
    case Type.Origin:
      return { _tag: "Origin", commitLsn: uint64(r), name: r.cstring() }
    case Type.Relation:
      return relation(r, xid())
    case Type.Type: {
      const x = xid()
      return withXid(x, { _tag: "Type" as const, typeOid: r.uint32(), namespace: r.cstring(), name: r.cstring() })
    }
    case Type.Insert: {
      const x = xid()
      const relationOid = r.uint32()
      return withXid(x, { _tag: "Insert" as const, relationOid, newTuple: expectNew(r, r.int8()) })
    }
    case Type.Update: {
      const x = xid()
      const relationOid = r.uint32()
      const kind = r.int8()
      if (kind === 0x4e) return withXid(x, { _tag: "Update" as const, relationOid, newTuple: tupleData(r) })
      const old = oldTuple(r, kind)
      return withXid(x, { _tag: "Update" as const, relationOid, old, newTuple: expectNew(r, r.int8()) })
    }
    case Type.Delete: {
      const x = xid()
      const relationOid = r.uint32()
      return withXid(x, { _tag: "Delete" as const, relationOid, old: oldTuple(r, r.int8()) })
    }
    case Type.Truncate: {
      const x = xid()
      const n = r.int32()
      if (n < 0) r.fail("negative relation count")
      const options = r.int8()
      const relationOids: Array<number> = []
      for (let i = 0; i < n; i++) relationOids.push(r.uint32())
      return withXid(x, {
        _tag: "Truncate" as const,
        cascade: (options & 1) !== 0,
        restartIdentity: (options & 2) !== 0,
        relationOids,
      })
    }
    case Type.Message: {
      const x = xid()
      const flags = r.int8()
      const lsn = uint64(r)
      const prefix = r.cstring()
      const len = r.int32()
      if (len < 0) r.fail(`invalid content length ${len}`)
      return withXid(x, {
        _tag: "Message" as const,
        transactional: (flags & 1) === 1,
        lsn,
        prefix,
        content: r.bytes(len),
      })
    }
    case Type.StreamStart:
      return { _tag: "StreamStart", xid: r.uint32(), firstSegment: r.int8() === 1 }
    case Type.StreamStop:
      return { _tag: "StreamStop" }
    case Type.StreamCommit:
      return {
        _tag: "StreamCommit",
        xid: r.uint32(),
        flags: r.int8(),
        commitLsn: uint64(r),
        endLsn: uint64(r),
        commitTime: int64(r),
      }
    case Type.StreamAbort: {
      const xid = r.uint32()
      const subXid = r.uint32()
      if (r.end - r.pos < 16) return { _tag: "StreamAbort", xid, subXid }
      return { _tag: "StreamAbort", xid, subXid, abortLsn: uint64(r), abortTime: int64(r) }
    }
    case Type.BeginPrepare:
      return {
        _tag: "BeginPrepare",
        prepareLsn: uint64(r),
        endLsn: uint64(r),
        prepareTime: int64(r),
        xid: r.uint32(),
        gid: r.cstring(),
      }
    case Type.Prepare:
      return prepareLike(r, "Prepare")
    case Type.StreamPrepare:
      return prepareLike(r, "StreamPrepare")
    case Type.CommitPrepared:
      return {
        _tag: "CommitPrepared",
        flags: r.int8(),
        commitLsn: uint64(r),
        endLsn: uint64(r),
        commitTime: int64(r),
        xid: r.uint32(),
        gid: r.cstring(),
      }
    case Type.RollbackPrepared:
      return {
        _tag: "RollbackPrepared",
        flags: r.int8(),
        prepareEndLsn: uint64(r),
        rollbackEndLsn: uint64(r),
        prepareTime: int64(r),
        rollbackTime: int64(r),
        xid: r.uint32(),
        gid: r.cstring(),
      }
    default:
      return r.fail(`unknown pgoutput message type 0x${type.toString(16)}`)
  }
}

/**
 * Decodes one pgoutput message `buf[start, end)` (its first byte is the message type). Set
 * `inStream` between Stream Start and Stream Stop: the data messages there carry an xid.
 *
 * Errors: throws `Backend.ProtocolViolation` for an unknown type or a malformed body.
 *
 * @example
 * ```ts
 * const msg = decode(buf, view, msg.dataStart, msg.dataEnd, false)
 * if (msg._tag === "Insert") console.log(msg.relationOid, msg.newTuple.length)
 * ```
 * @since 0.1.0
 */
export const decode = (buf: Uint8Array, view: DataView, start: number, end: number, inStream: boolean): Message => {
  const r = new BodyReader(buf, view, start, end, 0x64)
  const type = r.int8()
  r.type = type
  const msg = decodeBody(r, type, inStream)
  r.done()
  return msg
}

/**
 * Whether `msg` opens a streamed block (Stream Start) or closes it (Stream Stop): the `inStream`
 * argument of the next {@link decode}.
 * @since 0.1.0
 */
export const nextInStream = (msg: Message, inStream: boolean): boolean =>
  msg._tag === "StreamStart" ? true : msg._tag === "StreamStop" ? false : inStream
