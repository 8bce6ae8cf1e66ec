/**
 * Introspection: the `pg_catalog` query that describes types a connection does not know yet, and
 * the step that turns its rows into codecs.
 *
 * A connection runs {@link introspectionQuery} with the unknown OIDs of a statement (parameters
 * and result columns) as `$1::oid[]`. The query follows every dependency — array elements, domain
 * base types, range subtypes, multiranges' ranges, composite attributes — and adds the array types
 * of the requested types, so one round trip describes everything needed (and a later `mytype[]`
 * needs no new lookup). {@link buildCodecs} then builds, in dependency order:
 *
 * - arrays ↔ nested JS arrays of the element's values,
 * - composite types ↔ {@link PgComposite},
 * - enums ↔ `string`,
 * - domains ↔ their base type's values,
 * - ranges ↔ {@link Range}, multiranges ↔ `Range[]`,
 * - a base type whose binary send and receive functions are a built-in type's (`citext` uses
 *   `text`'s) ↔ that built-in type's values, in binary,
 * - extension types whose binary form pgfx knows, found by their receive and send functions' C
 *   symbols and library: `hstore` ↔ `Record<string, string | null>`, `ltree`, `lquery`,
 *   `ltxtquery` ↔ `string`, `cube` ↔ `string` (its exact text), in binary,
 * - any other type (no binary form, or one pgfx does not know) ↔ its text, in text format: its
 *   bytes are never decoded by guess,
 *
 * applying the registry's custom-codec declarations ({@link CodecRegistry.withTypeCodec}) by
 * name.
 *
 * @since 0.1.0
 */
import { arrayCodec, type ArrayCodecOptions } from "./ArrayCodec.ts"
import { builtinCodecs } from "./Builtins.ts"
import { type Codec, rename, textOnly } from "./Codec.ts"
import { applyDeclaration, type CodecRegistry } from "./CodecRegistry.ts"
import { cubeCodec } from "./CubeCodec.ts"
import { compositeCodec, domainCodec, enumCodec, isCompositeTuple } from "./CompositeCodecs.ts"
import { hstoreCodec } from "./HstoreCodec.ts"
import { isMultirangeValue, multirangeCodec, rangeCodec } from "./RangeCodecs.ts"
import type { Range } from "./Range.ts"
import { textCodec, versionedTextCodec } from "./TextCodecs.ts"

/**
 * One row of the introspection query: a type and what it depends on.
 *
 * @since 0.1.0
 * @category models
 */
export interface PgTypeInfo {
  readonly oid: number
  /** `pg_namespace.nspname` of the type. */
  readonly schema: string
  /** `pg_type.typname`. */
  readonly name: string
  /** `pg_type.typtype`: b(ase), c(omposite), d(omain), e(num), p(seudo), r(ange), m(ultirange). */
  readonly kind: string
  /** For an array type, its element type; 0 otherwise. */
  readonly elementOid: number
  /** The type's array type (`typarray`), 0 if none. */
  readonly arrayOid: number
  /** For a domain, its base type; 0 otherwise. */
  readonly baseOid: number
  /** The array element delimiter (`typdelim`). */
  readonly delimiter: string
  /** The binary receive function (`typreceive`), e.g. `hstore_recv`; `-` when there is none. */
  readonly receive: string
  /** For a range, its subtype; 0 otherwise. */
  readonly rangeSubtype: number
  /** For a multirange, its range type; 0 otherwise. */
  readonly multirangeRange: number
  /** For a composite, its attributes in order (dropped ones excluded). */
  readonly attributes: ReadonlyArray<{ readonly name: string; readonly typeOid: number }>
  /**
   * For a base type, a `pg_catalog` base type whose binary receive and send functions are the
   * same built-in functions (its binary form is that type's: `text` for `citext`); 0 if none.
   */
  readonly wireTwinOid: number
  /**
   * For a base type whose receive and send functions are C functions of a loaded library,
   * `library:receive/send` with the library's file name and the C symbols
   * (`hstore:hstore_recv/hstore_send`); empty otherwise.
   */
  readonly binaryFunctions: string
}

/**
 * The introspection query for a server of the given major version (multiranges exist from 14).
 * One parameter: `$1::oid[]`, the OIDs to describe. Columns, in order: oid, schema, name, kind,
 * element, array, base, delimiter, receive, range subtype, multirange range, attribute names,
 * attribute type OIDs, wire twin, binary functions (see {@link PgTypeInfo}). A wire twin needs both
 * functions in language 12 (`internal`, a fixed OID: the server's own functions, whose `prosrc`
 * names the C function), so an extension's C function that shares a name is never taken for one.
 *
 * @since 0.1.0
 * @category introspection
 */
