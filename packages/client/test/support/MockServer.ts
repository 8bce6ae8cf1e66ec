/**
 * Connections and pools over a scripted server (MockBackend), for tests without PostgreSQL: a
 * connection to a mock, a server that accepts every connection and answers every simple query
 * (the pool's reset), a pool on it, and a checkout held in a scope of its own.
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgPool from "@pgfx/client/PgPool"
import * as MockBackend from "@pgfx/testing/MockBackend"
import { Effect, Exit, Scope } from "effect"

/**
 * A connection to `mock` (plaintext: the scripts start with the StartupMessage; no PG* variables
 * from the environment), plus `extra` options.
 */
export const connectTo = (mock: MockBackend.MockBackend, extra: PgConnection.PgConnectionOptions = {}) =>
  PgConnection.make({
    host: mock.host,
    port: mock.port,
    user: "u",
    database: "d",
    connectTimeout: "5 seconds",
    environment: {},
    sslMode: "disable",
    ...extra,
  })

/** A script step answering every simple query (e.g. a rollback-only reset) with one CommandComplete. */
export const answerSimpleQueries = MockBackend.respond((m) =>
  m._tag === "Query"
    ? [
        { _tag: "CommandComplete", tag: "RESET" },
        { _tag: "ReadyForQuery", status: "I" },
      ]
    : [],
)

/** A server accepting every connection (process id 1000 + i) and answering every simple query. */
export const acceptingServer = MockBackend.serve((i) => [
  MockBackend.acceptUnauthenticatedConnection({}, { processId: 1000 + i }),
  answerSimpleQueries,
])

/** A pool on `mock`. */
export const poolOn = (mock: MockBackend.MockBackend, options: PgPool.PgPoolOptions) =>
  PgPool.make({ host: mock.host, port: mock.port, user: "u", database: "d", sslMode: "disable", ...options })

/**
 * Checks a connection out into a scope of its own; returns its process id and the Effect that
 * releases it (at the latest when the caller's scope closes).
 */
export const hold = (pool: PgPool.PgPool) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
    const conn = yield* Scope.provide(pool.acquire(), scope)
    return { pid: conn.serverPid, release: Scope.close(scope, Exit.void) }
  })
