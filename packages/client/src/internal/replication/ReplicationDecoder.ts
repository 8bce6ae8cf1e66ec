/**
 * Turns pgoutput messages into the consumer's change events: the per-stream Relation cache with
 * one codec per column (from the connection's type cache, so custom codecs apply), row values
 * decoded from text or binary, streamed transactions held until their Stream Commit (dropped on
 * Stream Abort), and the transaction boundaries (Begin ... Commit).
 *
 * Synchronous and allocation-light: it is called in a loop over a batch of payloads, never one
 * Effect per message. A Relation whose column types the registry does not know is not consumed:
 * {@link ChangeDecoder.feed} returns the OIDs to look up, and the caller feeds the same payload
 * again once they are known.
 *
 * @internal
 */
import * as PgOutput from "@pgfx/protocol/PgOutput"
import { type Lsn, timestampToDate } from "@pgfx/protocol/Replication"
import type { Codec } from "@pgfx/types/Codec"
import type { CodecRegistry } from "@pgfx/types/CodecRegistry"
import type { Effect } from "effect"
import { PgDecodeError, PgProtocolError } from "../../PgError.ts"
import type { Change, Relation, Row, Unchanged } from "./Changes.ts"

/** The value of a TOASTed column an UPDATE did not change (re-exported as `PgReplication.unchanged`). */
export const unchanged: Unchanged = Object.freeze({ _tag: "Unchanged" as const })

const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true })

interface CachedRelation {
  readonly relation: Relation
  readonly codecs: ReadonlyArray<Codec | undefined>
}

const IDENTITY = { d: "default", n: "nothing", f: "full", i: "index" } as const

/** What the decoder needs from the stream around it. */
export interface DecoderContext {
  /** The registry now (it grows as types are looked up). */
  readonly registry: () => CodecRegistry
  /** The OIDs among these that the registry has no codec for. */
  readonly unknownOids: (oids: ReadonlyArray<number>) => ReadonlyArray<number>
  /** The acknowledgement of an event that ends at `lsn`. */
  readonly ack: (lsn: Lsn) => Effect.Effect<void>
  /** An ackable event (a Commit, a non-transactional Message) ending at `lsn` was emitted. */
  readonly emitted: (lsn: Lsn) => void
}

interface OpenTransaction {
  readonly xid: number
  readonly commitLsn: Lsn
  readonly commitTime: Date
  origin: string | undefined
}

export class ChangeDecoder {
  readonly context: DecoderContext
  readonly relations = new Map<number, CachedRelation>()
  private inStream = false
  /** The transaction between Begin and Commit, if any. */
  private open: OpenTransaction | undefined = undefined
  /** Changes of streamed transactions, by top-level xid, until Stream Commit or Abort. */
  private readonly streamed = new Map<number, Array<{ readonly xid: number; readonly change: Change }>>()
  private streamXid = 0
  /** The message being decoded (its column values are views into it) and its DataView. */
  private payload: Uint8Array = new Uint8Array(0)
  private view: DataView = new DataView(new ArrayBuffer(0))

  constructor(context: DecoderContext) {
    this.context = context
  }

  /** True between a Begin and its Commit, or while a streamed transaction is held. */
  get busy(): boolean {
    return this.open !== undefined || this.streamed.size > 0
  }

  /**
   * Decodes one pgoutput message into `out`. Returns the type OIDs to look up first when it is a
   * Relation with unknown column types (nothing consumed: feed it again). Throws
   * PgProtocolError / PgDecodeError.
   */
  feed(payload: Uint8Array, out: Array<Change>): ReadonlyArray<number> | undefined {
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
    let msg: PgOutput.Message
    try {
      msg = PgOutput.decode(payload, view, 0, payload.length, this.inStream)
    } catch (e) {
      throw new PgProtocolError({ message: e instanceof Error ? e.message : String(e), cause: e })
    }
    if (msg._tag === "Relation") {
      const unknown = this.context.unknownOids(msg.columns.map((c) => c.typeOid))
      if (unknown.length > 0) return unknown
    }
    this.inStream = PgOutput.nextInStream(msg, this.inStream)
    // Column values are views into `payload`: binary codecs read them through its DataView.
    this.payload = payload
    this.view = view
    this.apply(msg, out)
    return undefined
  }

