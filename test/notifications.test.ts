/**
 * LISTEN/NOTIFY on one connection: asyncpg-style callbacks, streams, UNLISTEN on scope close
 * (checked with pg_listening_channels), quoting, buffering policies, and what happens when the
 * connection dies.
 */
import type * as PgConnection from "@pgfx/client/PgConnection"
import type { PgNotification } from "@pgfx/client/PgNotifications"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Option, Stream } from "effect"
import { untilWaitEvent, waitUntil } from "./support/wait.ts"
import { connect, withAdmin } from "./support/connect.ts"
import { failureOf } from "./support/failure.ts"

const listening = (conn: PgConnection.PgConnection) =>
  Effect.map(conn.fetch("SELECT pg_listening_channels() AS c ORDER BY 1"), (rows) => rows.map((r) => r.c as string))

const within = <A, E>(effect: Effect.Effect<A, E>, what: string) =>
  effect.pipe(
    Effect.timeoutOrElse({
      duration: "15 seconds",
      orElse: () => Effect.die(new Error(`timed out waiting for ${what}`)),
    }),
  )

describe("addListener / removeListener (asyncpg parity)", () => {
  it.live("callbacks on two channels receive connection, sender pid, channel and payload", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const sender = yield* connect()
      const got: Array<[PgConnection.PgConnection, number, string, string]> = []
      const both = yield* Deferred.make<void>()
      const callback = (c: PgConnection.PgConnection, pid: number, channel: string, payload: string) => {
        got.push([c, pid, channel, payload])
        if (got.length === 2) Deferred.doneUnsafe(both, Exit.void)
      }
      yield* conn.addListener("chan_one", callback)
      yield* conn.addListener("chan_two", callback)
      expect(yield* listening(conn)).toEqual(["chan_one", "chan_two"])
      yield* sender.notify("chan_one", "first")
      yield* sender.notify("chan_two", "second")
      yield* within(Deferred.await(both), "two notifications")
      expect(got.map(([c, pid, channel, payload]) => [c === conn, pid, channel, payload])).toEqual([
        [true, sender.serverPid, "chan_one", "first"],
        [true, sender.serverPid, "chan_two", "second"],
      ])
    }),
  )

  it.live("UNLISTEN is sent when the last callback of a channel is removed", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const a = () => {}
      const b = () => {}
      yield* conn.addListener("shared", a)
      yield* conn.addListener("shared", b)
      yield* conn.removeListener("shared", a)
      expect(yield* listening(conn)).toEqual(["shared"])
      yield* conn.removeListener("shared", b)
      expect(yield* listening(conn)).toEqual([])
      // removing again, or on an unknown channel, is a no-op
      yield* conn.removeListener("shared", b)
      yield* conn.removeListener("never", b)
    }),
  )

  it.live("a callback that throws is logged and does not break the connection", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const ok = yield* Deferred.make<string>()
      yield* conn.addListener("throws", () => {
        throw new Error("boom")
      })
      yield* conn.addListener("throws", (_c, _pid, _ch, payload) => Deferred.doneUnsafe(ok, Exit.succeed(payload)))
      yield* conn.notify("throws", "still delivered")
      expect(yield* within(Deferred.await(ok), "the second callback")).toBe("still delivered")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1"))).toBe(1)
    }),
  )
})

