/**
 * pgfx typed queries: declare each query once with Schemas for its parameters and its row,
 * check the declarations against the database when the app starts, then run them and get
 * domain values. Also the `sql` template for dynamic SQL.
 *
 *   DATABASE_URL=postgres://user:secret@localhost:5432/mydb node --conditions=@pgfx/source examples/typed-queries.ts
 *   (or libpq's PG* variables)
 */
import * as PgClient from "@pgfx/client/PgClient"
import * as PgQuery from "@pgfx/client/PgQuery"
import * as PgSchema from "@pgfx/client/PgSchema"
import { sql } from "@pgfx/client/PgSql"
import { Effect, Layer, Option, Schema, Stream } from "effect"

// --- the queries, declared once ----------------------------------------------------------------

const Product = Schema.Struct({
  id: Schema.Number,
  name: Schema.String,
  price: Schema.String, // numeric arrives as its exact text
  tags: Schema.Array(Schema.String),
  discontinued: Schema.OptionFromNullOr(PgSchema.DateFromTimestamp),
})

export const insertProduct = PgQuery.make({
  name: "insertProduct",
  sql: "INSERT INTO pgfx_example_products (name, price, tags) VALUES (:name, :price, :tags) RETURNING id",
  params: Schema.Struct({ name: Schema.String, price: Schema.String, tags: Schema.Array(Schema.String) }),
  row: Schema.Struct({ id: Schema.Number }),
})

export const productById = PgQuery.make({
  name: "productById",
  sql: "SELECT id, name, price, tags, discontinued FROM pgfx_example_products WHERE id = $1",
  params: Schema.Tuple([Schema.Number]),
  row: Product,
})

export const productsWithTag = PgQuery.make({
  name: "productsWithTag",
  sql: "SELECT id, name, price, tags, discontinued FROM pgfx_example_products WHERE :tag = ANY(tags) ORDER BY id",
  params: Schema.Struct({ tag: Schema.String }),
  row: Product,
})

export const discontinue = PgQuery.make({
  name: "discontinue",
  sql: "UPDATE pgfx_example_products SET discontinued = :at WHERE id = :id",
  params: Schema.Struct({ id: Schema.Number, at: PgSchema.DateFromTimestamp }),
})

// A declaration that does not match the table: `price` is numeric, `discontinued` nullable.
const wrong = PgQuery.make({
  name: "wrong",
  sql: "SELECT name, price, discontinued FROM pgfx_example_products",
  row: Schema.Struct({ name: Schema.String, price: Schema.Number, discontinued: PgSchema.DateFromTimestamp }),
})

// --- the program ------------------------------------------------------------------------------

const setup = PgClient.execute(`
  DROP TABLE IF EXISTS pgfx_example_products;
  CREATE TABLE pgfx_example_products (
    id           int4 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL,
    price        numeric(10, 2) NOT NULL,
    tags         text[] NOT NULL DEFAULT '{}',
    discontinued timestamptz
  )`)

const program = Effect.gen(function* () {
  const { id } = yield* insertProduct.one({ name: "espresso", price: "2.50", tags: ["coffee", "hot"] })
  yield* insertProduct.one({ name: "iced tea", price: "3.10", tags: ["cold"] })
  yield* insertProduct.one({ name: "cold brew", price: "4.00", tags: ["coffee", "cold"] })
  yield* discontinue.execute({ id, at: new Date("2025-01-31T12:00:00Z") })

  const espresso = yield* productById.one([id])
  console.log(
    "by id:",
    espresso.name,
    espresso.price,
    Option.map(espresso.discontinued, (d) => d.toISOString()),
  )
  console.log("missing:", Option.isNone(yield* productById.option([999])) ? "none" : "some")

  const cold = yield* productsWithTag.all({ tag: "cold" })
  console.log("cold:", cold.map((p) => p.name).join(", "))

  const streamed = yield* Stream.runCollect(productsWithTag.stream({ tag: "coffee" }))
  console.log("streamed coffee:", Array.from(streamed, (p) => p.name).join(", "))

  // Dynamic SQL with the template: values are parameters, identifiers are quoted.
  const names = ["espresso", "cold brew"]
  // `{ schema }` types the rows of an ad-hoc query (decoded once per row, like a PgQuery's row).
  const rows = yield* PgClient.fetch(
    sql`SELECT ${sql.id("name")} FROM ${sql.id("pgfx_example_products")} WHERE name IN ${sql.in(names)} ORDER BY id`,
    { schema: Schema.Struct({ name: Schema.String }) },
  )
  console.log("template:", rows.map((r) => r.name).join(", "))

  // A mismatch is reported before any row is decoded, listing every difference.
  yield* wrong.all().pipe(Effect.catchTag("PgQueryMismatchError", (e) => Effect.sync(() => console.log(e.message))))
  yield* PgClient.execute("DROP TABLE pgfx_example_products")
})

// The client from DATABASE_URL / PG* variables; the declared queries are checked at start.
const ClientLive = PgClient.layerConfig()
const CheckedLive = Layer.effectDiscard(setup).pipe(Layer.provideMerge(ClientLive))
const AppLive = PgQuery.layerCheck([insertProduct, productById, productsWithTag, discontinue]).pipe(
  Layer.provideMerge(CheckedLive),
)

// Only when run as a program: `npx pgfx check examples/typed-queries.ts` imports this module for
// its exported queries, and must not run the program.
if (import.meta.main) {
  Effect.runPromise(
    program.pipe(
      Effect.tap(() => Effect.sync(() => console.log("all declared queries match the database"))),
      Effect.provide(AppLive),
    ),
  ).catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
