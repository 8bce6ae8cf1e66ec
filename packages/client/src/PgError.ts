/**
 * The typed failures of pgfx. Every failure is a tagged value you can `Effect.catchTag`:
 *
 * | tag | when |
 * | --- | --- |
 * | `PgServerError` | PostgreSQL answered with an ErrorResponse (carries SQLSTATE and every field) |
 * | `PgConnectionError` | the socket could not be opened, or died / was closed under a request |
 * | `PgProtocolError` | the server sent bytes that break the protocol (the session is closed) |
 * | `PgTimeoutError` | an operation exceeded its timeout (the statement was cancelled) |
 * | `PgAuthenticationError` | the client refused or could not complete authentication |
 * | `PgEncodeError` | a parameter value could not be encoded (nothing was sent) |
 * | `PgDecodeError` | a result value could not be decoded (the query failed; the session is usable) |
 * | `PgOutdatedSchemaError` | a composite type changed after the connection cached its layout (retry) |
 * | `PgInterfaceError` | the API was misused (e.g. a query on a closed connection) |
 * | `PgInvalidCachedStatementError` | a statement prepared earlier no longer matches the schema (inside a transaction) |
 * | `PgTransactionError` | an illegal transaction move (commit twice, ...) or a transaction the server aborted |
 * | `PgCommitUnknownError` | the connection was lost while a COMMIT (explicit or implicit) was on the wire: it may or may not have happened |
 * | `PgLimitError` | a reply went over `maxResultRows`, `maxResultBytes` or `maxMessageSize` (the rest was discarded; the session is usable) |
 *
 * A server error of one condition or class: {@link catchCondition} / {@link catchClass}, or the
 * refinements {@link isCondition} / {@link isClass} for `Effect.catchIf` (docs/errors.md).
 *
 * Whether a failed operation may be run again without applying it twice: {@link isSafeToRetry};
 * whether running it again may succeed: {@link isTransient} (docs/reliability.md has a recipe).
 *
 * Messages never contain passwords or other secrets.
 *
 * @since 0.1.0
 */
import { type ErrorFields, parseErrorFields } from "@pgfx/protocol/ErrorFields"
import {
  classNameOf,
  conditionNameOf,
  SqlState,
  SqlStateClass,
  type SqlStateClassCode,
  type SqlStateClassName,
  type SqlStateCode,
  type SqlStateName,
} from "@pgfx/protocol/SqlState"
import { Data, Effect, type Schema } from "effect"
import type * as QueryCheck from "./internal/query/QueryCheck.ts"
import { dual } from "effect/Function"
import type { Refinement } from "effect/Predicate"

/**
 * An ErrorResponse from PostgreSQL: SQLSTATE `code`, its condition name (`unique_violation`),
 * its class name (`integrity_constraint_violation`), and every field the server sent.
 *
 * One class for every condition: catch one condition or class with {@link catchCondition} /
 * {@link catchClass} (the handler gets the narrowed type), or test with {@link isCondition} /
 * {@link isClass} (refinements for `Effect.catchIf`). docs/errors.md explains the choice.
 *
 * @example
 * ```ts
 * conn.execute("INSERT INTO t VALUES (1)").pipe(
 *   PgError.catchCondition("unique_violation", (e) => Effect.succeed(`duplicate: ${e.constraint}`)),
 *   PgError.catchClass("23", (e) => Effect.succeed(`other constraint: ${e.condition}`)),
 * )
 * ```
 * @since 0.1.0
 */
export class PgServerError extends Data.TaggedError("PgServerError")<
  ErrorFields & {
    /** The condition name of `code` (e.g. `unique_violation`), when PostgreSQL defines it. */
    readonly condition: SqlStateName | undefined
    /** The class name of `code`'s first two characters (e.g. `integrity_constraint_violation`). */
    readonly conditionClass: SqlStateClassName | undefined
    /** The SQL text that failed, when known. */
    readonly query?: string | undefined
    /**
     * In `executeMany` / `fetchMany`: the index (from 0) of the argument set that failed. Absent
     * when the statement itself failed before any set ran (e.g. a syntax error).
     */
    readonly batchIndex?: number | undefined
    /**
     * Set when a pool's acquire failed connecting: how many connect attempts it made (1 when the
     * first one failed for good; more when transient refusals were retried, see docs/reliability.md).
     */
    readonly connectAttempts?: number | undefined
  }
