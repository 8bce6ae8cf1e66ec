/**
 * The per-connection LRU cache of prepared statements, keyed by SQL text.
 *
 * A miss prepares the statement (Close + Parse + Describe + Sync) under a name derived from a
 * digest of its SQL ({@link statementName}), so a name can never mean different SQL: behind a
 * transaction-pooling proxy, where the batches of one client connection run on several server
 * connections, a statement found under that name on another server connection (prepared there by
 * any client) is the same statement, and the Close in front of the Parse makes "already exists"
 * (42P05) impossible. An evicted statement is closed on the server with the next request's
 * batch. With size 0 nothing is named:
 * each execution re-sends Parse for the unnamed statement in the same batch as its Bind, which is
 * also what makes pgfx usable behind transaction-pooling proxies.
 *
 * A statement the server no longer knows (26000) or whose result type changed after DDL
 * ("cached plan must not change result type", 0A000) is dropped, so the next call re-prepares.
 *
 * Options: entries older than `lifetimeMs` are prepared again on their next use; SQL longer than
 * `maxSqlBytes` is never cached (it runs as the unnamed statement); with `named: false` (for
 * PgBouncer-style poolers) nothing is prepared under a name and the cache only keeps statement
 * descriptions, each execution re-parsing the unnamed statement in the same batch as its Bind.
 *
 * @internal
 */
import * as Frontend from "@pgfx/protocol/Frontend"
import { createHash } from "node:crypto"
import type { Writer } from "@pgfx/protocol/Writer"
import type { CodecRegistry } from "@pgfx/types/CodecRegistry"
import { Effect } from "effect"
import { type PgQueryError, PgServerError } from "../../PgError.ts"
import { type Completion, type Description, PrepareHandler } from "../wire/Handlers.ts"
import type { Handler, Session } from "../wire/Session.ts"
import { makeStatementInfo, type StatementInfo } from "../wire/Statement.ts"
import { TypeCache } from "./TypeCache.ts"

/** Tuning of a {@link StatementCache}. */
export interface CacheOptions {
  /** Entries older than this are prepared again on their next use; 0 (default) keeps them forever. */
  readonly lifetimeMs?: number | undefined
  /** SQL longer than this many UTF-8 bytes is never cached (default: no limit). */
  readonly maxSqlBytes?: number | undefined
  /** false: cache only descriptions and use the unnamed statement (default true). */
  readonly named?: boolean | undefined
}

const utf8 = new TextEncoder()

type Request = <A>(build: (w: Writer) => void, make: (c: Completion<A>) => Handler) => Effect.Effect<A, PgQueryError>

const oidsOf = (d: Description): Array<number> => [...d.paramOids, ...d.fields.map((f) => f.typeOid)]

/**
 * The server-side name of a statement: `prefix` and 128 bits of the SHA-256 of its SQL text
 * (base64url, 22 characters; well within the 63-byte identifier limit). Parse is sent without
 * parameter types, so the server derives them from the text alone: equal text, equal statement.
 * Computed once per preparation, never per execution.
 */
export const statementName = (prefix: string, sql: string): string =>
  prefix + createHash("sha256").update(sql).digest("base64url").slice(0, 22)

export class StatementCache {
  readonly session: Session
  /** The connection's type state: live registry, introspection of unknown OIDs. */
  readonly types: TypeCache
  readonly size: number
  readonly entries = new Map<string, StatementInfo>()
  /** Names of evicted statements to close with the next batch. */
  pendingClose: Array<string> = []
  /** The key at the end of `entries` (most recently used), when known: {@link peek} need not move it. */
  private mostRecent: string | undefined = undefined
  readonly options: CacheOptions
  /**
   * Set when the server said a statement this cache holds does not exist (26000): the server
   * connection behind this session may change between transactions (a transaction-pooling
   * proxy), so executions inside a transaction block re-create their statement (internal/query/Execute.ts).
   */
  serverMayChange = false
  /** Whether the connection has asked the server whether a proxy stands in between (internal/query/Execute.ts). */
  proxyChecked = false
  /** When each cached entry was prepared (for `lifetimeMs`). */
  private readonly preparedAt = new WeakMap<StatementInfo, number>()

  constructor(session: Session, registry: CodecRegistry, size: number, options: CacheOptions = {}) {
    this.session = session
    this.types = new TypeCache(registry, () => parseInt(session.parameters.get("server_version") ?? "0", 10) || 0)
    this.size = size
    this.options = options
  }

  /** Whether `sql` may be cached at all. */
  cacheable(sql: string): boolean {
    if (this.size <= 0) return false
    const max = this.options.maxSqlBytes
    // Cheap bound first: a UTF-8 encoding has between length and 3 * length bytes.
    return max === undefined || sql.length * 3 <= max || (sql.length <= max && utf8.encode(sql).length <= max)
  }

