/**
 * The change events of a logical replication stream (`PgReplication.Change` and the values it
 * carries): a leaf module, so the decoder and the stream can name them without importing
 * `PgReplication`, which re-exports them.
 */
import type { Effect } from "effect"

/** A WAL position (unsigned 64-bit); {@link formatLsn} prints it as PostgreSQL does. @since 0.1.0 */
export type Lsn = bigint

/** A table as the Relation message described it. @since 0.1.0 */
export interface Relation {
  readonly oid: number
  readonly schema: string
  readonly name: string
  /** How UPDATE and DELETE identify the old row: the primary key, an index, the full row, or nothing. */
  readonly replicaIdentity: "default" | "nothing" | "full" | "index"
  readonly columns: ReadonlyArray<{
    readonly name: string
    readonly typeOid: number
    readonly typeModifier: number
    /** Part of the replica identity. */
    readonly key: boolean
  }>
}

/** The value of a TOASTed column an UPDATE did not change: the server did not send it. Not NULL. @since 0.1.0 */
export interface Unchanged {
  readonly _tag: "Unchanged"
}

/** A row image: column name to decoded value (`null` for NULL, {@link unchanged} for an unchanged TOASTed value). @since 0.1.0 */
export type Row = Readonly<Record<string, unknown>>

/**
 * One event of a change stream. `xid` is the transaction's id; a transaction is `Begin`, its
 * changes, then `Commit` (run `ack` once it is processed).
 *
 * `Update.old` is the old key (`oldKind: "key"`, when the key changed; other columns are `null`
 * there) or the whole old row (`"row"`, with `REPLICA IDENTITY FULL`); absent otherwise.
 *
 * @since 0.1.0
 * @category models
 */
export type Change =
  | { readonly _tag: "Begin"; readonly xid: number; readonly commitLsn: Lsn; readonly commitTime: Date }
  | { readonly _tag: "Insert"; readonly xid: number; readonly relation: Relation; readonly row: Row }
  | {
      readonly _tag: "Update"
      readonly xid: number
      readonly relation: Relation
      readonly old: Row | undefined
      readonly oldKind: "key" | "row" | undefined
      readonly row: Row
    }
  | {
      readonly _tag: "Delete"
      readonly xid: number
      readonly relation: Relation
      readonly old: Row
      readonly oldKind: "key" | "row"
    }
  | {
      readonly _tag: "Truncate"
      readonly xid: number
      readonly relations: ReadonlyArray<Relation>
      readonly cascade: boolean
      readonly restartIdentity: boolean
    }
  | {
      readonly _tag: "Message"
      /** The transaction, for a transactional message; `undefined` otherwise. */
      readonly xid: number | undefined
      readonly transactional: boolean
      readonly prefix: string
      readonly content: Uint8Array
      readonly lsn: Lsn
      /** Acknowledges a non-transactional message (`undefined` for a transactional one: ack its Commit). */
      readonly ack: Effect.Effect<void> | undefined
    }
  | {
      readonly _tag: "Commit"
      readonly xid: number
      readonly commitLsn: Lsn
      /** The end of the commit record: what `ack` confirms. */
      readonly endLsn: Lsn
      readonly commitTime: Date
      /** The replication origin the transaction was replayed from, if any. */
      readonly origin: string | undefined
      /** Confirms this transaction (and everything before it) as processed. */
      readonly ack: Effect.Effect<void>
    }
