/**
 * PgClient: the service an application provides once. `layer` and `layerConfig` (Effect Config:
 * libpq's variables by default, any keys on request), the accessor functions, `reserve`, the
 * graceful close of the layer, and shortcuts joining the current connection (the seam
 * transactions use).
 */
import * as PgClient from "@pgfx/client/PgClient"
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgCurrentConnection from "@pgfx/client/PgCurrentConnection"
import { describe, expect, it } from "@effect/vitest"
import { Config, ConfigProvider, Context, Deferred, Effect, Exit, Fiber, Layer, Option, Scope } from "effect"
import { testCluster } from "./support/cluster.ts"
import { tcpOptions } from "./support/connect.ts"
import { eventually, failureOf } from "./support/pool.ts"

const withEnv = (env: Record<string, string>) =>
  Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromUnknown(env))

const backendPid = Effect.map(PgClient.fetchVal("SELECT pg_backend_pid()"), Option.getOrThrow)

describe("PgClient.layer", () => {
  it.live("provides the accessors", () =>
    Effect.gen(function* () {
      expect(Option.getOrThrow(yield* PgClient.fetchVal("SELECT $1::int * 2", [21]))).toBe(42)
      expect(yield* PgClient.execute("SELECT 1")).toBe("SELECT 1")
      const rows = yield* PgClient.fetch("SELECT g FROM generate_series(1, 2) g")
      expect(rows.map((r) => r.toObject())).toEqual([{ g: 1 }, { g: 2 }])
      const row = yield* PgClient.fetchRow("SELECT 'a' AS x")
      expect(Option.getOrThrow(row).get("x")).toBe("a")
      const stats = yield* PgClient.stats
      expect(stats).toMatchObject({ min: 1, max: 3, inUse: 0 })
      const pid = yield* Effect.scoped(Effect.map(PgClient.acquire(), (c) => c.serverPid))
      expect(yield* PgClient.withConnection((c) => Effect.succeed(c.serverPid))).toBe(pid)
      yield* PgClient.expireConnections
      expect(yield* backendPid).not.toBe(pid)
      yield* PgClient.setConnectArgs(tcpOptions({ applicationName: "renamed" }))
      yield* PgClient.expireConnections
      expect(Option.getOrThrow(yield* PgClient.fetchVal("SELECT current_setting('application_name')"))).toBe("renamed")
    }).pipe(Effect.provide(PgClient.layer({ ...tcpOptions(), min: 1, max: 3 }))),
  )

  it.live("a failing layer fails with a typed error", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        Effect.map(PgClient.fetchVal("SELECT 1"), Option.getOrThrow).pipe(
          Effect.provide(PgClient.layer({ ...tcpOptions(), min: 1, user: "nobody_here" })),
        ),
      )
      expect(failureOf(exit)).toMatchObject({ _tag: "PgServerError", code: "28000" })
    }),
  )

  it.live("the layer's release waits for checked-out connections, then closes the pool", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(PgClient.layer({ ...tcpOptions(), min: 1, max: 2 }), scope)
      const client = Context.get(context, PgClient.PgClient)
      const gate = yield* Deferred.make<void>()
      const holder = yield* Effect.forkDetach(
        client.withConnection((conn) =>
          Effect.andThen(Deferred.await(gate), Effect.map(conn.fetchVal("SELECT 'done'"), Option.getOrThrow)),
        ),
      )
      yield* eventually("held", () => client.pool.stats.inUse === 1)
      const closing = yield* Effect.forkDetach(Scope.close(scope, Exit.void))
      yield* eventually("closing", () => client.pool.isClosing)
      yield* Effect.sleep("100 millis")
      expect(closing.pollUnsafe()).toBeUndefined()
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(holder)).toBe("done")
      yield* Fiber.join(closing)
      expect(client.pool.stats).toMatchObject({ size: 0, inUse: 0 })
    }),
  )
})

