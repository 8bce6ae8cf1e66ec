/**
 * The connection core behind `PgConnection`: the request mechanism (one `Effect.callback` per
 * request cycle, cancel-on-interrupt for exactly the statement in flight), the statement cache,
 * and the query methods.
 *
 * @internal
 */
import * as Frontend from "@pgfx/protocol/Frontend"
import { Writer } from "@pgfx/protocol/Writer"
import type { CodecRegistry } from "@pgfx/types/CodecRegistry"
import type { TypeCodecOptions } from "@pgfx/types/SchemaCodec"
import { Duration, Effect, type Fiber, type Scope, type Stream } from "effect"
import type { ResolvedConfig } from "../../PgConfig.ts"
import type { CloseOptions, CursorOptions, QueryOptions, TransactionOptions } from "../Options.ts"
import type { Fetch, FetchRow, FetchVal, PgCursor, PgResult, PgStatement, PgTransaction } from "../Handles.ts"
import {
  PgConnectionError,
  PgInterfaceError,
  type PgQueryError,
  PgTimeoutError,
  type PgTransactionError,
} from "../../PgError.ts"
import type { PgRecord } from "../../PgRecord.ts"
import { type Fragment, normalize, statementText } from "../../PgSql.ts"
import * as ServerVersion from "../../ServerVersion.ts"
import type { CancelTls } from "../wire/Cancel.ts"
import { ConnectionEvents } from "./ConnectionEvents.ts"
import type { ConnectionCore } from "./Core.ts"
import { Exchange } from "./Exchange.ts"
import { CoreMarker } from "./Internals.ts"
import { runMany } from "../query/Batch.ts"
import * as Cursor from "../query/Cursor.ts"
import { cacheSource, executeCached } from "../query/Execute.ts"
import * as FastQuery from "../query/FastQuery.ts"
import { Gate, type Level } from "../wire/Gate.ts"
import { type Completion, ExecuteHandler, type ExecuteResult, SimpleQueryHandler } from "../wire/Handlers.ts"
import { observe } from "../observe/Instrument.ts"
import type { CancelContext } from "../wire/Interrupt.ts"
import { lost, roleOf } from "../wire/Outcome.ts"
import { type Handler, type Session, unsent } from "../wire/Session.ts"
import { writeBindExecute } from "../wire/Statement.ts"
import { closeGracefully, terminateNow } from "../wire/Close.ts"
import { StreamMembers } from "../pool/Lease.ts"
import { PreparedStatement } from "../query/Prepared.ts"
import { SimpleResultsHandler } from "../query/SimpleResults.ts"
import { StatementCache } from "../query/StatementCache.ts"
import * as RowSchema from "../query/RowSchema.ts"
import * as Transaction from "../query/Transaction.ts"
import { outdatedSchemaOf } from "../query/TypeCache.ts"
import * as TypeCodecs from "../query/TypeCodecs.ts"

/** The methods of a connection that return Streams (see internal/pool/Lease.ts). */
const connectionStreams: ReadonlySet<string> = new Set(["cursor", "listen", "notices", "queryLog"])

export class Connection extends ConnectionEvents implements ConnectionCore {
  get [StreamMembers](): ReadonlySet<string> {
    return connectionStreams
  }
  get [CoreMarker](): true {
    return true
  }
  readonly session: Session
  readonly config: ResolvedConfig
  readonly registry: CodecRegistry
  readonly cache: StatementCache
  readonly writer = new Writer(4096)
  readonly cancelContext: CancelContext
  /** Set by a graceful close: new operations are refused while running ones finish. */
  closing = false
  /** Operations (execute, fetch, ...) started and not yet finished. */
  active = 0
  /** Called whenever an operation finishes (set by a graceful close). */
  onOperationEnd: (() => void) | undefined = undefined
  /** Admission of requests: transaction exclusivity and optional pipelining. */
  readonly gate: Gate
  private version: ServerVersion.ServerVersion | undefined

  constructor(session: Session, config: ResolvedConfig, registry: CodecRegistry, cancelTls?: CancelTls) {
    super()
    this.session = session
    this.config = config
    this.registry = registry
    this.cache = new StatementCache(session, registry, config.statementCacheSize, {
      lifetimeMs: config.maxCachedStatementLifetimeMs,
      maxSqlBytes: config.maxCacheableStatementSize,
      named: config.namedStatements,
    })
    this.gate = new Gate(config.pipelining)
    session.closeListeners.add(() => this.gate.wake())
    const target = config.target
    this.cancelContext = {
      session,
      target: target._tag === "tcp" ? target : { _tag: "unix", path: target.path },
      tls: cancelTls,
      graceMs: config.cancelTimeoutMs,
      // The cancel connection is a connection like any other: bounded by the connect timeout
      // (never unbounded: a black-holed cancel would otherwise hold its socket forever).
      timeoutMs: Number.isFinite(config.connectTimeoutMs) ? config.connectTimeoutMs : 60_000,
    }
  }

