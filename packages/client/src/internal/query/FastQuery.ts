/**
 * The fast path of one query call (`fetch`, `fetchRow`, `fetchVal`, `execute` with arguments)
 * on a connection or through a pool's shortcuts.
 *
 * It applies when the call needs nothing but a statement that is already in the connection's
 * cache: no timeout, no tracer, no query logger, no transaction owning the connection, room in
 * the pipeline. The whole call is then one `Effect.withFiber` and one `Effect.callback`: the
 * request is built and written at once, and its completion does, synchronously, the bookkeeping
 * the general path spreads over a dozen Effects — the graceful-close operation count, the query
 * metrics, the stale-statement recovery, and for a pool the checkout and the release. Anything
 * else takes the general path (`Connection.run` under `observe` and `withTimeout`), which
 * behaves the same; a stale statement found by a fast call is retried through the general path.
 * The bookkeeping is the general path's own, called synchronously: a fast call is an `Exchange`
 * (internal/connection/Exchange.ts) like every request, and counts as an operation with the
 * connection's `beginOperation`/`endOperation`.
 *
 * Measured with bench/hotpath.ts (client CPU per query, see docs/benchmarks.md).
 *
 * @internal
 */
import * as Frontend from "@pgfx/protocol/Frontend"
import type { Writer } from "@pgfx/protocol/Writer"
import { type Context, Effect, type Fiber, Option } from "effect"
import type { QueryOptions } from "../Options.ts"
import { PgInterfaceError, type PgPoolError, type PgQueryError, PgSchemaError } from "../../PgError.ts"
import * as PgMetrics from "../../PgMetrics.ts"
import type { PgRecord } from "../../PgRecord.ts"
import type { ConnectionCore } from "../connection/Core.ts"
import { Exchange } from "../connection/Exchange.ts"
import { afterFailure, cacheSource } from "./Execute.ts"
import { type Completion, ExecuteHandler, type ExecuteResult } from "../wire/Handlers.ts"
import { recordMetrics } from "../observe/Instrument.ts"
import { lost } from "../wire/Outcome.ts"
import { type StatementInfo, writeBindExecute } from "../wire/Statement.ts"
import { isTracing } from "../observe/Tracing.ts"

/**
 * Turns a finished cycle into the call's value; may throw a {@link PickError} (e.g. `fetchVal` of
 * a column that does not exist, a row that does not decode through its Schema), which fails the
 * call.
 */
export type Pick<A, P extends PickError = PgInterfaceError> = ((result: ExecuteResult) => A) & {
  /** Type only: what the pick may throw. */
  readonly throws?: P
}

/** What a {@link Pick} may throw to fail its call. */
export type PickError = PgInterfaceError | PgSchemaError

/** Whether `e`, thrown by a {@link Pick}, is one of its typed failures (anything else is a defect). */
export const isPickError = (e: unknown): e is PickError => e instanceof PgInterfaceError || e instanceof PgSchemaError

/** Whether the connection admits a fast write now (checked again at the moment of writing). */
export const admits = (conn: ConnectionCore): boolean =>
  !conn.closing && !conn.session.closed && conn.gate.owner === undefined && conn.gate.hasRoom

/**
 * The cached statement a fast call of `sql` can use on `conn` from `fiber`, or undefined when the
 * call must take the general path.
 */
export const fastStatement = (
  conn: ConnectionCore,
  sql: string,
  options: QueryOptions | undefined,
  fiber: Fiber.Fiber<unknown, unknown>,
): StatementInfo | undefined =>
  admits(conn) &&
  (options?.timeout ?? conn.config.commandTimeoutMs) === undefined &&
  conn.queryLoggers.size === 0 &&
  !isTracing(fiber) &&
  // Behind a transaction-pooling proxy, statements inside a plain-SQL transaction re-prepare (general path).
  !(conn.cache.serverMayChange && conn.session.transactionStatus !== "I")
    ? conn.cache.peek(sql)
    : undefined

/** The context metrics are recorded in, or undefined when metrics are off for `fiber`. */
export const metricsContext = (fiber: Fiber.Fiber<unknown, unknown>): Context.Context<never> | undefined =>
  fiber.getRef(PgMetrics.Enabled) ? fiber.context : undefined

