/**
 * Where an operation runs (internal/Route.ts): every entry point given a client or a pool (or
 * run with `PgClient` in context) follows the fiber's open transaction or savepoint, and outside
 * one runs on a checkout that is released afterwards.
 *
 * The matrix is generated from ONE list of entry points, typed against the modules' exports
 * (`Record<keyof ..., Row>`): an entry point added to `PgClientShape`, `PgPool`, `PgCopy` or
 * `PgQuery` without a row here does not type-check, and the runtime completeness test fails too.
 * Each row runs {inside a transaction, inside a nested savepoint, outside}, through
 * `PgClient.transaction` and through `@pgfx/sql`'s `withTransaction`.
 *
 * The probe: a trigger fills `t.a` with `100 + count(*)` of the rows the inserting statement
 * sees, and `probe()` inserts such a row. So a probe that runs on the transaction's connection
 * inserts 101 after the transaction's row 1 (102 in the savepoint, after 1 and 2), one that runs
 * elsewhere inserts 100 and commits on its own.
 */
import { expect, layer } from "@effect/vitest"
import * as PgClient from "@pgfx/client/PgClient"
import * as PgCopy from "@pgfx/client/PgCopy"
import type * as PgPool from "@pgfx/client/PgPool"
import * as PgQuery from "@pgfx/client/PgQuery"
import * as PgSqlClient from "@pgfx/sql/PgSqlClient"
import { Deferred, Effect, Fiber, Layer, Option, Ref, Schema, type Scope, Stream } from "effect"
import { SqlClient } from "effect/sql/SqlClient"
import * as fs from "node:fs"
import * as path from "node:path"
import { failureOf } from "./support/failure.ts"
import { eventually, poolOptions } from "./support/pool.ts"
import { schemaConnect } from "./support/schema.ts"

type Env = PgClient.PgClient | SqlClient | Scope.Scope

/**
 * One entry point. `writes`: the probe inserts through `probe()` (or the trigger), the harness
 * checks the value and that a rollback undoes it. Otherwise the probe checks itself, given how
 * many rows of `t` it must see (and the table `fresh`, created where the probe must look).
 */
interface Row {
  readonly writes: boolean
  readonly probe: (seen: number) => Effect.Effect<unknown, unknown, Env>
  /** `notify`: delivered only outside a transaction (inside: at commit, never after a rollback). */
  readonly notifies?: boolean
}

/** A probe runs in its own Scope: whatever it checked out is released when it ends. */
const writer = (probe: Effect.Effect<unknown, unknown, Env>): Row => ({
  writes: true,
  probe: () => Effect.scoped(probe),
})
const reader = (probe: (seen: number) => Effect.Effect<unknown, unknown, Env>): Row => ({
  writes: false,
  probe: (seen) => Effect.scoped(probe(seen)),
})

const PROBE = "SELECT probe() AS a"
const sqlClient = Effect.service(SqlClient)
const withClient = <A, E, R>(f: (client: PgClient.PgClientShape) => Effect.Effect<A, E, R>) => PgClient.PgClient.use(f)

// -------------------------------------------------------------------------------------------------
// The entry points

/** Client members that are not operations on the pool's connections, and why. */
type NotRouted =
  | "pool" // the pool itself (its shortcuts have rows below)
  | "listener" // the listener value
  | "listen" // notifications are read on the dedicated listener connection, never a pooled one
  | "subscribe"
  | "acquire" // documented: always a fresh checkout, even inside a transaction
  | "withConnection"

const clientRows: Record<Exclude<keyof PgClient.PgClientShape, NotRouted>, Row> = {
  execute: writer(PgClient.execute(PROBE)),
  fetch: writer(PgClient.fetch(PROBE)),
  fetchRow: writer(PgClient.fetchRow(PROBE)),
  fetchVal: writer(Effect.map(PgClient.fetchVal(PROBE), Option.getOrThrow)),
  executeMany: writer(PgClient.executeMany("SELECT probe() WHERE $1::int = 1", [[1]])),
  fetchMany: writer(PgClient.fetchMany("SELECT probe() WHERE $1::int = 1", [[1]])),
  cursor: writer(Stream.runCollect(PgClient.cursor(PROBE))),
  openCursor: writer(Effect.flatMap(PgClient.openCursor(PROBE), (cursor) => cursor.fetch(10))),
  prepare: writer(Effect.flatMap(PgClient.prepare(PROBE), (statement) => statement.fetch())),
  transaction: writer(PgClient.transaction(PgClient.fetch(PROBE))),
  notify: { writes: false, notifies: true, probe: () => PgClient.notify("pgfx_route", "x") },
}

