/**
 * The admission gate of one connection: decides, synchronously and at the moment a request
 * would be written, whether it may go on the wire now or must wait.
 *
 * Two rules:
 *
 * - **Transactions are exclusive.** While a transaction level (a transaction or one of its
 *   savepoints) owns the connection, only requests that belong to that level are written;
 *   everything else waits until the level ends. A request belongs to a level when the fiber
 *   that issues it carries the level in its Context (`PgTransaction`), when the level was
 *   started manually by that very fiber, or when the request names the level explicitly
 *   (transaction commands, cursor fetches).
 * - **Optional pipelining.** With `pipelining: false`, at most one request is in flight.
 *
 * Waiters are re-checked in FIFO order whenever the owner changes or a request settles. The
 * check and the write happen in the same synchronous step, so nothing can slip in between.
 *
 * @internal
 */
import { Context, type Fiber } from "effect"
import { type PgConnection, PgTransaction, type TransactionLevel } from "../Handles.ts"
import type { Isolation } from "../Options.ts"
import { unguard } from "../pool/Lease.ts"

/** What became of a transaction level. */
export type LevelState = "active" | "committed" | "rolledBack" | "failed"

/** One transaction or savepoint on one connection. */
export class Level implements TransactionLevel {
  /** The connection as the caller passed it (a pooled handle stays a handle). */
  readonly connection: PgConnection
  /** The connection itself behind a pooled handle: what requests compare against. */
  readonly core: PgConnection
  /** The enclosing level on the same connection (undefined for a top-level transaction). */
  readonly parent: Level | undefined
  /** The fiber's transaction context when this level began (any connection). */
  readonly outer: TransactionLevel | undefined
  readonly depth: number
  readonly savepoint: string | undefined
  readonly isolation: Isolation | undefined
  readonly readOnly: boolean
  readonly deferrable: boolean
  /** Set for manually started and scoped levels: requests from this fiber always belong to it. */
  readonly ownerFiber: Fiber.Fiber<unknown, unknown> | undefined
  state: LevelState = "active"
  /** Set while the top-level COMMIT of this level is sent: losing the connection then leaves its outcome unknown. */
  committing = false

  constructor(fields: {
    readonly connection: PgConnection
    readonly parent: Level | undefined
    readonly outer: TransactionLevel | undefined
    readonly isolation: Isolation | undefined
    readonly readOnly: boolean
    readonly deferrable: boolean
    readonly ownerFiber: Fiber.Fiber<unknown, unknown> | undefined
    /** A top-level level inside a transaction begun with plain SQL (`BEGIN`): a savepoint of it. */
    readonly insideRawTransaction?: boolean | undefined
  }) {
    this.connection = fields.connection
    this.core = unguard(fields.connection)
    this.parent = fields.parent
    this.outer = fields.outer
    this.depth = fields.parent === undefined ? 0 : fields.parent.depth + 1
    this.savepoint =
      fields.parent !== undefined
        ? `pgfx_sp_${this.depth}`
        : fields.insideRawTransaction === true
          ? "pgfx_sp_0"
          : undefined
    this.isolation = fields.parent === undefined ? fields.isolation : fields.parent.isolation
    this.readOnly = fields.parent === undefined ? fields.readOnly : fields.parent.readOnly
    this.deferrable = fields.parent === undefined ? fields.deferrable : fields.parent.deferrable
    this.ownerFiber = fields.ownerFiber
  }

  get isActive(): boolean {
    return this.state === "active"
  }
}

/**
 * The innermost active level of `connection` in `context`, if any. A pooled handle and the
 * connection behind it are the same connection here.
 */
export const levelIn = (context: Context.Context<never>, connection: PgConnection): Level | undefined => {
  let level: TransactionLevel | undefined = Context.getOrUndefined(context, PgTransaction)
  if (level === undefined) return undefined
  const core = unguard(connection)
  while (level !== undefined && !(level instanceof Level && level.core === core)) level = level.outer
  return level instanceof Level ? activeFrom(level) : undefined
}

