/**
 * Codecs for the user-defined kinds of types, built from introspection: composite types and
 * anonymous records ↔ {@link PgComposite}, enums ↔ `string`, domains ↔ their base type's value.
 *
 * Composite binary format: int32 field count, then per field uint32 type OID and int32 length
 * (−1 = NULL) + bytes. Decoding checks the count and each field's OID against the layout cached
 * for the type and throws {@link OutdatedSchemaError} when the type changed after DDL.
 *
 * Encoding a composite accepts a {@link PgComposite}, a plain object keyed by field name (missing
 * fields are NULL, unknown keys are rejected) or an array of field values in order. When any field
 * value must travel as text (a string for a non-text field type, or a field type without a binary
 * codec), the whole value is sent as a text literal.
 *
 * A composite travels as text only when a field type has no binary codec. Then a field whose text
 * may be rounded by an unreported setting (see {@link Codec.textMayRound}) makes reading the value
 * fail with a {@link DecodeError} instead of returning a possibly rounded number; encoding is
 * unaffected (pgfx prints floats with every digit needed, the server reads them exactly).
 *
 * @since 0.1.0
 */
import type { Writer } from "@pgfx/protocol/Writer"
import {
  type Codec,
  type DecodeError,
  decodeError,
  EncodeError,
  invalidType,
  jsTypeOf,
  make,
  OutdatedSchemaError,
  parameterText,
  rename,
} from "./Codec.ts"
import { readLiteralField, writeLiteralField } from "./internal/literalField.ts"
import { Oids } from "./Oids.ts"
import { compositeFactory, isPgComposite, type PgComposite } from "./PgComposite.ts"
import { stringCodec } from "./TextCodecs.ts"

/**
 * One attribute of a composite type.
 *
 * @since 0.1.0
 * @category models
 */
export interface CompositeField {
  readonly name: string
  /** The attribute's type OID (`pg_attribute.atttypid`). */
  readonly typeOid: number
  readonly codec: Codec
}

/**
 * Identity of a type.
 *
 * @since 0.1.0
 * @category models
 */
export interface TypeIdentity {
  readonly name: string
  readonly oid: number
  readonly arrayOid: number
}

/**
 * Splits a record literal (`(1,"a b",,"")`) into field texts, `null` for NULL fields; undefined
 * when malformed.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseRecordLiteral = (text: string): Array<string | null> | undefined => {
  const t = text.trim()
  if (t.charCodeAt(0) !== 40 || t.charCodeAt(t.length - 1) !== 41) return undefined
  const out: Array<string | null> = []
  const last = t.length - 1
  let i = 1
  if (i === last) return out
  for (;;) {
    const field = readLiteralField(t, i, last, false)
    if (field === undefined) return undefined
    out.push(field.text === "" && !field.quoted ? null : field.text)
    i = field.end
    if (i >= last) return out
    i++ // the comma
  }
}

const outdated = (name: string, detail: string): OutdatedSchemaError =>
  new OutdatedSchemaError({
    typeName: name,
    message: `the cached layout of composite type ${name} is outdated (${detail}); the type changed after it was introspected: call reloadSchemaState() on the connection and retry`,
  })

/** For `composite[]`: a JS array is one composite (a tuple of field values) unless it holds arrays or objects. */
export const isCompositeTuple = (value: ReadonlyArray<unknown>): boolean => {
  if (value.length === 0) return false
  const first = value[0]
  return !Array.isArray(first) && (typeof first !== "object" || first === null || isPgComposite(first))
}