> {
  /** Builds the error from the raw ErrorResponse fields. */
  static fromFields(
    fields: ReadonlyArray<readonly [string, string]>,
    query?: string,
    batchIndex?: number,
  ): PgServerError {
    const parsed = parseErrorFields(fields)
    return new PgServerError({
      ...parsed,
      condition: conditionNameOf(parsed.code),
      conditionClass: classNameOf(parsed.code),
      query,
      ...(batchIndex === undefined ? {} : { batchIndex }),
    })
  }

  override toString(): string {
    return `PgServerError: ${this.severity} ${this.code}: ${this.message}`
  }
}

/**
 * A condition as {@link catchCondition} and {@link isCondition} take it: a condition name from
 * PostgreSQL's table (`"unique_violation"`) or a SQLSTATE code it defines (`"23505"`). A
 * misspelled name does not compile. Codes outside the table (an extension's, a PL/pgSQL
 * `RAISE ... USING ERRCODE`) are matched on `error.code` instead (see docs/errors.md).
 * @since 0.1.0
 */
export type Condition = SqlStateName | SqlStateCode

/**
 * A SQLSTATE class as {@link catchClass} and {@link isClass} take it: its two-character code
 * (`"23"`) or its name (`"integrity_constraint_violation"`).
 * @since 0.1.0
 */
export type ConditionClass = SqlStateClassCode | SqlStateClassName

/** The SQLSTATE code a {@link Condition} stands for. @since 0.1.0 */
export type CodeOf<C extends Condition> = C extends SqlStateName ? (typeof SqlState)[C] : C

/** Every name the table gives one code: the canonical one `condition` holds, and its aliases. */
type NamesOfCode<Code extends string> = {
  [N in SqlStateName]: (typeof SqlState)[N] extends Code ? N : never
}[SqlStateName]

/** The two-character class code of a {@link ConditionClass}. @since 0.1.0 */
export type ClassCodeOf<K extends ConditionClass> = K extends SqlStateClassCode
  ? K
  : { [C in SqlStateClassCode]: (typeof SqlStateClass)[C] extends K ? C : never }[SqlStateClassCode]

type ClassNameOfCode<Code extends string> = Code extends `${infer A}${infer B}${string}`
  ? `${A}${B}` extends SqlStateClassCode
    ? (typeof SqlStateClass)[`${A}${B}`]
    : undefined
  : undefined

/**
 * A {@link PgServerError} known to carry one condition: `code` is its SQLSTATE, `condition` its
 * name (a code with aliases, such as `34000`, gives the union of its names), `conditionClass` its
 * class. What the handler of {@link catchCondition} receives.
 *
 * @example
 * ```ts
 * const constraintOf = (e: PgError.PgServerErrorOf<"unique_violation">): string | undefined => e.constraint
 * ```
 * @since 0.1.0
 */
export type PgServerErrorOf<C extends Condition> = PgServerError & {
  readonly code: CodeOf<C>
  readonly condition: NamesOfCode<CodeOf<C>>
  readonly conditionClass: ClassNameOfCode<CodeOf<C>>
}

/**
 * A {@link PgServerError} known to be of one SQLSTATE class: what the handler of
 * {@link catchClass} receives. `condition` is undefined for a code of the class that
 * PostgreSQL's table does not define.
 * @since 0.1.0
 */
export type PgServerErrorOfClass<K extends ConditionClass> = PgServerError & {
  readonly code: `${ClassCodeOf<K>}${string}`
  readonly condition: NamesOfCode<`${ClassCodeOf<K>}${string}`> | undefined
  readonly conditionClass: (typeof SqlStateClass)[ClassCodeOf<K>]
}

