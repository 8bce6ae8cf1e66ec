/**
 * effect/sql on pgfx: `@pgfx/sql` provides effect's `SqlClient`, so code written for
 * `@effect/sql-pg` (the `sql` template, `SqlSchema`, `Migrator`, transactions) runs on pgfx.
 *
 *   DATABASE_URL=postgres://user:secret@localhost:5432/mydb node --conditions=@pgfx/source examples/effect-sql.ts
 *   (or libpq's PG* variables)
 */
import * as PgSqlClient from "@pgfx/sql/PgSqlClient"
import { Effect, Layer, Schema, Stream } from "effect"
import * as Migrator from "effect/sql/Migrator"
import { SqlClient } from "effect/sql/SqlClient"
import * as SqlSchema from "effect/sql/SqlSchema"

const migrations = Migrator.fromRecord({
  "1_create_accounts": Effect.gen(function* () {
    const sql = yield* SqlClient
    yield* sql`CREATE TABLE pgfx_example_accounts (id serial PRIMARY KEY, owner text NOT NULL UNIQUE, balance int NOT NULL CHECK (balance >= 0))`
  }),
  "2_seed": Effect.gen(function* () {
    const sql = yield* SqlClient
    yield* sql`INSERT INTO pgfx_example_accounts ${sql.insert([
      { owner: "ada", balance: 100 },
      { owner: "grace", balance: 50 },
    ])}`
  }),
})

const Account = Schema.Struct({ id: Schema.Number, owner: Schema.String, balance: Schema.Number })

const program = Effect.gen(function* () {
  const sql = yield* SqlClient
  const applied = yield* Migrator.make({})({ loader: migrations, table: "pgfx_example_migrations" })
  console.log("migrations applied:", applied.map(([id, name]) => `${id}_${name}`).join(", "))

  const byOwner = SqlSchema.findOneOption({
    Request: Schema.String,
    Result: Account,
    execute: (owner) => sql`SELECT id, owner, balance FROM pgfx_example_accounts WHERE owner = ${owner}`,
  })

  const transfer = (from: string, to: string, amount: number) =>
    sql.withTransaction(
      Effect.gen(function* () {
        yield* sql`UPDATE pgfx_example_accounts SET balance = balance - ${amount} WHERE owner = ${from}`
        yield* sql`UPDATE pgfx_example_accounts SET balance = balance + ${amount} WHERE owner = ${to}`
      }),
    )

  yield* transfer("ada", "grace", 30)
  // Overdrawing violates the CHECK constraint: the whole transaction rolls back.
  const refused = yield* transfer("grace", "ada", 500).pipe(
    Effect.catchTag("SqlError", (e) => Effect.succeed(e.reason._tag)),
  )
  console.log("overdraft:", refused)

  const ada = yield* byOwner("ada")
  console.log("ada:", ada._tag === "Some" ? ada.value.balance : "missing")
  const all = yield* Stream.runCollect(sql`SELECT owner, balance FROM pgfx_example_accounts ORDER BY owner`.stream)
  console.log("balances:", Array.from(all, (r) => `${r["owner"]}=${r["balance"]}`).join(" "))

  yield* sql`DROP TABLE pgfx_example_accounts, pgfx_example_migrations`
})

// The connection comes from DATABASE_URL (or PG* variables, read by pgfx).
const SqlLive = PgSqlClient.layer(process.env["DATABASE_URL"] ? { url: process.env["DATABASE_URL"] } : {})

Effect.runPromise(program.pipe(Effect.provide(Layer.mergeAll(SqlLive)))).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
