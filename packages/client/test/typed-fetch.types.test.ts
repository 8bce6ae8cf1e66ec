/**
 * Type-level tests (checked by `tsc`) of the Schema-typed `fetch`, `fetchRow` and `fetchVal` on a
 * connection, a pool, the client service and its accessors: the result type is the Schema's,
 * `PgSchemaError` appears only with a Schema, and what must not compile (a type argument without
 * a Schema, a Schema that needs services, options where the arguments go) does not. Each
 * `@ts-expect-error` line is a call that must NOT compile.
 */
import { describe, expect, it } from "@effect/vitest"
import * as PgClient from "@pgfx/client/PgClient"
import type { PgConnection } from "@pgfx/client/PgConnection"
import type { PgQueryError } from "@pgfx/client/PgError"
import type { PgPool, PgPoolError } from "@pgfx/client/PgPool"
import type { PgRecord } from "@pgfx/client/PgRecord"
import type { PgSchemaError } from "@pgfx/client/PgSchema"
import type { PgStatement } from "@pgfx/client/PgStatement"
import { sql } from "@pgfx/client/PgSql"
import { Effect, type Option, Schema } from "effect"

type Equals<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false
const same = <X, Y>(_proof: Equals<X, Y>) => {}

const User = Schema.Struct({ id: Schema.Number, name: Schema.String })
type User = typeof User.Type

type Value<T> = T extends Effect.Effect<infer A, infer _E, infer _R> ? A : never
type Failure<T> = T extends Effect.Effect<infer _A, infer E, infer _R> ? E : never
type Needs<T> = T extends Effect.Effect<infer _A, infer _E, infer R> ? R : never

/** Compile-time only: never called. */
const onConnection = (conn: PgConnection) => {
  const users = conn.fetch("SELECT id, name FROM users WHERE id > $1", [1], { schema: User })
  same<Value<typeof users>, Array<User>>(true)
  same<Failure<typeof users>, PgQueryError | PgSchemaError>(true)
  const viaFragment = conn.fetch(sql`SELECT id, name FROM users WHERE id > ${1}`, { schema: User, timeout: 1000 })
  same<Value<typeof viaFragment>, Array<User>>(true)
  const raw = conn.fetch("SELECT 1")
  same<Value<typeof raw>, Array<PgRecord>>(true)
  same<Failure<typeof raw>, PgQueryError>(true)
  const row = conn.fetchRow("SELECT id, name FROM users LIMIT 1", [], { schema: User })
  same<Value<typeof row>, Option.Option<User>>(true)
  const rawRow = conn.fetchRow(sql`SELECT 1`)
  same<Value<typeof rawRow>, Option.Option<PgRecord>>(true)
  const count = conn.fetchVal("SELECT count(*) FROM users", [], { schema: Schema.BigInt })
  same<Value<typeof count>, Option.Option<bigint>>(true)
  const second = conn.fetchVal(sql`SELECT 1, 'b'`, { column: 1, schema: Schema.String })
  same<Value<typeof second>, Option.Option<string>>(true)
  const nullable = conn.fetchVal("SELECT NULL::int", [], { schema: Schema.NullOr(Schema.Number) })
  same<Value<typeof nullable>, Option.Option<number | null>>(true)
  const rawValue = conn.fetchVal("SELECT 1")
  same<Value<typeof rawValue>, Option.Option<unknown>>(true)
  same<Failure<typeof rawValue>, PgQueryError>(true)
  return [users, viaFragment, raw, row, rawRow, count, second, nullable, rawValue]
}

interface Clock {
  readonly now: number
}
/** A Schema whose decoding needs a service (type only): a row decodes synchronously, without services. */
declare const NeedsClock: Schema.Codec<number, number, Clock>

const mustNotCompile = (conn: PgConnection) => [
  // @ts-expect-error a row type without a Schema is a cast: refused
  conn.fetch<User>("SELECT id, name FROM users"),
  // @ts-expect-error the same through fetchRow
  conn.fetchRow<User>("SELECT id, name FROM users", []),
  // @ts-expect-error the Schema goes into the options, not where the arguments go
  conn.fetch("SELECT 1", { schema: User }),
  // @ts-expect-error a Schema whose decoding needs services cannot decode rows synchronously
  conn.fetchVal("SELECT 1", [], { schema: NeedsClock }),
  // @ts-expect-error not a Schema
  conn.fetch("SELECT 1", [], { schema: (row: unknown) => row }),
  // @ts-expect-error `column` belongs to fetchVal
  conn.fetch("SELECT 1", [], { schema: User, column: 1 }),
  // @ts-expect-error a fragment carries its own arguments
  conn.fetchRow(sql`SELECT 1`, [], { schema: User }),
]

