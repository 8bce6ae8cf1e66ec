/**
 * The codec registry: an immutable map from type OID (and type name) to {@link Codec}, plus
 * custom-codec declarations by type name.
 *
 * A registry is a value, never global mutable state: `with` returns a new registry, so a
 * connection can hold the registry it was configured with while another one adds codecs for its
 * own enums or extension types, and two pools can map the same type differently.
 *
 * Custom codecs (`withTypeCodec`, `withBuiltinTypeCodec`) are declared by type name. For a
 * built-in type (its OID is fixed) the codec is installed at once, together with its array type's
 * codec. For any other type (composites, enums, domains, extension types such as `hstore`, whose
 * OIDs differ per database) the declaration is kept and applied by a connection when it looks the
 * type up in `pg_catalog`.
 *
 * @since 0.1.0
 */
import { arrayCodec } from "./ArrayCodec.ts"
import { type Codec, rename, textOnly } from "./Codec.ts"
import { arrayOptionsOf, builtinCodecs } from "./Builtins.ts"
import { hstoreCodec } from "./HstoreCodec.ts"
import { jsonbLossless, jsonLossless } from "./JsonCodecs.ts"
import { customCodec, type TypeCodecOptions } from "./SchemaCodec.ts"

/**
 * A custom codec declared for a type by name.
 *
 * @since 0.1.0
 * @category models
 */
export type TypeCodecDeclaration =
  | {
      readonly _tag: "Schema"
      readonly typeName: string
      readonly schemaName: string | undefined
      readonly options: TypeCodecOptions<unknown>
    }
  | {
      readonly _tag: "Builtin"
      readonly typeName: string
      readonly schemaName: string | undefined
      /** A built-in codec name (`"int4"`, `"text"`, ...) or `"hstore"` / `"pg_contrib.hstore"`. */
      readonly codecName: string
      /** Restrict to one format; default: every format the codec supports. */
      readonly format: "text" | "binary" | undefined
    }

/**
 * SQL spellings of built-in type names, mapped to `pg_type.typname`.
 *
 * @since 0.1.0
 * @category names
 */
export const typeAliases: ReadonlyMap<string, string> = new Map([
  ["boolean", "bool"],
  ["smallint", "int2"],
  ["integer", "int4"],
  ["int", "int4"],
  ["bigint", "int8"],
  ["real", "float4"],
  ["float", "float8"],
  ["double precision", "float8"],
  ["decimal", "numeric"],
  ["character varying", "varchar"],
  ["character", "bpchar"],
  ["bit varying", "varbit"],
  ["timestamp without time zone", "timestamp"],
  ["timestamp with time zone", "timestamptz"],
  ["time without time zone", "time"],
  ["time with time zone", "timetz"],
])

/**
 * A type name as declarations key it: `"schema.name"` is split when no schema is given, and SQL
 * spellings of built-in types (`"integer"`) become their `pg_type` names (`"int4"`).
 *
 * @since 0.1.0
 * @category names
 */
export const qualifyTypeName = (
  typeName: string,
  schemaName: string | undefined,
): { readonly name: string; readonly schema: string | undefined } => {
  let name = typeName.trim()
  let schema = schemaName
  if (schema === undefined) {
    const dot = name.indexOf(".")
    if (dot > 0 && !name.startsWith('"')) {
      schema = name.slice(0, dot)
      name = name.slice(dot + 1)
    }
  }
  if (schema === undefined || schema === "pg_catalog") name = typeAliases.get(name.toLowerCase()) ?? name
  return { name, schema }
}

const keyOf = (name: string, schema: string | undefined): string => (schema === undefined ? name : `${schema}.${name}`)

const builtinByName = new Map(builtinCodecs.map((c) => [c.name, c] as const))
/** Built-in codecs that are not a type's default, selectable by name in `withBuiltinTypeCodec`. */
const alternativeCodecs = new Map<string, Codec>([
  ["json_lossless", jsonLossless as Codec],
  ["jsonb_lossless", jsonbLossless as Codec],
])

/**
 * The default built-in codec of a qualified type name, when the type is one of pgfx's built-ins
 * (its OID is fixed, so declarations for it are installed at once).
 *
 * @since 0.1.0
 * @category names
 */
export const builtinTarget = (name: string, schema: string | undefined): Codec | undefined =>
  schema === undefined || schema === "pg_catalog" ? builtinByName.get(name) : undefined

/**
 * The codec named by `setBuiltinTypeCodec`'s `codecName` under another type's identity; throws a
 * TypeError for an unknown codec name.
 *
 * @since 0.1.0
 * @category constructors
 */