/** One fast call in flight: the request's completion and its interruption. */
export class FastCall<A, E = never, P extends PickError = PgInterfaceError>
  extends Exchange
  implements Completion<ExecuteResult>
{
  /** The call has ended: `done` was called, or the interruption finished it. */
  private ended = false
  private startedAt = 0
  private args: ReadonlyArray<unknown> = []
  private maxRows = 0

  readonly info: StatementInfo
  readonly pick: Pick<A, P>
  /** Where metrics are recorded; undefined when they are off. */
  readonly metrics: Context.Context<never> | undefined
  /** The general path of the same call: a stale statement is retried through it. */
  readonly retry: () => Effect.Effect<A, E | PgQueryError | P>
  /** Receives what the call ends with (once; never after an interruption ended it). */
  readonly done: (result: Effect.Effect<A, E | PgQueryError | P>) => void

  constructor(
    conn: ConnectionCore,
    info: StatementInfo,
    pick: Pick<A, P>,
    metrics: Context.Context<never> | undefined,
    retry: () => Effect.Effect<A, E | PgQueryError | P>,
    done: (result: Effect.Effect<A, E | PgQueryError | P>) => void,
  ) {
    super(conn)
    this.info = info
    this.pick = pick
    this.metrics = metrics
    this.retry = retry
    this.done = done
  }

  /** Builds and writes the request (or ends the call at once if `args` cannot be encoded). */
  send(args: ReadonlyArray<unknown>, maxRows: number): void {
    const conn = this.conn
    conn.beginOperation()
    if (this.metrics !== undefined) {
      this.startedAt = performance.now()
      PgMetrics.pipelineDepth.updateUnsafe(conn.session.pending + 1, this.metrics)
    }
    this.args = args
    this.maxRows = maxRows
    const failure = this.write()
    if (failure !== undefined) this.end(Effect.fail(failure), failure)
  }

  protected build(w: Writer): void {
    writeBindExecute(w, this.info, this.args, this.maxRows)
    Frontend.sync(w)
  }

  protected makeHandler(): ExecuteHandler {
    const { conn, info } = this
    return new ExecuteHandler(this, info, conn.cache.registry, () => conn.cache.forget(info.sql, info, true))
  }

  get hasEnded(): boolean {
    return this.ended
  }

  /** The Effect that interrupts the call, or undefined once it has ended. */
  interruption(): Effect.Effect<void> | undefined {
    if (this.ended) return undefined
    return Effect.callback<void>((resume) => this.interrupt(() => resume(Effect.void)))
  }

  /**
   * Interrupts the call (see internal/wire/Interrupt.ts); `onEnded(true)` once its cycle has ended,
   * or `onEnded(false)` when it had already ended through `done`.
   */
  interrupt(onEnded: (byInterruption: boolean) => void): void {
    const handler = this.handler
    if (this.ended || handler === undefined) return onEnded(false)
    this.interruptWritten(handler, () => {
      if (this.ended) return onEnded(false)
      this.ended = true
      this.conn.endOperation()
      if (this.metrics !== undefined) recordMetrics(this.metrics, undefined, performance.now() - this.startedAt)
      onEnded(true)
    })
  }

  succeed(result: ExecuteResult): void {
    this.settle()
    let value: A
    try {
      value = this.pick(result)
    } catch (e) {
      if (!isPickError(e)) throw e
      return this.end(Effect.fail(e as P), e as P) // a pick throws nothing but its declared P
    }
    this.end(Effect.succeed(value), undefined)
  }

  fail(error: PgQueryError): void {
    // The status of this request's own ReadyForQuery (read before anything else runs).
    const status = this.conn.session.transactionStatus
    this.settle()
    const { conn, info } = this
    const next = afterFailure(conn, cacheSource(conn, info.sql), info, error, status, false, false)
    // A stale statement the server did not run: prepare again and re-send (general path).
    if (typeof next === "string") return this.end(undefined, undefined)
    // The fast path runs only outside transaction levels: the request is plain SQL.
    const failure = lost(conn.outdated(next), "sql", this.status)
    this.end(Effect.fail(failure), failure)
  }

  /** Ends the call with `result` (undefined: retry through the general path). */
  private end(result: Effect.Effect<A, PgQueryError | P> | undefined, error: PgQueryError | P | undefined): void {
    if (this.ended) return
    this.ended = true
    this.conn.endOperation()
    if (result === undefined) return this.done(this.retry())
    // A pick's failure counts by its tag, as on the general path (where `observe` sees it).
    if (this.metrics !== undefined)
      recordMetrics(this.metrics, error as PgQueryError, performance.now() - this.startedAt)
    this.done(result)
  }
}

/**
 * A query call on `conn`: the fast path when it applies (see the module header), else
 * `general()`.
 */