  get serverVersion(): ServerVersion.ServerVersion {
    const raw = this.session.parameters.get("server_version") ?? ""
    if (this.version === undefined || this.version.raw !== raw) this.version = ServerVersion.parse(raw)
    return this.version
  }
  get serverPid(): number {
    return this.session.processId
  }
  get settings(): ReadonlyMap<string, string> {
    return this.session.parameters
  }
  get isClosed(): boolean {
    return this.session.closed
  }
  get isInTransaction(): boolean {
    return this.session.transactionStatus !== "I"
  }
  get transactionStatus(): "idle" | "transaction" | "failed" {
    const s = this.session.transactionStatus
    return s === "I" ? "idle" : s === "T" ? "transaction" : "failed"
  }
  get protocolVersion(): "3.0" | "3.2" {
    return this.session.protocolMinor >= 2 ? "3.2" : "3.0"
  }

  close(options?: CloseOptions): Effect.Effect<void> {
    return closeGracefully(this, options)
  }

  terminate(): Effect.Effect<void> {
    return Effect.sync(() => terminateNow(this))
  }

  get codecs(): CodecRegistry {
    return this.cache.types.base
  }
  setTypeCodec<A>(typeName: string, options: TypeCodecOptions<A>): Effect.Effect<void, PgQueryError> {
    return TypeCodecs.setTypeCodec(this.cache, (b, m) => this.request(b, m), typeName, options)
  }
  resetTypeCodec(typeName: string, options: { readonly schemaName?: string | undefined } = {}) {
    return TypeCodecs.resetTypeCodec(this.cache, typeName, options)
  }
  setBuiltinTypeCodec(
    typeName: string,
    codecName: string,
    options: { readonly schemaName?: string | undefined; readonly format?: "text" | "binary" | undefined } = {},
  ): Effect.Effect<void, PgQueryError> {
    return TypeCodecs.setBuiltinTypeCodec(this.cache, (b, m) => this.request(b, m), typeName, codecName, options)
  }
  reloadSchemaState(): Effect.Effect<void> {
    return TypeCodecs.reloadSchemaState(this.cache)
  }

  /** A composite that changed under the cached layout: reload the caches and report it as such. */
  outdated(error: PgQueryError): PgQueryError {
    const outdated = outdatedSchemaOf(error)
    if (outdated === undefined) return error
    this.cache.types.reset()
    this.cache.clear()
    return outdated
  }

  /**
   * Sends one request and waits for its cycle to end. On interruption the statement in flight is
   * cancelled (exactly that one: later requests are held back until the cancel is settled) and
   * the interruption completes once the session is back in sync.
   */
  request<A>(
    build: (w: Writer) => void,
    make: (c: Completion<A>) => Handler,
    level?: Level,
  ): Effect.Effect<A, PgQueryError> {
    return Effect.callback<A, PgQueryError>((resume) =>
      new GeneralRequest(this, build, make, level, resume).admit(undefined),
    )
  }

  /** The failure of a request refused because the connection is closed (it was never sent). */
  closedError(): PgConnectionError {
    const error = this.session.closeError
    return unsent(error instanceof PgConnectionError ? error : undefined) as PgConnectionError
  }

  withTimeout<A, E = PgQueryError, R = never>(
    effect: Effect.Effect<A, E, R>,
    options: QueryOptions | undefined,
    timedOut = "the query timed out and was cancelled",
  ): Effect.Effect<A, E | PgQueryError, R> {
    const timeout = options?.timeout ?? this.config.commandTimeoutMs
    const timed =
      timeout === undefined
        ? effect
        : Effect.timeoutOrElse(effect, {
            duration: timeout,
            orElse: () =>
              Effect.fail(
                new PgTimeoutError({
                  message: timedOut,
                  timeoutMs: Duration.toMillis(Duration.fromInputUnsafe(timeout)),
                }),
              ),
          })
    return this.operation(timed)
  }

  operation<A, E = PgQueryError, R = never>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | PgQueryError, R> {
    return Effect.suspend((): Effect.Effect<A, E | PgQueryError, R> => {
      if (this.closing || this.session.closed) return Effect.fail(this.closedError())
      this.beginOperation()
      return Effect.onExit(effect, this.operationEnded)
    })
  }

  beginOperation(): void {
    this.active++
  }

  endOperation(): void {
    this.active--
    this.onOperationEnd?.()
  }

  /** Ends one {@link operation} (one closure per connection, not one Effect per query). */
  private readonly operationEnded = (): Effect.Effect<void> => {
    this.endOperation()
    return Effect.void
  }

