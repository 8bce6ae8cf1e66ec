/**
 * The statement cache (internal/StatementCache.ts) without a server: its requests go to a fake
 * that decodes the bytes the cache wrote and answers with a statement description. Checked: what
 * a miss sends (Close + Parse + Describe + Sync under the SQL's digest name), that a hit sends
 * nothing, LRU eviction and the Close of the evicted statement with the next batch, the errors
 * that drop an entry, and the settings that keep SQL out of the cache or unnamed.
 */
import { describe, expect, it } from "@effect/vitest"
import { type ClientMessage, FrontendReader } from "@pgfx/protocol/FrontendDecoder"
import { Writer } from "@pgfx/protocol/Writer"
import * as CodecRegistry from "@pgfx/types/CodecRegistry"
import { Effect } from "effect"
import { PgServerError } from "../src/PgError.ts"
import type { Description } from "../src/internal/wire/Handlers.ts"
import type { Session } from "../src/internal/wire/Session.ts"
import { type CacheOptions, StatementCache, statementName } from "../src/internal/query/StatementCache.ts"

const INT4 = 23

/** Every statement takes one int4 and returns one int4 column `x`. */
const description: Description = {
  paramOids: [INT4],
  fields: [{ name: "x", tableOid: 0, columnAttribute: 0, typeOid: INT4, typeSize: 4, typeModifier: -1, format: 0 }],
}

/** A cache over a fake session; `batches` holds the messages of each request it made. */
const cacheWith = (size: number, options: CacheOptions = {}) => {
  const session = { parameters: new Map([["server_version", "180000"]]) } as unknown as Session
  const cache = new StatementCache(session, CodecRegistry.builtins, size, options)
  const batches: Array<Array<ClientMessage>> = []
  const request = <A>(build: (w: Writer) => void): Effect.Effect<A, never> => {
    const w = new Writer()
    build(w)
    const reader = new FrontendReader()
    reader.inStartup = false
    reader.push(w.finishCopy())
    const batch: Array<ClientMessage> = []
    for (let m = reader.next(); m !== undefined; m = reader.next()) batch.push(m)
    batches.push(batch)
    return Effect.succeed(description as A)
  }
  const prepare = (sql: string) => cache.prepare(sql, request)
  return { cache, batches, prepare }
}

const tags = (batch: ReadonlyArray<ClientMessage> | undefined) => batch?.map((m) => m._tag)
const nameOf = (sql: string) => statementName("pgfx_", sql)