export const introspectionQuery = (serverMajor: number): string => {
  const multirange = serverMajor >= 14
  return `WITH RECURSIVE deps(oid) AS (
  (SELECT unnest($1::pg_catalog.oid[])
   UNION
   SELECT t.typarray FROM pg_catalog.pg_type t WHERE t.oid = ANY ($1::pg_catalog.oid[]) AND t.typarray <> 0)
  UNION
  SELECT d.dep FROM deps
  JOIN pg_catalog.pg_type t ON t.oid = deps.oid
  CROSS JOIN LATERAL (
    SELECT t.typelem WHERE t.typelem <> 0 AND t.typlen = -1
    UNION ALL SELECT t.typbasetype WHERE t.typtype = 'd'
    UNION ALL SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid${
      multirange ? "\n    UNION ALL SELECT r.rngtypid FROM pg_catalog.pg_range r WHERE r.rngmultitypid = t.oid" : ""
    }
    UNION ALL SELECT a.atttypid FROM pg_catalog.pg_attribute a
      WHERE t.typrelid <> 0 AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
  ) AS d(dep)
)
SELECT t.oid::pg_catalog.oid,
  n.nspname::pg_catalog.text,
  t.typname::pg_catalog.text,
  t.typtype::pg_catalog.text,
  (CASE WHEN t.typelem <> 0 AND t.typlen = -1 THEN t.typelem ELSE 0 END)::pg_catalog.oid,
  t.typarray::pg_catalog.oid,
  t.typbasetype::pg_catalog.oid,
  t.typdelim::pg_catalog.text,
  t.typreceive::pg_catalog.text,
  COALESCE(r.rngsubtype, 0)::pg_catalog.oid,
  ${multirange ? "COALESCE(mr.rngtypid, 0)::pg_catalog.oid" : "0::pg_catalog.oid"},
  ARRAY(SELECT a.attname::pg_catalog.text FROM pg_catalog.pg_attribute a
    WHERE t.typrelid <> 0 AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum),
  ARRAY(SELECT a.atttypid FROM pg_catalog.pg_attribute a
    WHERE t.typrelid <> 0 AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum),
  COALESCE((SELECT pg_catalog.min(b.oid) FROM pg_catalog.pg_type b
    JOIN pg_catalog.pg_proc br ON br.oid = b.typreceive
    JOIN pg_catalog.pg_proc bs ON bs.oid = b.typsend
    WHERE t.typtype = 'b' AND rp.prolang = 12 AND sp.prolang = 12
      AND b.typnamespace = 'pg_catalog'::pg_catalog.regnamespace AND b.typtype = 'b' AND b.oid <> t.oid
      AND br.prolang = 12 AND br.prosrc = rp.prosrc AND bs.prolang = 12 AND bs.prosrc = sp.prosrc), 0)::pg_catalog.oid,
  CASE WHEN t.typtype = 'b' AND rp.probin IS NOT NULL AND rp.probin = sp.probin
    THEN pg_catalog.regexp_replace(rp.probin, '^.*/|\\.[^.]*$', '', 'g') || ':' || rp.prosrc || '/' || sp.prosrc
    ELSE '' END::pg_catalog.text
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_proc rp ON rp.oid = t.typreceive
LEFT JOIN pg_catalog.pg_proc sp ON sp.oid = t.typsend
LEFT JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid${
    multirange ? "\nLEFT JOIN pg_catalog.pg_range mr ON mr.rngmultitypid = t.oid" : ""
  }
WHERE t.oid IN (SELECT oid FROM deps)`
}

/**
 * The query that resolves a type name to its OID: `$1` the name (any SQL spelling, resolved with
 * the session's `search_path` when `$2` is NULL), `$2` the schema or NULL. One row, the OID or NULL.
 *
 * @since 0.1.0
 * @category introspection
 */
export const typeOidQuery = `SELECT CASE WHEN $2::pg_catalog.text IS NULL
  THEN pg_catalog.to_regtype($1::pg_catalog.text)::pg_catalog.oid
  ELSE (SELECT t.oid FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        WHERE t.typname = $1::pg_catalog.text AND n.nspname = $2::pg_catalog.text) END`

/**
 * The introspection row of a result row of {@link introspectionQuery} (values in column order,
 * as the built-in codecs decode them).
 *
 * @since 0.1.0
 * @category introspection
 */
export const typeInfoFromRow = (values: ReadonlyArray<unknown>): PgTypeInfo => {
  const names = (values[11] ?? []) as ReadonlyArray<string>
  const types = (values[12] ?? []) as ReadonlyArray<number>
  return {
    oid: values[0] as number,
    schema: values[1] as string,
    name: values[2] as string,
    kind: values[3] as string,
    elementOid: values[4] as number,
    arrayOid: values[5] as number,
    baseOid: values[6] as number,
    delimiter: (values[7] as string | null) ?? ",",
    receive: (values[8] as string | null) ?? "-",
    rangeSubtype: values[9] as number,
    multirangeRange: values[10] as number,
    attributes: names.map((name, i) => ({ name, typeOid: types[i]! })),
    wireTwinOid: (values[13] as number | null) ?? 0,
    binaryFunctions: (values[14] as string | null) ?? "",
  }
}