describe("PgClient.layerConfig", () => {
  it.live("reads every libpq variable through PgConfig.config (PGSSLMODE here)", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const ssl = (mode: string) =>
        Effect.map(
          PgClient.fetchVal("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"),
          Option.getOrThrow,
        ).pipe(
          Effect.provide(PgClient.layerConfig()),
          withEnv({
            PGHOST: pg.host,
            PGPORT: String(pg.port),
            PGUSER: pg.user,
            PGDATABASE: pg.database,
            PGSSLMODE: mode,
          }),
        )
      expect(yield* ssl("require")).toBe(true)
      expect(yield* ssl("disable")).toBe(false)
    }),
  )

  it.live("reads libpq's PG* variables through the ConfigProvider", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const program = PgClient.fetchRow("SELECT current_user AS u, current_setting('application_name') AS a")
      const row = yield* program.pipe(
        Effect.provide(PgClient.layerConfig()),
        withEnv({
          PGHOST: pg.host,
          PGPORT: String(pg.port),
          PGUSER: pg.user,
          PGDATABASE: pg.database,
          PGAPPNAME: "from-config",
          PGCONNECT_TIMEOUT: "5",
        }),
      )
      expect(Option.getOrThrow(row).toObject()).toEqual({ u: pg.user, a: "from-config" })
    }),
  )

  it.live("DATABASE_URL wins over PG* variables", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const value = yield* Effect.map(
        PgClient.fetchVal("SELECT current_setting('application_name')"),
        Option.getOrThrow,
      ).pipe(
        Effect.provide(PgClient.layerConfig()),
        withEnv({
          DATABASE_URL: `postgres://${pg.user}@${pg.host}:${pg.port}/${pg.database}?application_name=url`,
          PGHOST: "unreachable.invalid",
          PGAPPNAME: "env",
        }),
      )
      expect(value).toBe("url")
    }),
  )

  it.live("custom Config keys and explicit options", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const stats = yield* PgClient.stats.pipe(
        Effect.provide(
          PgClient.layerConfig(
            { url: Config.Redacted("APP_DB"), max: Config.Int("APP_POOL_MAX"), min: Config.Int("APP_POOL_MIN") },
            { name: "configured" },
          ),
        ),
        withEnv({
          APP_DB: `postgres://${pg.user}@${pg.host}:${pg.port}/${pg.database}`,
          APP_POOL_MAX: "3",
          APP_POOL_MIN: "2",
        }),
      )
      expect(stats).toMatchObject({ size: 2, min: 2, max: 3 })
    }),
  )

  it.live("an invalid value is a ConfigError", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        Effect.map(PgClient.fetchVal("SELECT 1"), Option.getOrThrow).pipe(
          Effect.provide(PgClient.layerConfig()),
          withEnv({ PGPORT: "not-a-port" }),
        ),
      )
      expect(failureOf(exit)).toMatchObject({ _tag: "ConfigError" })
    }),
  )
})

describe("the current connection", () => {
  it.live("shortcuts run on the current connection when it comes from the same pool", () =>
    Effect.gen(function* () {
      const pinned = yield* Effect.scoped(
        Effect.gen(function* () {
          const conn = yield* PgClient.acquire()
          const pids = yield* PgCurrentConnection.provide(conn)(
            Effect.all([backendPid, backendPid, PgClient.fetch("SELECT 1"), backendPid], { concurrency: 1 }),
          )
          expect(pids[0]).toBe(conn.serverPid)
          expect(pids[1]).toBe(conn.serverPid)
          expect(pids[3]).toBe(conn.serverPid)
          // The pool was not used: its other connection stayed idle.
          expect((yield* PgClient.stats).inUse).toBe(1)
          // A transaction begun on the connection covers the shortcuts.
          yield* PgCurrentConnection.provide(conn)(
            Effect.gen(function* () {
              yield* PgClient.execute("BEGIN")
              yield* PgClient.execute("CREATE TEMP TABLE pinned (a int)")
              yield* PgClient.execute("INSERT INTO pinned VALUES (1)", [])
              expect(Option.getOrThrow(yield* PgClient.fetchVal("SELECT count(*) FROM pinned"))).toBe(1n)
              yield* PgClient.execute("ROLLBACK")
            }),
          )
          return conn
        }),
      )
      // Once released, the pinned handle fails rather than silently using the pool.
      const exit = yield* Effect.exit(PgCurrentConnection.provide(pinned)(backendPid))
      expect(failureOf(exit)).toMatchObject({ _tag: "PgInterfaceError" })
    }).pipe(Effect.provide(PgClient.layer({ ...tcpOptions(), min: 2, max: 2 }))),
  )

  it.live("a connection from elsewhere is not used by the client's shortcuts", () =>
    Effect.gen(function* () {
      const foreign = yield* PgConnection.make(tcpOptions())
      const pid = yield* PgCurrentConnection.provide(foreign)(backendPid)
      expect(pid).not.toBe(foreign.serverPid)
    }).pipe(Effect.provide(PgClient.layer({ ...tcpOptions(), min: 0, max: 1 }))),
  )
})
