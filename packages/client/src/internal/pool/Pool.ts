/**
 * The pool core behind `PgPool`: plain synchronous bookkeeping (idle stack, FIFO waiter queue,
 * slot counts) with Effect only where a fiber has to wait (for a connection, a connect attempt,
 * a reset, the drain on close).
 *
 * Invariants:
 * - `size = members.size + pending` never exceeds `max`. A slot is reserved (`pending++`) before
 *   a connect attempt starts and given back if it fails or is interrupted.
 * - A released connection goes straight to the head of the waiter queue (FIFO) when someone
 *   waits, else onto the idle stack (LIFO: the most recently used connection is reused first,
 *   so surplus ones age out through `maxInactiveLifetime`).
 * - A slot freed while fibers wait (a connection closed, broken, expired or replaced, or a
 *   connect attempt that failed) becomes a *permit*: the head waiter opens the new connection
 *   in its own fiber, so its own connect timeout and interruption apply.
 * - Every hand-over (a connection or a permit) is recorded on the waiter before its fiber is
 *   resumed; a waiter that ends any other way (interruption, acquire timeout) gives back what it
 *   was handed, so nothing leaks whichever way the race goes. Connect attempts record the new
 *   connection in a box for the same reason.
 * - A transient connect failure (the server full, starting up, restarting) while the pool has
 *   other connections open or opening is not the caller's failure: the caller waits again, at
 *   the head of the queue, served by whichever comes first, a released connection or a new
 *   attempt after a backoff; meanwhile the pool opens no more connections than it has
 *   ({@link PoolCore.holdOff}).
 * - Time is read from Effect's `Clock` captured when the pool is made (the clock the sweeper
 *   sleeps on), never from `Date.now`: idle ages, acquire deadlines and the wait-time metric
 *   follow a `TestClock` when one is provided.
 *
 * @internal
 */
import { Cause, Effect, Exit, Metric, Redacted, type Context, Clock } from "effect"
import * as PgConfig from "../../PgConfig.ts"
import type { PgConnectionOptions } from "../../PgConfig.ts"
import type { PgConnection } from "../Handles.ts"
import {
  isTransient,
  PgConnectionError,
  PgInterfaceError,
  type PgPoolError,
  type PgPoolHookError,
  PgTimeoutError,
} from "../../PgError.ts"
import * as PgMetrics from "../../PgMetrics.ts"
import type { ConnectionCore } from "../connection/Core.ts"
import { connectionBehind } from "../connection/Internals.ts"
import {
  type Attempts,
  isConnectError,
  jittered,
  nextBackoffMs,
  retriesTimedOut,
  withConnectAttempts,
} from "./ConnectRetry.ts"
import type { Level } from "../wire/Gate.ts"
import { unwatchLeak, watchLeak } from "../observe/Debug.ts"
import { guard, Lease } from "./Lease.ts"
import { type ResetScope, sendReset } from "./Reset.ts"
import type { Session } from "../wire/Session.ts"
import { isTracing, withSpan } from "../observe/Tracing.ts"

/** Pool settings after defaults and validation. */
export interface PoolSettings {
  readonly name: string
  readonly min: number
  readonly max: number
  readonly maxQueries: number
  readonly maxInactiveLifetimeMs: number
  readonly acquireTimeoutMs: number | undefined
  readonly releaseTimeoutMs: number
  readonly init: ((conn: PgConnection) => Effect.Effect<unknown, unknown>) | undefined
  readonly setup: ((conn: PgConnection) => Effect.Effect<unknown, unknown>) | undefined
  readonly reset: ((conn: PgConnection) => Effect.Effect<unknown, unknown>) | undefined
  readonly sessionReset: ResetScope
  readonly connect: (options: PgConnectionOptions) => Effect.Effect<PgConnection, PgPoolError>
  readonly hookError: (hook: "init" | "setup", cause: unknown) => PgPoolHookError
}

