/**
 * The one way from a public connection handle (`PgConnection`) to the client's internals
 * (`ConnectionCore`). A handle is the connection itself or a lease's view of it
 * (internal/pool/Lease.ts: a pooled connection, or a connection watched for leaks in debug mode),
 * and there are two ways through it, with different semantics:
 *
 * - {@link coreOf} / {@link usableCore}: **the handle as it is**, typed as the core. A view stays
 *   a view: every member the feature reads goes through the lease, so what it makes from the
 *   handle (a prepared statement, a cursor, a transaction level) stops working when the handle is
 *   released, as the handle itself does (test/released-handle.test.ts). For features that act on
 *   behalf of the handle's holder, within the holder's lease (statements, cursors, transactions,
 *   the listener's and replication's own connections, which keep their handle).
 * - {@link connectionBehind}: **the connection itself** behind the view, or undefined when the
 *   handle is not a pgfx connection (a stand-in that implements the interface). For code that
 *   owns the connection or reaches below the lease: the pool adopting what its `connect` function
 *   returned, COPY, `PgPool.fullReset`. Callers that act for a holder check the handle with the
 *   lease's `usable` first.
 *
 * Nothing else casts a handle to the core or unwraps a view; only the admission gate
 * (internal/wire/Gate.ts, below this layer) uses the lease's `unguard`, to compare connections by
 * identity.
 *
 * @internal
 */
import type { Effect } from "effect"
import type { PgInterfaceError } from "../../PgError.ts"
import type { PgConnection } from "../Handles.ts"
import { unguard, usable } from "../pool/Lease.ts"
import type { ConnectionCore } from "./Core.ts"

/** Carried by every connection core (`Connection`), so that {@link connectionBehind} can tell it. */
export const CoreMarker: unique symbol = Symbol.for("@pgfx/client/Internals/CoreMarker")

/**
 * The handle as it is, as the core: a lease's view stays the view (see the module comment). Reading
 * a member of a released view throws; use {@link usableCore} where that must be a typed failure.
 */
export const coreOf = (handle: PgConnection): ConnectionCore => handle as ConnectionCore

/**
 * {@link coreOf} checked first: a released view fails with its `PgInterfaceError` naming `member`
 * before anything reads the object behind it.
 */
export const usableCore = (handle: PgConnection, member: string): Effect.Effect<ConnectionCore, PgInterfaceError> =>
  usable(coreOf(handle), member)

/**
 * The connection itself behind `handle` (past any lease's view), or undefined when `handle` is not
 * a pgfx connection.
 */
export const connectionBehind = (handle: PgConnection): ConnectionCore | undefined => {
  const target: unknown = unguard(handle)
  return typeof target === "object" && target !== null && (target as { [CoreMarker]?: unknown })[CoreMarker] === true
    ? (target as ConnectionCore)
    : undefined
}
