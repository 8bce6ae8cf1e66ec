/**
 * The execution of a prepared statement (internal/Execute.ts) over a fake connection, without a
 * server: what a failure leads to (the decision table of stale statements: retry once outside a
 * transaction, restart a transaction the caller owns, else a typed error; what is forgotten on the
 * way), and that `executeWith` re-sends a stale statement once, re-parsed in its own batch.
 */
import { describe, expect, it } from "@effect/vitest"
import * as CodecRegistry from "@pgfx/types/CodecRegistry"
import type * as Backend from "@pgfx/protocol/Backend"
import { Effect } from "effect"
import { PgInvalidCachedStatementError, PgServerError, type PgQueryError } from "../src/PgError.ts"
import type { Connection } from "../src/internal/connection/Connection.ts"
import { afterFailure, executeWith, isStaleStatement, type StatementSource } from "../src/internal/query/Execute.ts"
import type { Completion } from "../src/internal/wire/Handlers.ts"
import type { Handler } from "../src/internal/wire/Session.ts"
import { makeStatementInfo, type StatementInfo } from "../src/internal/wire/Statement.ts"

const serverError = (code: string, message: string) =>
  PgServerError.fromFields([
    ["S", "ERROR"],
    ["C", code],
    ["M", message],
  ])
const missing = serverError("26000", 'prepared statement "pgfx_x" does not exist')
const changed = serverError("0A000", "cached plan must not change result type")
const other = serverError("22012", "division by zero")

const SQL = "SELECT 1"
const info = (name: string): StatementInfo => makeStatementInfo(name, SQL, [], [], CodecRegistry.builtins)

/** A fake connection: its cache flags, transaction state, and a `request` answered from `outcomes`. */
const fakeConnection = (outcomes: Array<(c: Completion<string>) => void> = []) => {
  const conn = {
    cache: { serverMayChange: false, proxyChecked: true },
    gate: { owner: undefined },
    session: { transactionStatus: "I" as Backend.TransactionStatus },
    request: (build: (w: unknown) => void, make: (c: Completion<string>) => Handler) =>
      Effect.callback<string, PgQueryError>((resume) => {
        const handler = make({ succeed: (a) => resume(Effect.succeed(a)), fail: (e) => resume(Effect.fail(e)) })
        build(undefined)
        const outcome = outcomes.shift()
        if (outcome === undefined) throw new Error("no outcome scripted")
        outcome((handler as unknown as { completion: Completion<string> }).completion)
      }),
  }
  return { conn, asConnection: conn as unknown as Connection }
}

/** A statement source over one description; records what it was told to forget. */
const sourceOf = (statement: StatementInfo) => {
  const forgotten: Array<PgServerError | undefined> = []
  const source: StatementSource = {
    sql: SQL,
    prepare: () => Effect.succeed(statement),
    forget: (_, error) => forgotten.push(error),
  }
  return { source, forgotten }
}

describe("isStaleStatement", () => {
  it("26000 and a cached-plan 0A000 are stale; other errors, other 0A000 are not", () => {
    expect(isStaleStatement(missing)).toBe(true)
    expect(isStaleStatement(changed)).toBe(true)
    expect(isStaleStatement(serverError("0A000", "feature not supported"))).toBe(false)
    expect(isStaleStatement(other)).toBe(false)
  })
})

