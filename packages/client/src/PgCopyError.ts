/**
 * The failure of a record that `copyRecordsToTable` cannot encode.
 *
 * @since 0.1.0
 */
export { PgCopyFileError, PgCopyRecordError } from "./PgError.ts"
