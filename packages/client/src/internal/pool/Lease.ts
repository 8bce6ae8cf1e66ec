/**
 * Leases: a guarded view of an object (a pooled connection, or a prepared statement or cursor made
 * on it) that stops working once its lease is revoked.
 *
 * `guard(target, lease)` returns a Proxy that forwards every member to `target` while the lease
 * holds. After `lease.revoke()`:
 *
 * - a method call, or running an Effect or Stream obtained from the view (even one obtained
 *   before the revoke), fails with `PgInterfaceError` — a typed failure, asyncpg's InterfaceError.
 *   A method returns a failing Stream when the target lists it in {@link StreamMembers}, else a
 *   failing Effect; the target is never called;
 * - `isClosed` reads `true`; reading any other property (or calling a synchronous method such
 *   as a statement's `getQuery`) throws the same `PgInterfaceError`, as asyncpg raises it.
 *
 * Code that takes a handle and reaches into the object behind it checks {@link usable} first, so
 * a released handle is a typed failure there too, never a thrown exception or a defect.
 *
 * Results are guarded transitively: when an Effect obtained from a guarded view succeeds with an
 * object that carries the {@link Guarded} marker (a prepared statement, a cursor), the caller gets
 * a guarded view of it under the same lease. A module that returns such objects only has to add
 * `readonly [Guarded] = true` to their class.
 *
 * The proxy forwards members it does not know about, so methods added to `PgConnection` later
 * are guarded without changes here.
 *
 * @internal
 */
import { Effect, Stream } from "effect"
import { PgInterfaceError } from "../../PgError.ts"

/** Marks objects whose methods must stop working with the lease of the view they came from. */
export const Guarded: unique symbol = Symbol.for("@pgfx/client/Lease/Guarded")

/**
 * The members of a guarded object whose methods return Streams (a revoked view returns a failing
 * Stream for them). test/released-handle.test.ts checks the lists against the public interfaces.
 */
export const StreamMembers: unique symbol = Symbol.for("@pgfx/client/Lease/StreamMembers")

const TargetKey: unique symbol = Symbol.for("@pgfx/client/Lease/target")
const LeaseKey: unique symbol = Symbol.for("@pgfx/client/Lease/lease")

/** The right to use a guarded view; revoked once, for good. */
export class Lease {
  revoked = false
  /** Why the view no longer works, completing "cannot use X: ..." */
  readonly reason: string
  /** Who issued the lease (e.g. the pool), for ownership checks. */
  readonly owner: unknown

  constructor(reason: string, owner: unknown) {
    this.reason = reason
    this.owner = owner
  }

  revoke(): void {
    this.revoked = true
  }

  error(member: string | symbol): PgInterfaceError {
    return new PgInterfaceError({ message: `cannot use ${String(member)}: ${this.reason}` })
  }
}

const isGuardable = (value: unknown): value is object =>
  typeof value === "object" && value !== null && (value as { [Guarded]?: unknown })[Guarded] === true

/** Wraps what a forwarded member produced so that it, too, honours the lease. */
const guardResult = (value: unknown, lease: Lease, member: string | symbol): unknown => {
  if (Effect.isEffect(value)) {
    const effect = value as Effect.Effect<unknown, unknown, unknown>
    return Effect.suspend(() =>
      lease.revoked
        ? Effect.fail(lease.error(member))
        : Effect.map(effect, (a) => (isGuardable(a) ? guard(a, lease) : a)),
    )
  }
  if (Stream.isStream(value)) {
    const stream = value as Stream.Stream<unknown, unknown, unknown>
    return Stream.suspend(() => (lease.revoked ? Stream.fail(lease.error(member)) : stream))
  }
  return value
}

/**
 * A view of `target` that works while `lease` holds (see the module comment). Methods are called
 * with `target` as `this`.
 */
export const guard = <T extends object>(target: T, lease: Lease): T => {
  const methods = new Map<string | symbol, unknown>()
  return new Proxy(target, {
    get(obj, key) {
      if (key === TargetKey) return obj
      if (key === LeaseKey) return lease
      if (lease.revoked) {
        if (key === "isClosed") return true
        const current: unknown = Reflect.get(obj, key, obj)
        if (typeof current === "function") {
          const streams = (obj as { [StreamMembers]?: ReadonlySet<string | symbol> })[StreamMembers]
          return streams?.has(key) === true ? () => Stream.fail(lease.error(key)) : () => Effect.fail(lease.error(key))
        }
        if (Effect.isEffect(current)) return Effect.fail(lease.error(key))
        throw lease.error(key)
      }
      const value: unknown = Reflect.get(obj, key, obj)
      if (typeof value === "function") {
        let wrapped = methods.get(key)
        if (wrapped === undefined) {
          const fn = value as (...args: Array<unknown>) => unknown
          wrapped = (...args: Array<unknown>) => {
            if (lease.revoked) return Effect.fail(lease.error(key))
            return guardResult(fn.apply(obj, args), lease, key)
          }
          methods.set(key, wrapped)
        }
        return wrapped
      }
      return guardResult(value, lease, key)
    },
  })
}

/** The lease behind a guarded view, if `value` is one. */
export const leaseOf = (value: unknown): Lease | undefined =>
  typeof value === "object" && value !== null ? (value as { [LeaseKey]?: Lease })[LeaseKey] : undefined

/** The object behind a guarded view (or `value` itself when it is not a view). */
export const unguard = <T>(value: T): T =>
  typeof value === "object" && value !== null ? ((value as { [TargetKey]?: T })[TargetKey] ?? value) : value

/**
 * `value` when it is usable: a released view (or anything else whose lease was revoked) fails
 * with its `PgInterfaceError` naming `member`, before anything reads the object behind it.
 */
export const usable = <T>(value: T, member: string): Effect.Effect<T, PgInterfaceError> => {
  const lease = leaseOf(value)
  return lease !== undefined && lease.revoked ? Effect.fail(lease.error(member)) : Effect.succeed(value)
}