const codeOfCondition = (condition: string): string =>
  Object.hasOwn(SqlState, condition) ? SqlState[condition as SqlStateName] : condition

const classCodeOf = (klass: string): string => {
  if (Object.hasOwn(SqlStateClass, klass)) return klass
  for (const [code, name] of Object.entries(SqlStateClass)) if (name === klass) return code
  return klass
}

/**
 * Whether an error is a {@link PgServerError} of one condition, by name (`"unique_violation"`)
 * or SQLSTATE (`"23505"`), compared by code so that aliases match too. Data-first
 * (`isCondition(error, "unique_violation")`) or as a refinement for `Effect.catchIf`,
 * `Effect.retry({ while })`, `Array.filter`.
 *
 * @example
 * ```ts
 * insert.pipe(
 *   Effect.catchIf(PgError.isCondition("unique_violation"), (e) => Effect.succeed(e.constraint)),
 * )
 * ```
 * @since 0.1.0
 */
export const isCondition: {
  <C extends Condition>(condition: C): (error: unknown) => error is PgServerErrorOf<C>
  <C extends Condition>(error: unknown, condition: C): error is PgServerErrorOf<C>
} = dual(
  2,
  // A plain boolean at run time; the declared signature above carries the narrowing.
  (error: unknown, condition: Condition): boolean =>
    error instanceof PgServerError && error.code === codeOfCondition(condition),
) as never

/**
 * Whether an error is a {@link PgServerError} of one SQLSTATE class, by class code (`"23"`) or
 * class name (`"integrity_constraint_violation"`). Data-first or as a refinement, like
 * {@link isCondition}.
 *
 * @example
 * ```ts
 * const retryable = Effect.retry(work, { times: 3, while: PgError.isClass("transaction_rollback") })
 * ```
 * @since 0.1.0
 */
export const isClass: {
  <K extends ConditionClass>(klass: K): (error: unknown) => error is PgServerErrorOfClass<K>
  <K extends ConditionClass>(error: unknown, klass: K): error is PgServerErrorOfClass<K>
} = dual(
  2,
  (error: unknown, klass: ConditionClass): boolean =>
    error instanceof PgServerError && error.code.startsWith(classCodeOf(klass)),
) as never

/**
 * Recovers from a {@link PgServerError} of one condition, by name (`"unique_violation"`) or
 * SQLSTATE (`"23505"`); other errors pass through. The handler receives the narrowed error
 * ({@link PgServerErrorOf}: `code`, `condition` and `conditionClass` are literal types).
 *
 * Typing: the error channel keeps `PgServerError`, because one class carries every condition
 * and the type cannot say which conditions are left; it gains the handler's errors.
 *
 * @example
 * ```ts
 * insert.pipe(PgError.catchCondition("unique_violation", (e) => Effect.succeed(`exists: ${e.constraint}`)))
 * // data-first
 * PgError.catchCondition(insert, "23505", () => Effect.succeed("exists"))
 * ```
 * @since 0.1.0
 */
export const catchCondition: {
  <C extends Condition, B, E2, R2>(
    condition: C,
    f: (error: PgServerErrorOf<C>) => Effect.Effect<B, E2, R2>,
  ): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A | B, E | E2, R | R2>
  <A, E, R, C extends Condition, B, E2, R2>(
    self: Effect.Effect<A, E, R>,
    condition: C,
    f: (error: PgServerErrorOf<C>) => Effect.Effect<B, E2, R2>,
  ): Effect.Effect<A | B, E | E2, R | R2>
} = dual(
  3,
  <A, E, R, B, E2, R2>(
    self: Effect.Effect<A, E, R>,
    condition: Condition,
    f: (error: PgServerError) => Effect.Effect<B, E2, R2>,
  ): Effect.Effect<A | B, E | E2, R | R2> =>
    Effect.catchIf(self, isCondition(condition) as Refinement<E, E>, f as never),
)

