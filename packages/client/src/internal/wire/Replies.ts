/**
 * What the server may send next: the reply state machines of every request kind, pure (no
 * socket, no session) and allocation-free per message.
 *
 * Each handler feeds every message of its cycle to its machine before acting on it. A message
 * the current state does not allow raises `ProtocolViolation` naming the message and the state;
 * the session turns that into a `PgProtocolError` that fails the request in flight and every
 * request queued behind it, and closes the socket (a pool then drops the connection). So an
 * extra ReadyForQuery, an extra result, or a DataRow where none may come can never shift one
 * request's replies onto the next: the first message of every request kind is one that only a
 * reply to that request can start with (never ReadyForQuery, and for extended requests never a
 * result), and every later message must fit the state reached so far.
 *
 * The asynchronous messages (NoticeResponse, ParameterStatus, NotificationResponse) never reach
 * a machine: the session handles them wherever they arrive.
 *
 * - {@link ExtendedReplies}: extended-query requests (Parse, Bind, Describe, Execute, Close,
 *   Flush, ending with one Sync). The expected replies follow from the request's own frontend
 *   messages, read from its bytes one message at a time as the replies arrive: so every
 *   composition (a named or unnamed statement, a batch of Bind/Execute pairs, a cursor's Bind or
 *   Execute alone, Close messages of evicted statements in front) is checked by the same code.
 * - {@link SimpleReplies}: a simple Query (several statements allowed, COPY in and out).
 * - {@link StartupReplies}: the startup and authentication exchange.
 *
 * The machines only check the order of messages; the handlers decode their contents (and reject
 * malformed bodies, e.g. a DataRow whose field count differs from the description).
 *
 * @internal
 */
import * as Backend from "@pgfx/protocol/Backend"

const T = Backend.Type

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(T).map(([name, type]) => [type, name]))

/** The name of a backend message type byte, for errors ("ReadyForQuery ('Z')"). */
export const messageName = (type: number): string =>
  `${NAMES[type] ?? "unknown message"} ('${String.fromCharCode(type)}')`

/** Raises the violation of `type` arriving in `state` (a phrase such as "while awaiting BindComplete"). */
export const unexpected = (type: number, state: string): never => {
  throw new Backend.ProtocolViolation({
    message: `unexpected ${messageName(type)} ${state}`,
    messageType: String.fromCharCode(type),
  })
}

// Frontend message type bytes an extended request is made of.
const PARSE = 0x50 // P
const BIND = 0x42 // B
const DESCRIBE = 0x44 // D
const EXECUTE = 0x45 // E
const CLOSE = 0x43 // C
const SYNC = 0x53 // S
const FLUSH = 0x48 // H
/** No frontend message left: the cycle has ended (or nothing was sent). */
const NONE = 0
/** An ErrorResponse arrived: the server skips to Sync, only ReadyForQuery may follow. */
const FAILED = -1

// How the portal of the next Execute was described.
const UNDESCRIBED = 0
const ROWS = 1
const NO_ROWS = 2

const FRONTEND_NAMES: Record<number, string> = {
  [PARSE]: "Parse",
  [BIND]: "Bind",
  [DESCRIBE]: "Describe",
  [EXECUTE]: "Execute",
  [CLOSE]: "Close",
  [SYNC]: "Sync",
}

const EMPTY = new Uint8Array(0)

/**
 * The replies of an extended-query request. The state is the frontend message whose reply comes
 * next (`op`, at offset `pos` of the request; "failed" once an ErrorResponse arrived: the server
 * skips to Sync, so only ReadyForQuery may follow) and how far that reply has got (`phase`), plus
 * `described` (how the portal the next Execute runs was described: with RowDescription, it
 * returns rows and cannot be an empty query; with NoData, it returns no row).
 *
 * | awaited message | allowed next (else: protocol violation)                                  |
 * | --------------- | ------------------------------------------------------------------------ |
 * | Parse           | ParseComplete, ErrorResponse                                             |
 * | Bind            | BindComplete, ErrorResponse                                              |
 * | Describe 'S'    | ParameterDescription, then RowDescription or NoData; ErrorResponse       |
 * | Describe 'P'    | RowDescription or NoData, ErrorResponse                                  |
 * | Execute         | DataRow (not after NoData), CommandComplete, PortalSuspended (not after  |
 * |                 | NoData), EmptyQueryResponse (before any row, not after RowDescription),  |
 * |                 | ErrorResponse                                                            |
 * | Close           | CloseComplete, ErrorResponse                                             |
 * | Sync            | ReadyForQuery (ends the cycle), ErrorResponse                            |
 * | after an error  | ReadyForQuery (ends the cycle)                                           |
 * | ended           | nothing                                                                  |
 */
