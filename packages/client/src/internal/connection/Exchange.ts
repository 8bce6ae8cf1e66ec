/**
 * One request on one connection, from the moment it is written until its cycle ends: the
 * bookkeeping that the general path (`Connection.request`) and the fast path
 * (internal/query/FastQuery.ts) share, so that both count, settle and interrupt a request the
 * same way:
 *
 * - the request is built in the connection's write buffer and taken as bytes the socket keeps;
 *   a request that cannot be built (a parameter its encoder refuses, a lone surrogate in the SQL
 *   text) is a typed failure, and nothing is written or counted;
 * - a written request counts in the admission gate's `inFlight` until its cycle ends
 *   ({@link Exchange.settle}) or its interruption returns the admission (a request withdrawn
 *   before it reached the socket never completes);
 * - the transaction status it started in is kept for what losing the connection under it means
 *   (internal/wire/Outcome.ts);
 * - an interruption cancels exactly this request (internal/wire/Interrupt.ts).
 *
 * Admission itself — whether the request may go on the wire now — stays with the caller: the
 * general path waits in the gate, the fast path writes only when the gate is free. A subclass
 * says what to build and which handler reads the replies, so a request is one object: no
 * closures per request on the fast path.
 *
 * @internal
 */
import type * as Backend from "@pgfx/protocol/Backend"
import { MalformedString, type Writer } from "@pgfx/protocol/Writer"
import { PgInterfaceError, type PgQueryError } from "../../PgError.ts"
import { interruptRequest, RequestState } from "../wire/Interrupt.ts"
import { startStatus } from "../wire/Outcome.ts"
import type { Handler } from "../wire/Session.ts"
import type { ConnectionCore } from "./Core.ts"

export abstract class Exchange {
  readonly conn: ConnectionCore
  /** The handler reading the replies, once the request is written. */
  handler: Handler | undefined = undefined
  /** The transaction status the request started in, when known (internal/wire/Outcome.ts). */
  status: Backend.TransactionStatus | undefined = undefined
  private readonly state = new RequestState()
  /** Counted in the gate's `inFlight` and not settled yet. */
  private admitted = false

  constructor(conn: ConnectionCore) {
    this.conn = conn
  }

  /** Writes the request into `w`; throws what makes it unsendable (e.g. a `PgEncodeError`). */
  protected abstract build(w: Writer): void

  /** The handler that reads the request's replies (made once, as the request is written). */
  protected abstract makeHandler(): Handler

  /**
   * Builds the request, counts it in flight and writes it. Returns the failure when it cannot be
   * built (then nothing was written or counted).
   */
  protected write(): PgQueryError | undefined {
    const conn = this.conn
    let bytes: Uint8Array
    try {
      const w = conn.writer.reset()
      this.build(w)
      // A Buffer copy (small ones come from Node's pooled slab, no ArrayBuffer per request),
      // which the socket takes as is.
      bytes = Buffer.from(w.finish())
    } catch (e) {
      // Parameters are checked by their encoder; a lone surrogate in the SQL text is caught here.
      return e instanceof MalformedString
        ? new PgInterfaceError({ message: `cannot send the SQL text: ${e.message}` })
        : (e as PgQueryError)
    }
    conn.gate.inFlight++
    this.admitted = true
    this.status = startStatus(conn.session)
    const handler = this.makeHandler()
    this.handler = handler
    conn.session.send(handler, bytes)
    return undefined
  }

  /** The request's cycle has ended (its handler is completing it): settles it and its admission. */
  protected settle(): void {
    this.state.settle()
    this.settleGate()
  }

  /**
   * Interrupts the written request (internal/wire/Interrupt.ts); `onEnded` once its cycle has
   * ended and its admission is returned.
   */
  protected interruptWritten(handler: Handler, onEnded: () => void): void {
    interruptRequest(this.conn.cancelContext, handler, this.state, () => {
      // A withdrawn request (never written) never completes: its admission is returned here.
      this.settleGate()
      onEnded()
    })
  }

  private settleGate(): void {
    if (!this.admitted) return
    this.admitted = false
    this.conn.gate.settled()
  }
}