export const builtinCodecFor = (
  codecName: string,
  oid: number,
  name: string,
  arrayOid: number,
  format?: "text" | "binary",
): Codec => {
  const n = codecName.trim().toLowerCase()
  let codec: Codec
  if (n === "hstore" || n === "pg_contrib.hstore") codec = hstoreCodec(oid, name, arrayOid) as Codec
  else {
    const target = alternativeCodecs.get(n) ?? builtinByName.get(typeAliases.get(n) ?? n.replace(/^pg_catalog\./, ""))
    if (target === undefined) {
      throw new TypeError(
        `unknown built-in codec "${codecName}" (use a built-in type name such as "int4", "hstore" or "jsonb_lossless")`,
      )
    }
    codec = rename(target, oid, name, arrayOid)
  }
  return format === "text" ? textOnly(codec) : codec
}

/**
 * Builds the codec a declaration gives a type, from the type's default codec (`composite` says
 * whether the type is a composite, for the tuple format). Throws a TypeError when the declaration
 * does not fit the type.
 *
 * @since 0.1.0
 * @category constructors
 */
export const applyDeclaration = (declaration: TypeCodecDeclaration, base: Codec, composite = false): Codec =>
  declaration._tag === "Schema"
    ? (customCodec(base, declaration.options, composite) as Codec)
    : builtinCodecFor(declaration.codecName, base.oid, base.name, base.arrayOid, declaration.format)

/**
 * An immutable set of codecs keyed by OID and by name.
 *
 * @example
 * ```ts
 * import * as CodecRegistry from "@pgfx/types/CodecRegistry"
 * import { textCodec } from "@pgfx/types/TextCodecs"
 * const registry = CodecRegistry.builtins.with(textCodec(16_385, "mood"))
 * registry.get(23)?.name // "int4"
 * ```
 * @since 0.1.0
 * @category models
 */
export class CodecRegistry {
  readonly #byOid: ReadonlyMap<number, Codec>
  readonly #byName: ReadonlyMap<string, Codec>
  readonly #declarations: ReadonlyMap<string, TypeCodecDeclaration>

  private constructor(
    byOid: ReadonlyMap<number, Codec>,
    byName: ReadonlyMap<string, Codec>,
    declarations: ReadonlyMap<string, TypeCodecDeclaration> = new Map(),
  ) {
    this.#byOid = byOid
    this.#byName = byName
    this.#declarations = declarations
  }

  /** A registry of `codecs`; a later codec with the same OID or name replaces an earlier one. */
  static make(codecs: Iterable<Codec>): CodecRegistry {
    const byOid = new Map<number, Codec>()
    const byName = new Map<string, Codec>()
    for (const codec of codecs) {
      byOid.set(codec.oid, codec)
      byName.set(codec.name, codec)
    }
    return new CodecRegistry(byOid, byName)
  }

  /** The codec of a type OID, if any. */
  get(oid: number): Codec | undefined {
    return this.#byOid.get(oid)
  }

  /**
   * The codec of a type name as in `pg_type.typname` (`"int4"`, `"_int4"`); `"int4[]"` is also
   * understood as `"_int4"`. SQL spellings such as `integer` are not resolved.
   */
  getByName(name: string): Codec | undefined {
    const codec = this.#byName.get(name)
    if (codec !== undefined || !name.endsWith("[]")) return codec
    return this.#byName.get(`_${name.slice(0, -2)}`)
  }

  /** True when the registry has a codec for `oid`. */
  has(oid: number): boolean {
    return this.#byOid.has(oid)
  }

  /** A new registry with `codec` added (replacing any codec with the same OID or name). */
  with(codec: Codec): CodecRegistry {
    return this.withAll([codec])
  }

