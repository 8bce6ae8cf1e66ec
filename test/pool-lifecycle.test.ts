/**
 * PgPool over time: connections terminated by the server while idle and while checked out,
 * `close` waiting for checked-out connections, `terminate`, `maxQueries`, `maxInactiveLifetime`,
 * `expireConnections`, `setConnectArgs`, a server that never answers, and the reset on release
 * (session state never leaks to the next user; a clean checkout costs no reset round trip).
 */
import * as PgPool from "@pgfx/client/PgPool"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Option } from "effect"
import * as net from "node:net"
import * as TestClock from "effect/testing/TestClock"
import { withAdmin } from "./support/connect.ts"
import { commandCount, eventually, failureOf, poolOptions, sessionOf } from "./support/pool.ts"

const terminate = (pids: ReadonlyArray<number>) =>
  withAdmin((admin) => admin.execute("SELECT pg_terminate_backend(p) FROM unnest($1::int4[]) p", [pids]))

const idlePids = (pool: PgPool.PgPool, n: number) =>
  Effect.scoped(Effect.forEach(Array.from({ length: n }), () => Effect.map(pool.acquire(), (c) => c.serverPid)))

describe("connections the server closes", () => {
  it.live("terminated while idle: detected at once and replaced on demand", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ min: 3, max: 3 }))
      const before = yield* idlePids(pool, 3)
      expect(pool.stats).toMatchObject({ size: 3, idle: 3 })
      yield* terminate(before)
      yield* eventually("the pool noticed", () => pool.size === 0)
      expect(pool.idle).toBe(0)
      const after = yield* idlePids(pool, 3)
      expect(after.filter((p) => before.includes(p))).toEqual([])
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT 1"))).toBe(1)
      expect(pool.stats).toMatchObject({ size: 3, idle: 3, inUse: 0 })
    }),
  )

  it.live("terminated while checked out: the slot is freed at once, the release is quiet", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1 }))
      yield* Effect.scoped(
        Effect.gen(function* () {
          const conn = yield* pool.acquire()
          yield* terminate([conn.serverPid])
          yield* eventually("the pool noticed", () => pool.size === 0)
          const error = failureOf(yield* Effect.exit(Effect.map(conn.fetchVal("SELECT 1"), Option.getOrThrow)))
          expect(error._tag).toBe("PgConnectionError")
          // Still checked out, yet its slot already serves someone else.
          expect(pool.stats.inUse).toBe(1)
          expect(Option.getOrThrow(yield* pool.fetchVal("SELECT 2"))).toBe(2)
          expect(pool.stats).toMatchObject({ size: 1, inUse: 1 })
        }),
      )
      expect(pool.stats).toMatchObject({ size: 1, idle: 1, inUse: 0 })
    }),
  )

  it.live("a waiter gets a new connection when a checked-out one breaks", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1 }))
      const gate = yield* Deferred.make<void>()
      const pid = yield* Deferred.make<number>()
      const holder = yield* Effect.forkChild(
        pool.withConnection((conn) => Effect.andThen(Deferred.succeed(pid, conn.serverPid), Deferred.await(gate))),
      )
      const waiter = yield* Effect.forkChild(Effect.map(pool.fetchVal("SELECT pg_backend_pid()"), Option.getOrThrow))
      yield* eventually("waiting", () => pool.waiting === 1)
      const held = yield* Deferred.await(pid)
      yield* terminate([held])
      const served = yield* Fiber.join(waiter)
      expect(served).not.toBe(held)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holder)
      expect(pool.stats).toMatchObject({ size: 1, inUse: 0, waiting: 0 })
    }),
  )

  it.live("a server that never answers fails acquires within the connect timeout", () =>
    Effect.gen(function* () {
      const sockets: Array<net.Socket> = []
      const server = net.createServer((s) => sockets.push(s))
      yield* Effect.promise(() => new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r())))
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          for (const s of sockets) s.destroy()
          server.close()
        }),
      )
      const port = (server.address() as net.AddressInfo).port
      const pool = yield* PgPool.make({
        host: "127.0.0.1",
        port,
        user: "x",
        min: 0,
        max: 2,
        connectTimeout: "300 millis",
      })
      const started = Date.now()
      const results = yield* Effect.all(
        [1, 2, 3].map(() => Effect.exit(Effect.map(pool.fetchVal("SELECT 1"), Option.getOrThrow))),
        { concurrency: "unbounded" },
      )
      for (const exit of results) {
        expect(failureOf(exit)).toMatchObject({ _tag: "PgConnectionError", reason: "ConnectTimeout" })
      }
      // Two attempts at once (max 2), the third after one of them failed.
      expect(Date.now() - started).toBeLessThan(5_000)
      expect(pool.stats).toMatchObject({ size: 0, inUse: 0, waiting: 0 })
    }),
  )
})

