/**
 * Comparing a typed query's declared Schemas with what the server says about its statement
 * (ParameterDescription, RowDescription, `pg_attribute.attnotnull`). Pure functions: the caller
 * fetches the description; this lists every difference.
 *
 * Types are compared through the Schemas' encoded side: for each PostgreSQL type we know sample
 * values of what its codec decodes to (for columns) and accepts (for parameters); a declared
 * Schema that accepts none of them cannot be right. Types we have no samples for (json, user
 * types, extension types) are not compared.
 */
import { Interval } from "@pgfx/types/Interval"
import { PgDate } from "@pgfx/types/PgDate"
import { PgTime, PgTimeTz } from "@pgfx/types/PgTime"
import { PgTimestamp } from "@pgfx/types/PgTimestamp"
import { Schema, SchemaAST } from "effect"

/** One difference between the declaration and the server's description. */
export interface Difference {
  /** What differs. */
  readonly kind:
    | "ParameterCount"
    | "ParameterType"
    | "ParameterName"
    | "MissingColumn"
    | "UndeclaredColumn"
    | "ColumnOrder"
    | "ColumnType"
    | "Nullability"
    | "DuplicateColumn"
  /** A sentence naming the parameter or column, what was declared and what the server says. */
  readonly message: string
}

/** A parameter or column type as the server describes it. */
export interface DescribedType {
  readonly oid: number
  readonly name: string
  readonly kind: string
  readonly schema: string
}

/** A result column as described, with its nullability when it comes from a table column. */
export interface DescribedColumn {
  readonly name: string
  readonly type: DescribedType
  /** true: NOT NULL table column; false: nullable table column; undefined: an expression. */
  readonly notNull: boolean | undefined
}

const zero = (): Array<unknown> => [0]
const str = (): Array<unknown> => [""]
const scalarDecoded: Record<string, () => Array<unknown>> = {
  bool: () => [true],
  int2: zero,
  int4: zero,
  float4: zero,
  float8: zero,
  oid: zero,
  xid: zero,
  cid: zero,
  int8: () => [0n],
  xid8: () => [0n],
  numeric: str,
  money: str,
  text: str,
  varchar: str,
  bpchar: str,
  name: str,
  char: str,
  xml: str,
  uuid: str,
  jsonpath: str,
  inet: str,
  cidr: str,
  macaddr: str,
  macaddr8: str,
  tsvector: str,
  tsquery: str,
  pg_lsn: str,
  regclass: str,
  regtype: str,
  regproc: str,
  bytea: () => [new Uint8Array(0)],
  date: () => [PgDate.fromDays(0)],
  timestamp: () => [new PgTimestamp(0n, false)],
  timestamptz: () => [new PgTimestamp(0n, true)],
  time: () => [PgTime.make(0)],
  timetz: () => [PgTimeTz.make(0)],
  interval: () => [Interval.make({ months: 0, days: 0, microseconds: 0n })],
}
/** What parameter encoders accept beyond what the column decoders produce. */
const scalarAccepted: Record<string, () => Array<unknown>> = {
  int2: () => [0, 0n],
  int4: () => [0, 0n],
  int8: () => [0n, 0],
  numeric: () => ["0", 0, 0n],
  date: () => [PgDate.fromDays(0), new Date(0)],
  timestamp: () => [new PgTimestamp(0n, false), new Date(0)],
  timestamptz: () => [new PgTimestamp(0n, true), new Date(0)],
  pg_lsn: () => ["", 0n],
  regclass: () => ["", 0],
  regtype: () => ["", 0],
}

/** Sample values of a type, or undefined when we do not know the type well enough. */
const samples = (type: DescribedType, direction: "param" | "column"): Array<unknown> | undefined => {
  if (type.schema !== "pg_catalog") return undefined
  const array = type.kind === "array" || (type.name.startsWith("_") && type.name.length > 1)
  const name = array ? type.name.slice(1) : type.name
  const table = direction === "param" ? (scalarAccepted[name] ?? scalarDecoded[name]) : scalarDecoded[name]
  if (table === undefined) return undefined
  const values = table()
  return array ? values.map((v) => [v]) : values
}

const accepts = (ast: SchemaAST.AST, value: unknown): boolean => Schema.is(Schema.make(ast))(value)

const describeType = (type: DescribedType): string =>
  type.schema === "pg_catalog" || type.schema === "" ? type.name : `${type.schema}.${type.name}`

const typeDifference = (
  ast: SchemaAST.AST,
  type: DescribedType,
  direction: "param" | "column",
  label: string,
): string | undefined => {
  const values = samples(type, direction)
  if (values === undefined) return undefined
  if (values.some((v) => accepts(ast, v))) return undefined
  const shown = values.map(showSample).join(" or ")
  const declared = acceptedKinds(ast)
  return direction === "param"
    ? `${label}: the server expects ${describeType(type)} (${shown}), but the declared Schema encodes to ${declared}`
    : `${label}: the server returns ${describeType(type)} (decoded as ${shown}), but the declared Schema expects ${declared}`
}

