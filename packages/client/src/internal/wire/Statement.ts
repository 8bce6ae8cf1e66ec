/**
 * A described statement: its parameter types and codecs, its result columns, their formats, and
 * the row decoder compiled once for the statement. Also the parameter encoder that writes a Bind
 * frame straight from JavaScript values.
 *
 * @internal
 */
import * as Backend from "@pgfx/protocol/Backend"
import * as Frontend from "@pgfx/protocol/Frontend"
import type { Writer } from "@pgfx/protocol/Writer"
import { type Codec, DecodeError, EncodeError, jsTypeOf, parameterText } from "@pgfx/types/Codec"
import type { CodecRegistry } from "@pgfx/types/CodecRegistry"
import { textCodec } from "@pgfx/types/TextCodecs"
import { PgDecodeError, PgEncodeError } from "../../PgError.ts"
import { makeRecordShape, type PgColumn, type PgRecord, type RecordShape } from "../../PgRecord.ts"

// ignoreBOM: a value that starts with U+FEFF keeps it (a plain TextDecoder strips it).
const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true })

/** A statement prepared on the server (named) or described for the unnamed slot. */
export interface StatementInfo {
  /** Server-side name; "" for the unnamed statement. */
  readonly name: string
  readonly sql: string
  readonly paramOids: ReadonlyArray<number>
  /** A codec per parameter: a type without one is sent as text (the types package's `textCodec`). */
  readonly paramCodecs: ReadonlyArray<Codec>
  readonly columns: ReadonlyArray<PgColumn>
  readonly resultFormats: ReadonlyArray<Frontend.FormatCode>
  /** Decodes one DataRow body into a row. Throws PgDecodeError (or ProtocolViolation). */
  readonly decodeRecord: RecordDecoder
  /**
   * Set on a one-off copy of a named statement (see {@link reparsed}): the execution closes and
   * parses the statement again in its own batch instead of trusting the server to hold it.
   */
  readonly reparse?: true | undefined
}

/**
 * `info` for one execution that re-creates its named statement in the same batch as its Bind
 * (Close, Parse, Bind, Describe portal, Execute, Sync): for a server connection that may not
 * hold the statement (behind a transaction-pooling proxy), where Close of a missing statement is
 * harmless and the batch, ending in one Sync, runs on one server connection.
 */
export const reparsed = (info: StatementInfo): StatementInfo =>
  info.name === "" || info.reparse === true ? info : { ...info, reparse: true }

/** Whether an execution of `info` sends Parse in its own batch (the unnamed statement, or {@link reparsed}). */
export const parsesInBatch = (info: StatementInfo): boolean => info.name === "" || info.reparse === true

const typeNameOf = (codec: Codec | undefined, oid: number): string => codec?.name ?? `oid ${oid}`

/**
 * Builds the statement description from ParameterDescription and RowDescription (or NoData).
 */
export const makeStatementInfo = (
  name: string,
  sql: string,
  paramOids: ReadonlyArray<number>,
  fields: ReadonlyArray<Backend.FieldDescription>,
  registry: CodecRegistry,
  /** The formats the server actually uses (a portal's description); default: binary where a codec can. */
  formats?: ReadonlyArray<Frontend.FormatCode>,
): StatementInfo => {
  const paramCodecs = paramOids.map((oid) => registry.get(oid) ?? textCodec(oid, `oid ${oid}`))
  const codecs = fields.map((f) => registry.get(f.typeOid))
  const resultFormats: Array<Frontend.FormatCode> =
    formats !== undefined ? [...formats] : codecs.map((c) => (c !== undefined && c.binary ? 1 : 0))
  const columns: Array<PgColumn> = fields.map((f, i) => ({
    name: f.name,
    typeOid: f.typeOid,
    tableOid: f.tableOid,
    columnAttribute: f.columnAttribute,
    typeModifier: f.typeModifier,
    typeSize: f.typeSize,
    format: resultFormats[i]!,
  }))
  return {
    name,
    sql,
    paramOids,
    paramCodecs,
    columns,
    resultFormats: compactFormats(resultFormats),
    decodeRecord: makeRecordDecoder(columns, codecs, resultFormats, makeRecordShape(columns)),
  }
}

