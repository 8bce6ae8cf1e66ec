/**
 * Pools over a scripted server (MockBackend) for pool tests without PostgreSQL: a server that
 * accepts every connection and answers every simple query (the pool's reset), and a checkout held
 * in a scope of its own.
 */
import * as PgPool from "@pgfx/client/PgPool"
import * as MockBackend from "@pgfx/testing/MockBackend"
import { Effect, Exit, Scope } from "effect"

/** A server accepting every connection (process id 1000 + i) and answering every simple query. */
export const acceptingServer = MockBackend.serve((i) => [
  MockBackend.acceptUnauthenticatedConnection({}, { processId: 1000 + i }),
  MockBackend.respond((m) =>
    m._tag === "Query"
      ? [
          { _tag: "CommandComplete", tag: "RESET" },
          { _tag: "ReadyForQuery", status: "I" },
        ]
      : [],
  ),
])

/** A pool on `mock`. */
export const poolOn = (mock: MockBackend.MockBackend, options: PgPool.PgPoolOptions) =>
  PgPool.make({ host: mock.host, port: mock.port, user: "u", database: "d", sslMode: "disable", ...options })

/** Checks a connection out into a scope of its own; returns its process id and the Effect that releases it. */
export const hold = (pool: PgPool.PgPool) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const conn = yield* Scope.provide(pool.acquire(), scope)
    return { pid: conn.serverPid, release: Scope.close(scope, Exit.void) }
  })
