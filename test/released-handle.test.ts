/**
 * A connection handle used after its pool checkout ended fails with `PgInterfaceError` through
 * every route — its methods (typed against `PgConnection`, so a new method needs a row), Effects
 * and Streams obtained before the release, statements and cursors made on it, PgCopy, PgQuery,
 * PgCursor, PgStatement, PgTransaction, the pool's reset functions, and a handle pinned as the
 * current connection — never with a thrown exception or a defect.
 */
import { describe, expect, it } from "@effect/vitest"
import { StreamMembers } from "@pgfx/client/internal/pool/Lease"
import * as PgClient from "@pgfx/client/PgClient"
import type { PgConnection } from "@pgfx/client/PgConnection"
import * as PgCopy from "@pgfx/client/PgCopy"
import * as PgCurrentConnection from "@pgfx/client/PgCurrentConnection"
import * as PgCursor from "@pgfx/client/PgCursor"
import * as PgPool from "@pgfx/client/PgPool"
import * as PgQuery from "@pgfx/client/PgQuery"
import * as PgStatement from "@pgfx/client/PgStatement"
import * as PgTransaction from "@pgfx/client/PgTransaction"
import { Cause, Effect, Exit, Schema, Scope, Stream } from "effect"
import { poolOptions } from "./support/pool.ts"

type Methods<T> = { [K in keyof T]-?: T[K] extends (...args: never) => unknown ? K : never }[keyof T]

/** Arguments for each method of `PgConnection`, and whether it returns a Stream. */
const connectionMethods: Record<Methods<PgConnection>, { readonly args: ReadonlyArray<unknown>; stream?: true }> = {
  execute: { args: ["SELECT 1"] },
  fetch: { args: ["SELECT 1"] },
  fetchRow: { args: ["SELECT 1"] },
  fetchVal: { args: ["SELECT 1"] },
  fetchResult: { args: ["SELECT 1"] },
  simpleQuery: { args: ["SELECT 1"] },
  executeMany: { args: ["SELECT $1::int", [[1]]] },
  fetchMany: { args: ["SELECT $1::int", [[1]]] },
  prepare: { args: ["SELECT 1"] },
  cursor: { args: ["SELECT 1"], stream: true },
  openCursor: { args: ["SELECT 1"] },
  transaction: { args: [Effect.void] },
  setTypeCodec: { args: ["int4", { schema: Schema.Number }] },
  resetTypeCodec: { args: ["int4"] },
  setBuiltinTypeCodec: { args: ["int4", "int4"] },
  reloadSchemaState: { args: [] },
  close: { args: [] },
  terminate: { args: [] },
  addListener: { args: ["c", () => {}] },
  removeListener: { args: ["c", () => {}] },
  listen: { args: ["c"], stream: true },
  subscribe: { args: ["c"] },
  notify: { args: ["c"] },
  addLogListener: { args: [() => {}] },
  removeLogListener: { args: [() => {}] },
  notices: { args: [], stream: true },
  addTerminationListener: { args: [() => {}] },
  removeTerminationListener: { args: [() => {}] },
  addQueryLogger: { args: [() => {}] },
  removeQueryLogger: { args: [() => {}] },
  addQueryLoggerScoped: { args: [() => {}] },
  awaitClose: { args: [] },
  queryLog: { args: [], stream: true },
}

/**
 * Runs what `make` builds (an Effect or a Stream) and checks it fails with `PgInterfaceError`:
 * building it must not throw, running it must not die.
 */
const failsTyped = (what: string, make: () => unknown) =>
  Effect.gen(function* () {
    let built: unknown
    try {
      built = make()
    } catch (e) {
      return yield* Effect.die(new Error(`${what} threw instead of failing: ${String(e)}`))
    }
    const effect = Stream.isStream(built)
      ? Stream.runCollect(built as Stream.Stream<unknown, unknown, Scope.Scope>)
      : Effect.isEffect(built)
        ? (built as Effect.Effect<unknown, unknown, Scope.Scope>)
        : undefined
    if (effect === undefined) return yield* Effect.die(new Error(`${what} returned neither an Effect nor a Stream`))
    const exit = yield* Effect.exit(Effect.scoped(effect))
    if (Exit.isSuccess(exit)) return yield* Effect.die(new Error(`${what} succeeded on a released handle`))
    const error = Cause.findErrorOption(exit.cause)
    expect(error._tag === "Some" ? error.value : Cause.pretty(exit.cause), what).toMatchObject({
      _tag: "PgInterfaceError",
    })
  })

const probeQuery = PgQuery.make({ sql: "SELECT 1 AS a", row: Schema.Struct({ a: Schema.Number }) })