describe("listen / subscribe (streams)", () => {
  it.live("two channels on one connection, each stream sees only its channel", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const sender = yield* connect()
      const a = yield* conn.subscribe("stream_a")
      const b = yield* conn.subscribe("stream_b")
      expect(yield* listening(conn)).toEqual(["stream_a", "stream_b"])
      yield* sender.notify("stream_a", "a1")
      yield* sender.notify("stream_b", "b1")
      yield* sender.notify("stream_a", "a2")
      const fromA = yield* within(Stream.runCollect(Stream.take(a, 2)), "stream_a")
      const fromB = yield* within(Stream.runCollect(Stream.take(b, 1)), "stream_b")
      expect(fromA.map((n) => [n.channel, n.payload])).toEqual([
        ["stream_a", "a1"],
        ["stream_a", "a2"],
      ])
      expect(fromB.map((n: PgNotification) => [n._tag, n.channel, n.payload, n.processId])).toEqual([
        ["PgNotification", "stream_b", "b1", sender.serverPid],
      ])
    }),
  )

  it.live("closing the scope sends UNLISTEN (pg_listening_channels of the same session)", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* conn.subscribe("scoped_chan")
          yield* conn.subscribe("scoped_chan") // a second stream on the same channel
          expect(yield* listening(conn)).toEqual(["scoped_chan"])
        }),
      )
      expect(yield* listening(conn)).toEqual([])
    }),
  )

  it.live("UNLISTEN waits for the channel's last stream", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const outer = yield* conn.subscribe("refcount")
      yield* Effect.scoped(conn.subscribe("refcount"))
      expect(yield* listening(conn)).toEqual(["refcount"])
      yield* conn.notify("refcount", "still here")
      const [n] = yield* within(Stream.runCollect(Stream.take(outer, 1)), "the remaining stream")
      expect(n!.payload).toBe("still here")
    }),
  )

  it.live("listen() LISTENs when the stream starts and UNLISTENs when it ends", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const sender = yield* connect()
      expect(yield* listening(conn)).toEqual([])
      const fiber = yield* conn.listen("lazy_chan").pipe(Stream.take(2), Stream.runCollect, Effect.forkChild)
      yield* waitUntil(
        "LISTEN",
        Effect.map(listening(conn), (c) => c.includes("lazy_chan")),
      )
      yield* sender.notify("lazy_chan", "x")
      yield* sender.notify("lazy_chan", "y")
      const got = yield* within(Fiber.join(fiber), "the stream")
      expect(got.map((n) => n.payload)).toEqual(["x", "y"])
      expect(yield* listening(conn)).toEqual([])
    }),
  )

  it.live("channel names and payloads are quoted safely", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const channel = `We"ird Chan;nel 'x'`
      const payload = `it's "quoted"; DROP TABLE nothing; -- é`
      const stream = yield* conn.subscribe(channel)
      expect(yield* listening(conn)).toEqual([channel])
      yield* conn.notify(channel, payload)
      yield* conn.notify(channel) // empty payload
      const got = yield* within(Stream.runCollect(Stream.take(stream, 2)), "the quoted channel")
      expect(got.map((n) => [n.channel, n.payload])).toEqual([
        [channel, payload],
        [channel, ""],
      ])
      // channel names are case-sensitive, as quoted identifiers
      const upper = yield* conn.subscribe("CaseSensitive")
      yield* conn.notify("casesensitive", "wrong")
      yield* conn.notify("CaseSensitive", "right")
      const [n] = yield* within(Stream.runCollect(Stream.take(upper, 1)), "the case-sensitive channel")
      expect(n!.payload).toBe("right")
    }),
  )

  it.live("invalid channel names fail with PgInterfaceError and the connection stays usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      for (const bad of ["", "nul\0char", "x".repeat(64), "é".repeat(32)]) {
        const error = failureOf(yield* Effect.exit(Effect.scoped(conn.subscribe(bad))))
        expect(error._tag).toBe("PgInterfaceError")
        expect(failureOf(yield* Effect.exit(conn.addListener(bad, () => {})))._tag).toBe("PgInterfaceError")
        expect(failureOf(yield* Effect.exit(conn.notify(bad, "p")))._tag).toBe("PgInterfaceError")
      }
      // 63 bytes is the limit, and it is fine
      yield* Effect.scoped(conn.subscribe("x".repeat(63)))
      const badBuffer = failureOf(yield* Effect.exit(Effect.scoped(conn.subscribe("ok", { bufferSize: 0 }))))
      expect(badBuffer._tag).toBe("PgInterfaceError")
      expect(yield* listening(conn)).toEqual([])
    }),
  )

  it.live("a payload over 8000 bytes is refused by the server with a typed error", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const error = failureOf(yield* Effect.exit(conn.notify("big", "x".repeat(8000))))
      expect(error._tag).toBe("PgServerError")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1"))).toBe(1)
    }),
  )

  it.live("streams fail with the connection error when the server terminates the session", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const stream = yield* conn.subscribe("doomed")
      const fiber = yield* Effect.forkChild(Stream.runCollect(stream))
      yield* withAdmin((admin) =>
        Effect.map(admin.fetchVal("SELECT pg_terminate_backend($1)", [conn.serverPid]), Option.getOrThrow),
      )
      const error = failureOf(yield* within(Fiber.await(fiber), "the stream to fail"))
      expect(error._tag).toBe("PgConnectionError")
      // and a new subscription fails at once
      expect(failureOf(yield* Effect.exit(Effect.scoped(conn.subscribe("doomed"))))._tag).toBe("PgConnectionError")
    }),
  )
})