/**
 * Recovers from a {@link PgServerError} of one SQLSTATE class, by class code (`"23"`) or class
 * name (`"integrity_constraint_violation"`); other errors pass through. The handler receives
 * {@link PgServerErrorOfClass}. The error channel keeps `PgServerError`, as for
 * {@link catchCondition}.
 *
 * @example
 * ```ts
 * insert.pipe(PgError.catchClass("23", (e) => Effect.succeed(`constraint ${e.constraint} (${e.condition})`)))
 * ```
 * @since 0.1.0
 */
export const catchClass: {
  <K extends ConditionClass, B, E2, R2>(
    klass: K,
    f: (error: PgServerErrorOfClass<K>) => Effect.Effect<B, E2, R2>,
  ): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A | B, E | E2, R | R2>
  <A, E, R, K extends ConditionClass, B, E2, R2>(
    self: Effect.Effect<A, E, R>,
    klass: K,
    f: (error: PgServerErrorOfClass<K>) => Effect.Effect<B, E2, R2>,
  ): Effect.Effect<A | B, E | E2, R | R2>
} = dual(
  3,
  <A, E, R, B, E2, R2>(
    self: Effect.Effect<A, E, R>,
    klass: ConditionClass,
    f: (error: PgServerError) => Effect.Effect<B, E2, R2>,
  ): Effect.Effect<A | B, E | E2, R | R2> => Effect.catchIf(self, isClass(klass) as Refinement<E, E>, f as never),
)

/**
 * Why a connection-level failure happened. `Tls`: TLS was required but refused, or the handshake
 * or certificate verification failed. `TargetSessionAttrs`: the server is up but does not
 * satisfy `targetSessionAttrs`. `AllHostsFailed`: several hosts were tried and none fit
 * (`attempts` says why, host by host).
 * @since 0.1.0
 */
export type ConnectionErrorReason =
  | "ConnectFailed"
  | "ConnectTimeout"
  | "SocketError"
  | "ClosedByServer"
  | "Closed"
  | "Tls"
  | "TargetSessionAttrs"
  | "AllHostsFailed"

/** One host's failed connection attempt. @since 0.1.0 */
export interface PgHostAttempt {
  /** Host name, IP address or socket directory. */
  readonly host: string
  readonly port: number
  readonly error: PgConnectError
}

/**
 * The socket could not be opened, or died or was closed under a request.
 *
 * A query that fails with this error was not committed: when the connection is lost while a
 * request that may commit is on the wire, the query fails with {@link PgCommitUnknownError}
 * instead. @since 0.1.0
 */
export class PgConnectionError extends Data.TaggedError("PgConnectionError")<{
  readonly reason: ConnectionErrorReason
  readonly message: string
  readonly cause?: unknown
  /** With reason `AllHostsFailed`: every host's failure, in the order tried. */
  readonly attempts?: ReadonlyArray<PgHostAttempt> | undefined
  /**
   * `false` when the failed request never ran on the server: it was never written, the server
   * had already ended the session (a FATAL error such as `admin_shutdown` received while nothing
   * was in flight) before it could read it, or it was queued behind a pool reset that failed (the
   * server refuses everything after it in the reset's aborted transaction block). Undefined when
   * it may have run, or for a failure outside any request (connecting).
   */
  readonly sent?: boolean | undefined
  /**
   * Set when a pool's acquire failed connecting: how many connect attempts it made (1 when the
   * first one failed for good; more when transient refusals were retried, see docs/reliability.md).
   */
  readonly connectAttempts?: number | undefined
}> {}

/** The server broke the protocol; the session is closed. @since 0.1.0 */
export class PgProtocolError extends Data.TaggedError("PgProtocolError")<{
  readonly message: string
  readonly cause?: unknown
  /**
   * Set when a pool's acquire failed connecting: how many connect attempts it made (1 when the
   * first one failed for good; more when transient refusals were retried, see docs/reliability.md).
   */
  readonly connectAttempts?: number | undefined
}> {}

/**
 * An operation exceeded its timeout; the running statement was cancelled. A statement that ran
 * outside a transaction may still have completed (and committed) before the cancel reached it.
 * @since 0.1.0
 */