describe("StatementCache", () => {
  it.effect("a miss prepares under the SQL's digest name (Close first: a copy on the server is replaced)", () =>
    Effect.gen(function* () {
      const { cache, batches, prepare } = cacheWith(10)
      const info = yield* prepare("SELECT $1::int4 AS x")
      const name = nameOf("SELECT $1::int4 AS x")
      expect(name).toMatch(/^pgfx_[A-Za-z0-9_-]{22}$/)
      expect(info.name).toBe(name)
      expect(batches).toEqual([
        [
          { _tag: "Close", kind: "S", name },
          { _tag: "Parse", name, sql: "SELECT $1::int4 AS x", paramTypes: [] },
          { _tag: "Describe", kind: "S", name },
          { _tag: "Sync" },
        ],
      ])
      expect(cache.entries.size).toBe(1)
    }),
  )

  it.effect("a hit sends nothing and returns the same statement; peek sees it too", () =>
    Effect.gen(function* () {
      const { cache, batches, prepare } = cacheWith(10)
      const first = yield* prepare("SELECT 1")
      expect(yield* prepare("SELECT 1")).toBe(first)
      expect(cache.peek("SELECT 1")).toBe(first)
      expect(cache.peek("SELECT 2")).toBeUndefined()
      expect(batches).toHaveLength(1)
    }),
  )

  it.effect("over its size the least recently used is evicted and closed with the next batch", () =>
    Effect.gen(function* () {
      const { cache, batches, prepare } = cacheWith(2)
      yield* prepare("SELECT 1")
      yield* prepare("SELECT 2")
      // Used again (by peek, as the fast path does): "SELECT 2" is now the least recently used.
      cache.peek("SELECT 1")
      yield* prepare("SELECT 3")
      expect([...cache.entries.keys()]).toEqual(["SELECT 1", "SELECT 3"])
      expect(cache.pendingClose).toEqual([nameOf("SELECT 2")])
      yield* prepare("SELECT 4")
      expect(batches[3]![0]).toEqual({ _tag: "Close", kind: "S", name: nameOf("SELECT 2") })
      expect(tags(batches[3])).toEqual(["Close", "Close", "Parse", "Describe", "Sync"])
      expect(cache.pendingClose).toEqual([nameOf("SELECT 1")])
    }),
  )

  it.effect("26000 (the server lost it) drops the entry without a Close; a cached-plan 0A000 drops and closes it", () =>
    Effect.gen(function* () {
      const { cache, prepare } = cacheWith(10)
      yield* prepare("SELECT 1")
      yield* prepare("SELECT 2")
      const error = (code: string, message: string) =>
        PgServerError.fromFields([
          ["S", "ERROR"],
          ["C", code],
          ["M", message],
        ])
      cache.onError("SELECT 1", error("26000", 'prepared statement "x" does not exist'))
      expect(cache.entries.has("SELECT 1")).toBe(false)
      expect(cache.pendingClose).toEqual([])
      cache.onError("SELECT 2", error("0A000", "cached plan must not change result type"))
      expect(cache.entries.has("SELECT 2")).toBe(false)
      expect(cache.pendingClose).toEqual([nameOf("SELECT 2")])
      // Other errors leave the cache alone.
      yield* prepare("SELECT 3")
      cache.onError("SELECT 3", error("22012", "division by zero"))
      expect(cache.entries.has("SELECT 3")).toBe(true)
    }),
  )

  it.effect("forget only drops the entry it was given (a concurrent caller may have replaced it)", () =>
    Effect.gen(function* () {
      const { cache, prepare } = cacheWith(10)
      const old = yield* prepare("SELECT 1")
      cache.forget("SELECT 1", old)
      const fresh = yield* prepare("SELECT 1")
      cache.forget("SELECT 1", old)
      expect(cache.entries.get("SELECT 1")).toBe(fresh)
    }),
  )

  it.effect("clear forgets everything and closes every named statement lazily", () =>
    Effect.gen(function* () {
      const { cache, prepare } = cacheWith(10)
      yield* prepare("SELECT 1")
      yield* prepare("SELECT 2")
      cache.clear()
      expect(cache.entries.size).toBe(0)
      expect(cache.pendingClose).toEqual([nameOf("SELECT 1"), nameOf("SELECT 2")])
    }),
  )

  it.effect("size 0 caches nothing: every call parses the unnamed statement", () =>
    Effect.gen(function* () {
      const { cache, batches, prepare } = cacheWith(0)
      expect((yield* prepare("SELECT 1")).name).toBe("")
      yield* prepare("SELECT 1")
      expect(batches.map(tags)).toEqual([
        ["Parse", "Describe", "Sync"],
        ["Parse", "Describe", "Sync"],
      ])
      expect(cache.entries.size).toBe(0)
    }),
  )

  it.effect("named: false keeps descriptions only: the unnamed statement, nothing to close on eviction", () =>
    Effect.gen(function* () {
      const { cache, batches, prepare } = cacheWith(1, { named: false })
      expect((yield* prepare("SELECT 1")).name).toBe("")
      yield* prepare("SELECT 1")
      yield* prepare("SELECT 2")
      expect(batches).toHaveLength(2)
      expect(cache.pendingClose).toEqual([])
    }),
  )

  it.effect("SQL over maxSqlBytes (UTF-8 bytes, not characters) is never cached", () =>
    Effect.gen(function* () {
      const { cache, prepare } = cacheWith(10, { maxSqlBytes: 12 })
      expect(cache.cacheable("SELECT 'aaa'")).toBe(true) // 12 bytes
      expect(cache.cacheable("SELECT 'ééé'")).toBe(false) // 12 characters, 15 bytes
      expect((yield* prepare("SELECT 'ééé'")).name).toBe("")
      expect(cache.entries.size).toBe(0)
    }),
  )
})
