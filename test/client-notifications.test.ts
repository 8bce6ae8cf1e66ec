/**
 * Notifications on PgClient: every channel of a client shares ONE listener connection (a
 * PgListener created with the client, opened on the first subscription); after that connection is
 * killed it reconnects and each stream gets a Reconnected marker; `notify` goes through the pool
 * (and, inside a transaction, is delivered at commit).
 */
import * as PgClient from "@pgfx/client/PgClient"
import type * as PgConnection from "@pgfx/client/PgConnection"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, Queue, Stream } from "effect"
import { tcpOptions, withAdmin } from "./support/connect.ts"
import { failureOf } from "./support/pool.ts"

const within = <A, E, R>(effect: Effect.Effect<A, E, R>, what: string) =>
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
    yield* stream.pipe(
      Stream.runForEach((a) => Queue.offer(queue, a)),
      Effect.forkScoped,
    )
    return {
      next: within(Queue.take(queue), "the next element"),
      size: Queue.size(queue),
    }
  })

const backends = (admin: PgConnection.PgConnection, applicationName: string) =>
  Effect.map(admin.fetch("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [applicationName]), (rows) =>
    rows.map((r) => r.pid as number),
  )

const describeEvent = (e: { readonly _tag: string; readonly channel: string; readonly payload?: string }) =>
  e._tag === "PgNotification" ? [e.channel, e.payload] : [e.channel, e._tag]

describe("PgClient notifications", () => {
  it.live("two channels on one client share one listener backend", () =>
    Effect.gen(function* () {
      const applicationName = `pgfx-client-listen-${process.pid}`
      const client = yield* PgClient.PgClient
      expect(client.listener?.serverPid).toBeUndefined() // nothing is opened before a subscription
      const a = yield* drain(yield* PgClient.subscribe("client_a"))
      const b = yield* drain(yield* PgClient.subscribe("client_b"))
      const a2 = yield* drain(yield* PgClient.subscribe("client_a"))
      expect([...client.listener!.channels].sort()).toEqual(["client_a", "client_b"])
      const listenerPid = client.listener!.serverPid
      expect(listenerPid).toEqual(expect.any(Number))
      yield* PgClient.notify("client_a", "to a")
      yield* PgClient.notify("client_b", "to b")
      expect([yield* a.next, yield* b.next, yield* a2.next].map(describeEvent)).toEqual([
        ["client_a", "to a"],
        ["client_b", "to b"],
        ["client_a", "to a"],
      ])
      // Backends of this client: the pool's (one, min 0 and used serially) plus ONE listener.
      const pids = yield* withAdmin((admin) => backends(admin, applicationName))
      expect(pids.length).toBe(client.pool.stats.size + 1)
      expect(pids).toContain(listenerPid)
      // The listener is not a pooled connection.
      const poolPid = Option.getOrThrow(yield* PgClient.fetchVal("SELECT pg_backend_pid()"))
      expect(poolPid).not.toBe(listenerPid)
      // The stream form works on the same connection.
      const viaListen = yield* drain(client.listen("client_c"))
      // `listen` LISTENs once the stream runs: notify until it is heard.
      yield* within(
        Effect.gen(function* () {
          while ((yield* viaListen.size) === 0) {
            yield* PgClient.notify("client_c", "to c")
            yield* Effect.sleep("50 millis")
          }
        }),
        "client_c to be listened",
      )
      expect(describeEvent(yield* viaListen.next)).toEqual(["client_c", "to c"])
      expect(client.listener!.serverPid).toBe(listenerPid)
    }).pipe(
      Effect.provide(
        PgClient.layer({ ...tcpOptions({ applicationName: `pgfx-client-listen-${process.pid}` }), min: 0, max: 2 }),
      ),
    ),
  )

  it.live("after pg_terminate_backend of the listener: a Reconnected marker, then the stream goes on", () =>
    Effect.gen(function* () {
      const client = yield* PgClient.PgClient
      const events = yield* drain(yield* PgClient.subscribe("client_survivor"))
      const other = yield* drain(yield* PgClient.subscribe("client_survivor_two"))
      yield* PgClient.notify("client_survivor", "before")
      expect(describeEvent(yield* events.next)).toEqual(["client_survivor", "before"])

      const firstPid = client.listener!.serverPid!
      yield* withAdmin((admin) =>
        Effect.map(admin.fetchVal("SELECT pg_terminate_backend($1)", [firstPid]), Option.getOrThrow),
      )
      const marker = yield* events.next
      expect(marker._tag).toBe("Reconnected")
      if (marker._tag === "Reconnected") {
        expect(marker.channel).toBe("client_survivor")
        expect(marker.cause.message).toContain("57P01")
      }
      expect((yield* other.next)._tag).toBe("Reconnected")
      expect(client.listener!.serverPid).not.toBe(firstPid)

      yield* PgClient.notify("client_survivor", "after")
      yield* PgClient.notify("client_survivor_two", "after two")
      expect(describeEvent(yield* events.next)).toEqual(["client_survivor", "after"])
      expect(describeEvent(yield* other.next)).toEqual(["client_survivor_two", "after two"])
      // The pool was not disturbed.
      expect(Option.getOrThrow(yield* PgClient.fetchVal("SELECT 1"))).toBe(1)
    }).pipe(Effect.provide(PgClient.layer({ ...tcpOptions(), min: 1, max: 2 }))),
  )

  it.live("notify inside a client transaction is delivered at commit, and not at all on rollback", () =>
    Effect.gen(function* () {
      const events = yield* drain(yield* PgClient.subscribe("client_tx"))
      yield* PgClient.transaction(
        Effect.gen(function* () {
          yield* PgClient.notify("client_tx", "committed")
          yield* Effect.sleep("200 millis")
          expect(yield* events.size).toBe(0)
        }),
      )
      expect(describeEvent(yield* events.next)).toEqual(["client_tx", "committed"])
      const exit = yield* Effect.exit(
        PgClient.transaction(Effect.andThen(PgClient.notify("client_tx", "rolled back"), Effect.fail("no"))),
      )
      expect(failureOf(exit)).toBe("no")
      yield* PgClient.notify("client_tx", "later")
      expect(describeEvent(yield* events.next)).toEqual(["client_tx", "later"])
      // Channel names are quoted safely: any name works.
      const odd = yield* drain(yield* PgClient.subscribe('Odd "Channel"; DROP'))
      yield* PgClient.notify('Odd "Channel"; DROP', "x")
      expect(describeEvent(yield* odd.next)).toEqual(['Odd "Channel"; DROP', "x"])
      // An invalid name is a typed error.
      const bad = yield* Effect.exit(Effect.scoped(PgClient.subscribe("")))
      expect(failureOf(bad)).toMatchObject({ _tag: "PgInterfaceError" })
    }).pipe(Effect.provide(PgClient.layer({ ...tcpOptions(), min: 0, max: 2 }))),
  )

  it.live("closing the client ends its listener streams and closes the listener connection", () =>
    Effect.gen(function* () {
      const applicationName = `pgfx-client-listen-close-${process.pid}`
      const collected = yield* Effect.scoped(
        Effect.gen(function* () {
          const client = yield* PgClient.make({ ...tcpOptions({ applicationName }), min: 0, max: 1 })
          const stream = yield* client.subscribe("client_closing")
          let seen = 0
          // Read in a fiber that outlives the client's scope: it must end, not hang.
          const reader = yield* Effect.forkDetach(
            Stream.runCollect(
              Stream.tap(stream, () =>
                Effect.sync(() => {
                  seen++
                }),
              ),
            ),
          )
          yield* client.notify("client_closing", "one")
          yield* within(
            Effect.gen(function* () {
              while (seen === 0) yield* Effect.sleep("10 millis")
            }),
            "the notification",
          )
          return reader
        }),
      )
      const items = yield* within(Fiber.join(collected), "the stream to end")
      expect(items.map(describeEvent)).toEqual([["client_closing", "one"]])
      yield* within(
        Effect.gen(function* () {
          while ((yield* withAdmin((admin) => backends(admin, applicationName))).length > 0) {
            yield* Effect.sleep("20 millis")
          }
        }),
        "the listener connection to close",
      )
    }),
  )
})