export class ExtendedReplies {
  private request: Uint8Array = EMPTY
  private pos = 0
  /**
   * Type byte of the frontend message whose reply comes next; {@link NONE} once ended,
   * {@link FAILED} after an ErrorResponse.
   */
  op = NONE
  /** Describe 'S': 1 after ParameterDescription. Execute: 1 after a DataRow. */
  private phase = 0
  /** How the portal was described: {@link UNDESCRIBED}, {@link ROWS} or {@link NO_ROWS}. */
  private described = UNDESCRIBED

  /** Starts the cycle of the request `bytes` (its frontend messages, as written). */
  start(bytes: Uint8Array): void {
    this.request = bytes
    this.described = UNDESCRIBED
    this.at(0)
  }

  /**
   * Checks `type` against the state and moves on; true when it ended the cycle (ReadyForQuery).
   * The common transitions (rows, Bind, Execute and Sync replies) come first; the rest is in
   * {@link acceptOther}.
   */
  accept(type: number): boolean {
    const op = this.op
    if (op === EXECUTE) {
      if (type === T.DataRow) {
        if (this.described !== NO_ROWS) {
          this.phase = 1
          return false
        }
      } else if (type === T.CommandComplete) {
        this.next()
        return false
      }
    } else if (op === BIND) {
      if (type === T.BindComplete) {
        this.next()
        return false
      }
    } else if (op === SYNC && type === T.ReadyForQuery) {
      this.op = NONE
      return true
    }
    return this.acceptOther(op, type)
  }

  private acceptOther(op: number, type: number): boolean {
    switch (op) {
      case EXECUTE:
        if (
          (type === T.PortalSuspended && this.described !== NO_ROWS) ||
          (type === T.EmptyQueryResponse && this.phase === 0 && this.described !== ROWS)
        ) {
          this.next()
          return false
        }
        break
      case PARSE:
        if (type === T.ParseComplete) {
          this.next()
          return false
        }
        break
      case DESCRIBE:
        if (this.phase === 0 && this.request[this.pos + 5] === 0x53) {
          if (type === T.ParameterDescription) {
            this.phase = 1
            return false
          }
        } else if (type === T.RowDescription || type === T.NoData) {
          this.next()
          this.described = type === T.NoData ? NO_ROWS : ROWS
          return false
        }
        break
      case CLOSE:
        if (type === T.CloseComplete) {
          this.next()
          return false
        }
        break
      case FAILED:
        if (type === T.ReadyForQuery) {
          this.op = NONE
          return true
        }
        return unexpected(type, this.state())
    }
    if (type === T.ErrorResponse && op !== NONE) {
      this.op = FAILED
      return false
    }
    return unexpected(type, this.state())
  }

  /** The state, in words (for errors and tests). */
  state(): string {
    const op = this.op
    if (op === FAILED) return "after an ErrorResponse, while awaiting ReadyForQuery"
    if (op === NONE) return "after the request's cycle ended"
    if (op === DESCRIBE) {
      const kind = String.fromCharCode(this.request[this.pos + 5] ?? 0)
      return kind === "S" && this.phase === 1
        ? "while awaiting the statement's RowDescription or NoData (Describe 'S')"
        : `while awaiting the reply to Describe '${kind}'`
    }
    if (op === EXECUTE) {
      const portal =
        this.described === NO_ROWS
          ? " (described with NoData)"
          : this.described === ROWS
            ? " (described with rows)"
            : ""
      return `while awaiting ${this.phase === 1 ? "more rows or the end" : "the reply"} of Execute${portal}`
    }
    return `while awaiting the reply to ${FRONTEND_NAMES[op] ?? `frontend message '${String.fromCharCode(op)}'`}`
  }

