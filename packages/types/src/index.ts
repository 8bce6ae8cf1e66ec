/**
 * `@pgfx/types`: PostgreSQL type codecs keyed by OID, the immutable codec registry and the value
 * classes for types JS has no exact match for.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as ArrayCodec from "./ArrayCodec.ts"
/** @since 0.1.0 */
export * as Builtins from "./Builtins.ts"
/** @since 0.1.0 */
export * as ByteaCodec from "./ByteaCodec.ts"
/** @since 0.1.0 */
export * as Codec from "./Codec.ts"
/** @since 0.1.0 */
export * as CodecRegistry from "./CodecRegistry.ts"
/** @since 0.1.0 */
export * as CompatCodecs from "./CompatCodecs.ts"
/** @since 0.1.0 */
export * as DateTimeCodecs from "./DateTimeCodecs.ts"
/** @since 0.1.0 */
export * as JsonCodecs from "./JsonCodecs.ts"
/** @since 0.1.0 */
export * as NumberCodecs from "./NumberCodecs.ts"
/** @since 0.1.0 */
export * as NumericCodec from "./NumericCodec.ts"
/** @since 0.1.0 */
export * as Oids from "./Oids.ts"
/** @since 0.1.0 */
export * as PgDate from "./PgDate.ts"
/** @since 0.1.0 */
export * as PgTimestamp from "./PgTimestamp.ts"
/** @since 0.1.0 */
export * as TextCodecs from "./TextCodecs.ts"
/** @since 0.1.0 */
export * as UuidCodec from "./UuidCodec.ts"
/** @since 0.1.0 */
export * as BitCodecs from "./BitCodecs.ts"
/** @since 0.1.0 */
export * as BitString from "./BitString.ts"
/** @since 0.1.0 */
export * as CompositeCodecs from "./CompositeCodecs.ts"
/** @since 0.1.0 */
export * as CubeCodec from "./CubeCodec.ts"
/** @since 0.1.0 */
export * as Geometry from "./Geometry.ts"
/** @since 0.1.0 */
export * as GeometryCodecs from "./GeometryCodecs.ts"
/** @since 0.1.0 */
export * as HstoreCodec from "./HstoreCodec.ts"
/** @since 0.1.0 */
export * as Interval from "./Interval.ts"
/** @since 0.1.0 */
export * as NetworkCodecs from "./NetworkCodecs.ts"
/** @since 0.1.0 */
export * as PgComposite from "./PgComposite.ts"
/** @since 0.1.0 */
export * as PgJson from "./PgJson.ts"
/** @since 0.1.0 */
export * as PgTime from "./PgTime.ts"
/** @since 0.1.0 */
export * as Range from "./Range.ts"
/** @since 0.1.0 */
export * as RangeCodecs from "./RangeCodecs.ts"
/** @since 0.1.0 */
export * as SchemaCodec from "./SchemaCodec.ts"
/** @since 0.1.0 */
export * as SystemCodecs from "./SystemCodecs.ts"
/** @since 0.1.0 */
export * as Tid from "./Tid.ts"
/** @since 0.1.0 */
export * as TimeCodecs from "./TimeCodecs.ts"
/** @since 0.1.0 */
export * as TypeInfo from "./TypeInfo.ts"
