/**
 * The one error a {@link TempCluster} can fail with.
 *
 * Every failure to find binaries, initialise, provision, start, reload or stop a
 * throwaway PostgreSQL server is a `TempClusterError`. The `reason` says which
 * step failed; `logTail` carries the last part of the server log (or of the
 * failing tool's output) so a failed CI run shows *why* PostgreSQL refused to
 * start without anyone having to go find the log file, which is deleted with
 * the cluster.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * Which step of a TempCluster's life failed.
 *
 * - `BinariesNotFound`: no usable `initdb`/`postgres` pair was found, or they cannot be
 *   executed by the server user.
 * - `InvalidOptions`: the options cannot describe a valid cluster (bad names, bad setting keys).
 * - `Initdb`: `initdb` failed.
 * - `Provision`: creating roles/databases in single-user mode failed.
 * - `Tls`: generating certificates with the `openssl` CLI failed (or `openssl` is missing).
 * - `Start`: the postmaster exited during start-up (see `logTail`).
 * - `StartTimeout`: the postmaster did not become ready in time.
 * - `Reload`: a configuration reload failed or was rejected (e.g. a bad pg_hba.conf line).
 * - `External`: the operation needs a server started by TempCluster, but an external one
 *   (`PGFX_TEST_URL`) is in use, or the external URL is invalid.
 * - `Io`: a filesystem or process operation failed.
 *
 * @since 0.1.0
 * @category models
 */
export const TempClusterErrorReason = Schema.Literals([
  "BinariesNotFound",
  "InvalidOptions",
  "Initdb",
  "Provision",
  "Tls",
  "Start",
  "StartTimeout",
  "Reload",
  "External",
  "Io",
])

/**
 * @since 0.1.0
 * @category models
 */
export type TempClusterErrorReason = typeof TempClusterErrorReason.Type

/**
 * A TempCluster step failed.
 *
 * **Example** (Reporting a start-up failure)
 *
 * ```ts
 * import { Effect } from "effect"
 * import * as TempCluster from "@pgfx/testing/TempCluster"
 *
 * const program = TempCluster.make({ settings: { shared_buffers: "banana" } }).pipe(
 *   Effect.catchTag("TempClusterError", (error) =>
 *     Effect.logError(`${error.reason}: ${error.message}\n${error.logTail}`)),
 *   Effect.scoped
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class TempClusterError extends Schema.TaggedError<TempClusterError>()("TempClusterError", {
  reason: TempClusterErrorReason,
  message: Schema.String,
  /** The end of the server log, or of the failing tool's output; `""` when there is none. */
  logTail: Schema.String,
  cause: Schema.optional(Schema.Defect()),
}) {}
