/**
 * The failure of a record that `copyRecordsToTable` cannot encode.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * A record given to `copyRecordsToTable` could not be encoded: it has the wrong number of values,
 * is neither an array nor an object, or one of its values does not fit its column's type. The
 * COPY was aborted with CopyFail, so nothing of it was committed; the connection stays usable.
 *
 * @example
 * ```ts
 * PgCopy.copyRecordsToTable(conn, "t", { records: [[1, "x"], ["oops", "y"]] }).pipe(
 *   Effect.catchTag("PgCopyRecordError", (e) => Effect.log(`record ${e.row}, column ${e.column}: ${e.message}`)),
 * )
 * ```
 * @since 0.1.0
 */
export class PgCopyRecordError extends Data.TaggedError("PgCopyRecordError")<{
  readonly message: string
  /** 0-based index of the record in the input. */
  readonly row: number
  /** The column whose value failed (undefined when the record as a whole is malformed). */
  readonly column: string | undefined
  /** The column's type name, when a value failed. */
  readonly typeName: string | undefined
  /** What the value was (`string`, `object`, ...). */
  readonly actualType: string
  /** The codec's EncodeError, when a value failed. */
  readonly cause?: unknown
}> {}

/**
 * A file given to a copy (`output` or `source` as a path) could not be opened, read or written.
 * A COPY FROM is aborted (nothing loaded); a COPY TO is cancelled.
 * @since 0.1.0
 */
export class PgCopyFileError extends Data.TaggedError("PgCopyFileError")<{
  readonly message: string
  readonly path: string
  readonly cause?: unknown
}> {}
