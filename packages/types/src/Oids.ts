/**
 * OIDs of the built-in PostgreSQL types that `@pgfx/types` knows, checked against PostgreSQL's
 * `src/include/catalog/pg_type.dat`. Built-in OIDs are fixed across server versions.
 *
 * @since 0.1.0
 */

/**
 * Built-in type OIDs by `typname` (array types carry the `_` prefix, as in `pg_type`).
 *
 * @since 0.1.0
 * @category constants
 */
export const Oids = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  xml: 142,
  _xml: 143,
  _json: 199,
  float4: 700,
  float8: 701,
  unknown: 705,
  _bool: 1000,
  _bytea: 1001,
  _char: 1002,
  _name: 1003,
  _int2: 1005,
  _int4: 1007,
  _text: 1009,
  _bpchar: 1014,
  _varchar: 1015,
  _int8: 1016,
  _float4: 1021,
  _float8: 1022,
  _oid: 1028,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  timestamp: 1114,
  _timestamp: 1115,
  _date: 1182,
  timestamptz: 1184,
  _timestamptz: 1185,
  _numeric: 1231,
  numeric: 1700,
  uuid: 2950,
  _uuid: 2951,
  jsonb: 3802,
  _jsonb: 3807,
} as const