  private apply(msg: PgOutput.Message, out: Array<Change>): void {
    switch (msg._tag) {
      case "Begin":
        if (this.open !== undefined) this.violation("Begin inside a transaction")
        this.open = {
          xid: msg.xid,
          commitLsn: msg.finalLsn,
          commitTime: timestampToDate(msg.commitTime),
          origin: undefined,
        }
        out.push({ _tag: "Begin", xid: msg.xid, commitLsn: msg.finalLsn, commitTime: this.open.commitTime })
        return
      case "Origin":
        if (this.open !== undefined) this.open.origin = msg.name
        return
      case "Commit": {
        const open = this.open ?? this.violation("Commit outside a transaction")
        this.open = undefined
        out.push(this.commit(open.xid, msg.commitLsn, msg.endLsn, open.commitTime, open.origin))
        return
      }
      case "Relation":
        this.relations.set(msg.relationOid, this.cache(msg))
        return
      case "Type":
        return
      case "StreamStart":
        this.streamXid = msg.xid
        if (!this.streamed.has(msg.xid)) this.streamed.set(msg.xid, [])
        return
      case "StreamStop":
        return
      case "StreamCommit": {
        const held = this.streamed.get(msg.xid) ?? []
        this.streamed.delete(msg.xid)
        const commitTime = timestampToDate(msg.commitTime)
        out.push({ _tag: "Begin", xid: msg.xid, commitLsn: msg.commitLsn, commitTime })
        for (const h of held) out.push(h.change)
        out.push(this.commit(msg.xid, msg.commitLsn, msg.endLsn, commitTime, undefined))
        return
      }
      case "StreamAbort": {
        if (msg.subXid === msg.xid) this.streamed.delete(msg.xid)
        else {
          const held = this.streamed.get(msg.xid)
          if (held !== undefined)
            this.streamed.set(
              msg.xid,
              held.filter((h) => h.xid !== msg.subXid),
            )
        }
        return
      }
      case "Message":
        if (!msg.transactional) {
          this.context.emitted(msg.lsn)
          out.push({
            _tag: "Message",
            xid: undefined,
            transactional: false,
            prefix: msg.prefix,
            content: msg.content,
            lsn: msg.lsn,
            ack: this.context.ack(msg.lsn),
          })
          return
        }
        this.change(msg.xid, out, {
          _tag: "Message",
          xid: this.xidOf(msg.xid),
          transactional: true,
          prefix: msg.prefix,
          content: msg.content,
          lsn: msg.lsn,
          ack: undefined,
        })
        return
      case "Insert": {
        const r = this.relation(msg.relationOid)
        this.change(msg.xid, out, {
          _tag: "Insert",
          xid: this.xidOf(msg.xid),
          relation: r.relation,
          row: this.row(r, msg.newTuple),
        })
        return
      }
      case "Update": {
        const r = this.relation(msg.relationOid)
        this.change(msg.xid, out, {
          _tag: "Update",
          xid: this.xidOf(msg.xid),
          relation: r.relation,
          old: msg.old === undefined ? undefined : this.row(r, msg.old.tuple),
          oldKind: msg.old?.kind,
          row: this.row(r, msg.newTuple),
        })
        return
      }
      case "Delete": {
        const r = this.relation(msg.relationOid)
        this.change(msg.xid, out, {
          _tag: "Delete",
          xid: this.xidOf(msg.xid),
          relation: r.relation,
          old: this.row(r, msg.old.tuple),
          oldKind: msg.old.kind,
        })
        return
      }
      case "Truncate":
        this.change(msg.xid, out, {
          _tag: "Truncate",
          xid: this.xidOf(msg.xid),
          relations: msg.relationOids.map((oid) => this.relation(oid).relation),
          cascade: msg.cascade,
          restartIdentity: msg.restartIdentity,
        })
        return
      default:
        // Two-phase messages come only when asked for (`two_phase`), which the stream never does.
        this.violation(`unexpected ${msg._tag} message (two-phase decoding was not requested)`)
    }
  }

