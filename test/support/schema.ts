/**
 * A throwaway schema per test, so suites that create types never collide: `schemaConnect()`
 * creates a uniquely named schema, returns a connection whose `search_path` is that schema (then
 * `public`, where extensions live), and drops the schema when the test's scope closes.
 */
import type { PgConnectionOptions } from "@pgfx/client/PgConfig"
import { Effect } from "effect"
import { connect, withAdmin } from "./connect.ts"

let counter = 0

/** Creates a fresh schema; returns its name and a scoped connection using it. */
export const schemaConnect = (overrides: PgConnectionOptions = {}) =>
  Effect.gen(function* () {
    const schema = `pgfx_t${process.pid}_${++counter}_${Math.floor(Math.random() * 1e6)}`
    yield* withAdmin((admin) => admin.execute(`CREATE SCHEMA ${schema}`))
    yield* Effect.addFinalizer(() =>
      Effect.ignore(withAdmin((admin) => admin.execute(`DROP SCHEMA ${schema} CASCADE`))),
    )
    const settings = { search_path: `${schema}, public`, TimeZone: "UTC", ...overrides.serverSettings }
    const conn = yield* connect({ ...overrides, serverSettings: settings })
    return { schema, conn, settings }
  })

/** Another connection to the same schema (e.g. with other codecs). */
export const schemaConnectAgain = (schema: string, overrides: PgConnectionOptions = {}) =>
  connect({ ...overrides, serverSettings: { search_path: `${schema}, public`, TimeZone: "UTC" } })

/** Installs an extension once per database (concurrent installs from other files are tolerated). */
export const ensureExtension = (name: string) =>
  withAdmin((admin) =>
    admin
      .execute(`CREATE EXTENSION IF NOT EXISTS ${name}`)
      .pipe(
        Effect.catchTag("PgServerError", (e) =>
          e.code === "23505" || e.code === "42710" ? Effect.succeed("exists") : Effect.fail(e),
        ),
      ),
  )

/** A fresh schema and a connection whose search_path starts with it (see {@link schemaConnect}). */
export const connectInSchema = (overrides: PgConnectionOptions = {}) =>
  Effect.map(schemaConnect(overrides), ({ conn, schema }) => ({ conn, schema }))