/** Extension types whose binary form pgfx knows, by `library:receive/send` (see {@link PgTypeInfo}). */
const knownBinaryForms = new Map<string, (info: PgTypeInfo) => Codec>([
  ["hstore:hstore_recv/hstore_send", (i) => hstoreCodec(i.oid, i.name, i.arrayOid) as Codec],
  ["cube:cube_recv/cube_send", (i) => cubeCodec(i.oid, i.name, i.arrayOid)],
  ["ltree:ltree_recv/ltree_send", (i) => versionedTextCodec(i.oid, i.name, i.arrayOid) as Codec],
  ["ltree:lquery_recv/lquery_send", (i) => versionedTextCodec(i.oid, i.name, i.arrayOid) as Codec],
  ["ltree:ltxtq_recv/ltxtq_send", (i) => versionedTextCodec(i.oid, i.name, i.arrayOid) as Codec],
])

const builtinByOid = new Map(builtinCodecs.map((c) => [c.oid, c] as const))

/**
 * The codec of a base type pgfx has no codec for: its wire twin's built-in codec (in the format
 * the registry uses for the twin, so a registry that reads `text` as text reads `citext` as text
 * too), a known binary form, else its text.
 */
const baseTypeCodec = (info: PgTypeInfo, registry: CodecRegistry): Codec => {
  const twin = info.wireTwinOid === 0 ? undefined : builtinByOid.get(info.wireTwinOid)
  if (twin !== undefined) {
    const codec = rename(twin, info.oid, info.name, info.arrayOid)
    return registry.get(twin.oid)?.binary === false ? textOnly(codec) : codec
  }
  const known = knownBinaryForms.get(info.binaryFunctions)
  return known !== undefined ? known(info) : (textCodec(info.oid, info.name, info.arrayOid) as Codec)
}

/**
 * Builds the codecs of introspected types on top of `registry` (whose codecs win for OIDs it
 * already has, and whose declarations customize types by name). Returns the new codecs, arrays
 * and dependencies included.
 *
 * Throws a TypeError when a declaration does not fit its type (e.g. `format: "tuple"` for a type
 * without a tuple form).
 *
 * @since 0.1.0
 * @category introspection
 */
export const buildCodecs = (infos: Iterable<PgTypeInfo>, registry: CodecRegistry): Array<Codec> => {
  const byOid = new Map<number, PgTypeInfo>()
  for (const info of infos) byOid.set(info.oid, info)
  const built = new Map<number, Codec>()
  const building = new Set<number>()

  const resolve = (oid: number): Codec => {
    const known = registry.get(oid)
    if (known !== undefined) return known
    const done = built.get(oid)
    if (done !== undefined) return done
    const info = byOid.get(oid)
    if (info === undefined || building.has(oid)) return textCodec(oid, `oid ${oid}`)
    building.add(oid)
    const codec = build(info)
    building.delete(oid)
    built.set(oid, codec)
    return codec
  }

  const arrayOptions = (element: PgTypeInfo | undefined): ArrayCodecOptions => {
    if (element === undefined) return {}
    let base = element
    while (base.kind === "d" && byOid.has(base.baseOid)) base = byOid.get(base.baseOid)!
    if (base.kind === "m") return { isElement: isMultirangeValue }
    if (base.kind === "c") return { isElement: isCompositeTuple }
    return {}
  }

  const defaultCodec = (info: PgTypeInfo): Codec => {
    const id = { name: info.name, oid: info.oid, arrayOid: info.arrayOid }
    if (info.elementOid !== 0) {
      return arrayCodec(resolve(info.elementOid), {
        ...arrayOptions(byOid.get(info.elementOid)),
        oid: info.oid,
        name: info.name,
        delimiter: info.delimiter,
      }) as Codec
    }
    switch (info.kind) {
      case "e":
        return enumCodec(id) as Codec
      case "d":
        return domainCodec(resolve(info.baseOid), id)
      case "c":
        return compositeCodec(
          id,
          info.attributes.map((a) => ({ name: a.name, typeOid: a.typeOid, codec: resolve(a.typeOid) })),
        ) as Codec
      case "r":
        return rangeCodec(resolve(info.rangeSubtype), id) as Codec
      case "m":
        return multirangeCodec(resolve(info.multirangeRange) as Codec<Range<unknown>>, id) as Codec
      default:
        return baseTypeCodec(info, registry)
    }
  }

  const build = (info: PgTypeInfo): Codec => {
    const declaration = registry.declarationFor(info.schema, info.name)
    const codec = defaultCodec(info)
    return declaration === undefined ? codec : applyDeclaration(declaration, codec, info.kind === "c")
  }

  for (const info of byOid.values()) resolve(info.oid)
  return [...built.values()]
}
