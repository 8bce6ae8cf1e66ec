/**
 * The codec registry: an immutable map from type OID (and type name) to {@link Codec}.
 *
 * A registry is a value, never global mutable state: `with` returns a new registry, so a
 * connection can hold the registry it was configured with while another one adds codecs for its
 * own enums or extension types.
 *
 * @since 0.1.0
 */
import type { Codec } from "./Codec.ts"
import { builtinCodecs } from "./Builtins.ts"

/**
 * An immutable set of codecs keyed by OID and by name.
 *
 * @example
 * ```ts
 * import * as CodecRegistry from "@pgfx/types/CodecRegistry"
 * import { textCodec } from "@pgfx/types/TextCodecs"
 * const registry = CodecRegistry.builtins.with(textCodec(16_385, "mood"))
 * registry.get(23)?.name // "int4"
 * ```
 * @since 0.1.0
 * @category models
 */
export class CodecRegistry {
  readonly #byOid: ReadonlyMap<number, Codec>
  readonly #byName: ReadonlyMap<string, Codec>

  private constructor(byOid: ReadonlyMap<number, Codec>, byName: ReadonlyMap<string, Codec>) {
    this.#byOid = byOid
    this.#byName = byName
  }

  /** A registry of `codecs`; a later codec with the same OID or name replaces an earlier one. */
  static make(codecs: Iterable<Codec>): CodecRegistry {
    const byOid = new Map<number, Codec>()
    const byName = new Map<string, Codec>()
    for (const codec of codecs) {
      byOid.set(codec.oid, codec)
      byName.set(codec.name, codec)
    }
    return new CodecRegistry(byOid, byName)
  }

  /** The codec of a type OID, if any. */
  get(oid: number): Codec | undefined {
    return this.#byOid.get(oid)
  }

  /**
   * The codec of a type name as in `pg_type.typname` (`"int4"`, `"_int4"`); `"int4[]"` is also
   * understood as `"_int4"`. SQL spellings such as `integer` are not resolved.
   */
  getByName(name: string): Codec | undefined {
    const codec = this.#byName.get(name)
    if (codec !== undefined || !name.endsWith("[]")) return codec
    return this.#byName.get(`_${name.slice(0, -2)}`)
  }

  /** True when the registry has a codec for `oid`. */
  has(oid: number): boolean {
    return this.#byOid.has(oid)
  }

  /** A new registry with `codec` added (replacing any codec with the same OID or name). */
  with(codec: Codec): CodecRegistry {
    return this.withAll([codec])
  }

  /** A new registry with all of `codecs` added. */
  withAll(codecs: Iterable<Codec>): CodecRegistry {
    const byOid = new Map(this.#byOid)
    const byName = new Map(this.#byName)
    for (const codec of codecs) {
      const old = byOid.get(codec.oid)
      if (old !== undefined && byName.get(old.name) === old) byName.delete(old.name)
      byOid.set(codec.oid, codec)
      byName.set(codec.name, codec)
    }
    return new CodecRegistry(byOid, byName)
  }

  /** All codecs, in insertion order. */
  codecs(): IterableIterator<Codec> {
    return this.#byOid.values()
  }

  /** Number of codecs. */
  get size(): number {
    return this.#byOid.size
  }
}

/**
 * A registry of `codecs`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (codecs: Iterable<Codec>): CodecRegistry => CodecRegistry.make(codecs)

/**
 * The default registry: every built-in scalar codec and its array codec.
 *
 * @since 0.1.0
 * @category constructors
 */
export const builtins: CodecRegistry = CodecRegistry.make(builtinCodecs)
