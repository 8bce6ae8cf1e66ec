/**
 * A private schema per test, so examples that create tables with fixed names (`mytab`) can run
 * concurrently with other suites on the shared database. Dropped (CASCADE) when the scope closes.
 */
import type { PgConnectionOptions } from "@pgfx/client/PgConfig"
import { Effect } from "effect"
import { connect, withAdmin } from "./connect.ts"

let counter = 0

/** Creates a fresh schema and returns a connection whose search_path is that schema. */
export const connectInSchema = (overrides: PgConnectionOptions = {}) =>
  Effect.gen(function* () {
    const schema = `t_${process.pid}_${Date.now().toString(36)}_${++counter}`
    yield* Effect.acquireRelease(
      withAdmin((admin) => admin.execute(`CREATE SCHEMA ${schema}`)),
      () => Effect.ignore(withAdmin((admin) => admin.execute(`DROP SCHEMA ${schema} CASCADE`))),
    )
    const conn = yield* connect({ ...overrides, serverSettings: { search_path: schema } })
    return { conn, schema }
  })