describe("afterFailure: what a failed execution leads to", () => {
  it("a stale statement outside a transaction is retried once; the second time it is a typed error", () => {
    const { asConnection } = fakeConnection()
    const { source } = sourceOf(info("pgfx_x"))
    expect(afterFailure(asConnection, source, info("pgfx_x"), changed, "I", false, false)).toBe("retry")
    const again = afterFailure(asConnection, source, info("pgfx_x"), changed, "I", true, false)
    expect(again).toBeInstanceOf(PgInvalidCachedStatementError)
    expect((again as PgInvalidCachedStatementError).message).toContain("still invalid after preparing it again")
  })

  it("26000 keeps the description and marks the connection as possibly behind a pooler; 0A000 forgets it", () => {
    const { conn, asConnection } = fakeConnection()
    const { source, forgotten } = sourceOf(info("pgfx_x"))
    afterFailure(asConnection, source, info("pgfx_x"), missing, "I", false, false)
    expect(forgotten).toEqual([])
    expect(conn.cache.serverMayChange).toBe(true)
    afterFailure(asConnection, source, info("pgfx_x"), changed, "I", false, false)
    expect(forgotten).toEqual([changed])
  })

  it("inside a transaction: a restart when the caller owns it, else a typed error naming the pooler", () => {
    const { asConnection } = fakeConnection()
    const { source } = sourceOf(info("pgfx_x"))
    expect(afterFailure(asConnection, source, info("pgfx_x"), missing, "E", false, true)).toBe("restart")
    const error = afterFailure(asConnection, source, info("pgfx_x"), missing, "E", false, false)
    expect(error).toBeInstanceOf(PgInvalidCachedStatementError)
    expect((error as PgInvalidCachedStatementError).message).toContain("transaction-pooling proxy")
    expect((error as PgInvalidCachedStatementError).cause).toBe(missing)
  })

  it("any other error is the caller's; the unnamed statement's kept description is dropped", () => {
    const { asConnection } = fakeConnection()
    const named = sourceOf(info("pgfx_x"))
    expect(afterFailure(asConnection, named.source, info("pgfx_x"), other, "I", false, true)).toBe(other)
    expect(named.forgotten).toEqual([])
    const unnamed = sourceOf(info(""))
    expect(afterFailure(asConnection, unnamed.source, info(""), other, "I", false, true)).toBe(other)
    expect(unnamed.forgotten).toEqual([undefined])
  })
})

describe("executeWith", () => {
  /** The caller's handler: keeps the completion the fake connection settles. */
  const make = (c: Completion<string>) =>
    ({ completion: c, onMessage: () => true, onFailure: () => {} }) as unknown as Handler
  /** The descriptions requests were written with, in order. */
  const recorder = () => {
    const built: Array<StatementInfo> = []
    return { built, build: (_: unknown, statement: StatementInfo) => void built.push(statement) }
  }

  it.effect("a stale statement is re-sent once, re-parsed in its own batch, and then succeeds", () =>
    Effect.gen(function* () {
      const { asConnection } = fakeConnection([(c) => c.fail(changed), (c) => c.succeed("ok")])
      const { source, forgotten } = sourceOf(info("pgfx_x"))
      const { built, build } = recorder()
      const result = yield* executeWith(asConnection, source, build, make)
      expect(result).toBe("ok")
      expect(forgotten).toEqual([changed])
      expect(built.map((i) => i.reparse === true)).toEqual([false, true])
    }),
  )

  it.effect("stale twice: the typed error, after exactly two requests", () =>
    Effect.gen(function* () {
      const { asConnection } = fakeConnection([(c) => c.fail(changed), (c) => c.fail(changed)])
      const { source } = sourceOf(info("pgfx_x"))
      const { built, build } = recorder()
      const error = yield* Effect.flip(executeWith(asConnection, source, build, make))
      expect(error).toBeInstanceOf(PgInvalidCachedStatementError)
      expect(built).toHaveLength(2)
    }),
  )

  it.effect("inside a transaction the caller can restart: restart, then one retry", () =>
    Effect.gen(function* () {
      const { conn, asConnection } = fakeConnection([(c) => c.fail(missing), (c) => c.succeed("ok")])
      const { built, build } = recorder()
      conn.session.transactionStatus = "E"
      let restarts = 0
      const restart = Effect.sync(() => {
        restarts++
        conn.session.transactionStatus = "T"
      })
      const { source } = sourceOf(info("pgfx_x"))
      expect(yield* executeWith(asConnection, source, build, make, undefined, restart)).toBe("ok")
      expect(restarts).toBe(1)
      expect(built).toHaveLength(2)
    }),
  )
})
