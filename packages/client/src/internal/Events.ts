/**
 * The values a connection's events carry — notifications, notices, the description of a logged
 * query — and the query-logger options: a leaf module below `internal/Handles.ts`, which holds the
 * event methods and callbacks (they name the connection). `PgNotifications` re-exports them.
 */
import type { ErrorFields } from "@pgfx/protocol/ErrorFields"
import { parseErrorFields } from "@pgfx/protocol/ErrorFields"
import { conditionNameOf, type SqlStateName } from "@pgfx/protocol/SqlState"
import { Data, type Duration } from "effect"
import type { PgQueryError } from "../PgError.ts"

/**
 * A notification delivered by LISTEN/NOTIFY.
 * @since 0.1.0
 */
export interface PgNotification {
  readonly _tag: "PgNotification"
  /** The channel it was sent to. */
  readonly channel: string
  /** The payload (`""` when none was given). */
  readonly payload: string
  /** The process id of the server backend that sent it. */
  readonly processId: number
}

/**
 * A server log message (NoticeResponse): `WARNING`, `NOTICE`, `INFO`, `LOG` or `DEBUG`, with
 * every field the server sent (see `ErrorFields`) and the SQLSTATE condition name.
 * @since 0.1.0
 */
export class PgNotice extends Data.TaggedClass("PgNotice")<
  ErrorFields & {
    /** The condition name of `code` (e.g. `warning`, `successful_completion`), when known. */
    readonly condition: SqlStateName | undefined
  }
> {
  /** Builds a notice from the raw NoticeResponse fields. */
  static fromFields(fields: ReadonlyArray<readonly [string, string]>): PgNotice {
    const parsed = parseErrorFields(fields)
    return new PgNotice({ ...parsed, condition: conditionNameOf(parsed.code) })
  }
}

/** Where a connection is connected. @since 0.1.0 */
export type PgServerAddress =
  | { readonly _tag: "tcp"; readonly host: string; readonly port: number }
  | { readonly _tag: "unix"; readonly path: string }

/** The connection settings a query logger sees: never the password. @since 0.1.0 */
export interface PgConnectionParameters {
  readonly user: string
  readonly database: string
  /** Settings sent at startup (`application_name`, `search_path`, ...). */
  readonly serverSettings: Readonly<Record<string, string>>
}

/**
 * What a query logger receives after each query call (asyncpg's `LoggedQuery`).
 * @since 0.1.0
 */
export interface LoggedQuery {
  /** The SQL text. */
  readonly query: string
  /** The arguments; each wrapped in `Redacted` when the logger was added with `redactArgs`. */
  readonly args: ReadonlyArray<unknown>
  /** The call's timeout, if it had one. */
  readonly timeout: Duration.Duration | undefined
  /** Time from the call to its outcome. */
  readonly elapsed: Duration.Duration
  /** The failure, if the query failed (a timeout is a `PgTimeoutError`). */
  readonly error: PgQueryError | undefined
  /** True when the call was interrupted (no error, no result). */
  readonly interrupted: boolean
  /** The server the connection talks to. */
  readonly address: PgServerAddress
  /** The connection's settings (never the password). */
  readonly parameters: PgConnectionParameters
}

/** A query logger callback. @since 0.1.0 */
export type QueryLoggerCallback = (query: LoggedQuery) => void

/** Options of a query logger. @since 0.1.0 */
export interface QueryLoggerOptions {
  /** Wrap every argument in `Redacted`, so printing the record never shows values. */
  readonly redactArgs?: boolean | undefined
}
