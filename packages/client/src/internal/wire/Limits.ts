/**
 * The limits on one request's reply (`maxResultRows`, `maxResultBytes`, `maxMessageSize`), checked
 * by the session on the messages that carry results (DataRow, CopyData) before they reach the
 * request's handler. Past a limit the handler is told once (`Handler.onLimit`: it fails its
 * request with {@link PgLimitError} when the cycle ends) and every later row or COPY chunk of the
 * reply is dropped unread, so the reply is drained without being kept and the session stays in
 * sync. The reply state machines allow any number of DataRow / CopyData messages, so dropping
 * some cannot make a valid reply look invalid.
 *
 * Cost: one boolean test per DataRow when no result limit is set; two additions and two
 * comparisons when one is.
 *
 * @internal
 */
import * as Backend from "@pgfx/protocol/Backend"
import { type LimitKind, PgLimitError } from "../../PgError.ts"

/** What the limits see of a request's handler (the `Handler` of ./Session.ts). */
interface Limited {
  onLimit?(error: PgLimitError): void
  readonly unlimited?: boolean
}

/** The result limits of a connection, and what the reply in progress has used of them. */
export class ReplyLimits {
  readonly maxRows: number
  readonly maxBytes: number
  rows = 0
  bytes = 0
  /** The reply in progress went over a limit: drop the rest of its results. */
  exceeded = false

  constructor(maxRows: number | undefined, maxBytes: number | undefined) {
    this.maxRows = maxRows ?? Infinity
    this.maxBytes = maxBytes ?? Infinity
  }

  /** The request whose reply was being counted has ended (called for every request). */
  reset(): void {
    this.rows = 0
    this.bytes = 0
    this.exceeded = false
  }

  /** Counts a DataRow or CopyData body of `size` bytes; true when it must be dropped. */
  drop(handler: Limited | undefined, type: number, size: number): boolean {
    if (handler === undefined || handler.onLimit === undefined || handler.unlimited === true) return false
    if (this.exceeded) return true
    if (type === Backend.Type.DataRow && ++this.rows > this.maxRows) {
      return this.exceed(handler, "rows", this.maxRows, `the reply has more than ${this.maxRows} rows (maxResultRows)`)
    }
    this.bytes += size
    if (this.bytes > this.maxBytes) {
      return this.exceed(
        handler,
        "bytes",
        this.maxBytes,
        `the reply has more than ${this.maxBytes} bytes of rows or COPY data (maxResultBytes)`,
      )
    }
    return false
  }

  /**
   * A row or COPY chunk over `maxMessageSize` (the reader kept only its head): the request fails
   * and the rest of its results are dropped. False when the handler cannot take a limit.
   */
  oversized(handler: Limited | undefined, size: number, maxMessageSize: number): boolean {
    if (handler === undefined || handler.onLimit === undefined || handler.unlimited === true) return false
    return this.exceed(
      handler,
      "message",
      maxMessageSize,
      `a message of ${size} bytes in the reply exceeds the limit of ${maxMessageSize} bytes (maxMessageSize)`,
    )
  }

  /** Tells the handler (which keeps only the first error of its cycle) and drops the rest. */
  private exceed(handler: Limited, limit: LimitKind, max: number, message: string): true {
    this.exceeded = true
    handler.onLimit!(new PgLimitError({ message, limit, max }))
    return true
  }
}