  run(sql: string, args: ReadonlyArray<unknown>, maxRows: number): Effect.Effect<ExecuteResult, PgQueryError> {
    return executeCached<ExecuteResult>(
      this,
      sql,
      (w, info) => {
        writeBindExecute(w, info, args, maxRows)
        Frontend.sync(w)
      },
      (c, info, onStale) => new ExecuteHandler(c, info, this.cache.registry, onStale),
    ).pipe(Effect.mapError((e) => this.outdated(e)))
  }

  execute(
    query: string | Fragment,
    argsOrOptions?: ReadonlyArray<unknown> | QueryOptions,
    maybeOptions?: QueryOptions,
  ): Effect.Effect<string, PgQueryError> {
    const [sql, args, options] = normalize(query, argsOrOptions, maybeOptions)
    if (args !== undefined && args.length > 0) return this.query(sql, args, 0, options, FastQuery.pickStatus)
    const effect = this.request<string>(
      (w) => {
        w.byte(0x51)
        const at = w.reserveLength()
        w.cstring(sql).patchLength(at)
      },
      (c) => new SimpleQueryHandler(this.session, c, sql),
    )
    return observe(this, sql, args, options, this.withTimeout(effect, options))
  }

  /**
   * One extended-protocol query call (`fetch`, `fetchRow`, `fetchVal`, `execute` with
   * arguments): the fast path when it applies (internal/query/FastQuery.ts), else the general path —
   * instrumentation, timeout, the statement cache and the request — with `pick` making the call's
   * value from the cycle's result (and failing it with what the pick throws, `P`).
   */
  private query<A, P extends FastQuery.PickError = PgInterfaceError>(
    sql: string,
    args: ReadonlyArray<unknown>,
    maxRows: number,
    options: QueryOptions | undefined,
    pick: FastQuery.Pick<A, P>,
  ): Effect.Effect<A, PgQueryError | NoInfer<P>> {
    return FastQuery.call(
      this,
      sql,
      args,
      maxRows,
      options,
      pick,
      () =>
        observe(
          this,
          sql,
          args,
          options,
          this.withTimeout(
            Effect.flatMap(this.run(sql, args, maxRows), (r) =>
              // Typed for `observe`, which records any failure by its tag; the call's type says P.
              Effect.try({ try: () => pick(r), catch: (e) => e as PgInterfaceError }),
            ),
            options,
          ),
        ) as Effect.Effect<A, PgQueryError | P>,
    )
  }

  readonly fetch: Fetch<PgQueryError> = RowSchema.overloaded((query, argsOrOptions, maybeOptions) => {
    const [sql, args = [], options] = normalize(query, argsOrOptions, maybeOptions)
    return this.query(sql, args, 0, options, RowSchema.rows(sql, options))
  })

  fetchResult(
    sql: string,
    args: ReadonlyArray<unknown> = [],
    options?: QueryOptions,
  ): Effect.Effect<PgResult, PgQueryError> {
    return this.query(sql, args, 0, options, pickResult)
  }

  simpleQuery(sql: string, options?: QueryOptions): Effect.Effect<Array<PgResult>, PgQueryError> {
    const effect = this.request<Array<PgResult>>(
      (w) => Frontend.query(w, sql),
      (c) => new SimpleResultsHandler(this.session, this.cache.registry, c, sql),
    )
    return observe(this, sql, undefined, options, this.withTimeout(effect, options))
  }

  readonly fetchRow: FetchRow<PgQueryError> = RowSchema.overloaded((query, argsOrOptions, maybeOptions) => {
    const [sql, args = [], options] = normalize(query, argsOrOptions, maybeOptions)
    return this.query(sql, args, 1, options, RowSchema.firstRow(sql, options))
  })

  executeMany(
    query: string | Fragment,
    argsList: ReadonlyArray<ReadonlyArray<unknown>>,
    options?: QueryOptions,
  ): Effect.Effect<void, PgQueryError> {
    return Effect.flatMap(statementText(query, "executeMany"), (sql) =>
      Effect.asVoid(this.withTimeout(runMany(this, sql, argsList, false), options)),
    )
  }

  fetchMany(
    query: string | Fragment,
    argsList: ReadonlyArray<ReadonlyArray<unknown>>,
    options?: QueryOptions,
  ): Effect.Effect<Array<Array<PgRecord>>, PgQueryError> {
    return Effect.flatMap(statementText(query, "fetchMany"), (sql) =>
      this.withTimeout(runMany(this, sql, argsList, true), options),
    )
  }

  prepare(query: string | Fragment, options?: QueryOptions): Effect.Effect<PgStatement, PgQueryError, Scope.Scope> {
    return Effect.flatMap(statementText(query, "prepare"), (sql) => PreparedStatement.make(this, sql, options))
  }