/** Whether a portal's description still matches the statement's cached one (names and types). */
const sameResultShape = (info: StatementInfo, fields: ReadonlyArray<Backend.FieldDescription>): boolean => {
  const columns = info.columns
  if (columns.length !== fields.length) return false
  for (let i = 0; i < fields.length; i++) {
    if (columns[i]!.typeOid !== fields[i]!.typeOid || columns[i]!.name !== fields[i]!.name) return false
  }
  return true
}

/**
 * `info` read against its portal's description (the RowDescription or NoData of type `type` in
 * `buf`, which a batch with the unnamed statement receives before the rows): `info` itself when
 * the result has the shape it describes; else `info` re-described from the portal (decoding the
 * formats actually sent), or undefined when there is no `registry` to re-describe with. A caller
 * that gets a new description decodes the rows with it and drops the cached entry (DDL since).
 */
export const describedBy = (
  info: StatementInfo,
  type: number,
  buf: Uint8Array,
  view: DataView,
  start: number,
  end: number,
  registry: CodecRegistry | undefined,
): StatementInfo | undefined => {
  const msg = type === Backend.Type.NoData ? undefined : Backend.decode(type, buf, view, start, end)
  const fields = msg?._tag === "RowDescription" ? msg.fields : []
  if (sameResultShape(info, fields)) return info
  if (registry === undefined) return undefined
  return makeStatementInfo(
    info.name,
    info.sql,
    info.paramOids,
    fields,
    registry,
    fields.map((f) => (f.format === 1 ? 1 : 0)),
  )
}

/** One format code for all columns when they agree (shorter Bind). */
const compactFormats = (formats: ReadonlyArray<Frontend.FormatCode>): ReadonlyArray<Frontend.FormatCode> => {
  if (formats.length === 0) return formats
  const first = formats[0]!
  for (let i = 1; i < formats.length; i++) if (formats[i] !== first) return formats
  return [first]
}

/** Decodes one DataRow body (`buf[start, end)`) into a row. */
export type RecordDecoder = (buf: Uint8Array, view: DataView, start: number, end: number) => PgRecord

const decodeText = (buf: Uint8Array, pos: number, len: number): string => utf8.decode(buf.subarray(pos, pos + len))

const countMismatch = (count: number, n: number): never => {
  throw new Backend.ProtocolViolation({ message: `DataRow has ${count} fields, expected ${n}` })
}

const overrun = (): never => {
  throw new Backend.ProtocolViolation({ message: "DataRow field runs past the message" })
}

/** A field length below -1 (-1 is NULL). */
const badLength = (len: number): never => {
  throw new Backend.ProtocolViolation({ message: `DataRow field has invalid length ${len}` })
}

/** A failure while decoding column `i`: protocol violations as they are, the rest as PgDecodeError. */
const decodeFailure = (columns: ReadonlyArray<PgColumn>, codecs: ReadonlyArray<Codec | undefined>) => {
  return (e: unknown, i: number): unknown => {
    if (e instanceof Backend.ProtocolViolation) return e
    const col = columns[i]!
    return new PgDecodeError({
      message: `cannot decode column "${col.name}" (${typeNameOf(codecs[i], col.typeOid)}): ${
        e instanceof DecodeError || e instanceof Error ? e.message : String(e)
      }`,
      column: col.name,
      typeOid: col.typeOid,
      cause: e,
    })
  }
}

/**
 * The row decoder of one statement. Where code generation is allowed, one function is generated
 * per statement with a straight-line step per column: each step calls its own codec (a call site
 * that only ever sees one function, which the JIT can inline) and the row is built from the
 * decoded values in one constructor call (no values array for field-layout rows). Otherwise a
 * loop over the columns does the same.
 */
