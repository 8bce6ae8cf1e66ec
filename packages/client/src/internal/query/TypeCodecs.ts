/**
 * The connection's custom-codec operations (asyncpg's `set_type_codec`, `reset_type_codec`,
 * `set_builtin_type_codec`, `reload_schema_state`), on top of its {@link TypeCache}.
 *
 * Each operation swaps the connection's registry for a new immutable value and drops the
 * statement cache (compiled row decoders hold the old codecs). Types that are not built in are
 * checked to exist on this connection, and looked up right away, so a codec that does not fit its
 * type (e.g. `format: "tuple"` for an enum) fails here rather than at the first query.
 *
 * @internal
 */
import { builtinTarget, type CodecRegistry, qualifyTypeName } from "@pgfx/types/CodecRegistry"
import type { TypeCodecOptions } from "@pgfx/types/SchemaCodec"
import { Effect } from "effect"
import { PgInterfaceError, type PgQueryError } from "../../PgError.ts"
import type { StatementCache } from "./StatementCache.ts"
import type { Request } from "./TypeCache.ts"

const attempt = <A>(f: () => A): Effect.Effect<A, PgInterfaceError> =>
  Effect.try({
    try: f,
    catch: (e) => new PgInterfaceError({ message: e instanceof Error ? e.message : String(e) }),
  })

/** Installs `next` as the connection's base registry after checking `typeName` on the server. */
const install = (
  cache: StatementCache,
  request: Request,
  typeName: string,
  schemaName: string | undefined,
  next: (base: CodecRegistry) => CodecRegistry,
): Effect.Effect<void, PgQueryError> =>
  Effect.gen(function* () {
    const types = cache.types
    const previous = types.base
    const registry = yield* attempt(() => next(previous))
    const { name, schema } = qualifyTypeName(typeName, schemaName)
    const oid = builtinTarget(name, schema) === undefined ? yield* types.typeOid(name, schema, request) : undefined
    yield* types.setBase(registry)
    cache.clear()
    if (oid !== undefined && !types.registry.has(oid)) {
      yield* types.resolve([oid], request).pipe(Effect.tapError(() => Effect.ignore(types.setBase(previous))))
    }
  })

/** `setTypeCodec`: a custom codec from an Effect Schema. */
export const setTypeCodec = <A>(
  cache: StatementCache,
  request: Request,
  typeName: string,
  options: TypeCodecOptions<A>,
): Effect.Effect<void, PgQueryError> =>
  install(cache, request, typeName, options.schemaName, (base) => base.withTypeCodec(typeName, options))

/** `setBuiltinTypeCodec`: a type exchanged with a built-in codec. */
export const setBuiltinTypeCodec = (
  cache: StatementCache,
  request: Request,
  typeName: string,
  codecName: string,
  options: { readonly schemaName?: string | undefined; readonly format?: "text" | "binary" | undefined },
): Effect.Effect<void, PgQueryError> =>
  install(cache, request, typeName, options.schemaName, (base) =>
    base.withBuiltinTypeCodec(typeName, codecName, options),
  )

/** `resetTypeCodec`: back to the default codec. */
export const resetTypeCodec = (
  cache: StatementCache,
  typeName: string,
  options: { readonly schemaName?: string | undefined },
): Effect.Effect<void, PgInterfaceError> =>
  Effect.flatMap(
    attempt(() => cache.types.base.withoutTypeCodec(typeName, options)),
    (registry) => Effect.tap(cache.types.setBase(registry), () => Effect.sync(() => cache.clear())),
  )

/** `reloadSchemaState`: forget introspected types and prepared statements. */
export const reloadSchemaState = (cache: StatementCache): Effect.Effect<void> =>
  Effect.sync(() => {
    cache.types.reset()
    cache.clear()
  })
