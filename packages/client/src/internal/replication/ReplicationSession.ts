/**
 * A replication connection: a session opened with the startup parameter `replication=database`
 * (a walsender bound to one database), which speaks the simple query protocol only. It runs the
 * replication commands (IDENTIFY_SYSTEM, CREATE_REPLICATION_SLOT, DROP_REPLICATION_SLOT, SHOW)
 * with text results, and START_REPLICATION in CopyBoth mode through {@link StreamingHandler}.
 *
 * Every reply is checked by the simple query machine (`Replies.ts`); only the START_REPLICATION
 * handler's machine admits CopyBothResponse, so an unexpected CopyBoth anywhere else still
 * poisons the session.
 *
 * @internal
 */
import * as Backend from "@pgfx/protocol/Backend"
import * as Frontend from "@pgfx/protocol/Frontend"
import { builtins } from "@pgfx/types/CodecRegistry"
import { Effect } from "effect"
import type { ResolvedConfig } from "../../PgConfig.ts"
import { type PgConfigError, type PgConnectError, type PgQueryError } from "../../PgError.ts"
import type { PgResult } from "../Handles.ts"
import { establish } from "../wire/Establish.ts"
import { SimpleReplies } from "../wire/Replies.ts"
import type { Handler, Session, SessionError } from "../wire/Session.ts"
import { SimpleResultsHandler } from "../query/SimpleResults.ts"
import { firstError } from "../wire/Handlers.ts"

/** Opens a `replication=database` session with `config` (its other settings unchanged). */
export const openReplicationSession = (
  config: ResolvedConfig,
): Effect.Effect<Session, PgConnectError | PgConfigError> =>
  Effect.map(
    establish({
      ...config,
      // A walsender answers no target_session_attrs query; the replication target is explicit.
      targetSessionAttrs: "any",
      serverSettings: { ...config.serverSettings, replication: "database" },
    }),
    (e) => e.session,
  )

/** Runs one replication command (or SQL the walsender accepts) and returns its results, values as text-decoded built-ins. */
export const command = (session: Session, sql: string): Effect.Effect<Array<PgResult>, PgQueryError> =>
  Effect.callback<Array<PgResult>, PgQueryError>((resume) => {
    const handler = new SimpleResultsHandler(
      session,
      builtins,
      { succeed: (r) => resume(Effect.succeed(r)), fail: (e) => resume(Effect.fail(e)) },
      sql,
    )
    session.send(
      handler,
      Frontend.build((w) => Frontend.query(w, sql)),
    )
    // A command cannot be cancelled half-way here: interrupting it closes the replication session.
    return Effect.sync(() => session.destroy())
  })

/** What the START_REPLICATION cycle reports to its consumer, synchronously from the socket callback. */
export interface StreamingEvents {
  /** CopyBothResponse: streaming has begun. */
  readonly started: () => void
  /** One CopyData body, `buf[start, end)` (valid only during the call). */
  readonly data: (buf: Uint8Array, view: DataView, start: number, end: number) => void
  /** The cycle ended (ReadyForQuery), with the server's error if there was one, or the session died. */
  readonly ended: (error: PgQueryError | undefined) => void
}

/** The START_REPLICATION cycle: CopyBothResponse, CopyData until CopyDone, the command tags, ReadyForQuery. */
export class StreamingHandler implements Handler {
  readonly replies = new SimpleReplies(true)
  readonly events: StreamingEvents
  readonly sql: string
  error: PgQueryError | undefined = undefined
  settled = false

  constructor(sql: string, events: StreamingEvents) {
    this.sql = sql
    this.events = events
  }

  onMessage(type: number, buf: Uint8Array, view: DataView, start: number, end: number): boolean {
    this.replies.accept(type)
    switch (type) {
      case Backend.Type.CopyData:
        this.events.data(buf, view, start, end)
        return false
      case Backend.Type.CopyBothResponse:
        this.events.started()
        return false
      case Backend.Type.ErrorResponse: {
        this.error = firstError(this.error, buf, view, start, end, this.sql)
        return false
      }
      case Backend.Type.ReadyForQuery:
        this.settle(this.error)
        return true
      default:
        // CopyDone, CommandComplete: the end of streaming.
        return false
    }
  }

  onFailure(error: SessionError): void {
    this.settle(error)
  }

  private settle(error: PgQueryError | undefined): void {
    if (this.settled) return
    this.settled = true
    this.events.ended(error)
  }
}

/**
 * Quotes a string literal of the replication command grammar (`'it''s'`: quotes doubled, no
 * backslash escapes there), for option values of START_REPLICATION.
 */
export const quoteLiteral = (value: string): string => `'${value.replaceAll("'", "''")}'`