const makeRecordDecoder = (
  columns: ReadonlyArray<PgColumn>,
  codecs: ReadonlyArray<Codec | undefined>,
  formats: ReadonlyArray<Frontend.FormatCode>,
  shape: RecordShape,
): RecordDecoder => {
  const n = columns.length
  const fail = decodeFailure(columns, codecs)
  const generated = generateRecordDecoder(n, codecs, formats, shape, fail)
  if (generated !== undefined) return generated
  const make = shape.make
  return (buf, view, start, end) => {
    let pos = start
    const count = view.getInt16(pos)
    if (count !== n) countMismatch(count, n)
    pos += 2
    const values = new Array<unknown>(n)
    for (let i = 0; i < n; i++) {
      const len = view.getInt32(pos)
      pos += 4
      if (len < 0) {
        if (len !== -1) badLength(len)
        values[i] = null
        continue
      }
      if (pos + len > end) overrun()
      const codec = codecs[i]
      try {
        if (formats[i] === 1) values[i] = codec!.decodeBinary(buf, view, pos, len)
        else {
          const text = decodeText(buf, pos, len)
          values[i] = codec === undefined ? text : codec.decodeText(text)
        }
      } catch (e) {
        throw fail(e, i)
      }
      pos += len
    }
    return make(values)
  }
}

/** See {@link makeRecordDecoder}; undefined when code cannot be generated here. */
const generateRecordDecoder = (
  n: number,
  codecs: ReadonlyArray<Codec | undefined>,
  formats: ReadonlyArray<Frontend.FormatCode>,
  shape: RecordShape,
  fail: (e: unknown, i: number) => unknown,
): RecordDecoder | undefined => {
  if (n > 64) return undefined
  const steps: Array<string> = []
  for (let i = 0; i < n; i++) {
    const decode =
      formats[i] === 1
        ? `c${i}.decodeBinary(buf, view, pos, len)`
        : codecs[i] === undefined
          ? "text(buf, pos, len)"
          : `c${i}.decodeText(text(buf, pos, len))`
    steps.push(
      `col = ${i}; len = view.getInt32(pos); pos += 4;`,
      `if (len >= 0) { if (pos + len > end) overrun(); v${i} = ${decode}; pos += len } else if (len !== -1) badLength(len)`,
    )
  }
  const values = Array.from({ length: n }, (_, i) => `v${i}`).join(", ")
  const build = shape.Row === undefined ? `make([${values}])` : `new Row(${values})`
  const body = [
    `"use strict";`,
    `return function decodeRecord(buf, view, start, end) {`,
    `  const count = view.getInt16(start); if (count !== ${n}) countMismatch(count, ${n});`,
    `  let pos = start + 2, len = 0, col = 0;`,
    ...(n === 0 ? [] : [`  let ${Array.from({ length: n }, (_, i) => `v${i} = null`).join(", ")};`]),
    `  try {`,
    ...steps.map((s) => `    ${s}`),
    `  } catch (e) { throw fail(e, col) }`,
    `  return ${build};`,
    `}`,
  ].join("\n")
  const params = [
    ...codecs.map((_, i) => `c${i}`),
    "Row",
    "make",
    "text",
    "fail",
    "countMismatch",
    "overrun",
    "badLength",
  ]
  let factory: (...args: Array<unknown>) => RecordDecoder
  try {
    factory = new Function(...params, body) as (...args: Array<unknown>) => RecordDecoder
  } catch {
    return undefined
  }
  return factory(...codecs, shape.Row, shape.make, decodeText, fail, countMismatch, overrun, badLength)
}

/**
 * Builds Bind + Execute for `args` into `portal` (default: the unnamed portal); throws
 * PgEncodeError before anything is written. For the unnamed statement, Parse is written first
 * (unless `parse` is false: already parsed earlier in the same batch) and the portal is
 * described, so a stale cached description is noticed (see `ExecuteHandler`).
 */
export const writeBindExecute = (
  w: Writer,
  info: StatementInfo,
  args: ReadonlyArray<unknown>,
  maxRows: number,
  portal = "",
  parse = parsesInBatch(info),
): void => {
  writeBind(w, info, args, portal, parse)
  Frontend.execute(w, portal, maxRows)
}

/**
 * Decodes one DataRow of `info` onto `rows`. A value that cannot be decoded is returned as the
 * cycle's error (the cycle then drains to ReadyForQuery and the session stays usable); anything
 * else thrown (a protocol violation) propagates and poisons the session.
 */
export const decodeRowInto = (
  info: StatementInfo,
  rows: Array<PgRecord>,
  buf: Uint8Array,
  view: DataView,
  start: number,
  end: number,
): PgDecodeError | undefined => {
  try {
    rows.push(info.decodeRecord(buf, view, start, end))
    return undefined
  } catch (e) {
    if (e instanceof PgDecodeError) return e
    throw e
  }
}

