/**
 * What the query features, COPY, replication, close and the pool's reset use of a connection: its
 * session, admission gate, statement cache, codecs and write buffer, the request mechanism
 * (`request`: admit, write, await one request cycle) and the operation bookkeeping (`operation`,
 * `withTimeout`, the graceful-close counters). They take this interface, never the concrete
 * `Connection` class, so none of them imports the class that composes them.
 */
import type { Writer } from "@pgfx/protocol/Writer"
import type { CodecRegistry } from "@pgfx/types/CodecRegistry"
import type { Effect } from "effect"
import type { ResolvedConfig } from "../../PgConfig.ts"
import type { PgConnectionError, PgQueryError } from "../../PgError.ts"
import type { PgConnection } from "../Handles.ts"
import type { QueryOptions } from "../Options.ts"
import type { StatementCache } from "../query/StatementCache.ts"
import type { Gate, Level } from "../wire/Gate.ts"
import type { Completion, ExecuteResult } from "../wire/Handlers.ts"
import type { CancelContext } from "../wire/Interrupt.ts"
import type { Handler, Session } from "../wire/Session.ts"
import type { ConnectionEvents } from "./ConnectionEvents.ts"

/** The core of one connection (implemented by `Connection`). */
export interface ConnectionCore extends Omit<ConnectionEvents, keyof PgConnection>, PgConnection {
  readonly session: Session
  readonly config: ResolvedConfig
  readonly registry: CodecRegistry
  readonly cache: StatementCache
  /** The buffer requests are built in (one at a time, synchronously). */
  readonly writer: Writer
  readonly cancelContext: CancelContext
  /** Set by a graceful close: new operations are refused while running ones finish. */
  closing: boolean
  /** Operations (execute, fetch, ...) started and not yet finished. */
  active: number
  /** Called whenever an operation finishes (set by a graceful close). */
  onOperationEnd: (() => void) | undefined
  /** Admission of requests: transaction exclusivity and optional pipelining. */
  readonly gate: Gate
  /** A composite that changed under the cached layout: reload the caches and report it as such. */
  outdated(error: PgQueryError): PgQueryError
  /** Admits, writes and awaits one request cycle (`level`: the transaction it belongs to). */
  request<A>(
    build: (w: Writer) => void,
    make: (c: Completion<A>) => Handler,
    level?: Level,
  ): Effect.Effect<A, PgQueryError>
  /** The error an operation on the closed connection fails with. */
  closedError(): PgConnectionError
  /**
   * `effect` as one {@link operation}, bounded by `options.timeout` (default: the
   * `commandTimeout`); past it, the effect is interrupted and the call fails with a
   * `PgTimeoutError` saying `timedOut` (default: the query was cancelled).
   */
  withTimeout<A, E = PgQueryError, R = never>(
    effect: Effect.Effect<A, E, R>,
    options: QueryOptions | undefined,
    timedOut?: string,
  ): Effect.Effect<A, E | PgQueryError, R>
  /**
   * Counts `effect` as a running operation (a graceful close waits for it); refused while closing.
   * The one operation count: the fast path, which cannot afford an Effect per query, counts with
   * {@link beginOperation} and {@link endOperation} directly.
   */
  operation<A, E = PgQueryError, R = never>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | PgQueryError, R>
  /** Counts one operation as started (the caller has checked that the connection is not closing). */
  beginOperation(): void
  /** Ends one operation started with {@link beginOperation} (wakes a graceful close waiting for it). */
  endOperation(): void
  /** One cached-statement execution with at most `maxRows` rows (0: all). */
  run(sql: string, args: ReadonlyArray<unknown>, maxRows: number): Effect.Effect<ExecuteResult, PgQueryError>
}
