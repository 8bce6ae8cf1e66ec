/**
 * Cursors: a named portal read `n` rows at a time (Execute with a row limit), skipped with
 * `MOVE`, closed with Close.
 *
 * A portal only survives Sync inside a transaction block. In a transaction (managed, manual or
 * begun with plain SQL) the cursor lives in it. Outside one, the cursor begins an implicit
 * transaction held for its scope (the Stream's lifetime, or the Scope of `openCursor`): the
 * connection is held exclusively meanwhile, the fiber that opened the cursor runs inside it, and
 * the transaction commits when the scope closes successfully (also when a Stream's consumer
 * stops early) and rolls back on failure or interruption. Nothing is left open on the
 * connection either way.
 *
 * @internal
 */
import * as Frontend from "@pgfx/protocol/Frontend"
import { Cause, Effect, Option, type Scope, Stream } from "effect"
import type { CursorOptions, QueryOptions } from "../Options.ts"
import type { PgCursor } from "../Handles.ts"
import { PgInterfaceError, type PgQueryError } from "../../PgError.ts"
import type { PgColumn, PgRecord } from "../../PgRecord.ts"
import type { ConnectionCore } from "../connection/Core.ts"
import { executeWith, type StatementSource } from "./Execute.ts"
import type { Level } from "../wire/Gate.ts"
import { ExecuteHandler, type ExecuteResult, SyncHandler } from "../wire/Handlers.ts"
import { Guarded } from "../pool/Lease.ts"
import { type StatementInfo, writeBind, writeBindExecute } from "../wire/Statement.ts"
import * as Transaction from "./Transaction.ts"

let portals = 0

/** The transaction a cursor lives in. */
interface Held {
  /** undefined: a transaction begun with plain SQL (no level). */
  readonly level: Level | undefined
  /** Begun by the cursor for its scope. */
  readonly implicit: boolean
}

/** The current transaction, or an implicit one held until the scope closes. */
const hold = (conn: ConnectionCore): Effect.Effect<Held, PgQueryError, Scope.Scope> =>
  Effect.withFiber<Held, PgQueryError, Scope.Scope>((fiber) => {
    const level = conn.gate.levelOf(fiber, conn, undefined)
    if (level !== undefined) return Effect.succeed({ level, implicit: false })
    if (conn.gate.owner === undefined && conn.session.transactionStatus !== "I") {
      return Effect.succeed({ level: undefined, implicit: false })
    }
    return Effect.map(Transaction.scoped(conn, {}), (level) => ({ level, implicit: true }))
  })

const positive = (n: number, what: string): PgInterfaceError | undefined =>
  Number.isInteger(n) && n > 0
    ? undefined
    : new PgInterfaceError({ message: `${what} must be a positive integer, got ${n}` })

class PortalCursor implements PgCursor {
  /** Opened on a pooled handle, it stops working with the handle's checkout (internal/pool/Lease.ts). */
  readonly [Guarded] = true
  readonly conn: ConnectionCore
  readonly source: StatementSource
  readonly args: ReadonlyArray<unknown>
  readonly held: Held
  readonly portal = `pgfx_c${++portals}`
  info: StatementInfo | undefined = undefined
  exhausted = false
  closed = false

  constructor(conn: ConnectionCore, source: StatementSource, args: ReadonlyArray<unknown>, held: Held) {
    this.conn = conn
    this.source = source
    this.args = args
    this.held = held
  }

  get columns(): ReadonlyArray<PgColumn> {
    return this.info?.columns ?? []
  }

  private get level(): Level | undefined {
    return this.held.level
  }

  /** Bind (and Execute `maxRows` rows when given), preparing the statement as needed. */
  private open(maxRows: number | undefined): Effect.Effect<ExecuteResult, PgQueryError> {
    const restart = this.held.implicit ? Transaction.command(this.conn, "ROLLBACK; BEGIN", this.level) : undefined
    return executeWith<ExecuteResult>(
      this.conn,
      this.source,
      (w, info) => {
        if (maxRows === undefined) writeBind(w, info, this.args, this.portal)
        else writeBindExecute(w, info, this.args, maxRows, this.portal)
        Frontend.sync(w)
      },
      (c, info, onStale) => new ExecuteHandler(c, info, this.conn.cache.registry, onStale),
      this.level,
      restart,
    )
  }