/** The most parameters a Bind message can carry (its counts are 16-bit). */
const MAX_PARAMETERS = 0xffff

/** Bind (with Parse and Describe for the unnamed statement) without Execute: see {@link writeBindExecute}. */
export const writeBind = (
  w: Writer,
  info: StatementInfo,
  args: ReadonlyArray<unknown>,
  portal = "",
  parse = parsesInBatch(info),
): void => {
  const n = info.paramOids.length
  if (n > MAX_PARAMETERS) {
    throw new PgEncodeError({
      message: `the statement has ${n} parameters; the protocol's Bind message carries at most ${MAX_PARAMETERS}`,
      parameter: MAX_PARAMETERS + 1,
      typeName: "",
      typeOid: 0,
      actualType: "",
    })
  }
  if (args.length !== n) {
    throw new PgEncodeError({
      message: `the statement expects ${n} argument${n === 1 ? "" : "s"}, got ${args.length}`,
      parameter: Math.min(args.length, n) + 1,
      typeName: "",
      typeOid: 0,
      actualType: "",
    })
  }
  const start = w.pos
  try {
    // The unnamed statement can be replaced by any request in between: re-parse it in this batch
    // (a named one is closed first: Close of a statement the server does not hold is harmless).
    if (parse) {
      if (info.name !== "") Frontend.close(w, "S", info.name)
      Frontend.parse(w, info.name, info.sql, info.paramOids)
    }
    writeBindMessage(w, info, args, portal)
  } catch (e) {
    w.pos = start
    throw e
  }
  if (parse) Frontend.describe(w, "P", portal)
}

/** The format a parameter is sent in: binary when its codec can (and wants to for this value). */
const formatOf = (codec: Codec | undefined, value: unknown): Frontend.FormatCode =>
  codec !== undefined && codec.binary && !codec.sendAsText(value) ? 1 : 0

/**
 * The Bind message, written straight into `w` (no per-call arrays or closures): one parameter
 * format code when all parameters share it, one per parameter otherwise.
 */
const writeBindMessage = (w: Writer, info: StatementInfo, args: ReadonlyArray<unknown>, portal: string): void => {
  const n = args.length
  const codecs = info.paramCodecs
  let first: Frontend.FormatCode = 0
  let uniform = true
  for (let i = 0; i < n; i++) {
    const f = formatOf(codecs[i], args[i])
    if (i === 0) first = f
    else if (f !== first) {
      uniform = false
      break
    }
  }
  w.byte(0x42)
  const at = w.reserveLength()
  w.cstring(portal).cstring(info.name)
  if (n === 0) w.int16(0)
  else if (uniform) w.int16(1).int16(first)
  else {
    w.int16(n)
    for (let i = 0; i < n; i++) w.int16(formatOf(codecs[i], args[i]))
  }
  w.int16(n)
  for (let i = 0; i < n; i++) {
    const v = args[i]
    if (v === null || v === undefined) {
      w.int32(-1)
      continue
    }
    const len = w.reserveLength()
    encodeParam(w, info, i, v, uniform ? first : formatOf(codecs[i], v))
    w.patchValueLength(len)
  }
  const results = info.resultFormats
  w.int16(results.length)
  for (let i = 0; i < results.length; i++) w.int16(results[i]!)
  w.patchLength(at)
}

const encodeParam = (w: Writer, info: StatementInfo, i: number, value: unknown, format: Frontend.FormatCode): void => {
  const codec = info.paramCodecs[i]!
  const oid = info.paramOids[i]!
  try {
    if (format === 1) codec.encodeBinary(value, w)
    else w.string(parameterText(codec, value))
  } catch (e) {
    if (e instanceof PgEncodeError) throw e
    throw new PgEncodeError({
      message: `cannot encode parameter $${i + 1} as ${typeNameOf(codec, oid)}: ${
        e instanceof EncodeError || e instanceof Error ? e.message : String(e)
      }`,
      parameter: i + 1,
      typeName: typeNameOf(codec, oid),
      typeOid: oid,
      actualType: e instanceof EncodeError ? e.actualType : jsTypeOf(value),
      cause: e,
    })
  }
}