describe("close and terminate", () => {
  it.live("close waits for checked-out connections, refusing new acquires meanwhile", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ min: 2, max: 2 }))
      const gate = yield* Deferred.make<void>()
      const holder = yield* Effect.forkChild(
        pool.withConnection((conn) =>
          Effect.andThen(Deferred.await(gate), Effect.map(conn.fetchVal("SELECT 'still works'"), Option.getOrThrow)),
        ),
      )
      yield* eventually("held", () => pool.stats.inUse === 1)
      const closing = yield* Effect.forkChild(pool.close)
      yield* eventually("closing", () => pool.isClosing)
      expect(pool.stats).toMatchObject({ size: 1, idle: 0, inUse: 1 })
      const refused = failureOf(yield* Effect.exit(Effect.map(pool.fetchVal("SELECT 1"), Option.getOrThrow)))
      expect(refused).toMatchObject({ _tag: "PgInterfaceError" })
      yield* Effect.sleep("100 millis")
      expect(closing.pollUnsafe()).toBeUndefined()
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(holder)).toBe("still works")
      yield* Fiber.join(closing)
      expect(pool.stats).toMatchObject({ size: 0, idle: 0, inUse: 0 })
    }),
  )

  it.live("close fails waiting acquires at once", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1 }))
      const gate = yield* Deferred.make<void>()
      const holder = yield* Effect.forkChild(pool.withConnection(() => Deferred.await(gate)))
      yield* eventually("held", () => pool.stats.inUse === 1)
      const waiter = yield* Effect.forkChild(Effect.exit(Effect.map(pool.fetchVal("SELECT 1"), Option.getOrThrow)))
      yield* eventually("waiting", () => pool.waiting === 1)
      const closing = yield* Effect.forkChild(pool.close)
      expect(failureOf(yield* Fiber.join(waiter))).toMatchObject({ _tag: "PgInterfaceError" })
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holder)
      yield* Fiber.join(closing)
    }),
  )

  it.live("terminate closes checked-out connections too", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ min: 1, max: 2 }))
      yield* Effect.scoped(
        Effect.gen(function* () {
          const conn = yield* pool.acquire()
          yield* pool.terminate
          expect(pool.size).toBe(0)
          expect(failureOf(yield* Effect.exit(Effect.map(conn.fetchVal("SELECT 1"), Option.getOrThrow)))).toMatchObject(
            { _tag: "PgConnectionError" },
          )
        }),
      )
      expect(pool.stats).toMatchObject({ size: 0, inUse: 0 })
      expect(failureOf(yield* Effect.exit(Effect.map(pool.fetchVal("SELECT 1"), Option.getOrThrow)))).toMatchObject({
        _tag: "PgInterfaceError",
      })
    }),
  )

  it.live("the pool's scope closes it gracefully; closeTimeout bounds the wait", () =>
    Effect.gen(function* () {
      const gate = yield* Deferred.make<void>()
      let pool: PgPool.PgPool | undefined
      const owner = yield* Effect.forkChild(
        Effect.scoped(
          Effect.gen(function* () {
            const p = yield* PgPool.make(poolOptions({ max: 1 }))
            pool = p
            yield* Effect.forkDetach(p.withConnection(() => Deferred.await(gate)))
            yield* eventually("held", () => p.stats.inUse === 1)
          }),
        ),
      )
      yield* eventually("closing", () => pool?.isClosing === true)
      yield* Effect.sleep("100 millis")
      expect(owner.pollUnsafe()).toBeUndefined()
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(owner)
      expect(pool?.size).toBe(0)

      const started = Date.now()
      yield* Effect.scoped(
        Effect.gen(function* () {
          const p = yield* PgPool.make(poolOptions({ max: 1, closeTimeout: "200 millis" }))
          yield* Effect.forkDetach(p.withConnection(() => Effect.never))
          yield* eventually("held", () => p.stats.inUse === 1)
          pool = p
        }),
      )
      expect(Date.now() - started).toBeLessThan(5_000)
      expect(pool?.size).toBe(0)
    }),
  )
})

