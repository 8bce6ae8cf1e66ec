/**
 * The built-in codecs, scalars and their arrays, as one list.
 *
 * @since 0.1.0
 */
import { arrayCodec, type ArrayCodecOptions } from "./ArrayCodec.ts"
import { bit, varbit } from "./BitCodecs.ts"
import { bytea } from "./ByteaCodec.ts"
import type { Codec } from "./Codec.ts"
import { recordCodec } from "./CompositeCodecs.ts"
import { date, timestamp, timestamptz } from "./DateTimeCodecs.ts"
import { box, circle, line, lseg, path, point, polygon } from "./GeometryCodecs.ts"
import { json, jsonb } from "./JsonCodecs.ts"
import { cidr, inet, macaddr, macaddr8 } from "./NetworkCodecs.ts"
import { bool, float4, float8, int2, int4, int8, oid } from "./NumberCodecs.ts"
import { numeric } from "./NumericCodec.ts"
import { Oids } from "./Oids.ts"
import {
  datemultirange,
  daterange,
  int4multirange,
  int4range,
  int8multirange,
  int8range,
  isMultirangeValue,
  nummultirange,
  numrange,
  tsmultirange,
  tsrange,
  tstzmultirange,
  tstzrange,
} from "./RangeCodecs.ts"
import {
  cid,
  cstring,
  int2vector,
  jsonpath,
  money,
  oidvector,
  pg_lsn,
  refcursor,
  regTypes,
  tid,
  tsquery,
  tsvector,
  voidCodec,
  xid,
  xid8,
} from "./SystemCodecs.ts"
import { bpchar, char, name, text, unknown, varchar, xml } from "./TextCodecs.ts"
import { interval, time, timetz } from "./TimeCodecs.ts"
import { uuid } from "./UuidCodec.ts"

const byOid = new Map<number, Codec>()

/**
 * The anonymous `record` codec of the built-in registry: fields are decoded with the built-in
 * codecs. A connection replaces it with one that also knows the types it introspected.
 *
 * @since 0.1.0
 * @category codecs
 */
export const record: Codec = recordCodec((oid) => byOid.get(oid)) as Codec

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
  // added with the full type system
  int2vector,
  tid,
  xid,
  cid,
  oidvector,
  point,
  lseg,
  path,
  box,
  polygon,
  line,
  cidr,
  circle,
  macaddr8,
  money,
  macaddr,
  inet,
  time,
  interval,
  timetz,
  bit,
  varbit,
  refcursor,
  record,
  cstring,
  voidCodec,
  pg_lsn,
  tsvector,
  tsquery,
  int4range,
  numrange,
  tsrange,
  tstzrange,
  daterange,
  int8range,
  jsonpath,
  int4multirange,
  nummultirange,
  tsmultirange,
  tstzmultirange,
  datemultirange,
  int8multirange,
  xid8,
  ...regTypes,
] as ReadonlyArray<Codec>

const multiranges = new Set<number>([
  Oids.int4multirange,
  Oids.int8multirange,
  Oids.nummultirange,
  Oids.datemultirange,
  Oids.tsmultirange,
  Oids.tstzmultirange,
])
const vectors = new Set<number>([Oids.int2vector, Oids.oidvector])
const isVector = (v: ReadonlyArray<unknown>): boolean => v.length === 0 || typeof v[0] === "number"

/**
 * The array options for a built-in element type: `;` between `box` elements, and which JS
 * arrays are elements for the array-valued types (json, jsonb, multiranges, int2vector,
 * oidvector).
 *
 * @since 0.1.0
 * @category codecs
 */
export const arrayOptionsOf = (element: Codec): ArrayCodecOptions =>
  element.oid === Oids.box
    ? { delimiter: ";" }
    : element.oid === Oids.json || element.oid === Oids.jsonb
      ? { arrayElements: true }
      : multiranges.has(element.oid)
        ? { isElement: isMultirangeValue }
        : vectors.has(element.oid)
          ? { isElement: isVector }
          : {}

/**
 * The array codecs of the built-in scalars that have an array type.
 *
 * @since 0.1.0
 * @category codecs
 */
export const arrayCodecs: ReadonlyArray<Codec> = scalarCodecs
  .filter((c) => c.arrayOid !== 0)
  .map((c) => arrayCodec(c, arrayOptionsOf(c)) as Codec)

/**
 * Every built-in codec: {@link scalarCodecs} then {@link arrayCodecs}.
 *
 * @since 0.1.0
 * @category codecs
 */
export const builtinCodecs: ReadonlyArray<Codec> = [...scalarCodecs, ...arrayCodecs]

for (const c of builtinCodecs) byOid.set(c.oid, c)
