/**
 * `PgConnection`: one PostgreSQL session as a scoped resource.
 *
 * `PgConnection.make(options)` connects (TCP or unix socket), authenticates (trust, password,
 * MD5, SCRAM-SHA-256) and returns a connection whose queries are Effects; closing the scope sends
 * Terminate. Queries issued concurrently from several fibers are pipelined on the socket, each
 * in its own Sync cycle, so one failure never fails its neighbours.
 *
 * Queries with arguments (or any `fetch*`) use the extended protocol with binary results for
 * every type that has a codec; their statements are prepared once and kept in a per-connection
 * LRU cache. `execute(sql)` with no arguments uses the simple protocol and may hold several
 * statements.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as PgConnection from "@pgfx/client/PgConnection"
 *
 * const program = Effect.gen(function*() {
 *   const conn = yield* PgConnection.make({ url: "postgres://postgres@localhost/postgres" })
 *   yield* conn.execute("CREATE TEMP TABLE t (id int, name text)")
 *   yield* conn.execute("INSERT INTO t VALUES ($1, $2)", [1, "one"])
 *   const rows = yield* conn.fetch("SELECT * FROM t")
 *   console.log(rows.map((r) => r.toObject()))
 * }).pipe(Effect.scoped)
 * ```
 * @since 0.1.0
 */
import * as Frontend from "@pgfx/protocol/Frontend"
import { Writer } from "@pgfx/protocol/Writer"
import { builtins, type CodecRegistry } from "@pgfx/types/CodecRegistry"
import { Duration, Effect, Option, Redacted, type Scope } from "effect"
import * as net from "node:net"
import { sendCancel } from "./internal/Cancel.ts"
import type { PgConnectionOptions, ResolvedConfig } from "./PgConfig.ts"
export type { PgConnectionOptions } from "./PgConfig.ts"
import * as PgConfig from "./PgConfig.ts"
import {
  PgConnectionError,
  type PgConnectError,
  PgInterfaceError,
  type PgQueryError,
  PgTimeoutError,
} from "./PgError.ts"
import type { PgRecord } from "./PgRecord.ts"
import { StatementCache } from "./internal/StatementCache.ts"
import { type Completion, ExecuteHandler, type ExecuteResult, SimpleQueryHandler } from "./internal/Handlers.ts"
import { type Handler, Session } from "./internal/Session.ts"
import { StartupHandler } from "./internal/Startup.ts"
import * as ServerVersion from "./ServerVersion.ts"
import { writeBindExecute } from "./internal/Statement.ts"

/** Options of a single query call. @since 0.1.0 */
export interface QueryOptions {
  /** Fails the call with `PgTimeoutError` (after cancelling the statement) past this duration. */
  readonly timeout?: Duration.Input | undefined
}

/** Options of `fetchVal`. @since 0.1.0 */
export interface FetchValOptions extends QueryOptions {
  /** The 0-based column to return (default 0). */
  readonly column?: number | undefined
}

/**
 * An open PostgreSQL session. Obtain one with {@link make}; every method returns an Effect.
 * @since 0.1.0
 */
export interface PgConnection {
  /**
   * Runs a command and returns its status tag (e.g. `"INSERT 0 3"`). With no arguments the simple
   * protocol is used and `sql` may hold several statements; the tag is the last one's.
   */
  execute(sql: string, args?: ReadonlyArray<unknown>, options?: QueryOptions): Effect.Effect<string, PgQueryError>
  /** Runs a query and returns all its rows. */
  fetch(
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: QueryOptions,
  ): Effect.Effect<Array<PgRecord>, PgQueryError>
  /** Runs a query and returns its first row, if any. */
  fetchRow(
    sql: string,
    args?: ReadonlyArray<unknown>,
    options?: QueryOptions,
  ): Effect.Effect<Option.Option<PgRecord>, PgQueryError>
  /** Runs a query and returns one value of its first row (`null` when there is no row). */
  fetchVal(sql: string, args?: ReadonlyArray<unknown>, options?: FetchValOptions): Effect.Effect<unknown, PgQueryError>
  /** The server's version, parsed from `server_version`. */
  readonly serverVersion: ServerVersion.ServerVersion
  /** The backend process id (what `pg_backend_pid()` returns). */
  readonly serverPid: number
  /** The current value of every ParameterStatus the server reported (server_version, TimeZone, ...). */
  readonly settings: ReadonlyMap<string, string>
  /** True once the connection is closed, by us or by the server. */
  readonly isClosed: boolean
  /** True while a transaction block is open (including a failed one). */
  readonly isInTransaction: boolean
  /** The transaction status of the last ReadyForQuery: idle, in transaction, or failed. */
  readonly transactionStatus: "idle" | "transaction" | "failed"
  /** The protocol version in use: "3.0" or "3.2". */
  readonly protocolVersion: "3.0" | "3.2"
  /** Closes gracefully: sends Terminate and closes the socket. */
  readonly close: Effect.Effect<void>
}