describe("buffering policies", () => {
  /**
   * Sends `count` notifications on `channel` (payload: the number, then `padding` bytes of
   * filler) then one on `channel_done`, in one transaction.
   */
  const burst = (sender: PgConnection.PgConnection, channel: string, count: number, padding = 0) =>
    sender.execute(
      `BEGIN; SELECT pg_notify('${channel}', g::text || repeat(' ', ${padding})) FROM generate_series(1, ${count}) g; ` +
        `SELECT pg_notify('${channel}_done', ''); COMMIT`,
    )

  /** Resolves once `channel_done` has been dispatched (notifications arrive in commit order). */
  const doneSignal = (conn: PgConnection.PgConnection, channel: string) =>
    Effect.gen(function* () {
      const done = yield* Deferred.make<void>()
      yield* conn.addListener(`${channel}_done`, () => Deferred.doneUnsafe(done, Exit.void))
      return done
    })

  it.live("sliding keeps the newest, dropping keeps the oldest", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const sender = yield* connect()
      const sliding = yield* conn.subscribe("policy", { bufferSize: 3, strategy: "sliding" })
      const dropping = yield* conn.subscribe("policy", { bufferSize: 3, strategy: "dropping" })
      const done = yield* doneSignal(conn, "policy")
      yield* burst(sender, "policy", 10)
      yield* within(Deferred.await(done), "the burst")
      const newest = yield* Stream.runCollect(Stream.take(sliding, 3))
      const oldest = yield* Stream.runCollect(Stream.take(dropping, 3))
      expect(newest.map((n) => n.payload)).toEqual(["8", "9", "10"])
      expect(oldest.map((n) => n.payload)).toEqual(["1", "2", "3"])
    }),
  )

  it.live("suspend with a bounded buffer applies backpressure and loses nothing", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const sender = yield* connect()
      const stream = yield* conn.subscribe("bp", { bufferSize: 2, strategy: "suspend" })
      const done = yield* doneSignal(conn, "bp")
      // 20 MB of notifications: far more than socket buffers hold while reading is paused
      const count = 20_000
      yield* burst(sender, "bp", count, 1000)
      // Reading is paused while the buffer is full: the server ends up blocked writing to us, and
      // the end marker cannot have been read yet.
      yield* untilWaitEvent(conn.serverPid, "ClientWrite")
      expect(yield* Deferred.isDone(done)).toBe(false)
      const got = yield* within(Stream.runCollect(Stream.take(stream, count)), "all notifications")
      expect(got.map((n) => Number(n.payload.trimEnd()))).toEqual(Array.from({ length: count }, (_, i) => i + 1))
      yield* within(Deferred.await(done), "the end marker")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1"))).toBe(1)
    }),
  )

  it.live("unbounded (the default) keeps everything", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const sender = yield* connect()
      const stream = yield* conn.subscribe("unbounded")
      const done = yield* doneSignal(conn, "unbounded")
      yield* burst(sender, "unbounded", 500)
      yield* within(Deferred.await(done), "the burst")
      const got = yield* Stream.runCollect(Stream.take(stream, 500))
      expect(got.length).toBe(500)
      expect(got[499]!.payload).toBe("500")
    }),
  )
})