/** Whether `level` is `ancestor` or nested in it. */
const isWithin = (level: Level, ancestor: Level): boolean => {
  for (let l: Level | undefined = level; l !== undefined; l = l.parent) if (l === ancestor) return true
  return false
}

/** `level` if it is still active, else its nearest active ancestor. */
export const activeFrom = (level: Level | undefined): Level | undefined => {
  let l = level
  while (l !== undefined && l.state !== "active") l = l.parent
  return l
}

interface Waiter {
  readonly ready: () => boolean
  readonly run: () => void
}

export class Gate {
  /** The innermost active level, which owns the connection; undefined when no transaction runs. */
  owner: Level | undefined = undefined
  /** Requests admitted and not yet settled. */
  inFlight = 0
  readonly pipelining: boolean
  /**
   * Set while a request that must be the last one written is in flight (a COPY: bytes written
   * behind it would land inside the COPY data); later requests wait as without pipelining.
   */
  exclusive = false
  private waiters: Array<Waiter> = []
  private waking = false
  private again = false

  constructor(pipelining: boolean) {
    this.pipelining = pipelining
  }

  /**
   * The level a request from `fiber` belongs to: the explicit one, else the manual level this
   * fiber owns, else the one in its Context.
   */
  levelOf(
    fiber: Fiber.Fiber<unknown, unknown>,
    connection: PgConnection,
    explicit: Level | undefined,
  ): Level | undefined {
    const owner = this.owner
    if (owner === undefined) return explicit === undefined ? undefined : activeFrom(explicit)
    if (owner.ownerFiber === fiber) return owner
    const inContext = levelIn(fiber.context, connection)
    if (explicit === undefined) return inContext
    // A fiber inside a savepoint of the named level (e.g. a cursor of the transaction read from
    // inside a nested transaction) acts at its own, deeper level.
    const named = activeFrom(explicit)
    return inContext !== undefined && named !== undefined && isWithin(inContext, named) ? inContext : named
  }

  /**
   * Runs `run` now if `ready()` (and no earlier request waits when pipelining is off), else
   * queues it. The returned waiter can be removed on interruption (a no-op once it ran).
   */
  enter(ready: () => boolean, run: () => void): Waiter | undefined {
    if ((this.pipelining || this.waiters.length === 0) && ready()) {
      run()
      return undefined
    }
    const waiter: Waiter = { ready, run }
    this.waiters.push(waiter)
    // Without pipelining the queue is FIFO: this waiter may be ready behind ones that are not.
    if (!this.pipelining) this.wake()
    return waiter
  }

  /** Forgets a waiter (its request was interrupted before being written). */
  remove(waiter: Waiter | undefined): void {
    if (waiter === undefined) return
    const i = this.waiters.indexOf(waiter)
    if (i >= 0) this.waiters.splice(i, 1)
  }

  /** Whether a request may be written now (pipelining rule only). */
  get hasRoom(): boolean {
    return (this.pipelining && !this.exclusive) || this.inFlight === 0
  }

  /** A request settled. */
  settled(): void {
    this.inFlight--
    if (this.waiters.length > 0) this.wake()
  }

  /** Hands the connection to `level` (or back to no transaction) and wakes waiters. */
  setOwner(level: Level | undefined): void {
    this.owner = level
    this.wake()
  }

  /** Re-checks waiters in FIFO order; those that are ready run. */
  wake(): void {
    if (this.waking) {
      this.again = true
      return
    }
    this.waking = true
    try {
      do {
        this.again = false
        for (let i = 0; i < this.waiters.length;) {
          const w = this.waiters[i]!
          if (w.ready()) {
            this.waiters.splice(i, 1)
            w.run()
          } else i++
        }
      } while (this.again)
    } finally {
      this.waking = false
    }
  }
}