export class PgTimeoutError extends Data.TaggedError("PgTimeoutError")<{
  readonly message: string
  readonly timeoutMs: number
  /** `false` when nothing was sent to the server (e.g. waiting for a pool connection timed out). */
  readonly sent?: boolean | undefined
  /** An acquire that timed out while retrying a refused connect: the last connect failure. */
  readonly cause?: unknown
  /**
   * Set when a pool's acquire failed connecting: how many connect attempts it made (1 when the
   * first one failed for good; more when transient refusals were retried, see docs/reliability.md).
   */
  readonly connectAttempts?: number | undefined
}> {}

/** The client refused or could not complete authentication. @since 0.1.0 */
export class PgAuthenticationError extends Data.TaggedError("PgAuthenticationError")<{
  readonly message: string
  readonly method?: string | undefined
  readonly cause?: unknown
  /**
   * Set when a pool's acquire failed connecting: how many connect attempts it made (1 when the
   * first one failed for good; more when transient refusals were retried, see docs/reliability.md).
   */
  readonly connectAttempts?: number | undefined
}> {}

/** A parameter value could not be encoded; nothing was sent. @since 0.1.0 */
export class PgEncodeError extends Data.TaggedError("PgEncodeError")<{
  readonly message: string
  /** 1-based parameter number (`$1` is 1). */
  readonly parameter: number
  readonly typeName: string
  readonly typeOid: number
  readonly actualType: string
  /** In `executeMany` / `fetchMany`: the index (from 0) of the argument set that failed. */
  readonly batchIndex?: number | undefined
  /** The codec's EncodeError (for a custom codec, its cause is the SchemaError). */
  readonly cause?: unknown
}> {}

/** A result value could not be decoded; the query failed and the session stays usable. @since 0.1.0 */
export class PgDecodeError extends Data.TaggedError("PgDecodeError")<{
  readonly message: string
  readonly column: string
  readonly typeOid: number
  readonly cause?: unknown
}> {}

/**
 * A composite type changed (DDL such as `ALTER TYPE ... ADD ATTRIBUTE`) after the connection
 * cached its layout, so a value could not be decoded or the server rejected one we encoded —
 * asyncpg's `OutdatedSchemaCacheError`. The connection has already dropped its type and
 * statement caches (what `reloadSchemaState` does), so retrying the statement works; call
 * `reloadSchemaState` yourself after DDL to avoid the error. @since 0.1.0
 */
export class PgOutdatedSchemaError extends Data.TaggedError("PgOutdatedSchemaError")<{
  readonly message: string
  /** The composite type, when known. */
  readonly typeName: string
  readonly cause?: unknown
}> {}

/** The API was misused, e.g. a query on a closed connection. @since 0.1.0 */
export class PgInterfaceError extends Data.TaggedError("PgInterfaceError")<{
  readonly message: string
}> {}

/**
 * A statement prepared earlier no longer matches the schema: DDL changed its result type, so
 * PostgreSQL refuses the cached plan ("cached plan must not change result type"). Outside a
 * transaction pgfx re-prepares such statements transparently; inside one the transaction is
 * already aborted by the server, so the call fails with this error (roll back and retry).
 * `cause` is the server's error. @since 0.1.0
 */
export class PgInvalidCachedStatementError extends Data.TaggedError("PgInvalidCachedStatementError")<{
  readonly message: string
  readonly query: string
  readonly cause: PgServerError
}> {}

/** Why a transaction operation was refused. @since 0.1.0 */
export type TransactionErrorReason =
  /** `start` on a transaction that was already started. */
  | "AlreadyStarted"
  /** `commit` / `rollback` before `start`. */
  | "NotStarted"
  /** Any move after the transaction was committed. */
  | "AlreadyCommitted"
  /** Any move after the transaction was rolled back. */
  | "AlreadyRolledBack"
  /** Any move after starting, committing or rolling back failed. */
  | "Failed"
  /** Committing while a nested transaction (savepoint) opened inside it is still open. */
  | "NestedOpen"
  /** The server aborted the transaction (a statement in it failed), so it was rolled back, not committed. */
  | "Aborted"

