/**
 * PgListener: one dedicated connection for every channel, which reconnects after it is killed
 * (pg_terminate_backend), LISTENs every channel again and marks the gap in each stream.
 */
import * as PgListener from "@pgfx/client/PgListener"
import type * as PgConnection from "@pgfx/client/PgConnection"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option, Queue, Schedule, Stream } from "effect"
import { authUser, testCluster } from "./support/cluster.ts"
import { connect, tcpOptions, withAdmin } from "./support/connect.ts"
import { failureOf } from "./support/failure.ts"
import { waitUntil } from "./support/wait.ts"

const within = <A, E>(effect: Effect.Effect<A, E>, what: string) =>
  effect.pipe(
    Effect.timeoutOrElse({
      duration: "20 seconds",
      orElse: () => Effect.die(new Error(`timed out waiting for ${what}`)),
    }),
  )

/** Runs `stream` into a queue, so a test can take its elements one by one. */
const drain = <A, E>(stream: Stream.Stream<A, E>) =>
  Effect.gen(function* () {
    const queue = yield* Queue.unbounded<A>()
    const fiber = yield* stream.pipe(
      Stream.runForEach((a) => Queue.offer(queue, a)),
      Effect.forkScoped,
    )
    return { next: within(Queue.take(queue), "the next element"), fiber }
  })