/** One pooled connection. */
export class Member {
  readonly conn: ConnectionCore
  readonly session: Session
  readonly generation: number
  state: "idle" | "busy" | "closed" = "busy"
  idleSince = 0
  /** Listener counts when checked out: listeners added beyond these are the checkout's. */
  noticeMark = 0
  notificationMark = 0

  constructor(conn: ConnectionCore, generation: number) {
    this.conn = conn
    this.session = conn.session
    this.generation = generation
  }
}

type Grant =
  | { readonly _tag: "member"; readonly member: Member }
  | { readonly _tag: "permit" }
  | { readonly _tag: "fail"; readonly error: PgInterfaceError }

const permit: Grant = { _tag: "permit" }

interface Waiter {
  grant: Grant | undefined
  resume: ((grant: Grant) => void) | undefined
  cancelled: boolean
}

/** When an acquire must have ended, and the bound it came from (for the error). */
interface Deadline {
  readonly at: number
  readonly ms: number
}

export type Restore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

export class PoolCore {
  readonly settings: PoolSettings
  /** The clock of the fiber that made the pool: every time the pool reads comes from it. */
  readonly clock: Clock.Clock
  /** The connection options, which may hold a password: `Redacted`, so no inspection shows them. */
  connectOptions: Redacted.Redacted<PgConnectionOptions>
  generation = 0
  readonly members = new Set<Member>()
  readonly idle: Array<Member> = []
  pending = 0
  checkedOut = 0
  closing = false
  closed = false
  /**
   * While connect attempts are being refused (see {@link holdOff}): the most connections the pool
   * may have open or opening, below `max`.
   */
  private ceiling: number | undefined = undefined
  private backoffMs = 0
  private holdTimer: ReturnType<typeof setTimeout> | undefined = undefined
  private waiters: Array<Waiter | undefined> = []
  private head = 0
  waiting = 0
  private drainWaiters: Array<() => void> = []
  private metrics: Array<Metric.Registration> = []
  /** This pool's series of `db.client.connection.wait_time`. */
  private readonly waitTime: Metric.Histogram<number>
  /** The resolved settings of `connectOptions`, for span attributes (resolved when first traced). */
  private traced:
    { readonly options: Redacted.Redacted<PgConnectionOptions>; readonly config: PgConfig.ResolvedConfig } | undefined

  constructor(settings: PoolSettings, connectOptions: Redacted.Redacted<PgConnectionOptions>, clock: Clock.Clock) {
    this.settings = settings
    this.clock = clock
    this.connectOptions = connectOptions
    this.waitTime = PgMetrics.connectionWaitTimeFor(settings.name)
  }

  get size(): number {
    return this.members.size + this.pending
  }

  /** Whether a connection may be opened now: below `max`, and below the ceiling while refused. */
  private hasRoom(): boolean {
    const size = this.size
    return size < this.settings.max && (this.ceiling === undefined || size < this.ceiling)
  }

  closedError(): PgInterfaceError {
    return new PgInterfaceError({ message: this.closed ? "the pool is closed" : "the pool is closing" })
  }

  // ---------------------------------------------------------------------------------------------
  // acquire

  /**
   * A connection for the caller (marked busy), waiting or connecting as needed. Observed: the
   * time until a connection is obtained goes to `db.client.connection.wait_time` (unless metrics
   * are off), and with a tracer installed the acquire is an `acquire {database}` client span,
   * parent of the connect span when a connection is opened for it.
   */
  acquireMember(restore: Restore, timeoutMs?: number): Effect.Effect<Member, PgPoolError> {
    return Effect.withFiber((fiber) => {
      const metrics = fiber.getRef(PgMetrics.Enabled)
      const acquire = this.obtain(restore, timeoutMs ?? this.settings.acquireTimeoutMs)
      const measured = metrics ? this.timed(acquire, fiber.context) : acquire
      if (!isTracing(fiber)) return measured
      const config = this.spanConfig()
      if (config === undefined) return measured
      return withSpan(measured, `acquire ${config.database}`, config, {
        "db.client.connection.pool.name": this.settings.name,
      })
    })
  }

