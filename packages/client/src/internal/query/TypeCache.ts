/**
 * The per-connection type state: the codec registry statements are compiled with, and the
 * introspection of type OIDs the registry does not know.
 *
 * - `base` is the registry the connection was configured with (`PgConnectionOptions.codecs`),
 *   plus the custom codecs set on this connection (`setTypeCodec`, ...). It is an immutable value;
 *   changing it swaps the reference.
 * - `registry` is `base` plus the codecs built from introspected types and this connection's
 *   anonymous-record codec (which resolves field types through the live registry).
 * - When a statement is described, its unknown parameter and column OIDs are looked up in
 *   `pg_catalog` with ONE query on this same connection, before its row decoder is built; the rows
 *   are kept, so each type is looked up once per connection. `reset` (reloadSchemaState) forgets
 *   them.
 *
 * @internal
 */
import * as Frontend from "@pgfx/protocol/Frontend"
import type { Writer } from "@pgfx/protocol/Writer"
import { type Codec, OutdatedSchemaError } from "@pgfx/types/Codec"
import { builtins, type CodecRegistry } from "@pgfx/types/CodecRegistry"
import { arrayCodec } from "@pgfx/types/ArrayCodec"
import { recordCodec } from "@pgfx/types/CompositeCodecs"
import { Oids } from "@pgfx/types/Oids"
import { textCodec } from "@pgfx/types/TextCodecs"
import { buildCodecs, introspectionQuery, type PgTypeInfo, typeInfoFromRow, typeOidQuery } from "@pgfx/types/TypeInfo"
import { Effect } from "effect"
import {
  PgDecodeError,
  PgInterfaceError,
  PgOutdatedSchemaError,
  type PgQueryError,
  PgServerError,
} from "../../PgError.ts"
import { type Completion, ExecuteHandler, type ExecuteResult } from "../wire/Handlers.ts"
import type { Handler } from "../wire/Session.ts"
import { makeStatementInfo, type StatementInfo, writeBindExecute } from "../wire/Statement.ts"

/** How the cache sends a request on its connection. */
export type Request = <A>(
  build: (w: Writer) => void,
  make: (c: Completion<A>) => Handler,
) => Effect.Effect<A, PgQueryError>

const field = (typeOid: number, i: number) => ({
  name: `c${i}`,
  tableOid: 0,
  columnAttribute: 0,
  typeOid,
  typeSize: -1,
  typeModifier: -1,
  format: 1,
})

/** Result column types of the introspection query, in order (see TypeInfo.introspectionQuery). */
const INTROSPECTION_COLUMNS: ReadonlyArray<number> = [
  Oids.oid,
  Oids.text,
  Oids.text,
  Oids.text,
  Oids.oid,
  Oids.oid,
  Oids.oid,
  Oids.text,
  Oids.text,
  Oids.oid,
  Oids.oid,
  Oids._text,
  Oids._oid,
  Oids.oid,
  Oids.text,
]

/** A statement with a fixed, known description, run through the unnamed statement in one round trip. */
const fixedStatement = (sql: string, paramOids: ReadonlyArray<number>, columns: ReadonlyArray<number>) =>
  makeStatementInfo("", sql, paramOids, columns.map(field), builtins)

const TYPE_OID_STATEMENT = fixedStatement(typeOidQuery, [Oids.text, Oids.text], [Oids.oid])

const runFixed = (
  request: Request,
  info: StatementInfo,
  args: ReadonlyArray<unknown>,
): Effect.Effect<ExecuteResult, PgQueryError> =>
  request<ExecuteResult>(
    (w) => {
      writeBindExecute(w, info, args, 0)
      Frontend.sync(w)
    },
    (c) => {
      const handler = new ExecuteHandler(c, info, builtins)
      handler.unlimited = true
      return handler
    },
  )

const interfaceError = (e: unknown): PgInterfaceError =>
  new PgInterfaceError({ message: e instanceof Error ? e.message : String(e) })

export class TypeCache {
  /** The configured registry plus custom codecs set on this connection. */
  base: CodecRegistry
  /** What statements are compiled with: `base` + introspected types + the record codec. */
  registry: CodecRegistry
  /** Introspected `pg_type` rows by OID. */
  readonly infos = new Map<number, PgTypeInfo>()
  /** OIDs the server does not describe (kept as text so they are not looked up again). */
  readonly missing = new Set<number>()
  /** OIDs met inside anonymous records that no codec knows: looked up before the next statement. */
  readonly pending = new Set<number>()
  /** The server's major version, for the introspection query. */
  readonly serverMajor: () => number
  private introspection: { readonly major: number; readonly info: StatementInfo } | undefined

  constructor(base: CodecRegistry, serverMajor: () => number) {
    this.base = base
    this.serverMajor = serverMajor
    this.registry = base
    this.rebuild()
  }

  /** Rebuilds `registry` from `base` and the kept rows. Throws TypeError when a declaration does not fit. */
  rebuild(): void {
    const introspected = buildCodecs(this.infos.values(), this.base)
    const missing = [...this.missing].map((oid) => textCodec(oid, `oid ${oid}`))
    const partial = this.base.withAll(introspected).withAll(missing)
    const record = recordCodec(
      (oid) => this.registry.get(oid),
      (oid) => this.pending.add(oid),
    ) as Codec
    this.registry = partial.withAll([record, arrayCodec(record) as Codec])
  }

