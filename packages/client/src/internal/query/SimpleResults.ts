/**
 * The simple query protocol with its results kept: one Query message (several statements
 * allowed), and for each statement the rows the server sent and its command tag. Whether a
 * statement returns rows is what the server says (RowDescription before the rows), never guessed
 * from the text.
 *
 * Values arrive in text format and are decoded through the connection's codec registry (the
 * codecs it is configured with plus the types it has looked up); a column whose type the registry
 * does not know is the server's text.
 *
 * Like every handler it drains to ReadyForQuery after a failure, so the session stays usable.
 * COPY started this way is refused (COPY IN) or drained (COPY OUT), as `execute` does.
 *
 * @internal
 */
import * as Backend from "@pgfx/protocol/Backend"
import * as Frontend from "@pgfx/protocol/Frontend"
import type { CodecRegistry } from "@pgfx/types/CodecRegistry"
import { type PgLimitError, type PgQueryError } from "../../PgError.ts"
import type { PgResult } from "../Handles.ts"
import type { PgRecord } from "../../PgRecord.ts"
import { type Completion, firstError } from "../wire/Handlers.ts"
import { SimpleReplies } from "../wire/Replies.ts"
import type { Handler, Session, SessionError } from "../wire/Session.ts"
import { decodeRowInto, makeStatementInfo, type StatementInfo } from "../wire/Statement.ts"

export class SimpleResultsHandler implements Handler {
  readonly results: Array<PgResult> = []
  /** The current statement's description (from its RowDescription) and rows. */
  info: StatementInfo | undefined = undefined
  rows: Array<PgRecord> = []
  error: PgQueryError | undefined = undefined
  settled = false
  readonly session: Session
  readonly registry: CodecRegistry
  readonly completion: Completion<Array<PgResult>>
  readonly sql: string
  /** The simple query's reply state machine: a message out of place poisons the session. */
  readonly replies = new SimpleReplies()

  constructor(session: Session, registry: CodecRegistry, completion: Completion<Array<PgResult>>, sql: string) {
    this.session = session
    this.registry = registry
    this.completion = completion
    this.sql = sql
  }

  onLimit(error: PgLimitError): void {
    if (this.error === undefined) this.error = error
  }

  onMessage(type: number, buf: Uint8Array, view: DataView, start: number, end: number): boolean {
    this.replies.accept(type)
    switch (type) {
      case Backend.Type.RowDescription: {
        const msg = Backend.decode(type, buf, view, start, end)
        if (msg._tag !== "RowDescription") return false
        this.info = makeStatementInfo(
          "",
          this.sql,
          [],
          msg.fields,
          this.registry,
          msg.fields.map((f) => (f.format === 1 ? 1 : 0)),
        )
        this.rows = []
        return false
      }
      case Backend.Type.DataRow: {
        if (this.error !== undefined) return false
        if (this.info === undefined) throw new Backend.ProtocolViolation({ message: "DataRow before RowDescription" })
        this.error = decodeRowInto(this.info, this.rows, buf, view, start, end)
        return false
      }
      case Backend.Type.CommandComplete: {
        const msg = Backend.decode(type, buf, view, start, end)
        if (msg._tag === "CommandComplete") this.complete(msg.tag)
        return false
      }
      case Backend.Type.EmptyQueryResponse:
      case Backend.Type.CopyData:
      case Backend.Type.CopyDone:
      case Backend.Type.CopyOutResponse:
        return false
      case Backend.Type.CopyInResponse:
        this.session.write(
          Frontend.build((w) => Frontend.copyFail(w, "COPY FROM STDIN is not supported here; use copyToTable")),
        )
        return false
      case Backend.Type.ErrorResponse: {
        this.error = firstError(this.error, buf, view, start, end, this.sql)
        return false
      }
      case Backend.Type.ReadyForQuery:
        this.settle(this.error)
        return true
      default:
        throw new Backend.ProtocolViolation({
          message: `unexpected message '${String.fromCharCode(type)}' during a simple query`,
        })
    }
  }

  onFailure(error: SessionError): void {
    this.settle(error)
  }

  /** One statement ended: its rows (none when it sent no RowDescription) and its tag. */
  private complete(tag: string): void {
    const info = this.info
    this.results.push({ command: tag, rows: info === undefined ? [] : this.rows, columns: info?.columns ?? [] })
    this.info = undefined
    this.rows = []
  }

  private settle(error: PgQueryError | undefined): void {
    if (this.settled) return
    this.settled = true
    if (error !== undefined) this.completion.fail(error)
    else this.completion.succeed(this.results)
  }
}