  /** Records the time `acquire` takes when it succeeds. */
  private timed(
    acquire: Effect.Effect<Member, PgPoolError>,
    context: Context.Context<never>,
  ): Effect.Effect<Member, PgPoolError> {
    const start = this.clock.monotonicTimeNanosUnsafe()
    return Effect.map(acquire, (member) => {
      this.waitTime.updateUnsafe(Number(this.clock.monotonicTimeNanosUnsafe() - start) / 1e9, context)
      return member
    })
  }

  /** The resolved connection settings, for span attributes; undefined if they cannot be resolved. */
  private spanConfig(): PgConfig.ResolvedConfig | undefined {
    const options = this.connectOptions
    if (this.traced?.options !== options) {
      try {
        this.traced = { options, config: PgConfig.resolve(Redacted.value(options)) }
      } catch {
        return undefined
      }
    }
    return this.traced.config
  }

  /** A connection, within `timeoutMs` (the call's acquire timeout, else the pool's) when set. */
  private obtain(restore: Restore, timeoutMs: number | undefined): Effect.Effect<Member, PgPoolError> {
    return Effect.suspend(() => {
      if (this.closing) return Effect.fail(this.closedError())
      const deadline: Deadline | undefined =
        timeoutMs === undefined ? undefined : { at: this.clock.currentTimeMillisUnsafe() + timeoutMs, ms: timeoutMs }
      if (this.waiting === 0) {
        const member = this.takeIdle()
        if (member !== undefined) return Effect.succeed(member)
        if (this.hasRoom()) {
          this.pending++
          return this.openMember(restore, deadline, undefined)
        }
      }
      return this.wait(restore, deadline)
    })
  }

  /**
   * The idle member the next acquire would take, when it can be taken at once (nobody waits, the
   * pool is open, the member is healthy and current); it stays idle. For the fast path of the
   * shortcuts (internal/query/FastQuery.ts), which then calls {@link checkOutIdle}.
   */
  peekIdle(): Member | undefined {
    if (this.closing || this.waiting > 0) return undefined
    const member = this.idle[this.idle.length - 1]
    if (member === undefined || member.session.closed || member.generation !== this.generation) return undefined
    return member
  }

  /** Checks out the member {@link peekIdle} returned (recording a zero wait in the metrics). */
  checkOutIdle(member: Member, metrics: Context.Context<never> | undefined): void {
    this.idle.pop()
    this.checkOut(member)
    if (metrics !== undefined) this.waitTime.updateUnsafe(0, metrics)
  }

  private takeIdle(): Member | undefined {
    for (;;) {
      const member = this.idle.pop()
      if (member === undefined) return undefined
      if (member.session.closed || member.generation !== this.generation) {
        this.closeMember(member)
        continue
      }
      this.checkOut(member)
      return member
    }
  }

  private checkOut(member: Member): void {
    member.state = "busy"
    member.noticeMark = member.session.noticeListeners.size
    member.notificationMark = member.session.notificationListeners.size
    this.checkedOut++
  }

  private withinDeadline<A, E>(
    effect: Effect.Effect<A, E>,
    deadline: Deadline | undefined,
  ): Effect.Effect<A, E | PgTimeoutError> {
    if (deadline === undefined) return effect
    const timeoutMs = deadline.ms
    return Effect.timeoutOrElse(effect, {
      duration: Math.max(0, deadline.at - this.clock.currentTimeMillisUnsafe()),
      orElse: () =>
        Effect.fail(
          new PgTimeoutError({
            message: `acquiring a connection from the pool timed out after ${timeoutMs} ms (no query was sent: safe to retry)`,
            timeoutMs,
            sent: false,
          }),
        ),
    })
  }

