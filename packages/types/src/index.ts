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
