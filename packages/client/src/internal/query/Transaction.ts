/**
 * Transaction levels on one connection: begin (BEGIN or SAVEPOINT, after taking the
 * connection's gate), end (COMMIT / RELEASE or ROLLBACK / ROLLBACK TO), and the three ways of
 * holding a level: the managed combinator, a scope, and the manual start/commit/rollback object.
 *
 * While a level is active it owns the connection (internal/wire/Gate.ts): requests that do not belong
 * to it wait. Levels nest: beginning inside an active level creates a savepoint that owns the
 * connection until it ends, then hands it back to its parent.
 *
 * @internal
 */
import * as Frontend from "@pgfx/protocol/Frontend"
import { Context, Effect, Exit, type Fiber, type Schedule, type Scope } from "effect"
import {
  isSafeToRetry,
  isTransient,
  PgConnectionError,
  PgInterfaceError,
  type PgQueryError,
  PgTransactionError,
  type TransactionErrorReason,
} from "../../PgError.ts"
import type { Isolation, TransactionOptions } from "../Options.ts"
import { PgTransaction, type Transaction, type TransactionState } from "../Handles.ts"
import type { ConnectionCore } from "../connection/Core.ts"
import { coreOf } from "../connection/Internals.ts"
import { Level } from "../wire/Gate.ts"
import { SimpleQueryHandler } from "../wire/Handlers.ts"
import { leaseOf } from "../pool/Lease.ts"
import { withSpan } from "../observe/Tracing.ts"

type Restore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

const ISOLATION_SQL: Record<Isolation, string> = {
  serializable: "SERIALIZABLE",
  repeatable_read: "REPEATABLE READ",
  read_committed: "READ COMMITTED",
  read_uncommitted: "READ UNCOMMITTED",
}

/** The BEGIN statement for `options`. */
export const beginSql = (options: TransactionOptions): string => {
  const modes: Array<string> = []
  if (options.isolation !== undefined) modes.push(`ISOLATION LEVEL ${ISOLATION_SQL[options.isolation]}`)
  if (options.readOnly === true) modes.push("READ ONLY")
  if (options.deferrable === true) modes.push("DEFERRABLE")
  return modes.length === 0 ? "BEGIN" : `BEGIN ${modes.join(", ")}`
}

/**
 * Whether `transaction({ retry })` runs the transaction again after `error`: nothing of it was
 * committed and the failure may go away (a serialization failure, a deadlock, a lost connection
 * before COMMIT, ...). Never after `PgCommitUnknownError`.
 */
export const isRetryable = (error: unknown): boolean => isSafeToRetry(error) && isTransient(error)

/** Runs one simple-protocol command as (or inside) `level`; returns its status tag. */
export const command = (
  conn: ConnectionCore,
  sql: string,
  level: Level | undefined,
): Effect.Effect<string, PgQueryError> =>
  conn.request<string>(
    (w) => Frontend.query(w, sql),
    (c) => new SimpleQueryHandler(conn.session, c, sql),
    level,
  )

/**
 * A released pooled handle fails like its own methods do (`PgInterfaceError`) instead of throwing
 * when the transaction reads it.
 */
const released = (conn: ConnectionCore): PgInterfaceError | undefined => {
  const lease = leaseOf(conn)
  return lease !== undefined && lease.revoked ? lease.error("transaction") : undefined
}

const validate = (options: TransactionOptions): PgInterfaceError | undefined =>
  options.isolation !== undefined && !(options.isolation in ISOLATION_SQL)
    ? new PgInterfaceError({
        message: `isolation must be one of ${Object.keys(ISOLATION_SQL).join(", ")}, got ${String(options.isolation)}`,
      })
    : undefined

/**
 * Waits (interruptibly, through `restore`) until the connection's gate can be taken by `fiber`,
 * takes it with a new level, then sends BEGIN or SAVEPOINT. On any failure the gate is handed
 * back. Must run inside `uninterruptibleMask`.
 */
