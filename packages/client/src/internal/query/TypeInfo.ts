/**
 * Type names for statement descriptions (`getParameters`, `getAttributes`): the OIDs a statement
 * uses are looked up in `pg_type` once per connection and remembered.
 *
 * @internal
 */
import { Effect } from "effect"
import type { PgQueryError } from "../../PgError.ts"
import type { PgType, PgTypeKind } from "../Handles.ts"
import type { ConnectionCore } from "../connection/Core.ts"

const known = new WeakMap<ConnectionCore, Map<number, PgType>>()

// Only text in and out, so the lookup works with any codec registry.
const LOOKUP = `SELECT t.oid::text AS oid, t.typname::text AS name, n.nspname::text AS schema,
  t.typtype::text AS typtype, (t.typelem <> 0 AND t.typlen = -1)::text AS is_array
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.oid = ANY (string_to_array($1::text, ',')::oid[])`

const kindOf = (typtype: string, isArray: boolean): PgTypeKind => {
  if (isArray) return "array"
  switch (typtype) {
    case "c":
      return "composite"
    case "r":
      return "range"
    case "m":
      return "multirange"
    default:
      return "scalar"
  }
}

/** The types of `oids`, in order (a type dropped meanwhile has an empty name and schema). */
export const lookupTypes = (
  conn: ConnectionCore,
  oids: ReadonlyArray<number>,
): Effect.Effect<ReadonlyArray<PgType>, PgQueryError> =>
  Effect.suspend(() => {
    let types = known.get(conn)
    if (types === undefined) known.set(conn, (types = new Map()))
    const cache = types
    const missing = [...new Set(oids)].filter((oid) => !cache.has(oid))
    const load =
      missing.length === 0
        ? Effect.void
        : Effect.map(conn.fetch(LOOKUP, [missing.join(",")]), (rows) => {
            for (const row of rows) {
              const oid = Number(row.get("oid"))
              cache.set(oid, {
                oid,
                name: String(row.get("name")),
                kind: kindOf(String(row.get("typtype")), row.get("is_array") === "true"),
                schema: String(row.get("schema")),
              })
            }
          })
    return Effect.map(load, () =>
      oids.map((oid) => cache.get(oid) ?? { oid, name: "", kind: "scalar" as const, schema: "" }),
    )
  })
