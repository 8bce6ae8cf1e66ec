/**
 * Several hosts against a real primary and a streaming hot standby (TempReplicaSet): the order
 * of hosts, per-host ports, every target_session_attrs value, load balancing, per-host connect
 * timeouts, the error listing every host, and following a failover.
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import type { PgConnectionOptions } from "@pgfx/client/PgConfig"
import { describe, expect, it, layer } from "@effect/vitest"
import * as TempReplicaSet from "@pgfx/testing/TempReplicaSet"
import { Context, Effect, Layer, Option } from "effect"
import * as net from "node:net"
import { failureOf } from "./support/failure.ts"

class ReplicaSet extends Context.Service<ReplicaSet, TempReplicaSet.TempReplicaSetShape>()("test/ReplicaSet") {}

type Node = TempReplicaSet.Node

/** Options reaching `nodes` in order over TCP, isolated from the environment. */
const over = (nodes: ReadonlyArray<Node>, extra: PgConnectionOptions = {}): PgConnectionOptions => ({
  host: nodes.map((n) => n.host),
  port: nodes.map((n) => n.port),
  user: "postgres",
  database: "postgres",
  environment: {},
  connectTimeout: "10 seconds",
  ...extra,
})

/** The port of the server a connection reached. */
const portOf = (options: PgConnectionOptions) =>
  Effect.scoped(
    Effect.flatMap(PgConnection.make(options), (conn) =>
      Effect.map(conn.fetchVal("SELECT current_setting('port')::int"), Option.getOrThrow),
    ),
  )

const listening = (onConnection: (socket: net.Socket) => void) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<{ server: net.Server; port: number; sockets: Array<net.Socket> }>((resolve) => {
          const sockets: Array<net.Socket> = []
          const server = net.createServer((s) => {
            sockets.push(s)
            onConnection(s)
          })
          server.listen(0, "127.0.0.1", () =>
            resolve({ server, port: (server.address() as net.AddressInfo).port, sockets }),
          )
        }),
    ),
    ({ server, sockets }) =>
      Effect.sync(() => {
        for (const s of sockets) s.destroy()
        server.close()
      }),
  )

/** A port nothing listens on (bound, read, closed). */
const freePort = Effect.scoped(
  Effect.map(
    listening(() => {}),
    ({ port }) => port,
  ),
)