export const beginLevel = (
  conn: ConnectionCore,
  fiber: Fiber.Fiber<unknown, unknown>,
  options: TransactionOptions,
  ownerFiber: Fiber.Fiber<unknown, unknown> | undefined,
  restore: Restore,
): Effect.Effect<Level, PgQueryError> => {
  const invalid = released(conn) ?? validate(options)
  if (invalid !== undefined) return Effect.fail(invalid)
  const gate = conn.gate
  let acquired: Level | undefined
  const release = (level: Level) =>
    Effect.sync(() => {
      level.state = "failed"
      if (gate.owner === level) gate.setOwner(level.parent)
    })
  const take = Effect.callback<Level, PgQueryError>((resume) => {
    const waiter = gate.enter(
      () => conn.session.closed || gate.owner === gate.levelOf(fiber, conn, undefined),
      () => {
        if (conn.session.closed) return resume(Effect.fail(conn.closedError()))
        const parent = gate.levelOf(fiber, conn, undefined)
        const level = new Level({
          connection: conn,
          parent,
          // Inside a transaction begun with plain SQL, BEGIN would be refused: use a savepoint.
          insideRawTransaction: parent === undefined && conn.session.transactionStatus !== "I",
          outer: Context.getOrUndefined(fiber.context, PgTransaction),
          isolation: options.isolation,
          readOnly: options.readOnly === true,
          deferrable: options.deferrable === true,
          ownerFiber,
        })
        acquired = level
        gate.owner = level
        resume(Effect.succeed(level))
      },
    )
    return Effect.sync(() => gate.remove(waiter))
  })
  return restore(take).pipe(
    Effect.onExit((exit) => (Exit.isFailure(exit) && acquired !== undefined ? release(acquired) : Effect.void)),
    Effect.flatMap((level) =>
      command(conn, level.savepoint === undefined ? beginSql(options) : `SAVEPOINT ${level.savepoint}`, level).pipe(
        Effect.as(level),
        Effect.onError(() => release(level)),
      ),
    ),
  )
}

const refuse = (reason: TransactionErrorReason, message: string) =>
  Effect.fail(new PgTransactionError({ reason, message }))

/**
 * Ends `level`. Commit: COMMIT or RELEASE SAVEPOINT; when the server has aborted the transaction
 * (a statement in it failed and was not rolled back to a savepoint), it is rolled back instead and
 * the result is `PgTransactionError` "Aborted". Rollback: ROLLBACK or ROLLBACK TO SAVEPOINT (then
 * RELEASE). Nested levels still open are rolled back with it; committing over them fails with
 * "NestedOpen" (`nested: "fail"`: nothing is sent) or rolls everything back first
 * (`nested: "rollback"`). A rollback on a connection that is already closed succeeds (the server
 * rolls back on its own).
 */
export const endLevel = (
  level: Level,
  action: "commit" | "rollback",
  nested: "fail" | "rollback",
): Effect.Effect<void, PgQueryError | PgTransactionError> =>
  Effect.suspend(() => {
    const conn = coreOf(level.connection)
    const gone = released(conn)
    if (gone !== undefined) {
      // The pooled handle was released (the pool's reset rolled the transaction back).
      level.state = "failed"
      return action === "rollback" ? Effect.void : Effect.fail(gone)
    }
    const gate = conn.gate
    if (level.state !== "active") {
      // Rolled back with its parent already (or failed): nothing left to roll back.
      return action === "rollback" ? Effect.void : refuse("Failed", "cannot commit: the transaction has already ended")
    }
    let refusal: PgTransactionError | undefined
    if (gate.owner !== level) {
      if (action === "commit" && nested === "fail") {
        return refuse("NestedOpen", "cannot commit: a nested transaction started inside it is still open")
      }
      for (let l = gate.owner; l !== undefined && l !== level; l = l.parent) l.state = "rolledBack"
      gate.owner = level
      if (action === "commit") {
        refusal = new PgTransactionError({
          reason: "NestedOpen",
          message: "a nested transaction started inside this one was never finished; everything was rolled back",
        })
      }
    } else if (action === "commit" && conn.session.transactionStatus === "E") {
      refusal = new PgTransactionError({
        reason: "Aborted",
        message: "the transaction was aborted by an earlier failed statement; it was rolled back, not committed",
      })
    }
    const rollback = refusal !== undefined || action === "rollback"
    const sql =
      level.savepoint === undefined
        ? rollback
          ? "ROLLBACK"
          : "COMMIT"
        : rollback
          ? `ROLLBACK TO SAVEPOINT ${level.savepoint}; RELEASE SAVEPOINT ${level.savepoint}`
          : `RELEASE SAVEPOINT ${level.savepoint}`
    level.committing = !rollback && level.savepoint === undefined
    return command(conn, sql, level).pipe(
      Effect.onExit((exit) =>
        Effect.sync(() => {
          level.state = Exit.isFailure(exit) ? "failed" : rollback ? "rolledBack" : "committed"
          gate.setOwner(level.parent)
        }),
      ),
      Effect.catch((error) =>
        rollback && error instanceof PgConnectionError ? Effect.succeed("ROLLBACK") : Effect.fail(error),
      ),
      Effect.flatMap((tag) => {
        if (refusal !== undefined) return Effect.fail(refusal)
        if (!rollback && level.savepoint === undefined && tag === "ROLLBACK") {
          // COMMIT of an aborted transaction answers ROLLBACK.
          return refuse("Aborted", "the server rolled the transaction back instead of committing it")
        }
        return Effect.void
      }),
    )
  })