export const call = <A, P extends PickError = PgInterfaceError>(
  conn: ConnectionCore,
  sql: string,
  args: ReadonlyArray<unknown>,
  maxRows: number,
  options: QueryOptions | undefined,
  pick: Pick<A, P>,
  general: () => Effect.Effect<A, PgQueryError | P>,
): Effect.Effect<A, PgQueryError | NoInfer<P>> =>
  Effect.withFiber((fiber) => {
    const info = fastStatement(conn, sql, options, fiber)
    if (info === undefined) return general()
    const metrics = metricsContext(fiber)
    return Effect.callback<A, PgQueryError | P>((resume) => {
      // Nothing may have changed since the check, but the fiber could have yielded in between.
      if (!admits(conn)) return resume(general())
      const fast = new FastCall<A, never, P>(conn, info, pick, metrics, general, resume)
      fast.send(args, maxRows)
      return fast.interruption()
    })
  })

/** A pool member as {@link poolCall} sees it. */
export interface IdleMember {
  readonly conn: ConnectionCore
}

/**
 * What {@link poolCall} uses of a pool (`PoolCore` in internal/pool/Pool.ts), so that the fast path
 * does not depend on the pool.
 */
export interface IdleConnections<M extends IdleMember> {
  peekIdle(): M | undefined
  checkOutIdle(member: M, metrics: Context.Context<never> | undefined): void
  releaseNow(member: M, lease: undefined): Effect.Effect<void>
}

/**
 * A pool shortcut run by `fiber` (which the caller found pinned to no connection of the pool):
 * the fast path when an idle connection can take the call right now (it is checked out, the
 * call runs on it, and it is released as the call ends, all inside one `Effect.callback`), else
 * `general()`. The caller has ruled out a `setup` hook.
 */
export const poolCall = <A, P extends PickError = PgInterfaceError, M extends IdleMember = IdleMember>(
  fiber: Fiber.Fiber<unknown, unknown>,
  pool: IdleConnections<M>,
  sql: string,
  args: ReadonlyArray<unknown>,
  maxRows: number,
  options: QueryOptions | undefined,
  pick: Pick<A, P>,
  general: () => Effect.Effect<A, PgQueryError | P | PgPoolError>,
): Effect.Effect<A, PgQueryError | NoInfer<P> | PgPoolError> => {
  const member = pool.peekIdle()
  const info = member === undefined ? undefined : fastStatement(member.conn, sql, options, fiber)
  if (member === undefined || info === undefined) return general()
  const metrics = metricsContext(fiber)
  return Effect.callback<A, PgQueryError | P | PgPoolError>((resume) => {
    const conn = member.conn
    if (pool.peekIdle() !== member || !admits(conn)) return resume(general())
    pool.checkOutIdle(member, metrics)
    const fast = new FastCall<A, PgPoolError, P>(conn, info, pick, metrics, general, (result) => {
      const release = pool.releaseNow(member, undefined)
      resume(release === Effect.void ? result : Effect.andThen(Effect.uninterruptible(release), result))
    })
    fast.send(args, maxRows)
    if (fast.hasEnded) return undefined
    return Effect.callback<void>((done) =>
      fast.interrupt((byInterruption) => done(byInterruption ? pool.releaseNow(member, undefined) : Effect.void)),
    )
  })
}

/** {@link Pick} for `fetch`. */
export const pickRows = (result: ExecuteResult): ExecuteResult["rows"] => result.rows

/** {@link Pick} for `execute`. */
export const pickStatus = (result: ExecuteResult): string => result.status

/** {@link Pick} for `fetchRow`. */
export const pickFirstRow = (result: ExecuteResult): Option.Option<PgRecord> => Option.fromNullishOr(result.rows[0])

/**
 * {@link Pick} for `fetchVal`: the value of `column` in the first row, `None` without rows (a
 * NULL is `Some(null)`).
 */
export const pickValue = (column: number): Pick<Option.Option<unknown>> =>
  column === 0 ? pickFirstValue : valueOfFirstRow(column)

const valueOfFirstRow =
  (column: number): Pick<Option.Option<unknown>> =>
  (result) => {
    const row = result.rows[0]
    return row === undefined ? Option.none() : Option.some(valueAt(row, column))
  }

const pickFirstValue = valueOfFirstRow(0)

/** The value of `column` in `row`; throws `PgInterfaceError` when there is no such column. */
export const valueAt = (row: PgRecord, column: number): unknown => {
  if (column < 0 || column >= row.length) {
    throw new PgInterfaceError({ message: `column ${column} is out of range: the result has ${row.length} columns` })
  }
  // `get` reads one value (a field-layout row builds its values array on each `values` read).
  return row.get(column)
}
