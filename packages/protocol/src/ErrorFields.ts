/**
 * The fields of ErrorResponse ('E') and NoticeResponse ('N') messages, by readable name.
 *
 * On the wire both messages carry a list of `(one-byte field code, string)` pairs (PostgreSQL
 * docs, "Error and Notice Message Fields"); `Backend.decode` hands that list over as-is.
 * {@link parseErrorFields} turns it into an {@link ErrorFields} record; {@link toErrorFieldList}
 * goes the other way (for fake servers and tests).
 *
 * Every value stays the string the server sent: `position`, `internalPosition` and `line` are
 * decimal digits in a string, as in the protocol, so nothing is lost or invented by parsing;
 * convert with `Number(...)` where a number is needed. `position` counts characters (not bytes)
 * from 1.
 *
 * Pure data: no Effect, no I/O.
 *
 * @since 0.1.0
 */

/**
 * The fields of one ErrorResponse or NoticeResponse.
 *
 * `severity`, `code` and `message` are always sent by PostgreSQL; the others are optional and
 * absent (not `""`) when the server did not send them.
 *
 * @since 0.1.0
 * @category models
 */
export interface ErrorFields {
  /**
   * `V`: severity, never localized: `ERROR`, `FATAL` or `PANIC` in an error; `WARNING`, `NOTICE`,
   * `DEBUG`, `INFO` or `LOG` in a notice. Servers before 9.6 do not send `V`; then this is the
   * `S` value (possibly translated).
   */
  readonly severity: string
  /** `S`: severity, possibly translated to the server's `lc_messages` language. */
  readonly severityLocalized: string
  /** `C`: the SQLSTATE code, e.g. `"23505"` (see `SqlState`). Never localized. */
  readonly code: string
  /** `M`: the primary message, terse, usually one line. */
  readonly message: string
  /** `D`: a secondary message with more detail; may run to several lines. */
  readonly detail?: string
  /** `H`: advice on what to do about the problem; may run to several lines. */
  readonly hint?: string
  /** `P`: cursor position in the original query text, a decimal string counting characters from 1. */
  readonly position?: string
  /** `p`: like `position`, but into the internally generated command in `internalQuery`. */
  readonly internalPosition?: string
  /** `q`: the text of a failed internally generated command (e.g. a SQL query inside a PL/pgSQL function). */
  readonly internalQuery?: string
  /** `W`: the context: a call stack traceback of active procedural-language functions and internal queries, one entry per line, most recent first. */
  readonly where?: string
  /** `s`: schema name of the object the error is about. */
  readonly schema?: string
  /** `t`: table name of the object the error is about (the schema is in `schema`). */
  readonly table?: string
  /** `c`: column name (the table is in `schema` and `table`). */
  readonly column?: string
  /** `d`: data type name (the schema is in `schema`). */
  readonly dataType?: string
  /** `n`: constraint name; indexes count as constraints even when not created with constraint syntax. */
  readonly constraint?: string
  /** `F`: source file name in the server where the error was reported. */
  readonly file?: string
  /** `L`: source line number in the server, a decimal string. */
  readonly line?: string
  /** `R`: name of the server's source routine that reported the error. */
  readonly routine?: string
}

/**
 * Field code (the one-byte token on the wire, as a one-character string) to property of
 * {@link ErrorFields}. Covers every field PostgreSQL documents.
 *
 * @example
 * ```ts
 * errorFieldName["n"] // "constraint"
 * ```
 * @since 0.1.0
 * @category codes
 */
export const errorFieldName: Readonly<Record<string, keyof ErrorFields>> = {
  S: "severityLocalized",
  V: "severity",
  C: "code",
  M: "message",
  D: "detail",
  H: "hint",
  P: "position",
  p: "internalPosition",
  q: "internalQuery",
  W: "where",
  s: "schema",
  t: "table",
  c: "column",
  d: "dataType",
  n: "constraint",
  F: "file",
  L: "line",
  R: "routine",
}

/**
 * Property of {@link ErrorFields} to field code: the inverse of {@link errorFieldName}.
 *
 * @since 0.1.0
 * @category codes
 */
export const errorFieldCode: { readonly [K in keyof ErrorFields]-?: string } = {
  severityLocalized: "S",
  severity: "V",
  code: "C",
  message: "M",
  detail: "D",
  hint: "H",
  position: "P",
  internalPosition: "p",
  internalQuery: "q",
  where: "W",
  schema: "s",
  table: "t",
  column: "c",
  dataType: "d",
  constraint: "n",
  file: "F",
  line: "L",
  routine: "R",
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * Builds {@link ErrorFields} from the `(code, value)` pairs of an ErrorResponse or
 * NoticeResponse.
 *
 * Details:
 * - Unknown field codes are ignored, as the protocol asks clients to do (new servers may add
 *   fields).
 * - A field sent twice (the protocol says it should not be) keeps its last value.
 * - `severity`, `severityLocalized`, `code` and `message` are `""` when missing (PostgreSQL always
 *   sends `S`, `C` and `M`; other servers speaking the protocol may not). `severity` falls back to
 *   the `S` value when `V` is missing (servers before 9.6).
 * - Optional fields that were not sent are absent, not `undefined` or `""`.
 *
 * @example
 * ```ts
 * parseErrorFields([["S", "ERROR"], ["V", "ERROR"], ["C", "23505"], ["M", "duplicate key"], ["n", "users_pkey"]])
 * // { severity: "ERROR", severityLocalized: "ERROR", code: "23505", message: "duplicate key", constraint: "users_pkey" }
 * ```
 * @since 0.1.0
 * @category parsing
 */
export const parseErrorFields = (fields: ReadonlyArray<readonly [code: string, value: string]>): ErrorFields => {
  const out: Mutable<ErrorFields> = { severity: "", severityLocalized: "", code: "", message: "" }
  let sawV = false
  for (const [code, value] of fields) {
    if (!Object.hasOwn(errorFieldName, code)) continue
    const name = errorFieldName[code]
    out[name] = value
    if (code === "V") sawV = true
  }
  if (!sawV) out.severity = out.severityLocalized
  return out
}

/**
 * The `(code, value)` pairs for {@link ErrorFields}, in the order of {@link errorFieldCode}
 * (`S`, `V`, `C`, `M`, then the optional fields that are present). Feed it to an ErrorResponse or
 * NoticeResponse encoder, e.g. in a fake server.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toErrorFieldList = (fields: ErrorFields): ReadonlyArray<readonly [code: string, value: string]> => {
  const out: Array<readonly [string, string]> = []
  for (const name of Object.keys(errorFieldCode) as Array<keyof ErrorFields>) {
    const value = fields[name]
    if (value !== undefined) out.push([errorFieldCode[name], value])
  }
  return out
}