  /** Moves past the awaited frontend message. */
  private next(): void {
    const r = this.request
    const p = this.pos
    this.described = UNDESCRIBED
    this.at(p + 1 + ((r[p + 1]! << 24) | (r[p + 2]! << 16) | (r[p + 3]! << 8) | r[p + 4]!))
  }

  /** Awaits the reply to the frontend message at `pos` (Flush has none: skipped). */
  private at(pos: number): void {
    const r = this.request
    let op = pos < r.length ? r[pos]! : NONE
    while (op === FLUSH) {
      pos += 1 + ((r[pos + 1]! << 24) | (r[pos + 2]! << 16) | (r[pos + 3]! << 8) | r[pos + 4]!)
      op = pos < r.length ? r[pos]! : NONE
    }
    this.pos = pos
    this.op = op
    this.phase = 0
  }
}

// Phases of a simple Query cycle.
const Q_START = 0
const Q_ROWS = 1
const Q_BETWEEN = 2
const Q_EMPTY = 3
const Q_FAILED = 4
const Q_COPY_IN = 5
const Q_COPY_OUT = 6
const Q_COPY_OUT_DONE = 7
const Q_ENDED = 8
const Q_COPY_BOTH = 9
const Q_COPY_BOTH_DONE = 10

const SIMPLE_STATES = [
  "before the first reply to a Query",
  "while reading a result's rows",
  "between the statements of a Query",
  "after EmptyQueryResponse",
  "after an ErrorResponse, while awaiting ReadyForQuery",
  "during COPY FROM STDIN",
  "during COPY TO STDOUT",
  "after CopyDone",
  "after the request's cycle ended",
  "during COPY BOTH (replication streaming)",
  "after the server's CopyDone in COPY BOTH",
]

/**
 * The replies of a simple Query. The state is one integer phase:
 *
 * | phase          | allowed next                                                             |
 * | -------------- | ------------------------------------------------------------------------ |
 * | start          | RowDescription, CommandComplete, EmptyQueryResponse, CopyInResponse,     |
 * |                | CopyOutResponse, ErrorResponse                                           |
 * | rows           | DataRow, CommandComplete, ErrorResponse                                  |
 * | between        | as start, without EmptyQueryResponse, plus ReadyForQuery                 |
 * | empty / failed | ReadyForQuery                                                            |
 * | copy in        | CommandComplete, ErrorResponse                                           |
 * | copy out       | CopyData, CopyDone, ErrorResponse                                        |
 * | after CopyDone | CommandComplete, ErrorResponse                                           |
 * | ended          | nothing                                                                  |
 *
 * Made with `copyBoth` (only the replication connection's START_REPLICATION), it also allows
 * CopyBothResponse at the start:
 *
 * | phase            | allowed next                                                           |
 * | ---------------- | ---------------------------------------------------------------------- |
 * | copy both        | CopyData, CopyDone, ErrorResponse                                      |
 * | after CopyDone   | CopyData (the walsender's last keepalive), CommandComplete, ErrorResponse |
 *
 * Several statements in one Query are legal, so an extra complete result between two of them
 * cannot be told from a statement of the query; handlers never take rows from a simple Query
 * that has more than the one result they asked for (see the handlers).
 */
export class SimpleReplies {
  phase = Q_START
  /** CopyBothResponse is allowed (a replication connection's START_REPLICATION). */
  readonly copyBoth: boolean

  constructor(copyBoth = false) {
    this.copyBoth = copyBoth
  }

