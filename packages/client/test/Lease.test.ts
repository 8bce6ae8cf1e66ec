/**
 * Guarded views: forwarding while the lease holds, typed failures after it is revoked (method
 * calls, Effects obtained earlier, Streams, plain properties), transitive guarding of results
 * marked `Guarded`, and unwrapping.
 */
import { Guarded, guard, Lease, leaseOf, StreamMembers, unguard, usable } from "@pgfx/client/internal/pool/Lease"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Option, Stream } from "effect"

class Statement {
  readonly [Guarded] = true
  run(): Effect.Effect<string> {
    return Effect.succeed("ran")
  }
}

class Resource {
  get [StreamMembers](): ReadonlySet<string> {
    return new Set(["rows"])
  }
  calls: Array<string> = []
  readonly id = 7
  get isClosed(): boolean {
    return false
  }
  query(sql: string): Effect.Effect<number> {
    this.calls.push(sql)
    return Effect.succeed(sql.length)
  }
  prepare(): Effect.Effect<Statement> {
    return Effect.succeed(new Statement())
  }
  rows(): Stream.Stream<number> {
    return Stream.make(1, 2, 3)
  }
  readonly close: Effect.Effect<string> = Effect.succeed("closed")
}

const errorOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  return Option.getOrThrow(Cause.findErrorOption(exit.cause))
}

describe("guard", () => {
  it.effect("forwards while the lease holds and fails typed once revoked", () =>
    Effect.gen(function* () {
      const lease = new Lease("it was given back", "owner")
      const target = new Resource()
      const view = guard(target, lease)
      expect(yield* view.query("abc")).toBe(3)
      expect(target.calls).toEqual(["abc"])
      expect(view.id).toBe(7)
      expect(view.isClosed).toBe(false)
      expect(yield* view.close).toBe("closed")
      expect(yield* Stream.runCollect(view.rows())).toEqual([1, 2, 3])
      const early = view.query("later")
      const earlyStream = view.rows()

      lease.revoke()
      for (const effect of [view.query("x"), view.close, early, Stream.runCollect(earlyStream)]) {
        const error = errorOf(yield* Effect.exit(effect as Effect.Effect<unknown, unknown>))
        expect(error).toMatchObject({ _tag: "PgInterfaceError" })
        expect((error as { message: string }).message).toContain("it was given back")
      }
      // "later" was called before the revoke (its Effect never ran); "x" never reached the target.
      expect(target.calls).toEqual(["abc", "later"])
      expect(view.isClosed).toBe(true)
      expect(() => view.id).toThrow(/it was given back/)
    }),
  )

  it.effect("results marked Guarded share the lease", () =>
    Effect.gen(function* () {
      const lease = new Lease("released", undefined)
      const view = guard(new Resource(), lease)
      const statement = yield* view.prepare()
      expect(yield* statement.run()).toBe("ran")
      lease.revoke()
      expect(errorOf(yield* Effect.exit(statement.run()))).toMatchObject({ _tag: "PgInterfaceError" })
    }),
  )

  it.effect("a revoked view's Stream methods return failing Streams; usable refuses the view", () =>
    Effect.gen(function* () {
      const lease = new Lease("it was given back", undefined)
      const view = guard(new Resource(), lease)
      expect(yield* usable(view, "copy")).toBe(view)
      lease.revoke()
      const rows = view.rows()
      expect(Stream.isStream(rows)).toBe(true)
      expect(errorOf(yield* Effect.exit(Stream.runCollect(rows)))).toMatchObject({ _tag: "PgInterfaceError" })
      expect(Effect.isEffect(view.query("x"))).toBe(true)
      const refused = errorOf(yield* Effect.exit(usable(view, "copy")))
      expect(refused.message).toBe("cannot use copy: it was given back")
      expect(yield* usable("not a view", "copy")).toBe("not a view")
    }),
  )

  it("unguard and leaseOf see through a view", () => {
    const lease = new Lease("released", "pool-a")
    const target = new Resource()
    const view = guard(target, lease)
    expect(unguard(view)).toBe(target)
    expect(unguard(target)).toBe(target)
    expect(leaseOf(view)).toBe(lease)
    expect(leaseOf(target)).toBeUndefined()
    expect(view instanceof Resource).toBe(true)
  })
})