/** An illegal transaction move, or a transaction that could not be committed. @since 0.1.0 */
export class PgTransactionError extends Data.TaggedError("PgTransactionError")<{
  readonly reason: TransactionErrorReason
  readonly message: string
}> {}

/**
 * The connection was lost after a request that may commit was written (even partly) and before
 * its answer arrived, so whether it was committed is unknown: the transaction's own COMMIT, a
 * statement outside a transaction block (its implicit commit), or a statement sent with SQL in a
 * transaction block begun with SQL (pgfx does not read SQL, so it may have been a COMMIT).
 * Never retried by pgfx; check the data before applying the work again (see
 * docs/reliability.md). `cause` is the connection failure. @since 0.1.0
 *
 * @example
 * ```ts
 * PgClient.transaction(pay(order), { retry: Schedule.recurs(3) }).pipe(
 *   Effect.catchTag("PgCommitUnknownError", () => checkPayment(order)),
 * )
 * ```
 */
export class PgCommitUnknownError extends Data.TaggedError("PgCommitUnknownError")<{
  readonly message: string
  readonly cause: PgConnectionError
}> {}

/** Which limit a reply went over: see {@link PgLimitError}. @since 0.1.0 */
export type LimitKind = "rows" | "bytes" | "message"

/**
 * A reply went over a limit of the connection: more rows than `maxResultRows`, more bytes of rows
 * or COPY data than `maxResultBytes`, or one message larger than `maxMessageSize`. The rest of the
 * reply was read and discarded as it arrived (never kept), so memory stays bounded and the
 * connection is usable afterwards. The statement itself was not stopped: it ran to its end on
 * the server (outside a transaction, an `INSERT ... RETURNING` is committed), so this is neither
 * safe to retry nor transient. docs/reliability.md explains the limits and their defaults.
 *
 * @example
 * ```ts
 * conn.fetch("SELECT * FROM events").pipe(
 *   Effect.catchTag("PgLimitError", (e) => Effect.fail(`too many ${e.limit}: over ${e.max}`)),
 * )
 * ```
 * @since 0.1.0
 */
export class PgLimitError extends Data.TaggedError("PgLimitError")<{
  readonly message: string
  readonly limit: LimitKind
  /** The limit that was exceeded (rows, or bytes). */
  readonly max: number
}> {}

/** Every failure a query can produce. @since 0.1.0 */
export type PgQueryError =
  | PgCommitUnknownError
  | PgServerError
  | PgConnectionError
  | PgProtocolError
  | PgTimeoutError
  | PgEncodeError
  | PgDecodeError
  | PgInterfaceError
  | PgOutdatedSchemaError
  | PgInvalidCachedStatementError
  | PgLimitError

/** Every failure connecting can produce. @since 0.1.0 */
export type PgConnectError =
  PgServerError | PgConnectionError | PgProtocolError | PgAuthenticationError | PgTimeoutError

/** SQLSTATEs after which the server guarantees the work was not done (or not started). */
const SAFE_CODES = new Set([
  "40001", // serialization_failure: the transaction was rolled back
  "40P01", // deadlock_detected: the transaction was rolled back
  "57P01", // admin_shutdown: the session was terminated, its transaction rolled back
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections (refused at connect)
])

/**
 * Whether running the failed operation again cannot apply it twice: nothing of it was committed.
 * True when no byte of it reached the server, when the server said so (serialization failure,
 * deadlock, the session terminated by an administrator, connection refused), for connection
 * failures (connecting, or a lost connection under a request that could not commit: inside a
 * transaction, whose loss rolls it back), and for an acquire timeout. False for
 * {@link PgCommitUnknownError}, for a query timeout (the statement may have completed before the
 * cancel reached it), for protocol errors, and for every error pgfx does not know (including
 * your own). For a transaction, "again" means the whole transaction.
 *
 * @example
 * ```ts
 * Effect.retry(PgClient.transaction(work), {
 *   schedule: Schedule.exponential("50 millis").pipe(Schedule.both(Schedule.recurs(5))),
 *   while: (e) => PgError.isSafeToRetry(e) && PgError.isTransient(e),
 * })
 * ```
 * @since 0.1.0
 */
