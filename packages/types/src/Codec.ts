/**
 * The codec contract: how one PostgreSQL type turns into a JS value and back.
 *
 * A codec is a plain object of synchronous functions. Decoding reads a cell straight out of the
 * reader's buffer (`buf[offset, offset + length)`), never keeps a reference to that buffer (the
 * reader reuses it for the next message), and returns a fresh JS value. Encoding appends bytes to
 * a {@link Writer} owned by the caller. Codecs never see SQL NULL: the client handles NULL before it
 * calls a codec (array codecs handle NULL elements themselves).
 *
 * Failures are thrown synchronously as {@link EncodeError} / {@link DecodeError}; the client
 * catches them and adds the parameter index or column name. This keeps the per-cell path free of
 * Effect values and closures.
 *
 * @since 0.1.0
 */
import type { Writer } from "@pgfx/protocol/Writer"
import { Data } from "effect"

/**
 * A PostgreSQL type codec, keyed by type OID in a {@link CodecRegistry}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Codec<A = unknown> {
  /** PostgreSQL type name as in `pg_type.typname`, e.g. `"int4"`, `"_int4"` for `int4[]`. */
  readonly name: string
  /** Type OID. */
  readonly oid: number
  /** OID of the array type whose elements are this type, 0 if none. */
  readonly arrayOid: number
  /** True when `decodeBinary`/`encodeBinary` are real (the binary format is usable both ways). */
  readonly binary: boolean
  /**
   * Decodes a non-NULL binary value from `buf[offset, offset + length)`. `view` is a DataView whose
   * indexes equal `buf`'s indexes. Throws {@link DecodeError} on malformed input. The result never
   * aliases `buf`.
   */
  readonly decodeBinary: (buf: Uint8Array, view: DataView, offset: number, length: number) => A
  /** Decodes a non-NULL text-format value. Throws {@link DecodeError} on malformed input. */
  readonly decodeText: (text: string) => A
  /**
   * Appends the binary form of `value` (no length prefix) to `w`. Throws {@link EncodeError} when the
   * value has the wrong JS type or is out of range; `w` may then hold part of the value, so the
   * caller rewinds `w.pos` to where the value started.
   */
  readonly encodeBinary: (value: unknown, w: Writer) => void
  /** The text form of `value`, for text-format parameters. Throws {@link EncodeError} likewise. */
  readonly encodeText: (value: unknown) => string
  /**
   * True when a JS string given for this type should be sent in TEXT format (the server parses it)
   * rather than passed to `encodeBinary`: true for non-string-like types (int, float, numeric,
   * date/time, uuid, bytea, arrays...), false for text-like types (text, varchar, name, bpchar,
   * json/jsonb, unknown).
   */
  readonly stringsAsText: boolean
  /**
   * Decides the parameter format for one value: true when `value` should be sent with
   * `encodeText` in text format. For scalars this is `typeof value === "string" && stringsAsText`
   * (or always, when `binary` is false); array codecs also answer true when some element is a
   * string that the element type wants as text (for example `["1", "2"]` for `int4[]`), so the
   * server parses the elements.
   */
  readonly sendAsText: (value: unknown) => boolean
  /**
   * True when the server's text for a value of this type can be rounded by a session setting the
   * server does not report to the client (`extra_float_digits`): `float4`, `float8`, the
   * geometric types, `cube`, and arrays, ranges, composites and domains holding them. A composite that
   * must travel as text refuses to read such a field from text (see `compositeCodec`). False for
   * a codec switched to text on purpose ({@link textOnly}): its text is what was asked for.
   */
  readonly textMayRound: boolean
}

/**
 * A JS value could not be encoded as the PostgreSQL type: wrong JS type or out of range.
 *
 * The message names the PostgreSQL type, the expected JS value and the JS type received. It never
 * contains string values (they may be secrets); numbers may be shown.
 *
 * @since 0.1.0
 * @category errors
 */
export class EncodeError extends Data.TaggedError("EncodeError")<{
  readonly typeName: string
  readonly expected: string
  readonly actualType: string
  readonly message: string
  /** The underlying failure, e.g. the SchemaError of a custom codec (never holds the value itself). */
  readonly cause?: unknown
}> {}

/**
 * Bytes or text received from the server could not be decoded as the PostgreSQL type.
 *
 * @since 0.1.0
 * @category errors
 */
export class DecodeError extends Data.TaggedError("DecodeError")<{
  readonly typeName: string
  readonly message: string
  /** The underlying failure, e.g. the SchemaError of a custom codec. */
  readonly cause?: unknown
}> {}

