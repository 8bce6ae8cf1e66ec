/**
 * The pieces of the pool's connect retries that need no pool state (see `PoolCore.retries` and
 * `PoolCore.holdOff` in internal/pool/Pool.ts): the backoff, and the errors an acquire reports after
 * its connect attempts, which say how many there were.
 *
 * @internal
 */
import {
  PgAuthenticationError,
  PgConnectionError,
  PgProtocolError,
  PgServerError,
  PgTimeoutError,
} from "../../PgError.ts"

/** The failed connect attempts of one acquire so far, and the last failure. */
export interface Attempts {
  readonly count: number
  readonly error: unknown
}

/** Backoff between connect attempts while the server refuses: doubling from the base to the cap. */
const RETRY_BASE_MS = 50
const RETRY_CAP_MS = 2_000

/** The backoff after `previousMs` (0: none yet). */
export const nextBackoffMs = (previousMs: number): number =>
  Math.min(RETRY_CAP_MS, previousMs === 0 ? RETRY_BASE_MS : previousMs * 2)

/** `ms` jittered down by up to half, so that pools (and processes) do not probe in step. */
export const jittered = (ms: number): number => ms / 2 + Math.random() * (ms / 2)

type ConnectFailure = PgServerError | PgConnectionError | PgProtocolError | PgAuthenticationError | PgTimeoutError

export const isConnectError = (error: unknown): error is ConnectFailure =>
  error instanceof PgServerError ||
  error instanceof PgConnectionError ||
  error instanceof PgProtocolError ||
  error instanceof PgAuthenticationError ||
  error instanceof PgTimeoutError

/** A copy of a connect failure that says how many attempts the acquire made. */
export const withConnectAttempts = <E extends ConnectFailure>(error: E, connectAttempts: number): E => {
  const copy = error.constructor as new (fields: object) => E
  const cause = (error as { readonly cause?: unknown }).cause
  return new copy({ ...error, message: error.message, ...(cause === undefined ? {} : { cause }), connectAttempts })
}

/** The acquire timed out while a refused connect was being retried: the timeout, with the attempts and the last failure. */
export const retriesTimedOut = (timeout: PgTimeoutError, failed: Attempts): PgTimeoutError =>
  new PgTimeoutError({
    message: `${timeout.message}; ${failed.count} connect attempt(s) failed, the last with: ${describeError(failed.error)}`,
    timeoutMs: timeout.timeoutMs,
    sent: false,
    cause: failed.error,
    connectAttempts: failed.count,
  })

const describeError = (error: unknown): string =>
  typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error)
