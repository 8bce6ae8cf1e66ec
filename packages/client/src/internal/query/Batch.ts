/**
 * `executeMany` / `fetchMany`: one statement run for many argument sets in a single pipelined
 * batch — Bind + Execute per set, one Sync at the end — so the whole batch costs one round trip
 * and is atomic: outside a transaction the sets run in one implicit transaction, and a failure
 * in any set rolls back all of them (asyncpg's executemany is atomic too).
 *
 * @internal
 */
import * as Backend from "@pgfx/protocol/Backend"
import * as Frontend from "@pgfx/protocol/Frontend"
import type { Writer } from "@pgfx/protocol/Writer"
import type { CodecRegistry } from "@pgfx/types/CodecRegistry"
import { Effect } from "effect"
import { PgEncodeError, type PgLimitError, type PgQueryError } from "../../PgError.ts"
import type { PgRecord } from "../../PgRecord.ts"
import type { ConnectionCore } from "../connection/Core.ts"
import { executeCached } from "./Execute.ts"
import { type Completion, firstError } from "../wire/Handlers.ts"
import { ExtendedReplies } from "../wire/Replies.ts"
import type { Handler, SessionError } from "../wire/Session.ts"
import { decodeRowInto, describedBy, parsesInBatch, type StatementInfo, writeBindExecute } from "../wire/Statement.ts"

/** Writes Bind + Execute for every argument set (Parse once for the unnamed statement), then Sync. */
export const writeBatch = (w: Writer, info: StatementInfo, argsList: ReadonlyArray<ReadonlyArray<unknown>>): void => {
  for (let i = 0; i < argsList.length; i++) {
    try {
      writeBindExecute(w, info, argsList[i]!, 0, "", parsesInBatch(info) && i === 0)
    } catch (e) {
      if (e instanceof PgEncodeError) {
        throw new PgEncodeError({ ...e, message: `argument set ${i}: ${e.message}`, batchIndex: i })
      }
      throw e
    }
  }
  Frontend.sync(w)
}

/** The replies of one batch: rows per argument set (when collected) and the last status tag. */
export class BatchHandler implements Handler {
  readonly completion: Completion<Array<Array<PgRecord>>>
  info: StatementInfo
  readonly registry: CodecRegistry
  readonly onStale: () => void
  readonly collect: boolean
  readonly results: Array<Array<PgRecord>> = []
  current: Array<PgRecord> = []
  /** Argument sets completed so far: the index of the set the next reply belongs to. */
  completed = 0
  /** Whether the statement is parsed (named, or the batch's own Parse completed). */
  parsed: boolean
  error: PgQueryError | undefined = undefined
  settled = false
  readonly replies = new ExtendedReplies()

  constructor(
    completion: Completion<Array<Array<PgRecord>>>,
    info: StatementInfo,
    registry: CodecRegistry,
    onStale: () => void,
    collect: boolean,
  ) {
    this.completion = completion
    this.info = info
    this.registry = registry
    this.onStale = onStale
    this.collect = collect
    this.parsed = info.name !== ""
  }

  sent(request: Uint8Array): void {
    this.replies.start(request)
  }

  onLimit(error: PgLimitError): void {
    if (this.error === undefined) this.error = error
  }

  onMessage(type: number, buf: Uint8Array, view: DataView, start: number, end: number): boolean {
    this.replies.accept(type)
    switch (type) {
      case Backend.Type.DataRow: {
        if (!this.collect || this.error !== undefined) return false
        this.error = decodeRowInto(this.info, this.current, buf, view, start, end)
        return false
      }
      case Backend.Type.CommandComplete:
      case Backend.Type.EmptyQueryResponse:
        this.results.push(this.current)
        this.current = []
        this.completed++
        return false
      case Backend.Type.ParseComplete:
        this.parsed = true
        return false
      case Backend.Type.RowDescription:
      case Backend.Type.NoData: {
        // Never undefined: the batch always has a registry to re-describe with.
        const described = describedBy(this.info, type, buf, view, start, end, this.registry)!
        if (described !== this.info) {
          this.info = described
          this.onStale()
        }
        return false
      }
      case Backend.Type.ErrorResponse: {
        this.error = firstError(
          this.error,
          buf,
          view,
          start,
          end,
          this.info.sql,
          this.parsed ? this.completed : undefined,
        )
        return false
      }
      case Backend.Type.ReadyForQuery:
        this.settle()
        return true
      default:
        // BindComplete, CloseComplete.
        return false
    }
  }

  onFailure(error: SessionError): void {
    // The session's error wins: a server error of this cycle may be part of what broke it.
    this.error = error
    this.settle()
  }

  private settle(): void {
    if (this.settled) return
    this.settled = true
    if (this.error !== undefined) this.completion.fail(this.error)
    else this.completion.succeed(this.results)
  }
}

/** Runs `sql` once per argument set in one pipelined batch (through the statement cache); rows per set when `collect`. */
export const runMany = (
  conn: ConnectionCore,
  sql: string,
  argsList: ReadonlyArray<ReadonlyArray<unknown>>,
  collect: boolean,
): Effect.Effect<Array<Array<PgRecord>>, PgQueryError> =>
  argsList.length === 0
    ? Effect.succeed([])
    : executeCached(
        conn,
        sql,
        (w, info) => writeBatch(w, info, argsList),
        (c, info, onStale) => new BatchHandler(c, info, conn.cache.registry, onStale, collect),
      )
