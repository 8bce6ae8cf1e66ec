/**
 * Building the one error of configuration (`PgConfigError`, defined with every other error in
 * `PgError`): which source and which key is wrong, never the value (a value may be a password or
 * part of one).
 *
 * @since 0.1.0
 */
import { PgConfigError, type PgConfigSource } from "../PgError.ts"

export { PgConfigError, type PgConfigSource } from "../PgError.ts"

/** Builds a {@link PgConfigError}. @internal */
export const configError = (source: PgConfigSource, key: string, message: string): PgConfigError =>
  new PgConfigError({ source, key, message })
