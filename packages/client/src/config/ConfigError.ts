/**
 * The one error of configuration: which source and which key is wrong, never the value (a value
 * may be a password or part of one).
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * Where a setting came from:
 *
 * - `"url"`: a `postgres://` URI; `"dsn"`: a keyword/value string (`host=... port=...`);
 * - `"options"`: the options object; `"config"`: an Effect `Config` (`PgConfig.config`);
 * - `"env"`: a PG* environment variable; `"service"`: the connection service file;
 * - `"pgpass"`: the password file; `"default"`: a built-in default (e.g. `~/.postgresql/root.crt`).
 *
 * @since 0.1.0
 */
export type PgConfigSource = "url" | "dsn" | "options" | "config" | "env" | "service" | "pgpass" | "default"

/** A setting is invalid; `source` and `key` say which. The value is never included. @since 0.1.0 */
export class PgConfigError extends Data.TaggedError("PgConfigError")<{
  readonly source: PgConfigSource
  readonly key: string
  readonly message: string
}> {}

/** Builds a {@link PgConfigError}. @internal */
export const configError = (source: PgConfigSource, key: string, message: string): PgConfigError =>
  new PgConfigError({ source, key, message })
