/**
 * The cheap signals a pool's reset relies on: command tags that leave session state behind, and
 * SQL whose session effects a tag does not show.
 */
import { leavesSessionState, sqlMayLeaveSessionState } from "@pgfx/client/internal/SessionState"
import { describe, expect, it } from "@effect/vitest"

/** A CommandComplete body (C string) inside a larger buffer, as the reader hands it over. */
const tag = (text: string): [Uint8Array, number, number] => {
  const body = new TextEncoder().encode(`xx${text}\0yy`)
  return [body, 2, 2 + text.length + 1]
}

describe("leavesSessionState", () => {
  it("flags statements whose effect outlives the statement", () => {
    for (const t of ["SET", "RESET", "LISTEN", "DECLARE CURSOR", "CREATE TABLE", "DO", "CALL"]) {
      expect(leavesSessionState(...tag(t)), t).toBe(true)
    }
  })

  it("ignores queries, DML and transaction control", () => {
    for (const t of [
      "SELECT 1",
      "INSERT 0 3",
      "UPDATE 2",
      "DELETE 0",
      "MERGE 1",
      "COPY 5",
      "BEGIN",
      "COMMIT",
      "ROLLBACK",
      "SAVEPOINT",
      "RELEASE",
      "SET CONSTRAINTS",
      "DELETE 10",
      "CREATE INDEX",
      "DROP TABLE",
      "CLOSE CURSOR",
      "UNLISTEN",
      "DEALLOCATE",
      "SE",
      "",
    ]) {
      expect(leavesSessionState(...tag(t)), t).toBe(false)
    }
  })
})

describe("sqlMayLeaveSessionState", () => {
  it("catches session advisory locks, set_config and temporary tables", () => {
    for (const sql of [
      "SELECT pg_advisory_lock($1)",
      "select PG_TRY_ADVISORY_LOCK(1, 2)",
      "SELECT pg_advisory_lock_shared(7)",
      "SELECT set_config('work_mem', '1MB', false)",
      "CREATE TEMP TABLE t AS SELECT 1",
      "create temporary table t (a int)",
    ]) {
      expect(sqlMayLeaveSessionState(sql), sql).toBe(true)
    }
  })

  it("leaves ordinary SQL alone", () => {
    for (const sql of [
      "SELECT 1",
      "SELECT pg_advisory_xact_lock(1)",
      "SELECT temperature, temp_max FROM weather",
      "INSERT INTO t VALUES ($1)",
      "SELECT * FROM pg_temp.t",
    ]) {
      expect(sqlMayLeaveSessionState(sql), sql).toBe(false)
    }
  })
})