// excludeTestServices: the real clock, since these tests wait on real servers.
layer(Layer.effect(ReplicaSet, TempReplicaSet.make()), { timeout: 120_000, excludeTestServices: true })(
  "several hosts",
  (it) => {
    it.effect("the standby streams from the primary and reports in_hot_standby", () =>
      Effect.gen(function* () {
        const { primary, standby } = yield* ReplicaSet
        const rows = yield* Effect.scoped(
          Effect.gen(function* () {
            const p = yield* PgConnection.make(over([primary]))
            const s = yield* PgConnection.make(over([standby]))
            expect(p.settings.get("in_hot_standby")).toBe("off")
            expect(s.settings.get("in_hot_standby")).toBe("on")
            yield* p.execute("CREATE TABLE IF NOT EXISTS replicated (id int)")
            yield* p.execute("INSERT INTO replicated VALUES (1)")
            for (let i = 0; i < 200; i++) {
              const n = Option.getOrThrow(
                yield* s.fetchVal("SELECT count(*) FROM pg_class WHERE relname = 'replicated'"),
              )
              if (n === 1n) return Option.getOrThrow(yield* s.fetchVal("SELECT count(*) FROM replicated"))
              yield* Effect.sleep("50 millis")
            }
            return -1n
          }),
        )
        expect(rows).toBeGreaterThanOrEqual(1n)
      }),
    )

    it.effect("any: the first host that accepts wins", () =>
      Effect.gen(function* () {
        const { primary, standby } = yield* ReplicaSet
        expect(yield* portOf(over([standby, primary]))).toBe(standby.port)
        expect(yield* portOf(over([primary, standby]))).toBe(primary.port)
      }),
    )

    it.effect("a host that refuses connections is skipped", () =>
      Effect.gen(function* () {
        const { primary } = yield* ReplicaSet
        const dead = yield* freePort
        expect(yield* portOf(over([{ ...primary, port: dead }, primary]))).toBe(primary.port)
      }),
    )

    it.effect("read-write and primary skip the standby; read-only and standby skip the primary", () =>
      Effect.gen(function* () {
        const { primary, standby } = yield* ReplicaSet
        expect(yield* portOf(over([standby, primary], { targetSessionAttrs: "read-write" }))).toBe(primary.port)
        expect(yield* portOf(over([standby, primary], { targetSessionAttrs: "primary" }))).toBe(primary.port)
        expect(yield* portOf(over([primary, standby], { targetSessionAttrs: "read-only" }))).toBe(standby.port)
        expect(yield* portOf(over([primary, standby], { targetSessionAttrs: "standby" }))).toBe(standby.port)
      }),
    )

    it.effect("unix sockets with per-host ports, in a URL", () =>
      Effect.gen(function* () {
        const { primary, standby } = yield* ReplicaSet
        const url =
          `postgres://postgres@${encodeURIComponent(standby.socketDir)}:${standby.port},` +
          `${encodeURIComponent(primary.socketDir)}:${primary.port}/postgres?target_session_attrs=read-write`
        expect(yield* portOf({ url, environment: {} })).toBe(primary.port)
      }),
    )

    it.effect("prefer-standby takes a standby when there is one, else any server", () =>
      Effect.gen(function* () {
        const { primary, standby } = yield* ReplicaSet
        expect(yield* portOf(over([primary, standby], { targetSessionAttrs: "prefer-standby" }))).toBe(standby.port)
        expect(yield* portOf(over([primary], { targetSessionAttrs: "prefer-standby" }))).toBe(primary.port)
      }),
    )

    it.effect("read-only also accepts a primary whose sessions default to read-only", () =>
      Effect.gen(function* () {
        const { primary, standby } = yield* ReplicaSet
        const readOnlyPrimary = { commandLineOptions: "-c default_transaction_read_only=on" }
        expect(yield* portOf(over([primary, standby], { ...readOnlyPrimary, targetSessionAttrs: "read-only" }))).toBe(
          primary.port,
        )
        const error = failureOf(
          yield* Effect.exit(portOf(over([primary], { ...readOnlyPrimary, targetSessionAttrs: "read-write" }))),
        )
        expect(error._tag === "PgConnectionError" && error.reason).toBe("TargetSessionAttrs")
      }),
    )

    it.effect("one host that does not fit: its own typed error", () =>
      Effect.gen(function* () {
        const { primary } = yield* ReplicaSet
        const error = failureOf(yield* Effect.exit(portOf(over([primary], { targetSessionAttrs: "standby" }))))
        expect(error._tag).toBe("PgConnectionError")
        if (error._tag !== "PgConnectionError") return
        expect(error.reason).toBe("TargetSessionAttrs")
        expect(error.message).toContain("not in hot standby")
      }),
    )

    it.effect("no host fits: one error listing every host's failure", () =>
      Effect.gen(function* () {
        const { primary } = yield* ReplicaSet
        const dead = yield* freePort
        const error = failureOf(
          yield* Effect.exit(portOf(over([primary, { ...primary, port: dead }], { targetSessionAttrs: "standby" }))),
        )
        expect(error._tag).toBe("PgConnectionError")
        if (error._tag !== "PgConnectionError") return
        expect(error.reason).toBe("AllHostsFailed")
        expect(error.attempts?.map((a) => [a.port, a.error._tag === "PgConnectionError" && a.error.reason])).toEqual([
          [primary.port, "TargetSessionAttrs"],
          [dead, "ConnectFailed"],
        ])
        expect(error.message).toContain(String(dead))
      }),
    )

    it.effect("connectTimeout bounds each host: a silent host is given up and the next one used", () =>
      Effect.gen(function* () {
        const { primary } = yield* ReplicaSet
        const silent = yield* listening(() => {})
        const started = Date.now()
        const port = yield* portOf(over([{ ...primary, port: silent.port }, primary], { connectTimeout: "500 millis" }))
        expect(port).toBe(primary.port)
        expect(Date.now() - started).toBeGreaterThanOrEqual(450)
        expect(Date.now() - started).toBeLessThan(10_000)
      }),
    )

    it.effect("load_balance_hosts=random spreads connections; disable keeps the order", () =>
      Effect.gen(function* () {
        const { primary, standby } = yield* ReplicaSet
        const seen = new Set<unknown>()
        for (let i = 0; i < 30 && seen.size < 2; i++) {
          seen.add(yield* portOf(over([primary, standby], { loadBalanceHosts: "random" })))
        }
        expect(seen).toEqual(new Set([primary.port, standby.port]))
        for (let i = 0; i < 5; i++) expect(yield* portOf(over([primary, standby]))).toBe(primary.port)
      }),
    )

    // Last: it stops the primary.
    it.effect("a new connection follows a failover: primary is re-evaluated on every connect", () =>
      Effect.gen(function* () {
        const set = yield* ReplicaSet
        const options = over([set.primary, set.standby], { targetSessionAttrs: "primary", connectTimeout: "5 seconds" })
        expect(yield* portOf(options)).toBe(set.primary.port)
        yield* set.stopPrimary()
        const before = failureOf(yield* Effect.exit(portOf(options)))
        expect(before._tag === "PgConnectionError" && before.reason).toBe("AllHostsFailed")
        yield* set.promoteStandby()
        expect(yield* portOf(options)).toBe(set.standby.port)
        expect(yield* portOf({ ...options, targetSessionAttrs: "read-write" })).toBe(set.standby.port)
      }),
    )
  },
)

describe("several hosts without a server", () => {
  it.live("a host list longer than the port list is a config error", () =>
    Effect.gen(function* () {
      const error = failureOf(
        yield* Effect.exit(PgConnection.make({ host: ["a", "b", "c"], port: [1, 2], environment: {} })),
      )
      expect(error._tag).toBe("PgConfigError")
    }),
  )
})
