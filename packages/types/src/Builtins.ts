/**
 * The built-in codecs, scalars and their arrays, as one list.
 *
 * @since 0.1.0
 */
import { arrayCodec } from "./ArrayCodec.ts"
import { bytea } from "./ByteaCodec.ts"
import type { Codec } from "./Codec.ts"
import { date, timestamp, timestamptz } from "./DateTimeCodecs.ts"
import { json, jsonb } from "./JsonCodecs.ts"
import { bool, float4, float8, int2, int4, int8, oid } from "./NumberCodecs.ts"
import { numeric } from "./NumericCodec.ts"
import { bpchar, char, name, text, unknown, varchar, xml } from "./TextCodecs.ts"
import { uuid } from "./UuidCodec.ts"

/**
 * The built-in scalar codecs.
 *
 * @since 0.1.0
 * @category codecs
 */
export const scalarCodecs: ReadonlyArray<Codec> = [
  bool,
  bytea,
  char,
  name,
  int8,
  int2,
  int4,
  text,
  oid,
  json,
  xml,
  float4,
  float8,
  unknown,
  bpchar,
  varchar,
  date,
  timestamp,
  timestamptz,
  numeric,
  uuid,
  jsonb,
] as ReadonlyArray<Codec>

/**
 * The array codecs of the built-in scalars that have an array type (all but `unknown`).
 *
 * @since 0.1.0
 * @category codecs
 */
export const arrayCodecs: ReadonlyArray<Codec> = scalarCodecs
  .filter((c) => c.arrayOid !== 0)
  .map((c) => arrayCodec(c) as Codec)

/**
 * Every built-in codec: {@link scalarCodecs} then {@link arrayCodecs}.
 *
 * @since 0.1.0
 * @category codecs
 */
export const builtinCodecs: ReadonlyArray<Codec> = [...scalarCodecs, ...arrayCodecs]