/**
 * The codec of a composite type with the given attributes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const compositeCodec = (id: TypeIdentity, fields: ReadonlyArray<CompositeField>): Codec<PgComposite> => {
  const { name } = id
  const n = fields.length
  const names = fields.map((f) => f.name)
  const index = new Map(names.map((f, i) => [f, i] as const))
  const codecs = fields.map((f) => f.codec)
  const oids = fields.map((f) => f.typeOid)
  const makeValue = compositeFactory(names)
  const expected = `a PgComposite, an object with fields ${names.join(", ")}, or an array of ${n} values`

  const toValues = (value: unknown): ReadonlyArray<unknown> => {
    if (isPgComposite(value) || Array.isArray(value)) {
      const values = isPgComposite(value) ? value.values : (value as ReadonlyArray<unknown>)
      if (values.length !== n) {
        throw new EncodeError({
          typeName: name,
          expected,
          actualType: jsTypeOf(value),
          message: `cannot encode ${jsTypeOf(value)} as PostgreSQL ${name}: ${values.length} values for ${n} fields`,
        })
      }
      return values
    }
    if (typeof value !== "object" || value === null) throw invalidType(name, expected, value)
    const out = new Array<unknown>(n).fill(null)
    for (const key of Object.keys(value)) {
      const i = index.get(key)
      if (i === undefined) {
        throw new EncodeError({
          typeName: name,
          expected,
          actualType: jsTypeOf(value),
          message: `cannot encode ${jsTypeOf(value)} as PostgreSQL ${name}: it has no field "${key}" (fields: ${names.join(", ")})`,
        })
      }
      out[i] = (value as Record<string, unknown>)[key]
    }
    return out
  }

  const decodeBinary = (buf: Uint8Array, view: DataView, offset: number, length: number): PgComposite => {
    if (length < 4) throw decodeError(name, "truncated binary value")
    const count = view.getInt32(offset)
    if (count !== n) throw outdated(name, `the value has ${count} attributes, the cached layout ${n}`)
    const end = offset + length
    let pos = offset + 4
    const values = new Array<unknown>(n)
    for (let i = 0; i < n; i++) {
      if (pos + 8 > end) throw decodeError(name, "truncated binary value")
      const oid = view.getUint32(pos)
      const len = view.getInt32(pos + 4)
      pos += 8
      if (oid !== oids[i])
        throw outdated(name, `attribute ${names[i]} has type OID ${oid}, the cached layout ${oids[i]}`)
      if (len === -1) {
        values[i] = null
        continue
      }
      if (len < 0 || pos + len > end) throw decodeError(name, `invalid field length ${len}`)
      values[i] = codecs[i]!.decodeBinary(buf, view, pos, len)
      pos += len
    }
    if (pos !== end) throw decodeError(name, `${end - pos} trailing bytes`)
    return makeValue(values)
  }

  const binary = codecs.every((c) => c.binary)
  const textMayRound = codecs.some((c) => c.textMayRound)
  const refuseText = !binary && textMayRound

  const decodeText = (text: string): PgComposite => {
    if (refuseText) throw textRefusal(name, fields)
    const parts = parseRecordLiteral(text)
    if (parts === undefined) throw decodeError(name, "malformed record literal")
    if (parts.length !== n) throw outdated(name, `the value has ${parts.length} attributes, the cached layout ${n}`)
    const values = new Array<unknown>(n)
    for (let i = 0; i < n; i++) {
      const p = parts[i]!
      values[i] = p === null ? null : codecs[i]!.decodeText(p)
    }
    return makeValue(values)
  }

  const encodeBinary = (value: unknown, w: Writer): void => {
    const values = toValues(value)
    w.int32(n)
    for (let i = 0; i < n; i++) {
      w.uint32(oids[i]!)
      const v = values[i]
      if (v === null || v === undefined) {
        w.int32(-1)
        continue
      }
      const at = w.reserveLength()
      codecs[i]!.encodeBinary(v, w)
      w.patchValueLength(at)
    }
  }

  const encodeText = (value: unknown): string => {
    const values = toValues(value)
    let s = "("
    for (let i = 0; i < n; i++) {
      if (i > 0) s += ","
      const v = values[i]
      if (v === null || v === undefined) continue
      const c = codecs[i]!
      s += writeLiteralField(parameterText(c, v), false)
    }
    return `${s})`
  }

  const sendAsText = !binary
    ? (_value: unknown): boolean => true
    : (value: unknown): boolean => {
        if (typeof value === "string") return true
        let values: ReadonlyArray<unknown>
        try {
          values = toValues(value)
        } catch {
          return false // encodeBinary reports the error
        }
        for (let i = 0; i < n; i++) {
          const v = values[i]
          if (v !== null && v !== undefined && codecs[i]!.sendAsText(v)) return true
        }
        return false
      }

  return make({
    name,
    oid: id.oid,
    arrayOid: id.arrayOid,
    binary,
    decodeBinary,
    decodeText,
    encodeBinary,
    encodeText,
    stringsAsText: true,
    sendAsText,
    textMayRound,
  })
}

/**
 * The refusal to read a composite from text when that text may be rounded: the composite travels
 * as text because a field type has no binary form pgfx can read, and another field's text
 * (`float4`, `float8`, a geometric type, or a value holding one) depends on `extra_float_digits`,
 * a setting the server does not report, so a value read from it may silently differ from the
 * stored one.
 */
