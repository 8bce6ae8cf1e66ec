/**
 * Cheap signals that a session may have changed in a way a connection pool must undo before the
 * next user gets it (see "Resetting pooled connections" in docs/architecture.md).
 *
 * - {@link leavesSessionState} classifies a CommandComplete tag: the session calls it for every
 *   completed statement (a few byte comparisons, no allocation) and sets `Session.stateDirty`.
 * - {@link sqlMayLeaveSessionState} catches what a tag cannot show: a `SELECT` that calls a built-in
 *   function with session-level effects (`set_config`, session advisory locks) or creates a
 *   temporary table (`CREATE TEMP TABLE ... AS` reports `SELECT n`).
 *
 * Both err on the side of "dirty": a false positive costs one reset round trip, never correctness.
 *
 * @internal
 */

/** Tags of statements whose effect outlives the statement (and any transaction). */
const sessionTags: ReadonlyArray<Uint8Array> = [
  "SET", // SET, SET ROLE, SET SESSION AUTHORIZATION (and the transaction-scoped SET LOCAL)
  "RESET",
  "LISTEN",
  "DECLARE CURSOR", // WITH HOLD cursors survive COMMIT
  "CREATE TABLE", // temporary tables
  "DO", // arbitrary procedural code
  "CALL",
].map((tag) => new TextEncoder().encode(tag))

/** The first bytes of the tags above: S, R, L, D, C. */
const isCandidate = (byte: number | undefined): boolean =>
  byte === 0x53 || byte === 0x52 || byte === 0x4c || byte === 0x44 || byte === 0x43

/**
 * Whether the CommandComplete body in `buf[start, end)` (a C string) names a statement that leaves
 * session state behind.
 */
export const leavesSessionState = (buf: Uint8Array, start: number, end: number): boolean => {
  if (!isCandidate(buf[start])) return false
  outer: for (const tag of sessionTags) {
    const len = tag.length
    if (end - start < len + 1 || buf[start + len] !== 0) continue
    for (let i = 0; i < len; i++) if (buf[start + i] !== tag[i]) continue outer
    return true
  }
  return false
}

const sessionSql = /advisory_lock|set_config|\btemp(?:orary)?\b/i

/**
 * Whether `sql` may have session-level effects its command tag does not reveal: a session advisory
 * lock (`pg_advisory_lock`, `pg_try_advisory_lock`, the `_shared` variants; not the `_xact_`
 * ones, which end with the transaction), `set_config(...)`, or a temporary table.
 */
export const sqlMayLeaveSessionState = (sql: string): boolean => sessionSql.test(sql)
