/**
 * asyncpg's "2 ^ power" web service (from its usage guide), as an Effect HTTP server on a pgfx
 * pool: `GET /10` answers `2 ^ 10 is 1024`, `GET /` uses power 10.
 *
 * The database comes from `PgClient.layerConfig()`: libpq's variables (`DATABASE_URL`, or
 * `PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, ...). With none set it starts a throwaway embedded
 * PostgreSQL. The server listens on 127.0.0.1:`PORT` (default 8080); Ctrl-C stops it, and the
 * pool closes gracefully after the last request.
 *
 *   PGHOST=localhost PGUSER=postgres PORT=8080 node --conditions=@pgfx/source examples/web-service.ts
 *   curl http://127.0.0.1:8080/16
 */
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import * as PgClient from "@pgfx/client/PgClient"
import * as PgError from "@pgfx/client/PgError"
import type * as PgPool from "@pgfx/client/PgPool"
import * as TempCluster from "@pgfx/testing/TempCluster"
import { type Config, Effect, Layer, Option, Schema } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { createServer } from "node:http"

/** Handles a request: one pooled connection, one transaction, one query. */
const handle = Effect.gen(function* () {
  const { power = "10" } = yield* HttpRouter.params
  if (!/^\d+$/.test(power)) return HttpServerResponse.text("power must be a whole number", { status: 404 })
  // asyncpg: `async with pool.acquire() as connection: async with connection.transaction(): ...`.
  // `PgClient.transaction` takes a connection from the pool and opens a transaction on it;
  // every PgClient query inside runs on that connection. It commits when the block succeeds,
  // rolls back when it fails (or the client goes away), and releases the connection either way.
  const result = yield* PgClient.fetchVal("SELECT 2 ^ $1", [Number(power)], { schema: Schema.Number }).pipe(
    PgClient.transaction(),
  )
  return HttpServerResponse.text(`2 ^ ${power} is ${Option.getOrElse(result, () => Number.NaN)}`)
}).pipe(
  // 2 ^ 5000 overflows float8: a data exception (SQLSTATE class 22), the request's fault. The
  // handler's `error` is narrowed: `error.conditionClass` is "data_exception".
  PgError.catchClass("data_exception", (error) =>
    Effect.succeed(HttpServerResponse.text(`cannot compute: ${error.message}`, { status: 400 })),
  ),
  Effect.catchTag("PgServerError", (error) =>
    Effect.succeed(HttpServerResponse.text(`database error: ${error.message}`, { status: 500 })),
  ),
)

const Routes = HttpRouter.addAll([HttpRouter.route("GET", "/", handle), HttpRouter.route("GET", "/:power", handle)])

const hasSettings = ["DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"].some((k) => process.env[k])

/** The pool: from libpq's variables, or on a throwaway embedded PostgreSQL. */
const Database: Layer.Layer<PgClient.PgClient, PgPool.PgPoolError | Config.ConfigError | TempCluster.TempClusterError> =
  hasSettings
    ? PgClient.layerConfig()
    : Layer.effect(
        PgClient.PgClient,
        Effect.gen(function* () {
          yield* Effect.log("no connection settings given: starting an embedded PostgreSQL")
          const cluster = yield* TempCluster.make()
          return yield* PgClient.make({ host: cluster.host, port: cluster.port, user: cluster.user, min: 2, max: 10 })
        }),
      )

const port = Number(process.env.PORT ?? 8080)

const Server = HttpRouter.serve(Routes).pipe(
  Layer.provide(NodeHttpServer.layer(createServer, { port, host: "127.0.0.1" })),
  Layer.provide(Database),
)

Layer.launch(Server).pipe(NodeRuntime.runMain)