const textRefusal = (name: string, fields: ReadonlyArray<CompositeField>): DecodeError => {
  const textOnly = fields.filter((f) => !f.codec.binary).map((f) => `${f.name} (${f.codec.name})`)
  const rounding = fields.filter((f) => f.codec.textMayRound).map((f) => `${f.name} (${f.codec.name})`)
  return decodeError(
    name,
    `the value travels in text format because ${textOnly.join(", ")} ${textOnly.length === 1 ? "has" : "have"} no ` +
      `binary form pgfx can read, and the text of ${rounding.join(", ")} can be rounded by extra_float_digits, a ` +
      "setting the server does not report: refused rather than read a possibly rounded value. Select the fields " +
      "separately (e.g. (v).field), give the text-only type a codec with a binary form, or cast the value to text",
  )
}

/**
 * The codec of anonymous records (`record`, OID 2249), e.g. `SELECT ROW(1, 'a')` or
 * `SELECT (a, b) FROM t`. Each field is decoded with the codec `lookup` finds for the field's type
 * OID (carried in the binary value); fields are named `f1`, `f2`, .... A field whose type the
 * connection does not know yet fails the query with a DecodeError that says so. In text format
 * the field types are unknown, so every field is a string. Anonymous records cannot be sent as
 * parameters (PostgreSQL cannot read them); cast the parameter to a composite type.
 *
 * @since 0.1.0
 * @category constructors
 */
export const recordCodec = (
  lookup: (oid: number) => Codec | undefined,
  onUnknown: (oid: number) => void = () => {},
): Codec<PgComposite> => {
  const factories: Array<(values: Array<unknown>) => PgComposite> = []
  const factory = (n: number) => (factories[n] ??= compositeFactory(Array.from({ length: n }, (_, i) => `f${i + 1}`)))
  const expected = "a value of a named composite type (anonymous records cannot be sent as parameters)"
  return make({
    name: "record",
    oid: Oids.record,
    arrayOid: Oids._record,
    binary: true,
    decodeBinary: (buf, view, offset, length) => {
      if (length < 4) throw decodeError("record", "truncated binary value")
      const n = view.getInt32(offset)
      const end = offset + length
      let pos = offset + 4
      if (n < 0 || n * 8 > end - pos) throw decodeError("record", `invalid field count ${n}`)
      const values = new Array<unknown>(n)
      for (let i = 0; i < n; i++) {
        if (pos + 8 > end) throw decodeError("record", "truncated binary value")
        const oid = view.getUint32(pos)
        const len = view.getInt32(pos + 4)
        pos += 8
        if (len === -1) {
          values[i] = null
          continue
        }
        if (len < 0 || pos + len > end) throw decodeError("record", `invalid field length ${len}`)
        const codec = lookup(oid)
        if (codec === undefined || !codec.binary) {
          onUnknown(oid)
          throw decodeError(
            "record",
            `field f${i + 1} has type OID ${oid}, which this connection has no binary codec for yet: ` +
              "cast the record to a named composite type, or cast the field to a known type (the type is now " +
              "looked up, so the next statement that uses it can decode it)",
          )
        }
        values[i] = codec.decodeBinary(buf, view, pos, len)
        pos += len
      }
      if (pos !== end) throw decodeError("record", `${end - pos} trailing bytes`)
      return factory(n)(values)
    },
    decodeText: (text) => {
      const parts = parseRecordLiteral(text)
      if (parts === undefined) throw decodeError("record", "malformed record literal")
      return factory(parts.length)(parts)
    },
    encodeBinary: (value) => {
      throw invalidType("record", expected, value)
    },
    encodeText: (value) => {
      throw invalidType("record", expected, value)
    },
    stringsAsText: true,
    sendAsText: (value) => typeof value === "string",
  })
}

/**
 * The codec of an enum type ↔ `string` (the label). Both formats carry the label's text.
 *
 * @since 0.1.0
 * @category constructors
 */
export const enumCodec = (id: TypeIdentity): Codec<string> => stringCodec(id.name, id.oid, id.arrayOid)

/**
 * The codec of a domain: its base type's codec under the domain's identity (values are the base
 * type's values; the server checks the domain's constraints).
 *
 * @since 0.1.0
 * @category constructors
 */
export const domainCodec = <A>(base: Codec<A>, id: TypeIdentity): Codec<A> => rename(base, id.oid, id.name, id.arrayOid)