describe("replacing connections", () => {
  it.live("maxQueries replaces a connection after that many statements", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1, maxQueries: 3 }))
      const pids: Array<unknown> = []
      for (let i = 0; i < 7; i++) pids.push(Option.getOrThrow(yield* pool.fetchVal("SELECT pg_backend_pid()")))
      expect(new Set(pids.slice(0, 3)).size).toBe(1)
      expect(new Set(pids.slice(3, 6)).size).toBe(1)
      expect(pids[3]).not.toBe(pids[0])
      expect(pids[6]).not.toBe(pids[3])
      expect(pool.size).toBe(1)
    }),
  )

  // On the test clock (it.effect): idle time passes when the test says so, with no real waiting.
  it.effect("maxInactiveLifetime closes idle connections; 0 disables it", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ min: 2, max: 2, maxInactiveLifetime: "200 millis" }))
      const before = yield* idlePids(pool, 2)
      yield* TestClock.adjust("199 millis")
      expect(pool.size).toBe(2)
      yield* TestClock.adjust("1 milli")
      expect(pool.size).toBe(0)
      const after = yield* idlePids(pool, 2)
      expect(after.filter((p) => before.includes(p))).toEqual([])

      const keep = yield* PgPool.make(poolOptions({ min: 1, max: 1, maxInactiveLifetime: 0 }))
      const pid = Option.getOrThrow(yield* keep.fetchVal("SELECT pg_backend_pid()"))
      yield* TestClock.adjust("1 hour")
      expect(Option.getOrThrow(yield* keep.fetchVal("SELECT pg_backend_pid()"))).toBe(pid)
    }),
  )

  it.effect("a busy connection is not closed for inactivity", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ min: 1, max: 1, maxInactiveLifetime: "100 millis" }))
      const pid = yield* pool.withConnection((conn) =>
        Effect.andThen(
          TestClock.adjust("1 hour"),
          Effect.map(conn.fetchVal("SELECT pg_backend_pid()"), Option.getOrThrow),
        ),
      )
      expect(typeof pid).toBe("number")
      expect(pool.size).toBe(1)
    }),
  )

  it.live("expireConnections replaces idle ones now and checked-out ones on release", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ min: 2, max: 2 }))
      const before = yield* idlePids(pool, 2)
      yield* Effect.scoped(
        Effect.gen(function* () {
          const conn = yield* pool.acquire()
          yield* pool.expireConnections
          expect(pool.stats).toMatchObject({ size: 1, idle: 0, inUse: 1 })
          expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1"))).toBe(1)
        }),
      )
      expect(pool.size).toBe(0)
      const after = yield* idlePids(pool, 2)
      expect(after.filter((p) => before.includes(p))).toEqual([])
    }),
  )

  it.live("setConnectArgs applies to new connections; invalid arguments are refused", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ min: 1, max: 1, applicationName: "first" }))
      const appName = Effect.map(pool.fetchVal("SELECT current_setting('application_name')"), Option.getOrThrow)
      expect(yield* appName).toBe("first")
      yield* pool.setConnectArgs(poolOptions({ applicationName: "second" }))
      expect(yield* appName).toBe("first")
      yield* pool.expireConnections
      expect(yield* appName).toBe("second")
      const error = failureOf(yield* Effect.exit(pool.setConnectArgs("mysql://nope")))
      expect(error._tag).toBe("PgConfigError")
      expect(yield* appName).toBe("second")
    }),
  )
})