/** A rollback after a failure: a failed rollback on a live connection is a defect (its state is unknown). */
const rollbackAfterFailure = (level: Level): Effect.Effect<void> =>
  endLevel(level, "rollback", "rollback").pipe(Effect.catch((e) => Effect.die(e)))

/** Puts `level` into `fiber`'s Context for the rest of the fiber (like setting a FiberRef). */
const pushContext = (fiber: Fiber.Fiber<unknown, unknown>, level: Level): void => {
  fiber.setContext(Context.add(fiber.context, PgTransaction, level))
}

/** Takes `level` back out of `fiber`'s Context if it is still the current one. */
const popContext = (fiber: Fiber.Fiber<unknown, unknown>, level: Level): void => {
  const context = fiber.context
  if (Context.getOrUndefined(context, PgTransaction) !== level) return
  fiber.setContext(
    level.outer === undefined ? Context.omit(PgTransaction)(context) : Context.add(context, PgTransaction, level.outer),
  )
}

/** The managed combinator: see `PgTransaction.transaction`. */
export const transaction = <A, E, R>(
  conn: ConnectionCore,
  effect: Effect.Effect<A, E, R>,
  options: TransactionOptions = {},
): Effect.Effect<A, E | PgQueryError | PgTransactionError, Exclude<R, PgTransaction>> =>
  Effect.withFiber((fiber) => {
    const invalid = released(conn)
    if (invalid !== undefined) return Effect.fail(invalid)
    const once = Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(beginLevel(conn, fiber, options, undefined, restore), (level) =>
        Effect.flatMap(
          Effect.exit(restore(Effect.provideService(effect, PgTransaction, level))),
          (exit): Effect.Effect<A, E | PgQueryError | PgTransactionError> =>
            Exit.isSuccess(exit) && options.rollbackOnly !== true
              ? Effect.as(endLevel(level, "commit", "rollback"), exit.value)
              : Effect.andThen(rollbackAfterFailure(level), exit),
        ),
      ),
    ) as Effect.Effect<A, E | PgQueryError | PgTransactionError, Exclude<R, PgTransaction>>
    // Retrying only makes sense for the whole transaction, never for a savepoint.
    const retry = options.retry
    const nested = conn.gate.levelOf(fiber, conn, undefined) !== undefined || conn.session.transactionStatus !== "I"
    // One span per attempt, from BEGIN (or SAVEPOINT) to COMMIT / ROLLBACK, parent of the queries inside.
    const traced = withSpan(once, `${nested ? "savepoint" : "transaction"} ${conn.config.database}`, conn.config)
    if (retry === undefined || nested) return traced
    return Effect.retry(traced, {
      schedule: retry as Schedule.Schedule<unknown, E | PgQueryError | PgTransactionError>,
      // Once the connection is gone, running again on it cannot succeed (a pool's transaction
      // retries with a new checkout instead: PgClient).
      while: (e) => isRetryable(e) && !conn.session.closed,
    })
  })