const probes: ReadonlyArray<readonly [string, () => unknown]> = [
  ["boolean", () => true],
  ["number", () => 0],
  ["bigint", () => 0n],
  ["string", () => ""],
  ["Uint8Array", () => new Uint8Array(0)],
  ["Date", () => new Date(0)],
  ["PgDate", () => PgDate.fromDays(0)],
  ["PgTimestamp", () => new PgTimestamp(0n)],
  ["Array<number>", () => [0]],
  ["Array<string>", () => [""]],
]

/** A short description of what an encoded schema accepts, from probe values. */
const acceptedKinds = (ast: SchemaAST.AST): string => {
  const kinds = probes.filter(([, make]) => accepts(ast, make())).map(([kind]) => kind)
  return kinds.length === 0 ? "none of the usual values" : kinds.join(" | ")
}

const showSample = (v: unknown): string => {
  if (Array.isArray(v)) return `Array<${v.length > 0 ? showSample(v[0]) : "unknown"}>`
  if (v === null) return "null"
  if (typeof v === "object") return v.constructor.name
  return typeof v
}

/** The encoded-side AST of a schema. */
export const encodedAst = (schema: Schema.Top): SchemaAST.AST => SchemaAST.toEncoded(schema.ast)

/** The fields of an encoded struct AST (name, type, optional), or undefined when it is not a struct. */
export const structFields = (
  ast: SchemaAST.AST,
): ReadonlyArray<{ readonly name: string; readonly type: SchemaAST.AST; readonly optional: boolean }> | undefined =>
  ast._tag === "Objects"
    ? ast.propertySignatures.map((p) => ({
        name: String(p.name),
        type: p.type,
        optional: SchemaAST.isOptional(p.type),
      }))
    : undefined

/** The elements of an encoded tuple AST, or undefined when it is not a fixed tuple. */
export const tupleElements = (ast: SchemaAST.AST): ReadonlyArray<SchemaAST.AST> | undefined =>
  ast._tag === "Arrays" && ast.rest.length === 0 ? ast.elements : undefined

/**
 * Compares declared parameters (positional element ASTs, with names for named parameters) with
 * the server's parameter types.
 */
export const compareParameters = (
  declared: ReadonlyArray<{ readonly label: string; readonly ast: SchemaAST.AST }> | undefined,
  server: ReadonlyArray<DescribedType>,
): Array<Difference> => {
  const out: Array<Difference> = []
  const list = declared ?? []
  if (list.length !== server.length) {
    out.push({
      kind: "ParameterCount",
      message: `the statement takes ${server.length} parameter(s) (${server.map(describeType).join(", ") || "none"}), but ${list.length} are declared`,
    })
  }
  const n = Math.min(list.length, server.length)
  for (let i = 0; i < n; i++) {
    const d = list[i]!
    const message = typeDifference(d.ast, server[i]!, "param", `parameter $${i + 1}${d.label}`)
    if (message !== undefined) out.push({ kind: "ParameterType", message })
  }
  return out
}

/** Compares a declared row struct with the described columns: names, order, types, nullability. */
export const compareColumns = (
  declared: ReadonlyArray<{ readonly name: string; readonly type: SchemaAST.AST; readonly optional: boolean }>,
  server: ReadonlyArray<DescribedColumn>,
): Array<Difference> => {
  const out: Array<Difference> = []
  const byName = new Map<string, DescribedColumn>()
  for (const column of server) {
    if (byName.has(column.name)) {
      out.push({
        kind: "DuplicateColumn",
        message: `column "${column.name}" appears more than once in the result; only the first can be decoded by name (alias it)`,
      })
    } else byName.set(column.name, column)
  }
  const declaredNames = new Set(declared.map((f) => f.name))
  for (const field of declared) {
    const column = byName.get(field.name)
    if (column === undefined) {
      if (!field.optional) {
        out.push({
          kind: "MissingColumn",
          message: `column "${field.name}" is declared but the statement does not return it (it returns ${server.map((c) => `"${c.name}"`).join(", ") || "no columns"})`,
        })
      }
      continue
    }
    const message = typeDifference(field.type, column.type, "column", `column "${field.name}"`)
    if (message !== undefined) out.push({ kind: "ColumnType", message })
    if (column.notNull === false && !accepts(field.type, null)) {
      out.push({
        kind: "Nullability",
        message: `column "${field.name}" can be NULL (a nullable table column), but the declared Schema does not accept null (use Schema.NullOr or Schema.OptionFromNullOr)`,
      })
    }
  }
  for (const column of server) {
    if (!declaredNames.has(column.name)) {
      out.push({
        kind: "UndeclaredColumn",
        message: `column "${column.name}" (${describeType(column.type)}) is returned but not declared`,
      })
    }
  }
  const returnedOrder = server.map((c) => c.name).filter((name) => declaredNames.has(name))
  const declaredOrder = declared.map((f) => f.name).filter((name) => byName.has(name))
  if (returnedOrder.join("\u0000") !== declaredOrder.join("\u0000")) {
    out.push({
      kind: "ColumnOrder",
      message: `columns are returned in the order ${returnedOrder.map((n) => `"${n}"`).join(", ")} but declared as ${declaredOrder.map((n) => `"${n}"`).join(", ")}`,
    })
  }
  return out
}