describe("reset on release", () => {
  const withPool = PgPool.make(poolOptions({ max: 1 }))

  it.live("session settings, role and search_path do not leak to the next user", () =>
    Effect.gen(function* () {
      const pool = yield* withPool
      const defaults = yield* pool.fetchRow(
        "SELECT current_setting('work_mem') AS w, current_setting('search_path') AS s, current_user AS u",
      )
      yield* pool.withConnection((conn) =>
        Effect.all([
          conn.execute("SET work_mem = '1234kB'"),
          conn.execute("SET search_path = pg_catalog"),
          conn.execute("SET ROLE pgfx_trust"),
          conn.execute("SET statement_timeout = 1234"),
        ]),
      )
      const after = yield* pool.fetchRow(
        "SELECT current_setting('work_mem') AS w, current_setting('search_path') AS s, current_user AS u",
      )
      expect(after).toEqual(defaults)
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT current_setting('statement_timeout')"))).toBe("0")
      // set_config through a SELECT, on the shortcut path.
      Option.getOrThrow(yield* pool.fetchVal("SELECT set_config('work_mem', '2345kB', false)"))
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT current_setting('work_mem')"))).toEqual(
        (defaults as { _tag: "Some"; value: { get: (k: string) => unknown } }).value.get("w"),
      )
      // SET SESSION AUTHORIZATION is undone too.
      yield* pool.execute("SET SESSION AUTHORIZATION pgfx_trust")
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT session_user::text"))).toBe("postgres")
    }),
  )

  it.live("an open transaction is rolled back", () =>
    Effect.gen(function* () {
      const pool = yield* withPool
      yield* pool.execute("CREATE TABLE IF NOT EXISTS pool_reset_tx (a int)")
      yield* pool.execute("TRUNCATE pool_reset_tx")
      yield* pool.withConnection((conn) =>
        Effect.andThen(conn.execute("BEGIN"), conn.execute("INSERT INTO pool_reset_tx VALUES (1)")),
      )
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT count(*) FROM pool_reset_tx"))).toBe(0n)
      // A failed transaction, too.
      yield* pool.withConnection((conn) =>
        Effect.andThen(conn.execute("BEGIN"), Effect.exit(conn.execute("SELECT 1/0"))),
      )
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT 1"))).toBe(1)
      yield* pool.execute("DROP TABLE pool_reset_tx")
    }),
  )

  it.live("advisory locks, LISTEN, cursors and temporary tables are released", () =>
    Effect.gen(function* () {
      const pool = yield* withPool
      const pid = yield* pool.withConnection((conn) =>
        Effect.gen(function* () {
          Option.getOrThrow(yield* conn.fetchVal("SELECT pg_advisory_lock(4242)"))
          yield* conn.execute("LISTEN pool_reset_channel")
          yield* conn.execute("BEGIN; DECLARE held CURSOR WITH HOLD FOR SELECT 1; COMMIT")
          yield* conn.execute("CREATE TEMP TABLE pool_reset_temp (a int)")
          return conn.serverPid
        }),
      )
      const state = yield* withAdmin((admin) =>
        Effect.map(
          admin.fetchVal("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1", [pid]),
          Option.getOrThrow,
        ),
      )
      expect(state).toBe(0n)
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT count(*) FROM pg_listening_channels()"))).toBe(0n)
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT count(*) FROM pg_cursors WHERE name = 'held'"))).toBe(0n)
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT to_regclass('pool_reset_temp')"))).toBe(null)
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT pg_backend_pid()"))).toBe(pid)
    }),
  )

  it.live("maxQueries counts the borrowers' statements, not the reset's", () =>
    Effect.gen(function* () {
      const pool = yield* withPool
      const count = pool.withConnection((conn) => Effect.succeed(commandCount(conn)))
      const start = yield* count
      Option.getOrThrow(yield* pool.fetchVal("SELECT $1::int", [1]))
      yield* pool.execute("SELECT 1")
      yield* pool.withConnection((conn) =>
        Effect.all([conn.fetch("SELECT 1"), conn.execute("BEGIN; SELECT 1; COMMIT"), conn.execute("SELECT 2", [])]),
      )
      yield* pool.execute("SET work_mem = '3MB'")
      // 1 + 1 + (1 + 3 + 1) + 1 statements, and none of the six resets'.
      expect((yield* count) - start).toBe(8)
    }),
  )

  it.live("a reported setting changed inside a function is undone", () =>
    Effect.gen(function* () {
      const pool = yield* withPool
      yield* withAdmin((admin) =>
        admin.execute(`CREATE OR REPLACE FUNCTION pool_test_rename() RETURNS int LANGUAGE plpgsql AS $$
          BEGIN PERFORM set_config('application_name', 'renamed-inside', false); RETURN 1; END $$`),
      )
      const before = Option.getOrThrow(yield* pool.fetchVal("SELECT current_setting('application_name')"))
      // The SQL text says nothing; the reset runs on every release anyway.
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT pool_test_rename()"))).toBe(1)
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT current_setting('application_name')"))).toBe(before)
      yield* withAdmin((admin) => admin.execute("DROP FUNCTION pool_test_rename()"))
    }),
  )

  it.live("listeners left on a released connection are removed, with a warning", () =>
    Effect.gen(function* () {
      const pool = yield* withPool
      const session = yield* pool.withConnection((conn) => Effect.succeed(sessionOf(conn)))
      const permanent = () => {}
      session.notificationListeners.add(permanent)
      const before = [...session.notificationListeners]
      yield* pool.withConnection((conn) =>
        Effect.sync(() => {
          sessionOf(conn).notificationListeners.add(() => {})
          sessionOf(conn).noticeListeners.add(() => {})
        }),
      )
      // Only what the checkout added was removed.
      expect([...session.notificationListeners]).toEqual(before)
      expect(session.noticeListeners.size).toBe(1) // the connection's own notice router
      session.notificationListeners.delete(permanent)
    }),
  )

  it.live("a listener added through the connection API is removed on release, with UNLISTEN", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1 }))
      let stale = 0
      let fresh = 0
      yield* pool.withConnection((conn) => conn.addListener("pool_release_chan", () => void stale++))
      const channels = yield* pool.withConnection((conn) => conn.fetch("SELECT pg_listening_channels() AS c"))
      expect(channels).toEqual([])
      // The same connection, a new borrower: only its own callback hears the channel.
      yield* pool.withConnection((conn) =>
        Effect.gen(function* () {
          yield* conn.addListener("pool_release_chan", () => void fresh++)
          yield* conn.notify("pool_release_chan", "x")
          yield* eventually("the notification arrives", () => fresh === 1)
        }),
      )
      expect(stale).toBe(0)
    }),
  )

  it.live("what init SETs is reset before the first borrower; serverSettings stay", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(
        poolOptions({
          max: 1,
          serverSettings: { work_mem: "2345kB" },
          init: (conn) => conn.execute("SET application_name = 'from-init'"),
        }),
      )
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT current_setting('application_name')"))).not.toBe(
        "from-init",
      )
      yield* pool.execute("SET work_mem = '64kB'")
      expect(Option.getOrThrow(yield* pool.fetchVal("SELECT current_setting('work_mem')"))).toBe("2345kB")
    }),
  )
})
