/**
 * The per-request handlers of the query cycle. Each handler receives only the messages of its
 * own request, in order, checks each against its reply state machine (internal/wire/Replies.ts: a
 * message out of place poisons the session), and ends on ReadyForQuery. A failure inside a cycle
 * (a server error, a value that cannot be decoded) is remembered and the handler keeps draining
 * until ReadyForQuery, so the session stays in sync and usable.
 *
 * @internal
 */
import * as Backend from "@pgfx/protocol/Backend"
import * as Frontend from "@pgfx/protocol/Frontend"
import type { CodecRegistry } from "@pgfx/types/CodecRegistry"
import { type PgLimitError, type PgQueryError, PgServerError } from "../../PgError.ts"
import type { PgRecord } from "../../PgRecord.ts"
import { ExtendedReplies, SimpleReplies, unexpected } from "./Replies.ts"
import type { Handler, Session, SessionError } from "./Session.ts"
import { decodeRowInto, describedBy, type StatementInfo } from "./Statement.ts"

/**
 * How a handler reports its outcome. Called as methods: a request object (internal/connection/Exchange.ts)
 * is its own completion, so `succeed` and `fail` are not to be detached from it.
 */
export interface Completion<A> {
  succeed(value: A): void
  fail(error: PgQueryError): void
}

/**
 * The error a request reports after an ErrorResponse (in `buf` from `start` to `end`): the one it
 * already has (the first error of its cycle, or an exceeded limit), else the server's.
 * `batchIndex`: the argument set that failed, for `executeMany`.
 */
export const firstError = (
  error: PgQueryError | undefined,
  buf: Uint8Array,
  view: DataView,
  start: number,
  end: number,
  sql: string,
  batchIndex?: number,
): PgQueryError | undefined => {
  const msg = Backend.decode(Backend.Type.ErrorResponse, buf, view, start, end)
  return msg._tag === "ErrorResponse" && error === undefined
    ? PgServerError.fromFields(msg.fields, sql, batchIndex)
    : error
}

abstract class BaseHandler<A> implements Handler {
  error: PgQueryError | undefined = undefined
  settled = false
  /** True for the client's own queries (type introspection), which result limits do not apply to. */
  unlimited = false
  readonly completion: Completion<A>
  readonly sql: string

  constructor(completion: Completion<A>, sql: string) {
    this.completion = completion
    this.sql = sql
  }

  abstract onMessage(type: number, buf: Uint8Array, view: DataView, start: number, end: number): boolean

  onFailure(error: SessionError): void {
    this.settle(undefined, error)
  }

  onLimit(error: PgLimitError): void {
    if (this.error === undefined) this.error = error
  }

  /** Records a server error of this cycle. */
  serverError(buf: Uint8Array, view: DataView, start: number, end: number): void {
    this.error = firstError(this.error, buf, view, start, end, this.sql)
  }

  settle(value: A | undefined, error: PgQueryError | undefined): void {
    if (this.settled) return
    this.settled = true
    if (error !== undefined) this.completion.fail(error)
    else this.completion.succeed(value as A)
  }
}

/** A handler of an extended-query request: its replies follow from the request's messages. */
abstract class ExtendedHandler<A> extends BaseHandler<A> {
  readonly replies = new ExtendedReplies()

  sent(request: Uint8Array): void {
    this.replies.start(request)
  }
}

/**
 * The simple query protocol (Query message): several statements allowed; the result is the
 * status tag of the last command. Rows are discarded. COPY started this way is refused (COPY IN)
 * or drained (COPY OUT) so the session stays usable.
 */
export class SimpleQueryHandler extends BaseHandler<string> {
  lastTag = ""
  readonly session: Session
  readonly replies = new SimpleReplies()

  constructor(session: Session, completion: Completion<string>, sql: string) {
    super(completion, sql)
    this.session = session
  }

  onMessage(type: number, buf: Uint8Array, view: DataView, start: number, end: number): boolean {
    this.replies.accept(type)
    switch (type) {
      case Backend.Type.CommandComplete: {
        const msg = Backend.decode(type, buf, view, start, end)
        if (msg._tag === "CommandComplete") this.lastTag = msg.tag
        return false
      }
      case Backend.Type.CopyInResponse:
        this.session.write(
          Frontend.build((w) => Frontend.copyFail(w, "COPY FROM STDIN is not supported by execute(); use copyToTable")),
        )
        return false
      case Backend.Type.ErrorResponse:
        this.serverError(buf, view, start, end)
        return false
      case Backend.Type.ReadyForQuery:
        this.settle(this.lastTag, this.error)
        return true
      default:
        // Rows and COPY OUT data are discarded.
        return false
    }
  }
}