/** A level held for the current scope: see `PgTransaction.scoped`. */
export const scoped = (
  conn: ConnectionCore,
  options: TransactionOptions = {},
): Effect.Effect<Level, PgQueryError, Scope.Scope> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.withFiber((fiber) =>
      Effect.tap(beginLevel(conn, fiber, options, fiber, restore), (level) => {
        pushContext(fiber, level)
        return Effect.addFinalizer((exit) => {
          popContext(fiber, level)
          if (level.state !== "active") return Effect.void
          return Exit.isSuccess(exit) && options.rollbackOnly !== true
            ? Effect.orDie(endLevel(level, "commit", "rollback"))
            : rollbackAfterFailure(level)
        })
      }),
    ),
  )

/** asyncpg's Transaction object: see `PgTransaction.make`. */
export class ManualTransaction implements Transaction {
  readonly connection: ConnectionCore
  readonly options: TransactionOptions
  level: Level | undefined = undefined
  private busy = false
  private startFailed = false
  private startFiber: Fiber.Fiber<unknown, unknown> | undefined = undefined

  constructor(connection: ConnectionCore, options: TransactionOptions) {
    this.connection = connection
    this.options = options
  }

  get state(): TransactionState {
    const level = this.level
    if (level === undefined) return this.startFailed ? "failed" : "new"
    return level.state === "active" ? "started" : level.state
  }

  private illegal(action: string): PgTransactionError | undefined {
    const state = this.state
    if (this.busy) {
      return new PgTransactionError({ reason: "Failed", message: `cannot ${action}: another move is in progress` })
    }
    switch (state) {
      case "committed":
        return new PgTransactionError({ reason: "AlreadyCommitted", message: `cannot ${action}: already committed` })
      case "rolledBack":
        return new PgTransactionError({
          reason: "AlreadyRolledBack",
          message: `cannot ${action}: already rolled back`,
        })
      case "failed":
        return new PgTransactionError({ reason: "Failed", message: `cannot ${action}: the transaction failed` })
      case "new":
        return action === "start"
          ? undefined
          : new PgTransactionError({ reason: "NotStarted", message: `cannot ${action}: not started` })
      case "started":
        return action === "start"
          ? new PgTransactionError({ reason: "AlreadyStarted", message: "cannot start: already started" })
          : undefined
    }
  }

  readonly start: Effect.Effect<void, PgQueryError | PgTransactionError> = Effect.withFiber<
    void,
    PgQueryError | PgTransactionError
  >((fiber) => {
    const illegal = this.illegal("start")
    if (illegal !== undefined) return Effect.fail(illegal)
    this.busy = true
    return Effect.uninterruptibleMask((restore) =>
      beginLevel(this.connection, fiber, this.options, fiber, restore).pipe(
        Effect.matchEffect({
          onFailure: (e) =>
            Effect.sync(() => {
              this.busy = false
              this.startFailed = true
            }).pipe(Effect.andThen(Effect.fail(e))),
          onSuccess: (level) =>
            Effect.sync(() => {
              this.busy = false
              this.level = level
              this.startFiber = fiber
              pushContext(fiber, level)
            }),
        }),
      ),
    )
  })

  private end(action: "commit" | "rollback"): Effect.Effect<void, PgQueryError | PgTransactionError> {
    return Effect.withFiber<void, PgQueryError | PgTransactionError>((fiber) => {
      const illegal = this.illegal(action)
      if (illegal !== undefined) return Effect.fail(illegal)
      const level = this.level!
      this.busy = true
      return Effect.uninterruptible(
        endLevel(level, action, "fail").pipe(
          Effect.ensuring(
            Effect.sync(() => {
              this.busy = false
              if (level.state !== "active") {
                popContext(fiber, level)
                if (this.startFiber !== undefined) popContext(this.startFiber, level)
              }
            }),
          ),
        ),
      )
    })
  }

  readonly commit: Effect.Effect<void, PgQueryError | PgTransactionError> = Effect.suspend(() => this.end("commit"))
  readonly rollback: Effect.Effect<void, PgQueryError | PgTransactionError> = Effect.suspend(() => this.end("rollback"))
}