/** Pool members that are not shortcuts: fresh checkouts by definition, and the pool's controls. */
type PoolControl =
  | "acquire"
  | "withConnection"
  | "expireConnections"
  | "setConnectArgs"
  | "size"
  | "idle"
  | "min"
  | "max"
  | "waiting"
  | "stats"
  | "owns"
  | "isClosing"
  | "close"
  | "terminate"

const poolRows: Record<Exclude<keyof PgPool.PgPool, PoolControl>, Row> = {
  execute: writer(withClient((c) => c.pool.execute(PROBE))),
  fetch: writer(withClient((c) => c.pool.fetch(PROBE))),
  fetchRow: writer(withClient((c) => c.pool.fetchRow(PROBE))),
  fetchVal: writer(withClient((c) => Effect.map(c.pool.fetchVal(PROBE), Option.getOrThrow))),
  executeMany: writer(withClient((c) => c.pool.executeMany("SELECT probe() WHERE $1::int = 1", [[1]]))),
  fetchMany: writer(withClient((c) => c.pool.fetchMany("SELECT probe() WHERE $1::int = 1", [[1]]))),
}

/** Lines of COPY output. */
const lines = (chunks: Iterable<Uint8Array>): number =>
  Buffer.concat([...chunks])
    .toString("utf8")
    .split("\n")
    .filter((l) => l !== "").length

const expectLines = (seen: number) => (chunks: Iterable<Uint8Array>) =>
  Effect.sync(() => expect(lines(chunks), "rows of t the COPY saw").toBe(seen))

/** The COPY functions, for a target (the client value or its pool). */
const copyRows = (
  targetOf: (client: PgClient.PgClientShape) => PgCopy.CopyTarget,
): Record<Exclude<keyof typeof PgCopy, "PgCopyFileError" | "PgCopyRecordError">, Row> => {
  const on = <A, E>(f: (target: PgCopy.CopyTarget) => Effect.Effect<A, E>) => withClient((c) => f(targetOf(c)))
  const collect = (f: (target: PgCopy.CopyTarget) => Stream.Stream<Uint8Array, unknown>) =>
    on((target) => Stream.runCollect(f(target)))
  return {
    copyToTable: writer(on((target) => PgCopy.copyToTable(target, "t", { source: ["\\N\n"] }))),
    copyRecordsToTable: writer(on((target) => PgCopy.copyRecordsToTable(target, "t", { records: [[null]] }))),
    copyFromQuery: writer(on((target) => PgCopy.copyFromQuery(target, "SELECT probe()", [], { output: () => {} }))),
    streamFromQuery: writer(collect((target) => PgCopy.streamFromQuery(target, "SELECT probe()"))),
    copyFromTable: reader((seen) =>
      Effect.gen(function* () {
        const chunks: Array<Uint8Array> = []
        yield* on((target) => PgCopy.copyFromTable(target, "t", { output: (chunk) => void chunks.push(chunk) }))
        yield* expectLines(seen)(chunks)
      }),
    ),
    streamFromTable: reader((seen) =>
      Effect.flatMap(
        collect((target) => PgCopy.streamFromTable(target, "t")),
        expectLines(seen),
      ),
    ),
  }
}

const probeQuery = PgQuery.make({ sql: PROBE, row: Schema.Struct({ a: Schema.Number }) })
/** Only prepares where `fresh` (created by the seed, inside the transaction) is visible. */
const freshQuery = PgQuery.make({ sql: "SELECT x FROM fresh", row: Schema.Struct({ x: Schema.NullOr(Schema.Number) }) })

const runnerRows = (
  runner: Effect.Effect<PgQuery.PgQueryRunner<void, { readonly a: number }, never>, never, PgClient.PgClient>,
  viaContext: PgQuery.PgQueryRunner<void, { readonly a: number }, PgClient.PgClient> | undefined,
): Record<keyof PgQuery.PgQueryRunner<void, unknown, never>, Row> => {
  const run = <A, E>(
    f: (
      r: PgQuery.PgQueryRunner<void, { readonly a: number }, PgClient.PgClient>,
    ) => Effect.Effect<A, E, PgClient.PgClient>,
  ) => (viaContext !== undefined ? f(viaContext) : Effect.flatMap(runner, f))
  return {
    all: writer(run((r) => r.all())),
    one: writer(run((r) => r.one())),
    option: writer(run((r) => r.option())),
    execute: writer(run((r) => r.execute())),
    stream: writer(run((r) => Stream.runCollect(r.stream()))),
  }
}