/**
 * A value of a composite type no longer matches the type's layout cached for the connection (its
 * attributes changed after DDL such as `ALTER TYPE ... ADD ATTRIBUTE`). Reload the connection's
 * schema state (`reloadSchemaState`) and retry; asyncpg's `OutdatedSchemaCacheError`.
 *
 * @since 0.1.0
 * @category errors
 */
export class OutdatedSchemaError extends Data.TaggedError("OutdatedSchemaError")<{
  readonly typeName: string
  readonly message: string
}> {}

/**
 * A short name for the JS type of `value`: `"string"`, `"number"`, `"bigint"`, `"boolean"`,
 * `"undefined"`, `"null"`, `"symbol"`, `"function"`, `"Array"`, or an object's constructor name
 * (`"Date"`, `"Uint8Array"`, `"Object"`...).
 *
 * @since 0.1.0
 * @category errors
 */
export const jsTypeOf = (value: unknown): string => {
  if (value === null) return "null"
  const t = typeof value
  if (t !== "object") return t
  if (Array.isArray(value)) return "Array"
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto === null) return "Object"
  const ctor: unknown = (proto as { constructor?: unknown }).constructor
  return typeof ctor === "function" && ctor.name !== "" ? ctor.name : "object"
}

const preview = (value: unknown): string => {
  const t = typeof value
  if (t === "number") return ` ${String(value)}`
  if (t === "bigint") {
    const s = String(value)
    return ` ${s.length > 40 ? `${s.slice(0, 20)}…(${s.length} digits)` : s}n`
  }
  if (t === "boolean") return ` ${String(value)}`
  return ""
}

/**
 * Builds the {@link EncodeError} for a value of the wrong JS type.
 *
 * @since 0.1.0
 * @category errors
 */
export const invalidType = (typeName: string, expected: string, value: unknown): EncodeError => {
  const actualType = jsTypeOf(value)
  return new EncodeError({
    typeName,
    expected,
    actualType,
    message: `cannot encode ${actualType} as PostgreSQL ${typeName}: expected ${expected}`,
  })
}

/**
 * Builds the {@link EncodeError} for a value of an accepted JS type that is out of range or
 * malformed. `reason` must not contain the value when it is a string.
 *
 * @since 0.1.0
 * @category errors
 */
export const invalidValue = (typeName: string, expected: string, value: unknown, reason: string): EncodeError => {
  const actualType = jsTypeOf(value)
  return new EncodeError({
    typeName,
    expected,
    actualType,
    message: `cannot encode ${actualType}${preview(value)} as PostgreSQL ${typeName}: ${reason} (expected ${expected})`,
  })
}

/**
 * Builds a {@link DecodeError}.
 *
 * @since 0.1.0
 * @category errors
 */
export const decodeError = (typeName: string, message: string): DecodeError =>
  new DecodeError({ typeName, message: `cannot decode PostgreSQL ${typeName}: ${message}` })

/**
 * Throws a {@link DecodeError} unless a fixed-width binary value has the expected length.
 *
 * @since 0.1.0
 * @category errors
 */
export const checkLength = (typeName: string, length: number, expected: number): void => {
  if (length !== expected) {
    throw decodeError(typeName, `binary value has ${length} bytes, expected ${expected}`)
  }
}

/**
 * The text a value of `codec`'s type travels as in text format: a string as-is where the string
 * is the type's input text (`stringsAsText`: `"1e3"` for numeric, `"infinity"` for a date), else
 * `encodeText`. Parameters, array and composite literals and range bounds all use it.
 *
 * @since 0.1.0
 * @category encoding
 */
export const parameterText = (codec: Codec, value: unknown): string =>
  typeof value === "string" && codec.stringsAsText ? value : codec.encodeText(value)

/**
 * Appends the binary form of any value a parameter of `codec`'s type accepts. A value the
 * parameter path sends as text for the server to parse (`sendAsText`: a string for a date, an
 * array with string elements, ...) is read here with the codec's own text parser first, since
 * no server parser runs inside a binary stream such as binary COPY: that parser reads what the
 * server prints (for date/time types ISO 8601), a subset of what the server reads. Throws
 * EncodeError / DecodeError.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeBinaryValue = (codec: Codec, value: unknown, w: Writer): void => {
  if (codec.sendAsText(value)) codec.encodeBinary(codec.decodeText(parameterText(codec, value)), w)
  else codec.encodeBinary(value, w)
}

/**
 * The parts of a codec that {@link make} fills in from the rest.
 *
 * @since 0.1.0
 * @category constructors
 */