const openSocket = (config: ResolvedConfig): Effect.Effect<net.Socket, PgConnectionError> =>
  Effect.callback<net.Socket, PgConnectionError>((resume) => {
    const target = config.target
    const socket =
      target._tag === "tcp" ? net.connect({ host: target.host, port: target.port }) : net.connect({ path: target.path })
    const where = target._tag === "tcp" ? `${target.host}:${target.port}` : target.path
    const onError = (err: Error) => {
      socket.destroy()
      resume(
        Effect.fail(
          new PgConnectionError({
            reason: "ConnectFailed",
            message: `cannot connect to ${where}: ${err.message}`,
            cause: err,
          }),
        ),
      )
    }
    socket.once("error", onError)
    socket.once("connect", () => {
      socket.off("error", onError)
      socket.setNoDelay(true)
      socket.setKeepAlive(true)
      resume(Effect.succeed(socket))
    })
    return Effect.sync(() => socket.destroy())
  })

const startup = (session: Session, config: ResolvedConfig): Effect.Effect<void, PgConnectError> =>
  Effect.callback<void, PgConnectError>((resume) => {
    const handler = new StartupHandler(
      session,
      {
        user: config.user,
        password: config.password === undefined ? undefined : Redacted.value(config.password),
        channelBinding: "prefer",
        tlsServerEndPoint: undefined,
        tls: false,
        allowedMethods: config.requireAuth,
        requestedMinor: config.protocolMinor,
      },
      {
        succeed: () => resume(Effect.void),
        fail: (e) => resume(Effect.fail(e)),
      },
    )
    const params: Record<string, string> = {
      user: config.user,
      database: config.database,
      client_encoding: "UTF8",
      ...config.serverSettings,
    }
    session.protocolMinor = config.protocolMinor
    session.send(handler, buildStartup(params, config.protocolMinor))
    return Effect.sync(() => session.destroy())
  })

const buildStartup = (params: Record<string, string>, minor: number): Uint8Array => {
  const w = new Writer(256)
  const at = w.reserveLength()
  w.int32((3 << 16) | minor)
  for (const [k, v] of Object.entries(params)) w.cstring(k).cstring(v)
  w.byte(0)
  return w.patchLength(at).finishCopy()
}

/**
 * Opens a connection as a scoped resource: closing the scope sends Terminate and closes the
 * socket.
 *
 * Errors: `PgConnectionError` (cannot reach the server, connect timeout), `PgServerError` (the
 * server refused: wrong password is SQLSTATE 28P01 `invalid_password`, unknown database 3D000),
 * `PgAuthenticationError` (the client refused the server's method, or SCRAM verification
 * failed), `PgProtocolError`, and `PgConfigError` for invalid settings.
 *
 * @since 0.1.0
 */
export const make = (
  options: PgConnectionOptions | string = {},
): Effect.Effect<PgConnection, PgConnectError | PgConfig.PgConfigError, Scope.Scope> =>
  Effect.acquireRelease(connect(options), (conn) => conn.close)

/**
 * Opens a connection that you must close yourself with `close`. Prefer {@link make}.
 * @since 0.1.0
 */
export const connect = (
  options: PgConnectionOptions | string = {},
): Effect.Effect<PgConnection, PgConnectError | PgConfig.PgConfigError> =>
  Effect.gen(function* () {
    const opts: PgConnectionOptions = typeof options === "string" ? { url: options } : options
    const config = yield* Effect.try({
      try: () => PgConfig.resolve(opts),
      catch: (e) =>
        e instanceof PgConfig.PgConfigError
          ? e
          : new PgConfig.PgConfigError({ source: "options", key: "", message: String(e) }),
    })
    const attempt = Effect.gen(function* () {
      const socket = yield* openSocket(config)
      const session = new Session(socket, config.maxMessageSize)
      yield* startup(session, config).pipe(Effect.onError(() => Effect.sync(() => session.destroy())))
      return session
    })
    const session = yield* attempt.pipe(
      Effect.timeoutOrElse({
        duration: config.connectTimeoutMs,
        orElse: () =>
          Effect.fail(
            new PgConnectionError({
              reason: "ConnectTimeout",
              message: `connection attempt timed out after ${config.connectTimeoutMs} ms`,
            }),
          ),
      }),
    )
    return new Connection(session, config, opts.codecs ?? builtins)
  })

class Connection implements PgConnection {
  readonly session: Session
  readonly config: ResolvedConfig
  readonly registry: CodecRegistry
  readonly cache: StatementCache
  readonly writer = new Writer(4096)
  private version: ServerVersion.ServerVersion | undefined

