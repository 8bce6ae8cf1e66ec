/**
 * The command tags a session watches for the pool's reset (internal/pool/Reset.ts): a `PREPARE`
 * leaves a SQL-level prepared statement to deallocate, a `DEALLOCATE` or `DISCARD ALL` may drop
 * the reset's own statements. Read by the session on every CommandComplete, so it lives below it.
 */

/** The marks {@link noteTag} keeps on a session (`Session.sqlPrepared`, `Session.resetPrepared`). */
export interface PreparedMarks {
  sqlPrepared: boolean
  resetPrepared: boolean
}

/** The tag of a completed `PREPARE` command, NUL-terminated. */
const prepareTag = new TextEncoder().encode("PREPARE\0")
/** Tags of commands that drop prepared statements, the reset's included: `DEALLOCATE [ALL]`, `DISCARD ALL`. */
const deallocateTag = new TextEncoder().encode("DEALLOCATE")
const discardAllTag = new TextEncoder().encode("DISCARD ALL\0")

const startsWith = (buf: Uint8Array, start: number, end: number, prefix: Uint8Array): boolean => {
  if (end - start < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (buf[start + i] !== prefix[i]) return false
  return true
}

/**
 * Reads the CommandComplete body in `buf[start, end)` for what the reset must know: a `PREPARE`
 * (the session holds a SQL-level prepared statement to deallocate), a `DEALLOCATE` or
 * `DISCARD ALL` (the reset's own statements may be gone: prepare them again). A byte compare or
 * two, no allocation.
 */
export const noteTag = (session: PreparedMarks, buf: Uint8Array, start: number, end: number): void => {
  const first = buf[start]
  if (first === 0x50) {
    if (!session.sqlPrepared && end - start === prepareTag.length && startsWith(buf, start, end, prepareTag)) {
      session.sqlPrepared = true
    }
  } else if (first === 0x44 && session.resetPrepared) {
    if (
      startsWith(buf, start, end, deallocateTag) ||
      (end - start === discardAllTag.length && startsWith(buf, start, end, discardAllTag))
    ) {
      session.resetPrepared = false
    }
  }
}