const backends = (admin: PgConnection.PgConnection, applicationName: string) =>
  Effect.map(admin.fetch("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [applicationName]), (rows) =>
    rows.map((r) => r.pid as number),
  )

describe("PgListener", () => {
  it.live("two channels share one dedicated connection", () =>
    Effect.gen(function* () {
      const applicationName = "pgfx-listener-shared"
      const listener = yield* PgListener.make(tcpOptions({ applicationName }), { healthCheckInterval: "50 millis" })
      expect(listener.serverPid).toBeUndefined() // nothing is opened before the first subscription
      const a = yield* drain(yield* listener.subscribe("listener_a"))
      const b = yield* drain(yield* listener.subscribe("listener_b"))
      const a2 = yield* drain(yield* listener.subscribe("listener_a"))
      expect([...listener.channels].sort()).toEqual(["listener_a", "listener_b"])
      const pid = listener.serverPid
      yield* Effect.sleep("300 millis") // a few health checks
      expect(listener.serverPid).toBe(pid)
      const sender = yield* connect()
      yield* sender.notify("listener_a", "to a")
      yield* sender.notify("listener_b", "to b")
      const fromA = yield* a.next
      const fromB = yield* b.next
      const fromA2 = yield* a2.next
      expect(
        [fromA, fromB, fromA2].map((e) => (e._tag === "PgNotification" ? [e.channel, e.payload] : e._tag)),
      ).toEqual([
        ["listener_a", "to a"],
        ["listener_b", "to b"],
        ["listener_a", "to a"],
      ])
      const pids = yield* withAdmin((admin) => backends(admin, applicationName))
      expect(pids).toEqual([listener.serverPid])
    }),
  )

  it.live("after pg_terminate_backend it reconnects, re-LISTENs, marks the gap, and the stream goes on", () =>
    Effect.gen(function* () {
      const listener = yield* PgListener.make(tcpOptions({ applicationName: "pgfx-listener-kill" }))
      const events = yield* drain(yield* listener.subscribe("survivor"))
      const other = yield* drain(yield* listener.subscribe("survivor_two"))
      const sender = yield* connect()
      yield* sender.notify("survivor", "before")
      const before = yield* events.next
      expect(before._tag === "PgNotification" && before.payload).toBe("before")

      const firstPid = listener.serverPid!
      yield* withAdmin((admin) =>
        Effect.map(admin.fetchVal("SELECT pg_terminate_backend($1)", [firstPid]), Option.getOrThrow),
      )
      const marker = yield* events.next
      expect(marker._tag).toBe("Reconnected")
      if (marker._tag === "Reconnected") {
        expect(marker.channel).toBe("survivor")
        expect(marker.cause._tag).toBe("PgConnectionError")
        expect(marker.cause.message).toContain("57P01")
      }
      expect((yield* other.next)._tag).toBe("Reconnected")
      const secondPid = listener.serverPid
      expect(secondPid).toBeDefined()
      expect(secondPid).not.toBe(firstPid)

      yield* sender.notify("survivor", "after")
      yield* sender.notify("survivor_two", "after two")
      const after = yield* events.next
      expect(after._tag === "PgNotification" && after.payload).toBe("after")
      const afterTwo = yield* other.next
      expect(afterTwo._tag === "PgNotification" && afterTwo.payload).toBe("after two")
    }),
  )

  it.live("a failed health check (the backend stops answering) makes it reconnect", () =>
    Effect.gen(function* () {
      if (testCluster().kind !== "temp") {
        throw new Error("this test freezes the listener's backend with SIGSTOP: it needs the local temp cluster")
      }
      const listener = yield* PgListener.make(tcpOptions({ applicationName: "pgfx-listener-frozen" }), {
        healthCheckInterval: "100 millis",
        healthCheckTimeout: "500 millis",
      })
      const events = yield* drain(yield* listener.subscribe("frozen"))
      const frozenPid = listener.serverPid!
      yield* Effect.acquireRelease(
        Effect.sync(() => process.kill(frozenPid, "SIGSTOP")),
        () => Effect.sync(() => process.kill(frozenPid, "SIGCONT")),
      )
      const marker = yield* events.next
      expect(marker._tag).toBe("Reconnected")
      expect(listener.serverPid).not.toBe(frozenPid)
      const sender = yield* connect()
      yield* sender.notify("frozen", "thawed")
      const got = yield* events.next
      expect(got._tag === "PgNotification" && got.payload).toBe("thawed")
    }),
  )

  it.live("retries transient failures; a subscription made while disconnected waits and gets no marker", () =>
    Effect.gen(function* () {
      // a role we can lock out with a transient error: too_many_connections (53300)
      const role = "pgfx_listener_limited"
      yield* withAdmin((admin) =>
        admin.execute(`DO $$ BEGIN CREATE ROLE ${role} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`),
      )
      const listener = yield* PgListener.make(tcpOptions({ user: role, applicationName: "pgfx-listener-late" }), {
        reconnectSchedule: Schedule.spaced("100 millis"),
      })
      const first = yield* drain(yield* listener.subscribe("late_first"))
      const firstPid = listener.serverPid
      yield* withAdmin((admin) =>
        Effect.andThen(
          admin.execute(`ALTER ROLE ${role} CONNECTION LIMIT 0`),
          Effect.map(admin.fetchVal("SELECT pg_terminate_backend($1)", [firstPid]), Option.getOrThrow),
        ),
      )
      yield* within(
        Effect.gen(function* () {
          while (listener.serverPid !== undefined) yield* Effect.sleep("10 millis")
        }),
        "the listener to notice the drop",
      )
      const lateFiber = yield* Effect.forkScoped(listener.subscribe("late_second"))
      yield* Effect.sleep("500 millis") // several failed attempts
      expect(lateFiber.pollUnsafe()).toBeUndefined()
      yield* withAdmin((admin) => admin.execute(`ALTER ROLE ${role} CONNECTION LIMIT -1`))
      const late = yield* drain(yield* within(Fiber.join(lateFiber), "the late subscription"))
      expect(listener.serverPid).toBeDefined()
      expect(listener.serverPid).not.toBe(firstPid)
      expect((yield* first.next)._tag).toBe("Reconnected")
      const sender = yield* connect()
      yield* sender.notify("late_second", "hello")
      const got = yield* late.next
      expect(got._tag === "PgNotification" && got.payload).toBe("hello")
    }),
  )

  it.live("closing a stream's scope UNLISTENs its channel; closing the listener ends every stream", () =>
    Effect.gen(function* () {
      const applicationName = "pgfx-listener-close"
      const outcome = yield* Effect.scoped(
        Effect.gen(function* () {
          const listener = yield* PgListener.make(tcpOptions({ applicationName }))
          const kept = yield* listener.subscribe("kept")
          yield* Effect.scoped(listener.subscribe("dropped"))
          expect(listener.channels).toEqual(["kept"])
          return yield* Effect.forkDetach(Stream.runCollect(kept))
        }),
      )
      const exit = yield* within(Fiber.await(outcome), "the stream to end")
      expect(Exit.isSuccess(exit)).toBe(true)
      yield* withAdmin((admin) =>
        waitUntil(
          "the listener's connection is gone",
          Effect.map(backends(admin, applicationName), (pids) => pids.length === 0),
        ),
      )
    }),
  )

  it.live("a non-transient failure (wrong password) fails the subscription instead of retrying", () =>
    Effect.gen(function* () {
      const scram = authUser("scram")
      const listener = yield* PgListener.make(tcpOptions({ user: scram.name, password: "wrong" }))
      const error = failureOf(yield* Effect.exit(within(Effect.scoped(listener.subscribe("never")), "the failure")))
      expect(error._tag).toBe("PgServerError")
      if (error._tag === "PgServerError") expect(error.code).toBe("28P01")
      // and the listener stays failed
      expect(failureOf(yield* Effect.exit(Effect.scoped(listener.subscribe("never"))))._tag).toBe("PgServerError")
    }),
  )

  it.live("invalid channel names and settings are refused", () =>
    Effect.gen(function* () {
      const listener = yield* PgListener.make(tcpOptions())
      expect(failureOf(yield* Effect.exit(Effect.scoped(listener.subscribe(""))))._tag).toBe("PgInterfaceError")
      expect(
        failureOf(yield* Effect.exit(Effect.scoped(listener.subscribe("x", { strategy: "nope" as "sliding" }))))._tag,
      ).toBe("PgInterfaceError")
      const badConfig = yield* Effect.exit(Effect.scoped(PgListener.make({ url: "mysql://nope" })))
      expect(failureOf(badConfig)._tag).toBe("PgConfigError")
    }),
  )
})