  constructor(session: Session, config: ResolvedConfig, registry: CodecRegistry) {
    this.session = session
    this.config = config
    this.registry = registry
    this.cache = new StatementCache(session, registry, config.statementCacheSize)
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

  readonly close: Effect.Effect<void> = Effect.sync(() => this.session.terminate())

  /**
   * Sends one request and waits for its cycle to end. On interruption the statement in flight is
   * cancelled (exactly that one: later requests are held back until the cancel is settled) and
   * the interruption completes once the session is back in sync.
   */
  request<A>(build: (w: Writer) => void, make: (c: Completion<A>) => Handler): Effect.Effect<A, PgQueryError> {
    return Effect.callback<A, PgQueryError>((resume) => {
      if (this.session.closed) {
        resume(Effect.fail(this.closedError()))
        return
      }
      const w = this.writer.reset()
      let bytes: Uint8Array
      try {
        build(w)
        bytes = w.finishCopy()
      } catch (e) {
        resume(Effect.fail(e as PgQueryError))
        return
      }
      let settled = false
      let onSettled: (() => void) | undefined
      const handler = make({
        succeed: (a) => {
          settled = true
          onSettled?.()
          resume(Effect.succeed(a))
        },
        fail: (e) => {
          settled = true
          onSettled?.()
          resume(Effect.fail(e))
        },
      })
      this.session.send(handler, bytes)
      return Effect.callback<void>((done) => {
        if (settled) return done(Effect.void)
        onSettled = () => done(Effect.void)
        this.cancelCurrent(handler)
      })
    })
  }

  /** Sends a CancelRequest for `handler` if it is the statement in flight. */
  cancelCurrent(handler: Handler): void {
    const session = this.session
    if (session.closed || session.current !== handler) return
    session.hold()
    const target = this.config.target
    sendCancel(
      target._tag === "tcp" ? target : { _tag: "unix", path: target.path },
      session.processId,
      session.secretKey,
      this.config.cancelTimeoutMs,
      () => {
        // Release held requests only after both the cancel was delivered and the cancelled cycle ended.
        const release = () => session.release()
        if (session.current !== handler) release()
        else {
          const check = setInterval(() => {
            if (session.closed || session.current !== handler) {
              clearInterval(check)
              release()
            }
          }, 1)
        }
      },
    )
  }

  closedError(): PgConnectionError {
    return this.session.closeError instanceof PgConnectionError
      ? this.session.closeError
      : new PgConnectionError({ reason: "Closed", message: "the connection is closed" })
  }

  withTimeout<A>(
    effect: Effect.Effect<A, PgQueryError>,
    options: QueryOptions | undefined,
  ): Effect.Effect<A, PgQueryError> {
    const timeout = options?.timeout
    if (timeout === undefined) return effect
    return Effect.timeoutOrElse(effect, {
      duration: timeout,
      orElse: () =>
        Effect.fail(
          new PgTimeoutError({
            message: "the query timed out and was cancelled",
            timeoutMs: Duration.toMillis(Duration.fromInputUnsafe(timeout)),
          }),
        ),
    })
  }

  run(sql: string, args: ReadonlyArray<unknown>, maxRows: number): Effect.Effect<ExecuteResult, PgQueryError> {
    return Effect.flatMap(
      this.cache.prepare(sql, (b, m) => this.request(b, m)),
      (info) =>
        this.request<ExecuteResult>(
          (w) => {
            writeBindExecute(w, info, args, maxRows)
            Frontend.sync(w)
          },
          (c) => new ExecuteHandler(c, info),
        ).pipe(Effect.tapError((e) => Effect.sync(() => this.cache.onError(sql, e)))),
    )
  }

  execute(sql: string, args?: ReadonlyArray<unknown>, options?: QueryOptions): Effect.Effect<string, PgQueryError> {
    const effect =
      args === undefined || args.length === 0
        ? this.request<string>(
            (w) => {
              w.byte(0x51)
              const at = w.reserveLength()
              w.cstring(sql).patchLength(at)
            },
            (c) => new SimpleQueryHandler(this.session, c, sql),
          )
        : Effect.map(this.run(sql, args, 0), (r) => r.status)
    return this.withTimeout(effect, options)
  }

  fetch(
    sql: string,
    args: ReadonlyArray<unknown> = [],
    options?: QueryOptions,
  ): Effect.Effect<Array<PgRecord>, PgQueryError> {
    return this.withTimeout(
      Effect.map(this.run(sql, args, 0), (r) => r.rows),
      options,
    )
  }

  fetchRow(
    sql: string,
    args: ReadonlyArray<unknown> = [],
    options?: QueryOptions,
  ): Effect.Effect<Option.Option<PgRecord>, PgQueryError> {
    return this.withTimeout(
      Effect.map(this.run(sql, args, 1), (r) => Option.fromNullishOr(r.rows[0])),
      options,
    )
  }

  fetchVal(
    sql: string,
    args: ReadonlyArray<unknown> = [],
    options?: FetchValOptions,
  ): Effect.Effect<unknown, PgQueryError> {
    const column = options?.column ?? 0
    return this.withTimeout(
      Effect.flatMap(this.run(sql, args, 1), (r) => {
        const row = r.rows[0]
        if (row === undefined) return Effect.succeed(null)
        if (column < 0 || column >= row.length) {
          return Effect.fail(
            new PgInterfaceError({ message: `column ${column} is out of range: the result has ${row.length} columns` }),
          )
        }
        return Effect.succeed(row.values[column])
      }),
      options,
    )
  }
}