const checked = (effect: Effect.Effect<unknown, unknown, Env>) => reader(() => effect)

const queryFunctionRows: Record<
  Exclude<keyof typeof PgQuery, "make" | "isPgQuery" | "PgQueryMismatchError" | "PgSchemaError" | "PgNoRowError">,
  Row
> = {
  check: checked(PgQuery.check(freshQuery)),
  checkAll: checked(
    withClient((c) =>
      Effect.flatMap(PgQuery.checkAll(c, [freshQuery]), ([result]) =>
        Effect.sync(() => expect(result).toEqual({ name: freshQuery.name, differences: [] })),
      ),
    ),
  ),
  layerCheck: checked(Layer.build(PgQuery.layerCheck([freshQuery]))),
}

const sqlRows: Record<"statement" | "unsafeCommand" | "stream" | "withTransaction", Row> = {
  statement: writer(Effect.flatMap(sqlClient, (sql) => sql`SELECT probe()`)),
  unsafeCommand: writer(Effect.flatMap(sqlClient, (sql) => sql.unsafe("INSERT INTO t DEFAULT VALUES"))),
  stream: writer(Effect.flatMap(sqlClient, (sql) => Stream.runCollect(sql`SELECT probe()`.stream))),
  withTransaction: writer(Effect.flatMap(sqlClient, (sql) => sql.withTransaction(sql`SELECT probe()`))),
}

/** Every entry point, by module. */
const entryPoints: Record<string, Record<string, Row>> = {
  PgClient: clientRows,
  PgPool: poolRows,
  "PgCopy(client)": copyRows((c) => c),
  "PgCopy(pool)": copyRows((c) => c.pool),
  "PgQuery (PgClient in context)": runnerRows(Effect.die("unused"), probeQuery),
  "PgQuery.on(client)": runnerRows(
    withClient((c) => Effect.succeed(probeQuery.on(c))),
    undefined,
  ),
  "PgQuery.checkOn(client)": { checkOn: checked(withClient((c) => freshQuery.checkOn(c))) },
  PgQuery: queryFunctionRows,
  "@pgfx/sql": sqlRows,
}

// -------------------------------------------------------------------------------------------------
// The harness

/**
 * A fresh schema with `t`, its trigger and `probe()`, and a client plus adapter on it, shared by
 * the tests of one module; each test starts from an empty `t` and no `fresh`.
 */
const shared = Layer.unwrap(
  Effect.gen(function* () {
    const { schema, conn } = yield* schemaConnect()
    yield* conn.execute(`
      CREATE TABLE t (a int);
      CREATE FUNCTION fill() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.a IS NULL THEN NEW.a := 100 + (SELECT count(*) FROM t); END IF; RETURN NEW; END $$;
      CREATE TRIGGER fill BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION fill();
      CREATE FUNCTION probe() RETURNS int LANGUAGE sql AS $$ INSERT INTO t DEFAULT VALUES RETURNING a $$;`)
    return PgSqlClient.layer(
      poolOptions({ max: 3, serverSettings: { search_path: schema, client_min_messages: "warning" } }),
    )
  }),
)

const fresh = <A, E>(body: Effect.Effect<A, E, Env>) =>
  Effect.andThen(PgClient.execute("TRUNCATE t; DROP TABLE IF EXISTS fresh"), Effect.scoped(body))

/** How a transaction is opened and observed: pgfx's or effect/sql's. */
interface Transactions {
  readonly transaction: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, unknown, R | Env>
  readonly run: (sql: string) => Effect.Effect<unknown, unknown, Env>
  readonly values: Effect.Effect<Array<number>, unknown, Env>
}

const pgfx: Transactions = {
  transaction: (effect) => PgClient.transaction(effect),
  run: (sql) => PgClient.execute(sql),
  values: Effect.map(PgClient.fetch("SELECT a FROM t ORDER BY a"), (rows) => rows.map((r) => Number(r.get("a")))),
}

