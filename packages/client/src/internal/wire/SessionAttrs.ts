/**
 * libpq's `target_session_attrs` check after startup.
 *
 * PostgreSQL 14+ reports `in_hot_standby` and `default_transaction_read_only` as
 * ParameterStatus at startup, so the answer is known without a round trip; older servers are
 * asked (`SHOW transaction_read_only` for read-write / read-only,
 * `SELECT pg_catalog.pg_is_in_recovery()` for primary / standby), as libpq does.
 *
 * @internal
 */
import * as Backend from "@pgfx/protocol/Backend"
import * as Frontend from "@pgfx/protocol/Frontend"
import { Effect } from "effect"
import type { TargetSessionAttrs } from "../../PgConfig.ts"
import { PgConnectionError, type PgConnectError, PgServerError } from "../../PgError.ts"
import { SimpleReplies, unexpected } from "./Replies.ts"
import type { Handler, Session, SessionError } from "./Session.ts"

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true })

/** A simple query whose result is the text of the first column of the first row. */
export class ScalarHandler implements Handler {
  value: string | null = null
  results = 0
  error: PgServerError | undefined = undefined
  readonly replies = new SimpleReplies()
  readonly done: (value: string | null, error: PgServerError | SessionError | undefined) => void

  constructor(done: (value: string | null, error: PgServerError | SessionError | undefined) => void) {
    this.done = done
  }

  onMessage(type: number, buf: Uint8Array, view: DataView, start: number, end: number): boolean {
    this.replies.accept(type)
    if (type === Backend.Type.RowDescription && ++this.results > 1) {
      unexpected(type, "after the result of a single-statement query")
    } else if (type === Backend.Type.DataRow && this.value === null) {
      const msg = Backend.decode(type, buf, view, start, end)
      const field = msg._tag === "DataRow" ? msg.fields[0] : undefined
      if (field !== undefined && field !== null) this.value = utf8.decode(field)
    } else if (type === Backend.Type.ErrorResponse) {
      const msg = Backend.decode(type, buf, view, start, end)
      if (msg._tag === "ErrorResponse") this.error ??= PgServerError.fromFields(msg.fields)
    } else if (type === Backend.Type.ReadyForQuery) {
      this.done(this.value, this.error)
      return true
    }
    return false
  }

  onFailure(error: SessionError): void {
    this.done(null, error)
  }
}

const scalar = (session: Session, sql: string): Effect.Effect<string | null, PgConnectError> =>
  Effect.callback<string | null, PgConnectError>((resume) => {
    const handler = new ScalarHandler((value, error) =>
      resume(error === undefined ? Effect.succeed(value) : Effect.fail(error)),
    )
    session.send(
      handler,
      Frontend.build((w) => Frontend.query(w, sql)),
    )
    return Effect.sync(() => session.destroy())
  })

const mismatch = (where: string, attrs: TargetSessionAttrs, what: string) =>
  new PgConnectionError({
    reason: "TargetSessionAttrs",
    message: `the server at ${where} ${what} (target_session_attrs=${attrs})`,
  })

/** Succeeds with undefined when the session fits `attrs`, else with the reason it does not. */
export const checkSessionAttrs = (
  session: Session,
  attrs: TargetSessionAttrs,
  where: string,
): Effect.Effect<PgConnectionError | undefined, PgConnectError> =>
  Effect.gen(function* () {
    if (attrs === "any" || attrs === "prefer-standby") return undefined
    const hotStandby = session.parameters.get("in_hot_standby")
    if (attrs === "read-write" || attrs === "read-only") {
      const defaultReadOnly = session.parameters.get("default_transaction_read_only")
      const readOnly =
        hotStandby !== undefined && defaultReadOnly !== undefined
          ? hotStandby === "on" || defaultReadOnly === "on"
          : (yield* scalar(session, "SHOW transaction_read_only")) === "on"
      if (attrs === "read-write" && readOnly) return mismatch(where, attrs, "only allows read-only sessions")
      if (attrs === "read-only" && !readOnly) return mismatch(where, attrs, "does not give a read-only session")
      return undefined
    }
    const standby =
      hotStandby !== undefined
        ? hotStandby === "on"
        : (yield* scalar(session, "SELECT pg_catalog.pg_is_in_recovery()")) === "t"
    if (attrs === "primary" && standby) return mismatch(where, attrs, "is in hot standby mode")
    if (attrs === "standby" && !standby) return mismatch(where, attrs, "is not in hot standby mode")
    return undefined
  })