  /**
   * Opens a connection in the slot the caller reserved (`pending` already counts it). `failed`:
   * the connect attempts this acquire has already seen fail (transiently); `retry: false` for a
   * warm-up connection, which does not wait again.
   */
  openMember(
    restore: Restore,
    deadline: Deadline | undefined,
    failed: Attempts | undefined,
    retry = true,
  ): Effect.Effect<Member, PgPoolError> {
    const box: { conn: ConnectionCore | undefined } = { conn: undefined }
    const generation = this.generation
    return Effect.flatMap(
      Effect.exit(restore(this.withinDeadline(this.establish(Redacted.value(this.connectOptions), box), deadline))),
      (exit) => {
        this.pending--
        const conn = box.conn
        if (Exit.isFailure(exit)) {
          conn?.session.terminate()
          const attempts = (failed?.count ?? 0) + 1
          const error = causeOf(exit.cause)
          if (retry && this.retries(error)) {
            this.holdOff()
            // A connection released meanwhile serves at once; else wait again, at the head.
            const member = this.takeIdle()
            return member !== undefined
              ? Effect.succeed(member)
              : this.wait(restore, deadline, { count: attempts, error })
          }
          this.onSlotFreed()
          if (failed !== undefined && error instanceof PgTimeoutError)
            return Effect.fail(retriesTimedOut(error, failed))
          return exit.cause.reasons.length === 1 && isConnectError(error)
            ? Effect.fail(withConnectAttempts(error, attempts))
            : Effect.failCause(exit.cause)
        }
        if (conn === undefined) {
          this.onSlotFreed()
          return Effect.fail(this.closedError())
        }
        this.backoffMs = 0
        if (this.closing) {
          conn.session.terminate()
          this.notifyDrain()
          return Effect.fail(this.closedError())
        }
        const member = new Member(conn, generation)
        this.members.add(member)
        conn.session.closeListeners.add(() => this.onMemberClosed(member))
        this.checkOut(member)
        return Effect.succeed(member)
      },
    )
  }