  /** A new registry with all of `codecs` added. */
  withAll(codecs: Iterable<Codec>): CodecRegistry {
    const byOid = new Map(this.#byOid)
    const byName = new Map(this.#byName)
    for (const codec of codecs) {
      const old = byOid.get(codec.oid)
      if (old !== undefined && byName.get(old.name) === old) byName.delete(old.name)
      byOid.set(codec.oid, codec)
      byName.set(codec.name, codec)
    }
    return new CodecRegistry(byOid, byName, this.#declarations)
  }

  /**
   * A new registry where type `typeName` uses a custom codec built from an Effect Schema
   * (asyncpg's `set_type_codec`; see {@link TypeCodecOptions} for the formats). For a built-in type
   * the codec (and its array's) is installed at once; for other types the declaration is applied
   * when a connection looks the type up. `typeName` may be schema-qualified (`"public.mytype"`) or
   * given with `options.schemaName`; SQL spellings of built-in types (`"integer"`) are understood.
   *
   * Throws a TypeError when a built-in type has no tuple form.
   *
   * @example
   * ```ts
   * import { Schema } from "effect"
   * import * as CodecRegistry from "@pgfx/types/CodecRegistry"
   * const registry = CodecRegistry.builtins.withTypeCodec("numeric", {
   *   format: "text",
   *   schema: Schema.NumberFromString,
   * })
   * ```
   */
  withTypeCodec<A>(typeName: string, options: TypeCodecOptions<A>): CodecRegistry {
    const { name, schema } = qualifyTypeName(typeName, options.schemaName)
    return this.#declare({
      _tag: "Schema",
      typeName: name,
      schemaName: schema,
      options: options as TypeCodecOptions<unknown>,
    })
  }

  /**
   * A new registry where type `typeName` uses a built-in codec (asyncpg's
   * `set_builtin_type_codec`): declares an extension or user type wire-compatible with a built-in
   * type (`withBuiltinTypeCodec("myint", "int4")`), or selects the `hstore` codec for the hstore
   * extension type. `format: "text"` exchanges it in text format only. Throws a TypeError for an
   * unknown codec name.
   */
  withBuiltinTypeCodec(
    typeName: string,
    codecName: string,
    options: { readonly schemaName?: string | undefined; readonly format?: "text" | "binary" | undefined } = {},
  ): CodecRegistry {
    builtinCodecFor(codecName, 0, "check", 0) // validates the name now
    const { name, schema } = qualifyTypeName(typeName, options.schemaName)
    return this.#declare({ _tag: "Builtin", typeName: name, schemaName: schema, codecName, format: options.format })
  }

  /**
   * A new registry where `json` and `jsonb` (and their arrays, and composite fields of these
   * types) decode to `PgJson`, the server's exact text, instead of parsed values: a `json` value
   * keeps its whitespace, key order and duplicate keys, and no number is rounded
   * (`PgJson.value` parses it exactly). Encoding is unchanged.
   *
   * @example
   * ```ts
   * import * as CodecRegistry from "@pgfx/types/CodecRegistry"
   * const codecs = CodecRegistry.builtins.withLosslessJson()
   * // PgConnection.make({ url, codecs }): SELECT '{"n": 1e400}'::json gives PgJson { text: '{"n": 1e400}' }
   * ```
   */
  withLosslessJson(): CodecRegistry {
    return this.withBuiltinTypeCodec("json", "json_lossless").withBuiltinTypeCodec("jsonb", "jsonb_lossless")
  }

  /**
   * A new registry without the custom codec of `typeName` (asyncpg's `reset_type_codec`): a
   * built-in type gets its default codec back.
   */
  withoutTypeCodec(typeName: string, options: { readonly schemaName?: string | undefined } = {}): CodecRegistry {
    const { name, schema } = qualifyTypeName(typeName, options.schemaName)
    const declarations = new Map(this.#declarations)
    declarations.delete(keyOf(name, schema))
    const target = builtinTarget(name, schema)
    if (target === undefined) return new CodecRegistry(this.#byOid, this.#byName, declarations)
    const restored = [target]
    const array = target.arrayOid === 0 ? undefined : builtinCodecs.find((c) => c.oid === target.arrayOid)
    if (array !== undefined) restored.push(array)
    return new CodecRegistry(this.#byOid, this.#byName, declarations).withAll(restored)
  }

  #declare(declaration: TypeCodecDeclaration): CodecRegistry {
    const declarations = new Map(this.#declarations)
    declarations.set(keyOf(declaration.typeName, declaration.schemaName), declaration)
    const next = new CodecRegistry(this.#byOid, this.#byName, declarations)
    const target = builtinTarget(declaration.typeName, declaration.schemaName)
    if (target === undefined) return next
    const codec = applyDeclaration(declaration, target)
    const codecs = [codec]
    if (target.arrayOid !== 0) {
      codecs.push(
        arrayCodec(codec, { ...arrayOptionsOf(target), oid: target.arrayOid, name: `_${target.name}` }) as Codec,
      )
    }
    return next.withAll(codecs)
  }

  /**
   * The custom-codec declaration for a type found by introspection (`schema`, `name` as in
   * `pg_namespace` / `pg_type`): a schema-qualified declaration first, then an unqualified one.
   */
  declarationFor(schema: string, name: string): TypeCodecDeclaration | undefined {
    return this.#declarations.get(`${schema}.${name}`) ?? this.#declarations.get(name)
  }

  /** The custom-codec declarations, keyed by `name` or `schema.name`. */
  get declarations(): ReadonlyMap<string, TypeCodecDeclaration> {
    return this.#declarations
  }

  /** All codecs, in insertion order. */
  codecs(): IterableIterator<Codec> {
    return this.#byOid.values()
  }

  /** Number of codecs. */
  get size(): number {
    return this.#byOid.size
  }
}

/**
 * A registry of `codecs`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (codecs: Iterable<Codec>): CodecRegistry => CodecRegistry.make(codecs)

/**
 * The default registry: every built-in scalar codec and its array codec.
 *
 * @since 0.1.0
 * @category constructors
 */
export const builtins: CodecRegistry = CodecRegistry.make(builtinCodecs)