const effectSql: Transactions = {
  transaction: (effect) => Effect.flatMap(sqlClient, (sql) => sql.withTransaction(effect)),
  run: (text) => Effect.flatMap(sqlClient, (sql) => sql.unsafe(text)),
  values: Effect.flatMap(sqlClient, (sql) =>
    Effect.map(sql<{ a: number }>`SELECT a FROM t ORDER BY a`, (rows) => rows.map((r) => Number(r.a))),
  ),
}

/** The committed rows, read on a connection of its own. */
const committed = Effect.map(
  withClient((c) => c.withConnection((conn) => conn.fetch("SELECT a FROM t ORDER BY a"))),
  (rows) => rows.map((r) => Number(r.get("a"))),
)

const bounded = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.timeoutOrElse(effect, {
    duration: "20 seconds",
    orElse: () => Effect.die(new Error("the probe hung (waiting for a second connection?)")),
  })

/**
 * Counts the notifications on `pgfx_route` that `body` sends (`notify` only): a marker sent after
 * it is delivered after every notification it committed, so once the marker is here they all are.
 */
const notifications = <A, E, R>(row: Row, body: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    if (row.notifies !== true) return yield* Effect.as(body, 0)
    const count = yield* Ref.make(0)
    const marked = yield* Deferred.make<void>()
    const stream = yield* PgClient.subscribe("pgfx_route")
    const reader = yield* Effect.forkScoped(
      Stream.runForEach(stream, (event) =>
        event._tag === "PgNotification" && event.payload === MARKER
          ? Deferred.succeed(marked, undefined)
          : Ref.update(count, (n) => n + 1),
      ),
    )
    yield* body
    yield* PgClient.notify("pgfx_route", MARKER)
    yield* Deferred.await(marked).pipe(
      Effect.timeoutOrElse({
        duration: "20 seconds",
        orElse: () => Effect.die(new Error("the marker notification never came")),
      }),
    )
    yield* Fiber.interrupt(reader)
    return yield* Ref.get(count)
  })

const MARKER = "pgfx-route-marker"

const idle = Effect.flatMap(Effect.service(PgClient.PgClient), (client) =>
  eventually("every checkout is released", () => client.pool.stats.inUse === 0),
)

const inside = (tx: Transactions, row: Row) =>
  Effect.gen(function* () {
    const body = Effect.gen(function* () {
      yield* tx.run("INSERT INTO t VALUES (1)")
      yield* tx.run("CREATE TABLE fresh (x int)")
      yield* bounded(row.probe(1))
      if (row.writes) expect(yield* tx.values, "the probe saw the transaction's row").toEqual([1, 101])
      return yield* Effect.fail("roll back" as const)
    })
    const delivered = yield* notifications(
      row,
      Effect.gen(function* () {
        expect(failureOf(yield* Effect.exit(tx.transaction(body)))).toBe("roll back")
      }),
    )
    expect(yield* committed, "the rollback undid everything").toEqual([])
    if (row.notifies === true) expect(delivered, "a notification sent in a rolled back transaction").toBe(0)
    yield* idle
  })

const savepoint = (tx: Transactions, row: Row) =>
  Effect.gen(function* () {
    const delivered = yield* notifications(
      row,
      tx.transaction(
        Effect.gen(function* () {
          yield* tx.run("INSERT INTO t VALUES (1)")
          const inner = yield* Effect.exit(
            tx.transaction(
              Effect.gen(function* () {
                yield* tx.run("INSERT INTO t VALUES (2)")
                yield* tx.run("CREATE TABLE fresh (x int)")
                yield* bounded(row.probe(2))
                if (row.writes) expect(yield* tx.values, "the probe saw the savepoint's rows").toEqual([1, 2, 102])
                return yield* Effect.fail("roll back the savepoint" as const)
              }),
            ),
          )
          expect(failureOf(inner)).toBe("roll back the savepoint")
          expect(yield* tx.values, "the savepoint's rollback undid the probe").toEqual([1])
        }),
      ),
    )
    expect(yield* committed).toEqual([1])
    if (row.notifies === true) expect(delivered, "a notification sent in a rolled back savepoint").toBe(0)
    yield* idle
  })

const outside = (row: Row) =>
  Effect.gen(function* () {
    yield* pgfx.run("CREATE TABLE fresh (x int)")
    const delivered = yield* notifications(row, bounded(row.probe(0)))
    if (row.writes) expect(yield* committed).toEqual([100])
    if (row.notifies === true) expect(delivered).toBe(1)
    yield* idle
    expect((yield* PgClient.stats).inUse).toBe(0)
  })