  /** Connect with the factory and run `init`; the connection lands in `box` once it is ready. */
  private establish(
    options: PgConnectionOptions,
    box: { conn: ConnectionCore | undefined },
  ): Effect.Effect<void, PgPoolError> {
    const { init, connect, hookError } = this.settings
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(restore(connect(options)), (handle): Effect.Effect<void, PgPoolError> => {
        // the pool owns the connection: it keeps the object behind a debug mode view
        unwatchLeak(handle)
        const conn = connectionBehind(handle)
        if (conn === undefined) {
          return Effect.andThen(
            handle.close(),
            Effect.fail(
              new PgInterfaceError({
                message: "the pool's connect function must return a connection made by PgConnection.connect",
              }),
            ),
          )
        }
        if (init === undefined) {
          box.conn = conn
          return Effect.void
        }
        return Effect.flatMap(Effect.exit(restore(Effect.suspend(() => init(conn)))), (exit) => {
          if (Exit.isFailure(exit)) {
            conn.session.terminate()
            return Cause.hasInterruptsOnly(exit.cause)
              ? Effect.interrupt
              : Effect.fail(hookError("init", causeOf(exit.cause)))
          }
          // What init changed in the session (SET, temporary tables, ...) is not for the borrowers.
          sendReset(conn, this.settings.sessionReset)
          box.conn = conn
          return Effect.void
        })
      }),
    )
  }

  /**
   * Whether a failed connect attempt is retried rather than failing its caller: the failure may
   * pass by itself (`PgError.isTransient`: the server full or starting up, a refused or reset
   * connection; not the acquire timeout) and the pool reaches the server otherwise (another
   * connection is open or being opened), so the caller can be served while it waits. A pool
   * with nothing open fails at once: the server is down or unreachable, and callers should know.
   */
  private retries(error: unknown): boolean {
    return (
      !this.closing && isTransient(error) && !(error instanceof PgTimeoutError) && this.members.size + this.pending > 0
    )
  }

  /**
   * A connect attempt was refused for a reason that passes: until a backoff has elapsed the pool
   * opens no more connections than it has open or opening now (its ceiling), so a full server is
   * not hammered by every waiter in turn; then the ceiling is lifted and the head waiter tries
   * again (one probe). Refusals while the ceiling holds lower it but do not extend the backoff;
   * a refused probe doubles it (from 50 ms up to 2 s, jittered by up to half); a connection
   * opened successfully resets it.
   */
  private holdOff(): void {
    this.ceiling = this.size
    if (this.holdTimer !== undefined) return
    this.backoffMs = nextBackoffMs(this.backoffMs)
    const timer = setTimeout(() => {
      this.holdTimer = undefined
      this.ceiling = undefined
      this.onSlotFreed()
    }, jittered(this.backoffMs))
    timer.unref?.()
    this.holdTimer = timer
  }

  private wait(
    restore: Restore,
    deadline: Deadline | undefined,
    failed?: Attempts,
  ): Effect.Effect<Member, PgPoolError> {
    const waiter: Waiter = { grant: undefined, resume: undefined, cancelled: false }
    if (failed === undefined) this.waiters.push(waiter)
    else if (this.head > 0) this.waiters[--this.head] = waiter
    else this.waiters.unshift(waiter)
    this.waiting++
    const sleep = Effect.callback<Grant>((resume) => {
      if (waiter.grant !== undefined) resume(Effect.succeed(waiter.grant))
      else waiter.resume = (grant) => resume(Effect.succeed(grant))
    })
    return Effect.flatMap(Effect.exit(restore(this.withinDeadline(sleep, deadline))), (exit) => {
      const grant = waiter.grant
      waiter.resume = undefined
      if (Exit.isFailure(exit)) {
        if (grant === undefined) {
          waiter.cancelled = true
          this.waiting--
        } else this.giveBack(grant)
        const error = causeOf(exit.cause)
        return failed !== undefined && error instanceof PgTimeoutError
          ? Effect.fail(retriesTimedOut(error, failed))
          : Effect.failCause(exit.cause)
      }
      switch (exit.value._tag) {
        case "member":
          return Effect.succeed(exit.value.member)
        case "permit":
          return this.openMember(restore, deadline, failed)
        case "fail":
          return Effect.fail(exit.value.error)
      }
    })
  }

  /** Opens one connection into the idle stack (used for `min` at start), if there is room. */
  warm(restore: Restore): Effect.Effect<void, PgPoolError> {
    return Effect.suspend(() => {
      if (this.closing) return Effect.fail(this.closedError())
      if (this.size >= this.settings.max) return Effect.void
      this.pending++
      return Effect.matchEffect(this.openMember(restore, undefined, undefined, false), {
        onSuccess: (member) => Effect.sync(() => void this.checkIn(member)),
        // A refusal that passes while other connections opened: the pool starts below `min` and
        // opens the rest on demand.
        onFailure: (error) => (this.retries(error) ? Effect.sync(() => this.holdOff()) : Effect.fail(error)),
      })
    })
  }

  /** Returns what a waiter was handed but will not use. */
  private giveBack(grant: Grant): void {
    if (grant._tag === "member") this.checkIn(grant.member)
    else if (grant._tag === "permit") {
      this.pending--
      this.onSlotFreed()
    }
  }

  private nextWaiter(): Waiter | undefined {
    while (this.head < this.waiters.length) {
      const waiter = this.waiters[this.head]
      this.waiters[this.head] = undefined
      this.head++
      if (this.head > 1024 && this.head * 2 > this.waiters.length) {
        this.waiters = this.waiters.slice(this.head)
        this.head = 0
      }
      if (waiter !== undefined && !waiter.cancelled) {
        this.waiting--
        return waiter
      }
    }
    return undefined
  }

  private handOver(waiter: Waiter, grant: Grant): void {
    waiter.grant = grant
    waiter.resume?.(grant)
  }

  // ---------------------------------------------------------------------------------------------
  // release

  /** A guarded handle for one checkout, invalidated when the checkout ends. */
  lease(member: Member): { readonly lease: Lease; readonly handle: PgConnection } {
    const lease = new Lease("the connection has been released back to the pool", this)
    const handle = guard<PgConnection>(member.conn, lease)
    const debug = member.session.debug
    if (debug !== undefined)
      watchLeak(handle, `pool checkout of pgfx[${debug.id}]`, () => !lease.revoked, debug.settings)
    return { lease, handle }
  }

  /** Ends a checkout when run (see {@link releaseNow}). */
  release(member: Member, lease: Lease | undefined): Effect.Effect<void> {
    return Effect.suspend(() => this.releaseNow(member, lease))
  }

  /**
   * Ends a checkout now: revokes its handle, writes the reset (internal/pool/Reset.ts, not waited for)
   * and returns the connection to the pool (or closes it); the Effect it returns is what must
   * still be waited for: removing listeners registered through the connection, a custom `reset`
   * hook. Never fails.
   */
  releaseNow(member: Member, lease: Lease | undefined): Effect.Effect<void> {
    lease?.revoke()
    if (member.session.abandoned > 0 && !member.session.closed && member.state !== "closed") {
      return this.afterAbandoned(member)
    }
    if (member.state === "closed" || member.session.closed) {
      this.dropBusy(member)
      return Effect.void
    }
    abandonLevels(member.conn)
    // Listeners, streams and loggers registered through the connection's API (asyncpg removes
    // them on release with an InterfaceWarning): removed first, UNLISTEN included.
    if (member.conn.hasRegistrations) {
      return Effect.flatMap(Effect.exit(member.conn.releaseListeners()), (exit) => {
        if (Exit.isFailure(exit) || member.session.closed) {
          this.dropBusy(member)
          return Effect.void
        }
        return this.releaseClean(member)
      })
    }
    return this.releaseClean(member)
  }

  /**
   * A borrower left requests it abandoned (interrupted while pipelined) unanswered: the
   * connection goes back once their replies have come, or is closed when they have not within the
   * grace (`cancelTimeout`; a stalled server), so the next borrower never queues behind them.
   */
  private afterAbandoned(member: Member): Effect.Effect<void> {
    const session = member.session
    const graceMs = member.conn.cancelContext.graceMs
    return Effect.andThen(
      Effect.callback<void>((resume) => {
        let timer: ReturnType<typeof setTimeout> | undefined = undefined
        const check = () => {
          if (!session.closed && session.abandoned > 0) return
          session.advanceListeners.delete(check)
          if (timer !== undefined) clearTimeout(timer)
          resume(Effect.void)
        }
        session.advanceListeners.add(check)
        timer = setTimeout(() => {
          timer = undefined
          session.destroy(
            new PgConnectionError({
              reason: "Closed",
              message: `the connection was closed because an abandoned request did not end within ${graceMs} ms (cancelTimeout)`,
            }),
          )
          check()
        }, graceMs)
        check()
      }),
      Effect.suspend(() => this.releaseNow(member, undefined)),
    )
  }

  private releaseClean(member: Member): Effect.Effect<void> {
    const custom = this.settings.reset
    if (custom === undefined) return this.resetThenCheckIn(member)
    const lease = new Lease("the reset hook has finished", this)
    const timeoutMs = this.settings.releaseTimeoutMs
    return Effect.ensuring(
      Effect.suspend(() => custom(guard<PgConnection>(member.conn, lease))),
      Effect.sync(() => lease.revoke()),
    ).pipe(
      Effect.timeoutOrElse({
        duration: timeoutMs,
        orElse: () => Effect.fail(new PgTimeoutError({ message: "the pool's reset hook timed out", timeoutMs })),
      }),
      Effect.exit,
      Effect.flatMap((exit) => {
        if (Exit.isSuccess(exit) && !member.session.closed) return this.resetThenCheckIn(member)
        this.dropBusy(member)
        return Exit.isFailure(exit)
          ? Effect.logWarning("pgfx pool: the reset hook failed on a released connection; it was closed", exit.cause)
          : Effect.void
      }),
    )
  }

  /** The pool's own reset, written without waiting, then the connection goes back. */
  private resetThenCheckIn(member: Member): Effect.Effect<void> {
    sendReset(member.conn, this.settings.sessionReset)
    return warnListeners(this.checkIn(member))
  }

  /** A busy member that is closed (or must be) leaves the pool; its slot is freed. */
  private dropBusy(member: Member): void {
    this.checkedOut--
    if (member.state !== "closed") {
      this.closeMember(member)
      this.onSlotFreed()
    }
    this.notifyDrain()
  }

  /**
   * A busy, healthy, reset member comes back: to the head waiter, the idle stack, or closed.
   * Returns how many listeners the checkout left behind (they were removed).
   */
  private checkIn(member: Member): number {
    this.checkedOut--
    const leftover = this.detachListeners(member)
    if (this.closing) {
      this.closeMember(member)
      this.notifyDrain()
    } else if (member.generation !== this.generation || member.session.commandCount >= this.settings.maxQueries) {
      this.closeMember(member)
      this.onSlotFreed()
    } else {
      const waiter = this.nextWaiter()
      if (waiter !== undefined) {
        this.checkOut(member)
        this.handOver(waiter, { _tag: "member", member })
      } else {
        member.state = "idle"
        member.idleSince = this.clock.currentTimeMillisUnsafe()
        this.idle.push(member)
      }
    }
    return leftover
  }

  /**
   * Removes the notice and notification listeners added during the checkout (asyncpg removes
   * them on release and warns). Seam for the notifications module (issue 7), which may replace
   * this with its own primitive.
   */
  private detachListeners(member: Member): number {
    const session = member.session
    const extra =
      Math.max(0, session.noticeListeners.size - member.noticeMark) +
      Math.max(0, session.notificationListeners.size - member.notificationMark)
    if (extra === 0) return 0
    const dropAfter = <T>(set: Set<T>, keep: number) => {
      let i = 0
      for (const item of [...set]) if (i++ >= keep) set.delete(item)
    }
    dropAfter(session.noticeListeners, member.noticeMark)
    dropAfter(session.notificationListeners, member.notificationMark)
    return extra
  }

  /** A slot became free: the head waiter may open a connection in it (unless the ceiling holds). */
  private onSlotFreed(): void {
    if (this.closing) {
      this.notifyDrain()
      return
    }
    if (!this.hasRoom()) return
    const waiter = this.nextWaiter()
    if (waiter !== undefined) {
      this.pending++
      this.handOver(waiter, permit)
    }
  }

  /** Closes a member we no longer want (Terminate is sent; the socket closes when flushed). */
  closeMember(member: Member): void {
    if (member.state === "closed") return
    if (member.state === "idle") {
      const at = this.idle.indexOf(member)
      if (at >= 0) this.idle.splice(at, 1)
    }
    member.state = "closed"
    this.members.delete(member)
    member.session.terminate()
  }

  /** The server (or the network) closed a member's connection. */
  private onMemberClosed(member: Member): void {
    if (member.state === "closed") return
    this.closeMember(member)
    this.onSlotFreed()
  }

  // ---------------------------------------------------------------------------------------------
  // maintenance

  /** Every current connection is replaced: idle ones now, checked-out ones when released. */
  expire(): void {
    this.generation++
    for (const member of [...this.idle]) {
      this.closeMember(member)
      this.onSlotFreed()
    }
  }

  /** Closes idle members idle for `maxInactiveLifetime`; returns ms until the next may expire. */
  sweep(): number {
    const ttl = this.settings.maxInactiveLifetimeMs
    if (this.closing) return ttl
    const now = this.clock.currentTimeMillisUnsafe()
    // The idle stack is ordered by idleSince: the oldest at the bottom.
    let expired = 0
    while (expired < this.idle.length && now - this.idle[expired]!.idleSince >= ttl) expired++
    for (const member of this.idle.splice(0, expired)) {
      member.state = "closed"
      this.members.delete(member)
      member.session.terminate()
    }
    const oldest = this.idle[0]
    return oldest === undefined ? ttl : Math.max(1, oldest.idleSince + ttl - now)
  }

  // ---------------------------------------------------------------------------------------------
  // close

  private beginClosing(): void {
    if (this.closing) return
    this.closing = true
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer)
    this.holdTimer = undefined
    const error = this.closedError()
    for (let waiter = this.nextWaiter(); waiter !== undefined; waiter = this.nextWaiter()) {
      this.handOver(waiter, { _tag: "fail", error })
    }
    for (const member of [...this.idle]) this.closeMember(member)
  }

  private notifyDrain(): void {
    if (!this.closing || this.checkedOut > 0 || this.pending > 0) return
    this.forceClosed()
  }

  /** Refuses new acquires, closes idle connections, waits for checked-out ones, closes them. */
  readonly close: Effect.Effect<void> = Effect.suspend(() => {
    this.beginClosing()
    this.notifyDrain()
    if (this.closed) return Effect.void
    return Effect.callback<void>((resume) => {
      if (this.closed) return resume(Effect.void)
      const done = () => resume(Effect.void)
      this.drainWaiters.push(done)
      return Effect.sync(() => {
        const at = this.drainWaiters.indexOf(done)
        if (at >= 0) this.drainWaiters.splice(at, 1)
      })
    })
  })

  /** Closes every connection now, checked out or not. */
  readonly terminate: Effect.Effect<void> = Effect.sync(() => {
    this.beginClosing()
    for (const member of [...this.members]) this.closeMember(member)
    this.forceClosed()
  })

  /** The pool is closed: its metrics are removed and whoever waits for the drain is woken. */
  private forceClosed(): void {
    this.closed = true
    for (const m of this.metrics) m.remove()
    this.metrics = []
    const waiters = this.drainWaiters
    this.drainWaiters = []
    for (const done of waiters) done()
  }

  // ---------------------------------------------------------------------------------------------
  // metrics

  registerMetrics(context: Context.Context<never>): void {
    const attributes = { pool: this.settings.name }
    const gauge = (name: string, description: string, get: () => number) =>
      Metric.registerUnsafe(Metric.gauge(name, { description, attributes }), context, {
        get: () => ({ value: get() }),
        update: () => {},
        modify: () => {},
      })
    this.metrics = [
      gauge("pgfx_pool_size", "connections open or being opened", () => this.size),
      gauge("pgfx_pool_idle", "connections waiting in the pool", () => this.idle.length),
      gauge("pgfx_pool_in_use", "connections checked out", () => this.checkedOut),
      gauge("pgfx_pool_waiting", "acquires waiting for a connection", () => this.waiting),
      gauge("pgfx_pool_min", "configured minimum size", () => this.settings.min),
      gauge("pgfx_pool_max", "configured maximum size", () => this.settings.max),
    ]
  }
}

/**
 * A transaction level still open at release (a manual or scoped transaction never finished) would
 * keep owning the connection's gate, so the reset and every later checkout would wait for it:
 * its levels end here (the reset rolls the server's transaction back).
 */
const abandonLevels = (conn: ConnectionCore): void => {
  const gate = conn.gate
  if (gate.owner === undefined) return
  for (let level: Level | undefined = gate.owner; level !== undefined; level = level.parent) {
    level.state = "rolledBack"
  }
  gate.setOwner(undefined)
}

const warnListeners = (leftover: number): Effect.Effect<void> =>
  leftover === 0
    ? Effect.void
    : Effect.logWarning(
        `pgfx pool: a connection was released with ${leftover} listener(s) still registered; they were removed`,
      )

/** The error of a cause with exactly one failure, else the whole cause. */
export const causeOf = (cause: Cause.Cause<unknown>): unknown => {
  const reasons = cause.reasons
  const first = reasons[0]
  if (reasons.length === 1 && first !== undefined && first._tag === "Fail") return first.error
  return cause
}