  /** Checks `type` against the state and moves on; true when it ended the cycle (ReadyForQuery). */
  accept(type: number): boolean {
    const phase = this.phase
    switch (type) {
      case T.DataRow:
        if (phase === Q_ROWS) return false
        break
      case T.RowDescription:
        if (phase === Q_START || phase === Q_BETWEEN) return this.to(Q_ROWS)
        break
      case T.CommandComplete:
        if (phase <= Q_BETWEEN || phase === Q_COPY_IN || phase === Q_COPY_OUT_DONE || phase === Q_COPY_BOTH_DONE)
          return this.to(Q_BETWEEN)
        break
      case T.EmptyQueryResponse:
        if (phase === Q_START) return this.to(Q_EMPTY)
        break
      case T.CopyInResponse:
        if (phase === Q_START || phase === Q_BETWEEN) return this.to(Q_COPY_IN)
        break
      case T.CopyOutResponse:
        if (phase === Q_START || phase === Q_BETWEEN) return this.to(Q_COPY_OUT)
        break
      case T.CopyData:
        if (phase === Q_COPY_OUT || phase === Q_COPY_BOTH || phase === Q_COPY_BOTH_DONE) return false
        break
      case T.CopyDone:
        if (phase === Q_COPY_OUT) return this.to(Q_COPY_OUT_DONE)
        if (phase === Q_COPY_BOTH) return this.to(Q_COPY_BOTH_DONE)
        break
      case T.CopyBothResponse:
        if (this.copyBoth && phase === Q_START) return this.to(Q_COPY_BOTH)
        break
      case T.ErrorResponse:
        if (phase !== Q_EMPTY && phase !== Q_FAILED && phase !== Q_ENDED) return this.to(Q_FAILED)
        break
      case T.ReadyForQuery:
        if (phase === Q_BETWEEN || phase === Q_EMPTY || phase === Q_FAILED) {
          this.phase = Q_ENDED
          return true
        }
        break
    }
    return unexpected(type, this.state())
  }

  /** The state, in words (for errors and tests). */
  state(): string {
    return SIMPLE_STATES[this.phase]!
  }

  private to(phase: number): false {
    this.phase = phase
    return false
  }
}

// Phases of the startup exchange.
const S_FIRST = 0
const S_AUTH = 1
const S_READY = 2
const S_KEYED = 3
const S_FAILED = 4
const S_ENDED = 5

const STARTUP_STATES = [
  "before the first reply to the StartupMessage",
  "during authentication",
  "after AuthenticationOk",
  "after BackendKeyData",
  "after a startup ErrorResponse (the server closes the connection)",
  "after startup ended",
]

/**
 * The startup exchange (the authentication sub-steps, e.g. SCRAM's order, are checked by the
 * startup handler itself):
 *
 * | phase                | allowed next                                                       |
 * | -------------------- | ------------------------------------------------------------------ |
 * | first                | NegotiateProtocolVersion, Authentication, ErrorResponse            |
 * | authenticating       | Authentication, ErrorResponse                                      |
 * | after AuthenticationOk | BackendKeyData, ReadyForQuery (ends startup), ErrorResponse      |
 * | after BackendKeyData | ReadyForQuery (ends startup), ErrorResponse                        |
 * | after an error / ended | nothing                                                          |
 */
export class StartupReplies {
  phase = S_FIRST

  /**
   * Checks `type` (for Authentication, `authOk` tells whether it is AuthenticationOk) and moves
   * on; true when it ended startup (ReadyForQuery).
   */
  accept(type: number, authOk: boolean): boolean {
    const phase = this.phase
    switch (type) {
      case T.NegotiateProtocolVersion:
        if (phase === S_FIRST) return this.to(S_AUTH)
        break
      case T.Authentication:
        if (phase === S_FIRST || phase === S_AUTH) return this.to(authOk ? S_READY : S_AUTH)
        break
      case T.BackendKeyData:
        if (phase === S_READY) return this.to(S_KEYED)
        break
      case T.ErrorResponse:
        if (phase < S_FAILED) return this.to(S_FAILED)
        break
      case T.ReadyForQuery:
        if (phase === S_READY || phase === S_KEYED) {
          this.phase = S_ENDED
          return true
        }
        break
    }
    return unexpected(type, STARTUP_STATES[phase]!)
  }

  private to(phase: number): false {
    this.phase = phase
    return false
  }
}