export const isSafeToRetry = (error: unknown): boolean => {
  if (error instanceof PgConnectionError) return true
  if (error instanceof PgTimeoutError) return error.sent === false
  if (error instanceof PgServerError) return SAFE_CODES.has(error.code) || error.code.startsWith("08")
  return false
}

/**
 * Whether the failure may go away by itself, so that trying again later may succeed: a lost or
 * refused connection (with several hosts, when one of them failed so), a timeout, an unknown commit outcome (the server may be back), and server
 * errors of classes 08 (connection exception), 53 (insufficient resources), 58 (system error),
 * serialization failures and deadlocks (40001, 40P01), `lock_not_available` (55P03) and the
 * operator interventions 57P01-57P03. Combine with {@link isSafeToRetry} before retrying.
 *
 * @example
 * ```ts
 * if (PgError.isTransient(e) && PgError.isSafeToRetry(e)) yield* Effect.sleep("100 millis")
 * ```
 * @since 0.1.0
 */
export const isTransient = (error: unknown): boolean => {
  if (error instanceof PgConnectionError) {
    // Several hosts failed: transient when one of them failed transiently.
    if (error.reason === "AllHostsFailed" && error.attempts !== undefined) {
      return error.attempts.some((attempt) => isTransient(attempt.error))
    }
    return error.reason !== "Tls"
  }
  if (error instanceof PgTimeoutError || error instanceof PgCommitUnknownError) return true
  if (error instanceof PgServerError) {
    const code = error.code
    const cls = code.slice(0, 2)
    return (
      cls === "08" ||
      cls === "53" ||
      cls === "58" ||
      code === "40001" ||
      code === "40P01" ||
      code === "55P03" ||
      code === "57P01" ||
      code === "57P02" ||
      code === "57P03"
    )
  }
  return false
}

/**
 * The `init` or `setup` hook failed; `cause` is what it failed with. (A failing `reset` never
 * fails anyone: the connection is closed instead of reused, and a warning is logged.)
 * @since 0.1.0
 */
export class PgPoolHookError extends Data.TaggedError("PgPoolHookError")<{
  readonly hook: "init" | "setup"
  readonly message: string
  readonly cause: unknown
}> {}

/**
 * Every failure acquiring from a pool can produce: connecting (`PgConnectError`), invalid
 * settings (`PgConfigError`), a failing hook (`PgPoolHookError`), the acquire timeout
 * (`PgTimeoutError`), a closed pool (`PgInterfaceError`).
 * @since 0.1.0
 */
export type PgPoolError = PgConnectError | PgConfigError | PgPoolHookError | PgInterfaceError | PgTimeoutError

/**
 * Where a setting came from:
 *
 * - `"url"`: a `postgres://` URI; `"dsn"`: a keyword/value string (`host=... port=...`);
 * - `"options"`: the options object; `"config"`: an Effect `Config` (`PgConfig.config`);
 * - `"env"`: a PG* environment variable; `"service"`: the connection service file;
 * - `"pgpass"`: the password file; `"default"`: a built-in default (e.g. `~/.postgresql/root.crt`).
 *
 * @since 0.1.0
 */
export type PgConfigSource = "url" | "dsn" | "options" | "config" | "env" | "service" | "pgpass" | "default"

/** A setting is invalid; `source` and `key` say which. The value is never included. @since 0.1.0 */
export class PgConfigError extends Data.TaggedError("PgConfigError")<{
  readonly source: PgConfigSource
  readonly key: string
  readonly message: string
}> {}