for (const [module, rows] of Object.entries(entryPoints)) {
  layer(shared, { excludeTestServices: true })(`${module}: where it runs`, (it) => {
    for (const [name, row] of Object.entries(rows)) {
      it.effect(`${name} inside PgClient.transaction`, () => fresh(inside(pgfx, row)))
      it.effect(`${name} inside a nested PgClient.transaction (savepoint)`, () => fresh(savepoint(pgfx, row)))
      it.effect(`${name} outside a transaction: on a checkout released afterwards`, () => fresh(outside(row)))
      it.effect(`${name} inside sql.withTransaction`, () => fresh(inside(effectSql, row)))
      it.effect(`${name} inside a nested sql.withTransaction (savepoint)`, () => fresh(savepoint(effectSql, row)))
    }
  })
}

// -------------------------------------------------------------------------------------------------
// Completeness

layer(shared, { excludeTestServices: true })("the list of entry points", (it) => {
  it.effect("names every operation of the client, the pool, PgCopy and PgQuery", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const client = yield* PgClient.PgClient
        const notRouted = ["pool", "listener", "listen", "subscribe", "acquire", "withConnection"]
        expect(Object.keys(client).sort()).toEqual([...Object.keys(clientRows), ...notRouted].sort())
        // Methods on the prototype, and the overloaded fetch methods, which are own properties.
        const poolMembers = [
          ...Object.getOwnPropertyNames(Object.getPrototypeOf(client.pool)),
          ...Object.keys(client.pool),
        ]
        const poolMethods = poolMembers.filter(
          (k) => typeof (client.pool as unknown as Record<string, unknown>)[k] === "function",
        )
        const poolNotShortcuts = [
          "constructor",
          "acquire",
          "member",
          "withConnection",
          "setConnectArgs",
          "owns",
          "run",
          "call",
          "setup",
        ]
        expect(poolMethods.filter((k) => !poolNotShortcuts.includes(k)).sort()).toEqual(Object.keys(poolRows).sort())
        const copyFunctions = Object.keys(PgCopy).filter((k) => !k.endsWith("Error"))
        expect(copyFunctions.sort()).toEqual(Object.keys(copyRows((c) => c)).sort())
        const queryFunctions = Object.keys(PgQuery).filter(
          (k) => !k.endsWith("Error") && k !== "make" && k !== "isPgQuery",
        )
        expect(queryFunctions.sort()).toEqual(Object.keys(queryFunctionRows).sort())
        const runner = probeQuery.on(client)
        expect(Object.keys(runner).sort()).toEqual(Object.keys(runnerRows(Effect.die("unused"), probeQuery)).sort())
      }),
    ),
  )

  it("entry points get connections only through internal/Route.ts", () => {
    // Checking a connection out is the pool's `acquire` / `withConnection` (and the client's
    // `acquire` / `withConnection`, which are them). Only these places may name them.
    const allowed: Record<string, number> = {
      "packages/client/src/internal/pool/Route.ts": 2, // the resolution itself
      "packages/client/src/PgPool.ts": 1, // run(): a shortcut with a `setup` hook needs a handle
      "packages/client/src/PgClient.ts": 4, // the client's acquire / withConnection and their accessors
      // effect/sql's transactionAcquirer (a new top-level transaction), and its unprepared/raw
      // statements outside a pgfx transaction (PgCurrentConnection.find decides, as Route does)
      "packages/sql/src/PgSqlClient.ts": 2,
    }
    const root = path.resolve(import.meta.dirname, "..")
    const found: Record<string, number> = {}
    for (const pkg of ["client", "sql", "testing"]) {
      const dir = path.join(root, "packages", pkg, "src")
      for (const file of fs.readdirSync(dir, { recursive: true, encoding: "utf8" })) {
        if (!file.endsWith(".ts")) continue
        const text = fs.readFileSync(path.join(dir, file), "utf8")
        const code = text
          .split("\n")
          .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line))
          .join("\n")
        const uses = [...code.matchAll(/(\w+)\.(acquire|withConnection|reserve)\b/g)].filter(
          ([, owner]) => owner !== "Route" && owner !== "Effect" && owner !== "Scope",
        )
        if (uses.length > 0) found[`packages/${pkg}/src/${file}`] = uses.length
      }
    }
    expect(found).toEqual(allowed)
  })
})