  /** The top-level xid of a data message: the open transaction's, or the streamed one's. */
  private xidOf(messageXid: number | undefined): number {
    if (messageXid !== undefined) return this.streamXid
    return this.open?.xid ?? this.violation("a change outside a transaction")
  }

  /** Emits a change, or holds it when it belongs to a streamed transaction. */
  private change(messageXid: number | undefined, out: Array<Change>, change: Change): void {
    if (messageXid === undefined) {
      out.push(change)
      return
    }
    const held = this.streamed.get(this.streamXid) ?? this.violation("a streamed change outside Stream Start")
    held.push({ xid: messageXid, change })
  }

  private commit(xid: number, commitLsn: Lsn, endLsn: Lsn, commitTime: Date, origin: string | undefined): Change {
    this.context.emitted(endLsn)
    return { _tag: "Commit", xid, commitLsn, endLsn, commitTime, origin, ack: this.context.ack(endLsn) }
  }

  private cache(msg: PgOutput.Message & { readonly _tag: "Relation" }): CachedRelation {
    const registry = this.context.registry()
    return {
      relation: {
        oid: msg.relationOid,
        schema: msg.namespace,
        name: msg.name,
        replicaIdentity: IDENTITY[msg.replicaIdentity],
        columns: msg.columns.map((c) => ({
          name: c.name,
          typeOid: c.typeOid,
          typeModifier: c.typeModifier,
          key: c.key,
        })),
      },
      codecs: msg.columns.map((c) => registry.get(c.typeOid)),
    }
  }

  private relation(oid: number): CachedRelation {
    return this.relations.get(oid) ?? this.violation(`a change of relation ${oid} before its Relation message`)
  }

  private row(r: CachedRelation, tuple: PgOutput.TupleData): Row {
    const columns = r.relation.columns
    if (tuple.length !== columns.length) {
      this.violation(`a row of ${tuple.length} columns for ${r.relation.name}, which has ${columns.length}`)
    }
    const row: Record<string, unknown> = {}
    for (let i = 0; i < tuple.length; i++) {
      const v = tuple[i]!
      const column = columns[i]!
      switch (v._tag) {
        case "Null":
          row[column.name] = null
          break
        case "Unchanged":
          row[column.name] = unchanged
          break
        default:
          row[column.name] = this.value(r.codecs[i], column.name, column.typeOid, v)
      }
    }
    return row
  }

  private value(
    codec: Codec | undefined,
    column: string,
    typeOid: number,
    v: { readonly _tag: "Text" | "Binary"; readonly data: Uint8Array },
  ): unknown {
    const data = v.data
    try {
      if (v._tag === "Text") {
        const text = utf8.decode(data)
        return codec === undefined ? text : codec.decodeText(text)
      }
      if (codec === undefined || !codec.binary) {
        throw new Error(
          `the server sent a binary value and the type (${codec?.name ?? `oid ${typeOid}`}) has no binary codec; stream with binary: false`,
        )
      }
      // `data` is a view into the payload: decode in place through the payload's DataView.
      return codec.decodeBinary(this.payload, this.view, data.byteOffset - this.payload.byteOffset, data.length)
    } catch (e) {
      throw new PgDecodeError({
        message: `cannot decode column "${column}": ${e instanceof Error ? e.message : String(e)}`,
        column,
        typeOid,
        cause: e,
      })
    }
  }

  private violation(message: string): never {
    throw new PgProtocolError({ message: `pgoutput: ${message}` })
  }
}