/** The description a Parse + Describe('S') + Sync cycle returns. */
export interface Description {
  readonly paramOids: ReadonlyArray<number>
  readonly fields: ReadonlyArray<Backend.FieldDescription>
}

/** Parse + Describe statement + Sync: learns parameter types and result columns. */
export class PrepareHandler extends ExtendedHandler<Description> {
  paramOids: ReadonlyArray<number> = []
  fields: ReadonlyArray<Backend.FieldDescription> = []

  onMessage(type: number, buf: Uint8Array, view: DataView, start: number, end: number): boolean {
    this.replies.accept(type)
    switch (type) {
      case Backend.Type.ParameterDescription: {
        const msg = Backend.decode(type, buf, view, start, end)
        if (msg._tag === "ParameterDescription") this.paramOids = msg.typeOids
        return false
      }
      case Backend.Type.RowDescription: {
        const msg = Backend.decode(type, buf, view, start, end)
        if (msg._tag === "RowDescription") this.fields = msg.fields
        return false
      }
      case Backend.Type.ErrorResponse:
        this.serverError(buf, view, start, end)
        return false
      case Backend.Type.ReadyForQuery:
        this.settle({ paramOids: this.paramOids, fields: this.fields }, this.error)
        return true
      default:
        // ParseComplete, CloseComplete, NoData.
        return false
    }
  }
}

/** What an execute cycle produced. */
export interface ExecuteResult {
  readonly rows: Array<PgRecord>
  /** The CommandComplete tag, "" when the portal was suspended (row limit reached). */
  readonly status: string
  /** The description the rows were decoded with (fresher than the cached one after a re-describe). */
  readonly info: StatementInfo
}

/**
 * Bind + Execute + Sync for a described statement: decodes every row.
 *
 * For the unnamed statement the batch also describes the portal (RowDescription or NoData
 * before the rows): when the result shape differs from the cached description (DDL since), the
 * rows are decoded with the fresh description and `onStale` tells the cache to drop its entry.
 */
export class ExecuteHandler extends ExtendedHandler<ExecuteResult> {
  info: StatementInfo
  readonly rows: Array<PgRecord> = []
  status = ""
  readonly registry: CodecRegistry | undefined
  readonly onStale: (() => void) | undefined

  constructor(
    completion: Completion<ExecuteResult>,
    info: StatementInfo,
    registry?: CodecRegistry,
    onStale?: () => void,
  ) {
    super(completion, info.sql)
    this.info = info
    this.registry = registry
    this.onStale = onStale
  }

  onMessage(type: number, buf: Uint8Array, view: DataView, start: number, end: number): boolean {
    this.replies.accept(type)
    switch (type) {
      case Backend.Type.DataRow: {
        if (this.error !== undefined) return false
        this.error = decodeRowInto(this.info, this.rows, buf, view, start, end)
        return false
      }
      case Backend.Type.CommandComplete: {
        const msg = Backend.decode(type, buf, view, start, end)
        if (msg._tag === "CommandComplete") this.status = msg.tag
        return false
      }
      case Backend.Type.RowDescription:
      case Backend.Type.NoData: {
        const described = describedBy(this.info, type, buf, view, start, end, this.registry)
        if (described === undefined) return unexpected(type, "that does not match the statement's description")
        if (described !== this.info) {
          this.info = described
          this.onStale?.()
        }
        return false
      }
      case Backend.Type.ErrorResponse:
        this.serverError(buf, view, start, end)
        return false
      case Backend.Type.ReadyForQuery:
        this.settle({ rows: this.rows, status: this.status, info: this.info }, this.error)
        return true
      default:
        // ParseComplete, BindComplete, CloseComplete, PortalSuspended, EmptyQueryResponse.
        return false
    }
  }
}

/** A cycle whose only job is to reach ReadyForQuery (e.g. Close + Sync). */
export class SyncHandler extends ExtendedHandler<void> {
  onMessage(type: number, buf: Uint8Array, view: DataView, start: number, end: number): boolean {
    this.replies.accept(type)
    switch (type) {
      case Backend.Type.ErrorResponse:
        this.serverError(buf, view, start, end)
        return false
      case Backend.Type.ReadyForQuery:
        this.settle(undefined, this.error)
        return true
      default:
        return false
    }
  }
}
