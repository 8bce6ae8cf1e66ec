/**
 * pgfx quickstart: connect, create a table, insert rows with parameters, fetch them, print them.
 *
 * Run it with `npm run example`. With no connection settings it starts a throwaway embedded
 * PostgreSQL 18 (and removes it afterwards). To use an existing server instead, give a URL or
 * libpq's PG* variables:
 *
 *   DATABASE_URL=postgres://user:secret@localhost:5432/mydb npm run example
 *   PGHOST=localhost PGUSER=postgres PGDATABASE=postgres npm run example
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import * as TempCluster from "@pgfx/testing/TempCluster"
import { Effect, Option, Schema } from "effect"

/** A row as the application wants it: decoded by this Schema, typed by it. */
const Product = Schema.Struct({ id: Schema.BigInt, name: Schema.String, price: Schema.NullOr(Schema.String) })

const program = (options: PgConnection.PgConnectionOptions) =>
  Effect.gen(function* () {
    const conn = yield* PgConnection.make(options)
    console.log(`connected to PostgreSQL ${conn.serverVersion.raw} (backend pid ${conn.serverPid})`)

    yield* conn.execute(`
      DROP TABLE IF EXISTS pgfx_quickstart;
      CREATE TABLE pgfx_quickstart (
        id     int8 PRIMARY KEY,
        name   text NOT NULL,
        price  numeric(10, 2),
        added  timestamptz NOT NULL DEFAULT now()
      )`)

    for (const [id, name, price] of [
      [1n, "espresso", "2.50"],
      [2n, "flat white", "3.80"],
      [3n, "filter", null],
    ] as const) {
      yield* conn.execute("INSERT INTO pgfx_quickstart (id, name, price) VALUES ($1, $2, $3)", [id, name, price])
    }

    const products = yield* conn.fetch("SELECT id, name, price FROM pgfx_quickstart WHERE id >= $1 ORDER BY id", [1n], {
      schema: Product,
    })
    for (const product of products) console.log(product)

    // One value: None when there is no row (count(*) always has one).
    const count = yield* conn.fetchVal("SELECT count(*) FROM pgfx_quickstart", [], { schema: Schema.BigInt })
    console.log(`${Option.getOrElse(count, () => 0n)} rows`)
    yield* conn.execute("DROP TABLE pgfx_quickstart")
  }).pipe(Effect.scoped)

const hasSettings = ["DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"].some((k) => process.env[k])

const main = hasSettings
  ? program({ url: process.env.DATABASE_URL })
  : Effect.gen(function* () {
      console.log("no connection settings given: starting an embedded PostgreSQL")
      const cluster = yield* TempCluster.make()
      yield* program({ host: cluster.host, port: cluster.port, user: cluster.user, database: cluster.database })
    }).pipe(Effect.scoped)

Effect.runPromise(main).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