/**
 * A record given to `copyRecordsToTable` could not be encoded: it has the wrong number of values,
 * is neither an array nor an object, or one of its values does not fit its column's type. The
 * COPY was aborted with CopyFail, so nothing of it was committed; the connection stays usable.
 *
 * @example
 * ```ts
 * PgCopy.copyRecordsToTable(conn, "t", { records: [[1, "x"], ["oops", "y"]] }).pipe(
 *   Effect.catchTag("PgCopyRecordError", (e) => Effect.log(`record ${e.row}, column ${e.column}: ${e.message}`)),
 * )
 * ```
 * @since 0.1.0
 */
export class PgCopyRecordError extends Data.TaggedError("PgCopyRecordError")<{
  readonly message: string
  /** 0-based index of the record in the input. */
  readonly row: number
  /** The column whose value failed (undefined when the record as a whole is malformed). */
  readonly column: string | undefined
  /** The column's type name, when a value failed. */
  readonly typeName: string | undefined
  /** What the value was (`string`, `object`, ...). */
  readonly actualType: string
  /** The codec's EncodeError, when a value failed. */
  readonly cause?: unknown
}> {}

/**
 * A file given to a copy (`output` or `source` as a path) could not be opened, read or written.
 * A COPY FROM is aborted (nothing loaded); a COPY TO is cancelled.
 * @since 0.1.0
 */
export class PgCopyFileError extends Data.TaggedError("PgCopyFileError")<{
  readonly message: string
  readonly path: string
  readonly cause?: unknown
}> {}

/**
 * A parameter value did not encode through its Schema (`PgQuery`'s `params`), or a row (or a
 * `fetchVal` value) did not decode through its Schema (`PgQuery`'s `row`, the `schema` option
 * of `fetch` / `fetchRow` / `fetchVal`). `message` names the query, the row and the column path;
 * `row` is the row's 0-based index, `column` the column `fetchVal` read; `cause` is the
 * `SchemaError`.
 *
 * @example
 * ```ts
 * const rows = yield* conn.fetch("SELECT 'x' AS id", [], { schema: Schema.Struct({ id: Schema.Number }) }).pipe(
 *   Effect.catchTag("PgSchemaError", (e) => Effect.die(`row ${e.row}: ${e.message}`)),
 * )
 * ```
 * @since 0.1.0
 */
export class PgSchemaError extends Data.TaggedError("PgSchemaError")<{
  readonly message: string
  readonly direction: "params" | "row"
  /** The query's name (`PgQuery`) or its SQL. */
  readonly query: string
  readonly row?: number | undefined
  readonly column?: string | undefined
  readonly cause: Schema.SchemaError
}> {}

/**
 * The declared Schemas do not match the server's description of the statement. `differences`
 * lists every one (kind and message); `message` has them all, one per line.
 * @since 0.1.0
 */
export class PgQueryMismatchError extends Data.TaggedError("PgQueryMismatchError")<{
  readonly message: string
  /** The query's name (or its SQL). */
  readonly query: string
  readonly differences: ReadonlyArray<QueryCheck.Difference>
}> {}

/** `one` found no row. @since 0.1.0 */
export class PgNoRowError extends Data.TaggedError("PgNoRowError")<{
  readonly message: string
  readonly query: string
}> {}

/**
 * Why a replication operation failed, beyond an ordinary server error:
 *
 * - `WalLevel`: the server runs with `wal_level` below `logical`;
 * - `SlotInUse`: another connection streams from the slot (SQLSTATE 55006);
 * - `PermissionDenied`: the user lacks the `REPLICATION` attribute or a privilege (42501);
 * - `SlotMissing`: no slot of that name (42704);
 * - `SlotExists`: creating a slot that exists (42710).
 *
 * `cause` holds the server's error, when there is one.
 *
 * @since 0.1.0
 * @category errors
 */
export class PgReplicationError extends Data.TaggedError("PgReplicationError")<{
  readonly reason: "WalLevel" | "SlotInUse" | "PermissionDenied" | "SlotMissing" | "SlotExists"
  readonly message: string
  readonly slot?: string | undefined
  readonly cause?: PgServerError | undefined
}> {}