const wrongType = (conn: PgConnection) => {
  // @ts-expect-error the rows are Users, not strings
  const names: Effect.Effect<Array<string>, unknown> = conn.fetch("SELECT id, name FROM users", [], { schema: User })
  // @ts-expect-error fetchVal's value is an Option, never the bare value
  const bare: Effect.Effect<bigint, unknown> = conn.fetchVal("SELECT 1", [], { schema: Schema.BigInt })
  return [names, bare]
}

const onStatement = (stmt: PgStatement) => {
  const users = stmt.fetch([1], { schema: User })
  same<Value<typeof users>, Array<User>>(true)
  same<Failure<typeof users>, PgQueryError | PgSchemaError>(true)
  const raw = stmt.fetchRow([1])
  same<Value<typeof raw>, Option.Option<PgRecord>>(true)
  same<Failure<typeof raw>, PgQueryError>(true)
  const n = stmt.fetchVal([], { schema: Schema.BigInt })
  same<Value<typeof n>, Option.Option<bigint>>(true)
  // @ts-expect-error a row type without a Schema
  const cast = stmt.fetch<User>([1])
  return [users, raw, n, cast]
}

const onPool = (pool: PgPool) => {
  const users = pool.fetch(sql`SELECT id, name FROM users`, { schema: User })
  same<Value<typeof users>, Array<User>>(true)
  same<Failure<typeof users>, PgQueryError | PgPoolError | PgSchemaError>(true)
  const row = pool.fetchRow("SELECT id, name FROM users", [], { schema: User })
  same<Value<typeof row>, Option.Option<User>>(true)
  const n = pool.fetchVal("SELECT 1", [], { schema: Schema.Number })
  same<Value<typeof n>, Option.Option<number>>(true)
  // @ts-expect-error a row type without a Schema
  const cast = pool.fetch<User>("SELECT 1")
  return [users, row, n, cast]
}

const onClient = (client: PgClient.PgClientShape) => {
  const users = client.fetch("SELECT id, name FROM users", [], { schema: User })
  same<Value<typeof users>, Array<User>>(true)
  same<Failure<typeof users>, PgClient.PgClientError | PgSchemaError>(true)
  const viaAccessor = PgClient.fetch(sql`SELECT id, name FROM users`, { schema: User })
  same<Value<typeof viaAccessor>, Array<User>>(true)
  same<Needs<typeof viaAccessor>, PgClient.PgClient>(true)
  const row = PgClient.fetchRow("SELECT id, name FROM users", [], { schema: User })
  same<Value<typeof row>, Option.Option<User>>(true)
  const n = PgClient.fetchVal(sql`SELECT count(*) FROM users`, { schema: Schema.BigInt })
  same<Value<typeof n>, Option.Option<bigint>>(true)
  const raw = PgClient.fetchVal("SELECT 1")
  same<Failure<typeof raw>, PgClient.PgClientError>(true)
  // @ts-expect-error the Schema goes into the options
  const misplaced = PgClient.fetchRow("SELECT 1", { schema: User })
  // @ts-expect-error a row type without a Schema
  const cast = PgClient.fetch<User>("SELECT 1")
  return [users, viaAccessor, row, n, raw, misplaced, cast]
}

describe("typed fetch (types)", () => {
  it("the accessors build Effects for the typed forms without running them", () => {
    const effects = [
      PgClient.fetch("SELECT 1 AS id, 'a' AS name", [], { schema: User }),
      PgClient.fetchRow(sql`SELECT 1 AS id, 'a' AS name`, { schema: User }),
      PgClient.fetchVal("SELECT 1", [], { schema: Schema.Number }),
    ]
    for (const effect of effects) expect(Effect.isEffect(effect)).toBe(true)
    expect(
      [onConnection, mustNotCompile, wrongType, onStatement, onPool, onClient].every((f) => typeof f === "function"),
    ).toBe(true)
  })
})