  /** The registry statements are compiled with now (configured, custom and introspected codecs). */
  get registry(): CodecRegistry {
    return this.types.registry
  }

  /**
   * The cached statement for `sql` when it can be used right now without any request first (no
   * expiry, no pending type lookups), its LRU position refreshed; else undefined. The fast path
   * of query calls (internal/query/FastQuery.ts) uses it; {@link prepare} does the rest.
   */
  peek(sql: string): StatementInfo | undefined {
    if (this.types.pending.size !== 0) return undefined
    const hit = this.entries.get(sql)
    if (hit === undefined) return undefined
    const lifetime = this.options.lifetimeMs ?? 0
    if (lifetime > 0 && Date.now() - (this.preparedAt.get(hit) ?? 0) > lifetime) return undefined
    // Refresh the LRU position, unless it is already the most recent (a Map re-insert allocates).
    if (this.mostRecent !== sql) {
      this.entries.delete(sql)
      this.entries.set(sql, hit)
      this.mostRecent = sql
    }
    return hit
  }

  /** The described statement for `sql`, from the cache or prepared now. */
  prepare(sql: string, request: Request): Effect.Effect<StatementInfo, PgQueryError> {
    const hit = this.entries.get(sql)
    if (hit !== undefined) {
      const lifetime = this.options.lifetimeMs ?? 0
      if (lifetime > 0 && Date.now() - (this.preparedAt.get(hit) ?? 0) > lifetime) this.forget(sql, hit)
      else {
        // Refresh LRU position.
        this.entries.delete(sql)
        this.entries.set(sql, hit)
        this.mostRecent = sql
        // Types met in anonymous records since the last statement are looked up first.
        return this.types.pending.size === 0
          ? Effect.succeed(hit)
          : Effect.as(this.types.resolve([...this.types.pending], request), hit)
      }
    }
    const cacheable = this.cacheable(sql)
    const name = cacheable && this.options.named !== false ? statementName("pgfx_", sql) : ""
    return Effect.flatMap(
      request<Description>(
        (w) => {
          this.writePendingCloses(w)
          // The server connection may hold this name already (our own earlier copy, or another
          // client's behind a pooler): the same SQL by construction, replaced without an error.
          if (name !== "") Frontend.close(w, "S", name)
          Frontend.parse(w, name, sql)
          Frontend.describe(w, "S", name)
          Frontend.sync(w)
        },
        (c) => new PrepareHandler(c, sql),
      ),
      (d) =>
        // Unknown parameter/column types are looked up (once per connection) before compiling.
        Effect.map(this.types.registryFor(oidsOf(d), request), (registry) => {
          const info = makeStatementInfo(name, sql, d.paramOids, d.fields, registry)
          if (cacheable) this.store(sql, info)
          return info
        }),
    )
  }

  private store(sql: string, info: StatementInfo): void {
    const existing = this.entries.get(sql)
    // A concurrent prepare of the same SQL won: keep it. Its name is ours (same SQL), so there
    // is nothing to close.
    if (existing !== undefined) return
    this.entries.set(sql, info)
    this.mostRecent = sql
    this.preparedAt.set(info, Date.now())
    while (this.entries.size > this.size) {
      const oldest = this.entries.keys().next().value as string
      const evicted = this.entries.get(oldest)!
      if (evicted.name !== "") this.pendingClose.push(evicted.name)
      this.entries.delete(oldest)
    }
  }

  /** Writes Close messages for evicted statements (answered by CloseComplete in the same cycle). */
  writePendingCloses(w: Writer): void {
    if (this.pendingClose.length === 0) return
    for (const name of this.pendingClose) Frontend.close(w, "S", name)
    this.pendingClose = []
  }

  /** Drops the cached statement when an error says the server's copy is gone or stale. */
  onError(sql: string, error: PgQueryError): void {
    if (!(error instanceof PgServerError)) return
    if (error.code === "26000" || (error.code === "0A000" && /cached plan/.test(error.message))) {
      const info = this.entries.get(sql)
      if (info !== undefined) this.forget(sql, info, error.code !== "26000")
    }
  }

  /**
   * Drops `info` if it is still the entry for `sql` (a concurrent caller may already have
   * replaced it); its server-side statement is closed with the next batch unless `close` is false.
   */
  forget(sql: string, info: StatementInfo, close = true): void {
    if (this.entries.get(sql) !== info) return
    this.entries.delete(sql)
    if (this.mostRecent === sql) this.mostRecent = undefined
    if (close && info.name !== "") this.pendingClose.push(info.name)
  }

  /** Forgets everything (e.g. after DISCARD ALL); the server-side statements are closed lazily. */
  clear(): void {
    for (const info of this.entries.values()) if (info.name !== "") this.pendingClose.push(info.name)
    this.entries.clear()
    this.mostRecent = undefined
  }
}