  /** Binds the portal (asyncpg binds when the cursor is created, so errors surface there). */
  readonly bind: Effect.Effect<void, PgQueryError> = Effect.suspend(() =>
    Effect.map(this.open(undefined), (r) => {
      this.info = r.info
    }),
  )

  private check(n: number, what: string): PgInterfaceError | undefined {
    if (this.closed) return new PgInterfaceError({ message: "the cursor is closed" })
    return positive(n, what)
  }

  fetch(n: number, options?: QueryOptions): Effect.Effect<Array<PgRecord>, PgQueryError> {
    return Effect.suspend(() => {
      const invalid = this.check(n, "the number of rows to fetch")
      if (invalid !== undefined) return Effect.fail(invalid)
      if (this.exhausted) return Effect.succeed([])
      const info = this.info
      const effect =
        info === undefined
          ? this.open(n)
          : this.conn.request<ExecuteResult>(
              (w) => {
                Frontend.execute(w, this.portal, n)
                Frontend.sync(w)
              },
              (c) => new ExecuteHandler(c, info, this.conn.cache.registry),
              this.level,
            )
      return Effect.map(this.conn.withTimeout(effect, options), (r) => {
        this.info = r.info
        if (r.status !== "") this.exhausted = true
        return r.rows
      })
    })
  }

  fetchRow(options?: QueryOptions): Effect.Effect<Option.Option<PgRecord>, PgQueryError> {
    return Effect.map(this.fetch(1, options), (rows) => Option.fromUndefinedOr(rows[0]))
  }

  forward(n: number, options?: QueryOptions): Effect.Effect<number, PgQueryError> {
    return Effect.suspend(() => {
      const invalid = this.check(n, "the number of rows to skip")
      if (invalid !== undefined) return Effect.fail(invalid)
      if (this.exhausted) return Effect.succeed(0)
      const move = Effect.map(
        Transaction.command(this.conn, `MOVE FORWARD ${n} FROM ${this.portal}`, this.level),
        (tag) => {
          const moved = Number(tag.split(" ")[1] ?? 0)
          if (moved < n) this.exhausted = true
          return moved
        },
      )
      const effect = this.info === undefined ? Effect.andThen(this.bind, move) : move
      return this.conn.withTimeout(effect, options)
    })
  }

  /** Closes the portal (a no-op in an implicit transaction: its end destroys the portal). */
  readonly close: Effect.Effect<void> = Effect.suspend(() => {
    if (this.closed) return Effect.void
    this.closed = true
    const level = this.level
    if (this.info === undefined || this.held.implicit || this.conn.session.closed) return Effect.void
    if (level !== undefined && !level.isActive) return Effect.void
    return this.conn
      .request<void>(
        (w) => {
          Frontend.close(w, "P", this.portal)
          Frontend.sync(w)
        },
        (c) => new SyncHandler(c, ""),
        level,
      )
      .pipe(Effect.ignore)
  })
}

/** An explicit cursor, bound now and closed when the scope closes. */
export const open = (
  conn: ConnectionCore,
  source: StatementSource,
  args: ReadonlyArray<unknown>,
  options?: QueryOptions,
): Effect.Effect<PgCursor, PgQueryError, Scope.Scope> =>
  Effect.gen(function* () {
    const held = yield* hold(conn)
    const cursor = new PortalCursor(conn, source, args, held)
    yield* Effect.addFinalizer(() => cursor.close)
    yield* conn.withTimeout(cursor.bind, options)
    return cursor
  })

/** The rows of `source` as a Stream, fetched `prefetch` (default 50) at a time. */
export const stream = (
  conn: ConnectionCore,
  source: StatementSource,
  args: ReadonlyArray<unknown>,
  options?: CursorOptions,
): Stream.Stream<PgRecord, PgQueryError> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const prefetch = options?.prefetch ?? 50
      const invalid = positive(prefetch, "prefetch")
      if (invalid !== undefined) return yield* invalid
      const held = yield* hold(conn)
      const cursor = new PortalCursor(conn, source, args, held)
      yield* Effect.addFinalizer(() => cursor.close)
      const pull = Effect.flatMap(cursor.fetch(prefetch, options), (rows) =>
        rows.length === 0 ? Cause.done() : Effect.succeed(rows as unknown as readonly [PgRecord, ...Array<PgRecord>]),
      )
      return Stream.fromPull(Effect.succeed(pull))
    }),
  )
