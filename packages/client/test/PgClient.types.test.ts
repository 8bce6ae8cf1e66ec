/**
 * Type-level tests (checked by `tsc`, which includes this file): the `PgClient` accessor
 * functions accept exactly what the service methods accept. Each `@ts-expect-error` line is a
 * call that must NOT compile; were it to compile, tsc would report the unused directive.
 * The runtime part checks that the accepted forms build the same Effects without a server.
 */
import { describe, expect, it } from "@effect/vitest"
import * as PgClient from "@pgfx/client/PgClient"
import { sql } from "@pgfx/client/PgSql"
import { Effect } from "effect"

/** Compile-time only: never called. */
const accessorCalls = () => [
  PgClient.execute("CREATE TABLE t (a int)"),
  PgClient.execute("INSERT INTO t VALUES ($1)", [1]),
  PgClient.execute("INSERT INTO t VALUES ($1)", [1], { timeout: "1 second" }),
  PgClient.execute(sql`INSERT INTO t VALUES (${1})`),
  PgClient.execute(sql`INSERT INTO t VALUES (${1})`, { timeout: "1 second" }),
  PgClient.fetch("SELECT 1"),
  PgClient.fetch("SELECT $1::int", [1], { timeout: 1000 }),
  PgClient.fetch(sql`SELECT ${1}::int`, { timeout: "1 second" }),
  PgClient.fetchRow("SELECT $1::int", [1]),
  PgClient.fetchRow(sql`SELECT 1`, { timeout: "1 second" }),
  PgClient.fetchVal("SELECT $1::int, 2", [1], { column: 1 }),
  PgClient.fetchVal(sql`SELECT 1, 2`, { column: 1 }),

  // @ts-expect-error options where the arguments go (they would be sent as the arguments)
  PgClient.fetch("SELECT 1", { timeout: "1 second" }),
  // @ts-expect-error the same for execute
  PgClient.execute("SELECT 1", { timeout: "1 second" }),
  // @ts-expect-error the same for fetchRow
  PgClient.fetchRow("SELECT 1", { timeout: "1 second" }),
  // @ts-expect-error the same for fetchVal
  PgClient.fetchVal("SELECT 1, 2", { column: 1 }),
  // @ts-expect-error a fragment carries its own arguments
  PgClient.fetch(sql`SELECT ${1}::int`, [1]),
  // @ts-expect-error a fragment takes no third argument
  PgClient.fetch(sql`SELECT 1`, {}, {}),
  // @ts-expect-error fetchVal's `column` is not a query option of fetch
  PgClient.fetch("SELECT 1", [], { column: 1 }),
  // @ts-expect-error executeMany takes argument sets, not options, second
  PgClient.executeMany("INSERT INTO t VALUES ($1)", { timeout: "1 second" }),
  // @ts-expect-error cursor takes arguments second
  PgClient.cursor("SELECT 1", { prefetch: 10 }),
]

/** The same forms on the service value. */
const serviceCalls = (client: PgClient.PgClientShape) => [
  client.execute("INSERT INTO t VALUES ($1)", [1], { timeout: "1 second" }),
  client.execute(sql`INSERT INTO t VALUES (${1})`, { timeout: "1 second" }),
  client.fetch("SELECT $1::int", [1]),
  client.fetch(sql`SELECT 1`, { timeout: "1 second" }),
  client.fetchRow(sql`SELECT 1`),
  client.fetchVal("SELECT 1, 2", [], { column: 1 }),
  client.executeMany("INSERT INTO t VALUES ($1)", [[1], [2]], { timeout: "1 second" }),
  client.cursor("SELECT $1::int", [1], { prefetch: 10 }),

  // @ts-expect-error options where the arguments go
  client.fetch("SELECT 1", { timeout: "1 second" }),
  // @ts-expect-error the same for execute
  client.execute("SELECT 1", { timeout: "1 second" }),
  // @ts-expect-error a fragment carries its own arguments
  client.fetchRow(sql`SELECT ${1}::int`, [1]),
  // @ts-expect-error fetchVal's options, not arguments
  client.fetchVal("SELECT 1, 2", { column: 1 }),
  // @ts-expect-error executeMany takes argument sets second
  client.executeMany("INSERT INTO t VALUES ($1)", { timeout: "1 second" }),
]

/** An accessor's Effect requires the client; the service's does not. */
const requirements = (client: PgClient.PgClientShape) => {
  const viaAccessor: Effect.Effect<unknown, PgClient.PgClientError, PgClient.PgClient> = PgClient.fetch("SELECT 1")
  const viaService: Effect.Effect<unknown, PgClient.PgClientError> = client.fetch("SELECT 1")
  // @ts-expect-error the accessor needs PgClient in context
  const missing: Effect.Effect<unknown, PgClient.PgClientError> = PgClient.fetch("SELECT 1")
  return [viaAccessor, viaService, missing]
}

describe("PgClient accessors (types)", () => {
  it("build Effects for every accepted form without running them", () => {
    for (const effect of accessorCalls().slice(0, 12)) expect(Effect.isEffect(effect)).toBe(true)
    expect(typeof serviceCalls).toBe("function")
    expect(typeof requirements).toBe("function")
  })
})