describe("a released pooled handle", () => {
  it.live("fails typed through every route, never throws or dies", () =>
    Effect.gen(function* () {
      const outer = yield* Scope.make()
      // A statement and a cursor made on the handle, in a scope that outlives the checkout.
      const { handle, statement, cursor, early, earlyStream } = yield* Effect.scoped(
        Effect.gen(function* () {
          const handle = yield* PgClient.acquire()
          yield* handle.execute("BEGIN")
          const statement = yield* Scope.provide(handle.prepare("SELECT $1::int AS a"), outer)
          const cursor = yield* Scope.provide(handle.openCursor("SELECT generate_series(1, 10)"), outer)
          return { handle, statement, cursor, early: handle.fetch("SELECT 1"), earlyStream: handle.cursor("SELECT 1") }
        }),
      )
      expect((yield* PgClient.stats).inUse).toBe(0)

      for (const [name, { args, stream }] of Object.entries(connectionMethods)) {
        const member = (handle as unknown as Record<string, (...a: ReadonlyArray<unknown>) => unknown>)[name]!
        yield* failsTyped(`conn.${name}`, () => member(...args))
        // The released view returns the same kind as the live method: a Stream where one is expected.
        expect(Stream.isStream(member(...args)), `conn.${name} returns a Stream`).toBe(stream === true)
      }
      yield* failsTyped("an Effect obtained before the release", () => early)
      yield* failsTyped("a Stream obtained before the release", () => earlyStream)
      expect(handle.isClosed).toBe(true)

      for (const name of ["execute", "fetch", "fetchRow", "fetchVal", "getParameters", "getAttributes", "explain"]) {
        yield* failsTyped(`statement.${name}`, () =>
          (statement as unknown as Record<string, (...a: ReadonlyArray<unknown>) => unknown>)[name]!([1]),
        )
      }
      yield* failsTyped("statement.executeMany", () => statement.executeMany([[1]]))
      yield* failsTyped("statement.fetchMany", () => statement.fetchMany([[1]]))
      yield* failsTyped("statement.cursor", () => statement.cursor([1]))
      yield* failsTyped("statement.openCursor", () => statement.openCursor([1]))
      yield* failsTyped("statement.close", () => statement.close)
      yield* failsTyped("cursor.fetch", () => cursor.fetch(1))
      yield* failsTyped("cursor.fetchRow", () => cursor.fetchRow())
      yield* failsTyped("cursor.forward", () => cursor.forward(1))

      yield* failsTyped("PgCursor.cursor", () => PgCursor.cursor(handle, "SELECT 1"))
      yield* failsTyped("PgCursor.open", () => PgCursor.open(handle, "SELECT 1"))
      yield* failsTyped("PgStatement.prepare", () => PgStatement.prepare(handle, "SELECT 1"))
      yield* failsTyped("PgTransaction.transaction", () => PgTransaction.transaction(handle, Effect.void))
      yield* failsTyped("PgTransaction.scoped", () => PgTransaction.scoped(handle))
      yield* failsTyped("PgTransaction.make + start", () =>
        Effect.flatMap(PgTransaction.make(handle), (tx) => tx.start),
      )
      yield* failsTyped("PgPool.fullReset", () => PgPool.fullReset(handle))

      yield* failsTyped("PgCopy.copyToTable", () => PgCopy.copyToTable(handle, "t", { source: [] }))
      yield* failsTyped("PgCopy.copyRecordsToTable", () => PgCopy.copyRecordsToTable(handle, "t", { records: [] }))
      yield* failsTyped("PgCopy.copyFromTable", () => PgCopy.copyFromTable(handle, "t", { output: () => {} }))
      yield* failsTyped("PgCopy.copyFromQuery", () =>
        PgCopy.copyFromQuery(handle, "SELECT 1", [], { output: () => {} }),
      )
      yield* failsTyped("PgCopy.streamFromTable", () => PgCopy.streamFromTable(handle, "t"))
      yield* failsTyped("PgCopy.streamFromQuery", () => PgCopy.streamFromQuery(handle, "SELECT 1"))

      const runner = probeQuery.on(handle)
      yield* failsTyped("PgQuery.on(conn).all", () => runner.all())
      yield* failsTyped("PgQuery.on(conn).one", () => runner.one())
      yield* failsTyped("PgQuery.on(conn).option", () => runner.option())
      yield* failsTyped("PgQuery.on(conn).execute", () => runner.execute())
      yield* failsTyped("PgQuery.on(conn).stream", () => runner.stream())
      yield* failsTyped("PgQuery checkOn(conn)", () => probeQuery.checkOn(handle))

      // Pinned as the current connection, the client's entry points route to it and fail typed.
      const pinned = PgCurrentConnection.provide(handle)
      yield* failsTyped("PgClient.fetch on the pinned handle", () => pinned(PgClient.fetch("SELECT 1")))
      yield* failsTyped("PgClient.cursor on the pinned handle", () =>
        pinned(Stream.runCollect(PgClient.cursor("SELECT 1"))),
      )
      yield* failsTyped("PgClient.transaction on the pinned handle", () => pinned(PgClient.transaction(Effect.void)))
      yield* failsTyped("PgCopy through the client on the pinned handle", () =>
        pinned(Effect.flatMap(Effect.service(PgClient.PgClient), (c) => PgCopy.copyToTable(c, "t", { source: [] }))),
      )
      yield* failsTyped("PgQuery on the pinned handle", () => pinned(probeQuery.all()))

      // The statement and the cursor end with their scope without a defect.
      expect(Exit.isSuccess(yield* Effect.exit(Scope.close(outer, Exit.void)))).toBe(true)
      expect((yield* PgClient.stats).inUse).toBe(0)
    }).pipe(Effect.provide(PgClient.layer(poolOptions({ max: 2 })))),
  )

  it.live("the Stream member lists match the live methods' results", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const handle = yield* PgClient.acquire()
        for (const [name, { args, stream }] of Object.entries(connectionMethods)) {
          const live = (handle as unknown as Record<string, (...a: ReadonlyArray<unknown>) => unknown>)[name]!(...args)
          expect(Stream.isStream(live), `conn.${name}`).toBe(stream === true)
        }
        const streams = (handle as unknown as { [StreamMembers]: ReadonlySet<string> })[StreamMembers]
        expect([...streams].sort()).toEqual(
          Object.entries(connectionMethods)
            .filter(([, m]) => m.stream === true)
            .map(([k]) => k)
            .sort(),
        )
        const statement = yield* handle.prepare("SELECT 1")
        expect(Stream.isStream(statement.cursor())).toBe(true)
        expect(Stream.isStream(statement.fetch())).toBe(false)
      }),
    ).pipe(Effect.provide(PgClient.layer(poolOptions({ max: 1 })))),
  )
})