  cursor(
    query: string | Fragment,
    argsOrOptions?: ReadonlyArray<unknown> | CursorOptions,
    maybeOptions?: CursorOptions,
  ): Stream.Stream<PgRecord, PgQueryError> {
    const [sql, args = [], options] = normalize(query, argsOrOptions, maybeOptions)
    return Cursor.stream(this, cacheSource(this, sql), args, options)
  }

  openCursor(
    query: string | Fragment,
    argsOrOptions?: ReadonlyArray<unknown> | QueryOptions,
    maybeOptions?: QueryOptions,
  ): Effect.Effect<PgCursor, PgQueryError, Scope.Scope> {
    const [sql, args = [], options] = normalize(query, argsOrOptions, maybeOptions)
    return Cursor.open(this, cacheSource(this, sql), args, options)
  }

  transaction<A, E, R>(
    effect: Effect.Effect<A, E, R>,
    options?: TransactionOptions,
  ): Effect.Effect<A, E | PgQueryError | PgTransactionError, Exclude<R, PgTransaction>> {
    return Transaction.transaction(this, effect, options)
  }

  readonly fetchVal: FetchVal<PgQueryError> = RowSchema.overloaded((query, argsOrOptions, maybeOptions) => {
    const [sql, args = [], options] = normalize(query, argsOrOptions, maybeOptions)
    return this.query(sql, args, 1, options, RowSchema.value(sql, options))
  })
}

/** The whole result of one extended-protocol cycle (`fetchResult`). */
const pickResult = (result: ExecuteResult): PgResult => ({
  command: result.status,
  rows: result.rows,
  columns: result.info.columns,
})

/**
 * One request of the general path ({@link Connection.request}): admitted by the gate
 * (internal/wire/Gate.ts: transactions are exclusive; without pipelining one request at a time),
 * then written, awaited and settled as every request is (./Exchange.ts).
 */
class GeneralRequest<A> extends Exchange implements Completion<A> {
  private readonly make: (c: Completion<A>) => Handler
  private readonly writeRequest: (w: Writer) => void
  private readonly level: Level | undefined
  private readonly resume: (effect: Effect.Effect<A, PgQueryError>) => void
  /** The level owning the connection when the request was written (internal/wire/Outcome.ts). */
  private owner: Level | undefined = undefined

  constructor(
    conn: ConnectionCore,
    build: (w: Writer) => void,
    make: (c: Completion<A>) => Handler,
    level: Level | undefined,
    resume: (effect: Effect.Effect<A, PgQueryError>) => void,
  ) {
    super(conn)
    this.writeRequest = build
    this.make = make
    this.level = level
    this.resume = resume
  }

  /**
   * Admits and writes the request, returning its interruption. Without a transaction on the
   * connection this needs nothing from the fiber; otherwise (`fiber` undefined) it starts again
   * with the fiber, whose Context says which transaction the request belongs to.
   */
  admit(fiber: Fiber.Fiber<unknown, unknown> | undefined): Effect.Effect<void> | undefined {
    const conn = this.conn
    const gate = conn.gate
    if (fiber === undefined && (gate.owner !== undefined || !gate.hasRoom)) {
      this.resume(
        Effect.withFiber((f) =>
          Effect.callback<A, PgQueryError>((resume) =>
            new GeneralRequest(conn, this.writeRequest, this.make, this.level, resume).admit(f),
          ),
        ),
      )
      return undefined
    }
    const waiter =
      fiber === undefined
        ? (this.send(), undefined)
        : gate.enter(
            () => conn.session.closed || (gate.hasRoom && gate.owner === gate.levelOf(fiber, conn, this.level)),
            () => this.send(),
          )
    return Effect.callback<void>((done) => {
      const handler = this.handler
      if (handler === undefined) {
        // Still waiting for admission: nothing was written.
        gate.remove(waiter)
        return done(Effect.void)
      }
      this.interruptWritten(handler, () => done(Effect.void))
    })
  }

  private send(): void {
    if (this.conn.session.closed) return this.resume(Effect.fail(this.conn.closedError()))
    const failure = this.write()
    if (failure !== undefined) this.resume(Effect.fail(failure))
  }

  protected build(w: Writer): void {
    this.writeRequest(w)
  }

  protected makeHandler(): Handler {
    this.owner = this.conn.gate.owner
    return this.make(this)
  }

  succeed(value: A): void {
    this.settle()
    this.resume(Effect.succeed(value))
  }

  fail(error: PgQueryError): void {
    this.settle()
    this.resume(Effect.fail(lost(error, roleOf(this.handler!, this.owner), this.status)))
  }
}