  /** Replaces `base` (custom codecs changed); restores the previous one if the new one does not fit. */
  setBase(base: CodecRegistry): Effect.Effect<void, PgInterfaceError> {
    return Effect.suspend(() => {
      const previous = this.base
      this.base = base
      try {
        this.rebuild()
        return Effect.void
      } catch (e) {
        this.base = previous
        this.rebuild()
        return Effect.fail(interfaceError(e))
      }
    })
  }

  /** Forgets every introspected type (reloadSchemaState). */
  reset(): void {
    this.infos.clear()
    this.missing.clear()
    this.pending.clear()
    this.rebuild()
  }

  /** The OIDs among `oids` (and the pending ones) that the registry has no codec for. */
  unknownOids(oids: Iterable<number>): Array<number> {
    const out = new Set<number>(this.pending)
    for (const oid of oids) if (oid !== 0 && !this.registry.has(oid)) out.add(oid)
    return [...out]
  }

  /** Looks `oids` up in pg_catalog on this connection and adds their codecs to `registry`. */
  resolve(oids: ReadonlyArray<number>, request: Request): Effect.Effect<void, PgQueryError> {
    if (oids.length === 0) return Effect.void
    const major = this.serverMajor()
    if (this.introspection?.major !== major) {
      this.introspection = {
        major,
        info: fixedStatement(introspectionQuery(major), [Oids._oid], INTROSPECTION_COLUMNS),
      }
    }
    const lookup = Effect.withSpan(runFixed(request, this.introspection.info, [oids]), "pgfx.introspectTypes", {
      attributes: { "pgfx.type_oids": oids.join(",") },
    })
    return Effect.flatMap(lookup, (result) =>
      Effect.suspend(() => {
        const fresh: Array<PgTypeInfo> = []
        for (const row of result.rows) {
          const info = typeInfoFromRow(row.values)
          if (!this.registry.has(info.oid)) fresh.push(info)
        }
        const missing: Array<Codec> = []
        for (const oid of oids) {
          this.pending.delete(oid)
          if (!fresh.some((i) => i.oid === oid) && !this.registry.has(oid)) {
            this.missing.add(oid)
            missing.push(textCodec(oid, `oid ${oid}`))
          }
        }
        // Codecs already built keep their identity (and composite classes); only new types are added.
        let codecs: Array<Codec>
        try {
          codecs = buildCodecs(fresh, this.registry)
        } catch (e) {
          // A declaration that does not fit its type.
          return Effect.fail(interfaceError(e))
        }
        for (const info of fresh) this.infos.set(info.oid, info)
        this.registry = this.registry.withAll(codecs).withAll(missing)
        return Effect.void
      }),
    )
  }

  /** The registry for a statement with these parameter and column types, after introspecting unknown ones. */
  registryFor(oids: Iterable<number>, request: Request): Effect.Effect<CodecRegistry, PgQueryError> {
    const unknown = this.unknownOids(oids)
    if (unknown.length === 0) return Effect.succeed(this.registry)
    return Effect.map(this.resolve(unknown, request), () => this.registry)
  }

  /** The OID of a type name on this connection (`schemaName` or the search_path), or a PgInterfaceError. */
  typeOid(typeName: string, schemaName: string | undefined, request: Request): Effect.Effect<number, PgQueryError> {
    return Effect.flatMap(runFixed(request, TYPE_OID_STATEMENT, [typeName, schemaName ?? null]), (r) => {
      const oid = r.rows[0]?.get(0)
      return typeof oid === "number" && oid !== 0
        ? Effect.succeed(oid)
        : Effect.fail(
            new PgInterfaceError({
              message: `unknown type ${schemaName === undefined ? typeName : `${schemaName}.${typeName}`}`,
            }),
          )
    })
  }
}

/**
 * The "outdated schema" failure hidden in a query error, if any: a composite value that does not
 * match its cached layout (decoding), or the server rejecting a composite we encoded with a stale
 * layout.
 *
 * @internal
 */
export const outdatedSchemaOf = (error: PgQueryError): PgOutdatedSchemaError | undefined => {
  if (error instanceof PgDecodeError && error.cause instanceof OutdatedSchemaError) {
    return new PgOutdatedSchemaError({
      message: `${error.cause.message} (pgfx has already dropped this connection's type and statement caches, so a retry uses the new layout)`,
      typeName: error.cause.typeName,
      cause: error,
    })
  }
  if (
    error instanceof PgServerError &&
    error.code === "42804" &&
    /^(wrong number of columns|binary data has type)/.test(error.message)
  ) {
    return new PgOutdatedSchemaError({
      message: `the server rejected a composite value encoded with a cached layout that no longer matches its type (${error.message}); the connection's type and statement caches have been reloaded (reloadSchemaState), retry the statement`,
      typeName: "",
      cause: error,
    })
  }
  return undefined
}
