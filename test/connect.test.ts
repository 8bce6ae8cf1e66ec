/**
 * Connecting: transports, every authentication method against a cluster configured for it,
 * wrong passwords (typed, no secret in the message), refusals, server state accessors, closing.
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"
import * as net from "node:net"
import { authUser, testCluster } from "./support/cluster.ts"
import { connect, tcpOptions, unixOptions, withAdmin } from "./support/connect.ts"
import { failureOf } from "./support/failure.ts"

const currentUser = (conn: PgConnection.PgConnection) =>
  Effect.map(conn.fetchVal("SELECT current_user"), Option.getOrThrow)

describe("transports", () => {
  it.live("connects over TCP", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1"))).toBe(1)
    }),
  )

  it.live("connects over a unix socket directory", () =>
    Effect.gen(function* () {
      const conn = yield* PgConnection.make(unixOptions())
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1 + 1"))).toBe(2)
      // A unix-socket session has no client address.
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT inet_client_addr()"))).toBe(null)
    }),
  )

  it.live("accepts a postgres:// URL", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const conn = yield* PgConnection.make(
        `postgres://${pg.user}@${pg.host}:${pg.port}/${pg.database}?application_name=from-url`,
      )
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT current_setting('application_name')"))).toBe("from-url")
    }),
  )

  it.live("fails with ConnectFailed when nothing listens", () =>
    Effect.gen(function* () {
      const server = net.createServer()
      yield* Effect.promise(() => new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r())))
      const port = (server.address() as net.AddressInfo).port
      yield* Effect.promise(() => new Promise((r) => server.close(r)))
      const error = failureOf(yield* Effect.exit(PgConnection.make({ host: "127.0.0.1", port, user: "x" })))
      expect(error._tag).toBe("PgConnectionError")
      expect(error._tag === "PgConnectionError" && error.reason).toBe("ConnectFailed")
    }),
  )

  it.live("bounds the attempt with connectTimeout when the server never answers", () =>
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
      const started = Date.now()
      const error = failureOf(
        yield* Effect.exit(PgConnection.make({ host: "127.0.0.1", port, user: "x", connectTimeout: "200 millis" })),
      )
      expect(error._tag === "PgConnectionError" && error.reason).toBe("ConnectTimeout")
      expect(Date.now() - started).toBeLessThan(5_000)
    }),
  )
})

describe("authentication", () => {
  const methods = [
    ["trust", "trust"],
    ["password (cleartext)", "clear"],
    ["md5", "md5"],
    ["scram-sha-256", "scram"],
  ] as const

  for (const [label, kind] of methods) {
    it.live(`${label}: the right password logs in, over TCP and unix socket`, () =>
      Effect.gen(function* () {
        const user = authUser(kind)
        const password = user.password ?? undefined
        const tcp = yield* PgConnection.make(tcpOptions({ user: user.name, password }))
        expect(yield* currentUser(tcp)).toBe(user.name)
        const unix = yield* PgConnection.make(unixOptions({ user: user.name, password }))
        expect(yield* currentUser(unix)).toBe(user.name)
      }),
    )
  }

  for (const [label, kind] of methods.filter(([, k]) => k !== "trust")) {
    it.live(`${label}: a wrong password is a typed 28P01 failure without the secret`, () =>
      Effect.gen(function* () {
        const user = authUser(kind)
        const wrong = "not-the-password-s3cr3t"
        const error = failureOf(yield* Effect.exit(PgConnection.make(tcpOptions({ user: user.name, password: wrong }))))
        expect(error._tag).toBe("PgServerError")
        if (error._tag !== "PgServerError") return
        expect(error.code).toBe("28P01")
        expect(error.condition).toBe("invalid_password")
        const rendered = `${error.message} ${String(error)} ${JSON.stringify(error)}`
        expect(rendered).not.toContain(wrong)
        expect(rendered).not.toContain(user.password!)
      }),
    )

    it.live(`${label}: no password at all is a typed client-side failure`, () =>
      Effect.gen(function* () {
        const user = authUser(kind)
        const error = failureOf(
          yield* Effect.exit(PgConnection.make(tcpOptions({ user: user.name, password: undefined }))),
        )
        expect(error._tag).toBe("PgAuthenticationError")
      }),
    )
  }

  it.live("a Redacted password works and never shows", () =>
    Effect.gen(function* () {
      const user = authUser("scram")
      const conn = yield* PgConnection.make(tcpOptions({ user: user.name, password: Redacted.make(user.password!) }))
      expect(yield* currentUser(conn)).toBe(user.name)
    }),
  )

  it.live("requireAuth refuses a method the client does not allow", () =>
    Effect.gen(function* () {
      const user = authUser("md5")
      const error = failureOf(
        yield* Effect.exit(
          PgConnection.make(tcpOptions({ user: user.name, password: user.password!, requireAuth: ["scram-sha-256"] })),
        ),
      )
      expect(error._tag).toBe("PgAuthenticationError")
      expect(error.message).toContain("MD5")
      expect(error.message).not.toContain(user.password!)
    }),
  )

  it.live("requireAuth refuses trust when a password method is required", () =>
    Effect.gen(function* () {
      const user = authUser("trust")
      const error = failureOf(
        yield* Effect.exit(PgConnection.make(tcpOptions({ user: user.name, requireAuth: ["scram-sha-256"] }))),
      )
      expect(error._tag).toBe("PgAuthenticationError")
    }),
  )

  it.live("an unknown database is SQLSTATE 3D000", () =>
    Effect.gen(function* () {
      const error = failureOf(yield* Effect.exit(connect({ database: "pgfx_no_such_db" })))
      expect(error._tag === "PgServerError" && error.condition).toBe("invalid_catalog_name")
    }),
  )
})

describe("server state", () => {
  it.live("serverVersion, serverPid, settings", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const conn = yield* connect({ applicationName: "pgfx-state" })
      const version = conn.serverVersion
      if (pg.version > 0) expect(version.major).toBe(pg.version)
      expect(version.raw).toBe(Option.getOrThrow(yield* conn.fetchVal("SHOW server_version")))
      expect(conn.serverPid).toBe(Option.getOrThrow(yield* conn.fetchVal("SELECT pg_backend_pid()")))
      expect(conn.settings.get("client_encoding")).toBe("UTF8")
      expect(conn.settings.get("application_name")).toBe("pgfx-state")
      expect(conn.settings.has("TimeZone")).toBe(true)
      // ParameterStatus is tracked as it changes.
      yield* conn.execute("SET TimeZone = 'America/New_York'")
      expect(conn.settings.get("TimeZone")).toBe("America/New_York")
      yield* conn.execute("SET application_name = 'renamed'")
      expect(conn.settings.get("application_name")).toBe("renamed")
    }),
  )

  it.live("isInTransaction and transactionStatus follow ReadyForQuery", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      expect(conn.isInTransaction).toBe(false)
      expect(conn.transactionStatus).toBe("idle")
      yield* conn.execute("BEGIN")
      expect(conn.isInTransaction).toBe(true)
      expect(conn.transactionStatus).toBe("transaction")
      yield* Effect.exit(conn.execute("SELECT 1/0"))
      expect(conn.transactionStatus).toBe("failed")
      yield* conn.execute("ROLLBACK")
      expect(conn.isInTransaction).toBe(false)
    }),
  )

  it.live("protocol 3.0 by default (as libpq 18), 3.2 on PostgreSQL 18 on request (long cancel key)", () =>
    Effect.gen(function* () {
      const pg = testCluster()
      const modern = yield* connect({ protocolVersion: "3.2" })
      expect(modern.protocolVersion).toBe(pg.version >= 18 ? "3.2" : "3.0")
      const byMinimum = yield* connect({ minProtocolVersion: "latest" })
      expect(byMinimum.protocolVersion).toBe(pg.version >= 18 ? "3.2" : "3.0")
      const legacy = yield* connect()
      expect(legacy.protocolVersion).toBe("3.0")
      expect(Option.getOrThrow(yield* legacy.fetchVal("SELECT 42"))).toBe(42)
    }),
  )
})

describe("closing", () => {
  it.live("close sends Terminate: the backend goes away, and later calls fail typed", () =>
    Effect.gen(function* () {
      const conn = yield* PgConnection.connect(tcpOptions({ applicationName: "pgfx-closing" }))
      const pid = conn.serverPid
      yield* conn.close()
      expect(conn.isClosed).toBe(true)
      const error = failureOf(yield* Effect.exit(Effect.map(conn.fetchVal("SELECT 1"), Option.getOrThrow)))
      expect(error._tag).toBe("PgConnectionError")
      // The server sees the session end.
      const gone = yield* withAdmin((admin) =>
        Effect.gen(function* () {
          for (let i = 0; i < 100; i++) {
            const n = Option.getOrThrow(
              yield* admin.fetchVal("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", [pid]),
            )
            if (n === 0n) return true
            yield* Effect.sleep("20 millis")
          }
          return false
        }),
      )
      expect(gone).toBe(true)
    }),
  )

  it.live("closing the scope closes the connection", () =>
    Effect.gen(function* () {
      const conn = yield* Effect.scoped(Effect.map(connect(), (c) => c))
      expect(conn.isClosed).toBe(true)
    }),
  )

  it.live("a connection killed by the server fails the next call with a typed error", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const pid = conn.serverPid
      yield* withAdmin((admin) =>
        Effect.map(admin.fetchVal("SELECT pg_terminate_backend($1)", [pid]), Option.getOrThrow),
      )
      const error = failureOf(yield* Effect.exit(Effect.map(conn.fetchVal("SELECT 1"), Option.getOrThrow)))
      expect(error._tag).toBe("PgConnectionError")
      expect(conn.isClosed).toBe(true)
    }),
  )
})