export interface CodecOptions<A> {
  readonly name: string
  readonly oid: number
  readonly arrayOid: number
  readonly binary: boolean
  readonly decodeBinary: (buf: Uint8Array, view: DataView, offset: number, length: number) => A
  readonly decodeText: (text: string) => A
  readonly encodeBinary: (value: unknown, w: Writer) => void
  readonly encodeText: (value: unknown) => string
  readonly stringsAsText: boolean
  readonly sendAsText?: (value: unknown) => boolean
  /** See {@link Codec.textMayRound}; default false. */
  readonly textMayRound?: boolean
}

const sendStringsAsText = (value: unknown): boolean => typeof value === "string"
const sendNeverAsText = (_value: unknown): boolean => false
const sendAlwaysAsText = (_value: unknown): boolean => true

/**
 * Builds a {@link Codec}. Every codec built here has the same object shape (keeps the client's
 * call sites monomorphic). When `sendAsText` is omitted it is derived from `binary` and
 * `stringsAsText`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <A>(options: CodecOptions<A>): Codec<A> => ({
  name: options.name,
  oid: options.oid,
  arrayOid: options.arrayOid,
  binary: options.binary,
  decodeBinary: options.decodeBinary,
  decodeText: options.decodeText,
  encodeBinary: options.encodeBinary,
  encodeText: options.encodeText,
  stringsAsText: options.stringsAsText,
  sendAsText:
    options.sendAsText ??
    (!options.binary ? sendAlwaysAsText : options.stringsAsText ? sendStringsAsText : sendNeverAsText),
  textMayRound: options.textMayRound ?? false,
})

/**
 * The same codec under another type's identity: used for domains (their base type's codec under
 * the domain's OID and name) and for `setBuiltinTypeCodec` (an extension type declared
 * wire-compatible with a built-in codec).
 *
 * @since 0.1.0
 * @category constructors
 */
export const rename = <A>(codec: Codec<A>, oid: number, name: string, arrayOid: number): Codec<A> => ({
  name,
  oid,
  arrayOid,
  binary: codec.binary,
  decodeBinary: codec.decodeBinary,
  decodeText: codec.decodeText,
  encodeBinary: codec.encodeBinary,
  encodeText: codec.encodeText,
  stringsAsText: codec.stringsAsText,
  sendAsText: codec.sendAsText,
  textMayRound: codec.textMayRound,
})

/**
 * The codec restricted to the text format: results are requested as text and decoded with
 * `decodeText`, parameters are sent with `encodeText`. Useful when a type must be exchanged as
 * text (e.g. `setBuiltinTypeCodec(..., { format: "text" })`), and in tests that check both
 * formats against the server.
 *
 * @since 0.1.0
 * @category combinators
 */
export const textOnly = <A>(codec: Codec<A>): Codec<A> =>
  make({
    name: codec.name,
    oid: codec.oid,
    arrayOid: codec.arrayOid,
    binary: false,
    decodeBinary: codec.decodeBinary,
    decodeText: codec.decodeText,
    encodeBinary: codec.encodeBinary,
    encodeText: codec.encodeText,
    stringsAsText: codec.stringsAsText,
  })

/**
 * A codec whose values are `to(wire)` of another codec's values (and `from(value)` on the way
 * back), in both formats. `to` and `from` may throw DecodeError / EncodeError.
 *
 * @since 0.1.0
 * @category combinators
 */
export const map = <W, A>(
  codec: Codec<W>,
  to: (wire: W) => A,
  from: (value: unknown) => unknown,
  options: { readonly stringsAsText?: boolean } = {},
): Codec<A> => {
  const { decodeBinary: db, decodeText: dt, encodeBinary: eb, encodeText: et } = codec
  return make({
    name: codec.name,
    oid: codec.oid,
    arrayOid: codec.arrayOid,
    binary: codec.binary,
    decodeBinary: (buf, view, offset, length) => to(db(buf, view, offset, length)),
    decodeText: (text) => to(dt(text)),
    encodeBinary: (value, w) => eb(from(value), w),
    encodeText: (value) => et(from(value)),
    stringsAsText: options.stringsAsText ?? false,
    sendAsText: codec.binary ? sendNeverAsText : sendAlwaysAsText,
    textMayRound: codec.textMayRound,
  })
}
