/**
 * The dirty-release matrix: each kind of state a borrower can leave in a session — a setting, the
 * role, the session user, an advisory lock, LISTEN, a cursor WITH HOLD, a temporary table, a
 * SQL-level prepared statement, sequence state, an open or failed transaction — made through plain
 * SQL and through a PL/pgSQL function (which no client can see), is gone for the next borrower of
 * the same connection (a pool of one; the backend pid is checked). Function calls also go through
 * the pool's shortcuts, whose fast path checks out and releases inside one callback. A `PREPARE`
 * inside a function (no command tag shows it) is found by the default reset, which then closes the
 * connection instead of reusing it; the `PgPool.fullReset` hook deallocates it instead. The
 * reset's own prepared statements are prepared again after a `DEALLOCATE ALL`.
 */
import * as PgPool from "@pgfx/client/PgPool"
import type * as PgConnection from "@pgfx/client/PgConnection"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option } from "effect"
import * as PgError from "@pgfx/client/PgError"
import { testCluster } from "./support/cluster.ts"
import { withAdmin } from "./support/connect.ts"
import { failureOf, poolOptions } from "./support/pool.ts"

type Pool = PgPool.PgPool
type Conn = PgConnection.PgConnection

/** One kind of session state: how to leave it behind, and how the next borrower checks it is gone. */
interface Kind {
  readonly name: string
  /** Leaves the state through plain SQL on a checked-out connection. */
  readonly plain: (conn: Conn) => Effect.Effect<unknown, unknown>
  /** The body of a PL/pgSQL function that leaves the same state. */
  readonly body: string
  /** Calls the function: through the shortcuts (default, twice: the second call is a fast one), or in a checkout. */
  readonly callIn?: (conn: Conn, call: string) => Effect.Effect<unknown, unknown>
  /** Fails unless the next borrower sees a clean session. */
  readonly clean: (pool: Pool) => Effect.Effect<void, unknown>
}

const fn = (kind: Kind) => `pool_reset_${kind.name.replace(/\W+/g, "_")}`

const superuser = () => testCluster().user

const kinds: ReadonlyArray<Kind> = [
  {
    name: "setting",
    plain: (conn) => conn.execute("SET work_mem = '1234kB'"),
    body: "PERFORM set_config('work_mem', '1234kB', false);",
    clean: (pool) =>
      Effect.map(Effect.map(pool.fetchVal("SELECT current_setting('work_mem')"), Option.getOrThrow), (v) =>
        expect(v).not.toBe("1234kB"),
      ),
  },
  {
    name: "role",
    plain: (conn) => conn.execute("SET ROLE pgfx_trust"),
    body: "PERFORM set_config('role', 'pgfx_trust', false);",
    clean: (pool) =>
      Effect.map(Effect.map(pool.fetchVal("SELECT current_user::text"), Option.getOrThrow), (v) =>
        expect(v).toBe(superuser()),
      ),
  },
  {
    name: "session user",
    plain: (conn) => conn.execute("SET SESSION AUTHORIZATION pgfx_trust"),
    body: "EXECUTE 'SET SESSION AUTHORIZATION pgfx_trust';",
    clean: (pool) =>
      Effect.map(pool.fetchRow("SELECT session_user::text AS s, current_user::text AS c"), (row) =>
        expect(row._tag === "Some" && [row.value.get("s"), row.value.get("c")]).toEqual([superuser(), superuser()]),
      ),
  },
  {
    name: "advisory lock",
    plain: (conn) => conn.execute("SELECT pg_advisory_lock(777), pg_advisory_lock_shared(778)"),
    body: "PERFORM pg_advisory_lock(777); PERFORM pg_advisory_lock_shared(778);",
    clean: (pool) =>
      Effect.andThen(
        // The pool's own next query runs after the reset; another session then sees the locks free.
        Effect.map(pool.fetchVal("SELECT 1"), Option.getOrThrow),
        withAdmin((admin) =>
          Effect.map(
            admin.fetchRow(
              "SELECT pg_try_advisory_lock(777) AS a, pg_try_advisory_lock(778) AS b, pg_advisory_unlock_all() AS u",
            ),
            (row) => expect(row._tag === "Some" && [row.value.get("a"), row.value.get("b")]).toEqual([true, true]),
          ),
        ),
      ),
  },
  {
    name: "listen",
    plain: (conn) => conn.execute("LISTEN pool_reset_chan"),
    body: "LISTEN pool_reset_chan;",
    clean: (pool) =>
      Effect.map(Effect.map(pool.fetchVal("SELECT count(*) FROM pg_listening_channels()"), Option.getOrThrow), (v) =>
        expect(v).toBe(0n),
      ),
  },
  {
    name: "cursor",
    plain: (conn) => conn.execute("BEGIN; DECLARE pool_reset_cur CURSOR WITH HOLD FOR SELECT 1; COMMIT"),
    body: "EXECUTE 'DECLARE pool_reset_cur CURSOR WITH HOLD FOR SELECT 1';",
    clean: (pool) =>
      Effect.map(
        Effect.map(pool.fetchVal("SELECT count(*) FROM pg_cursors WHERE name = 'pool_reset_cur'"), Option.getOrThrow),
        (v) => expect(v).toBe(0n),
      ),
  },
  {
    name: "temporary table",
    plain: (conn) => conn.execute("CREATE TEMP TABLE pool_reset_tmp (a int)"),
    body: "EXECUTE 'CREATE TEMP TABLE pool_reset_tmp (a int)';",
    clean: (pool) =>
      Effect.map(
        Effect.map(pool.fetchVal("SELECT to_regclass('pg_temp.pool_reset_tmp')::text"), Option.getOrThrow),
        (v) => expect(v).toBe(null),
      ),
  },
  {
    name: "sequence state",
    plain: (conn) => conn.execute("SELECT nextval('pool_reset_seq')"),
    body: "PERFORM nextval('pool_reset_seq');",
    clean: (pool) =>
      Effect.map(Effect.exit(Effect.map(pool.fetchVal("SELECT lastval()"), Option.getOrThrow)), (exit) =>
        // 55000: lastval is not yet defined in this session.
        expect(failureOf(exit)).toMatchObject({ _tag: "PgServerError", code: "55000" }),
      ),
  },
  {
    name: "open transaction",
    plain: (conn) => Effect.andThen(conn.execute("BEGIN"), conn.execute("INSERT INTO pool_reset_rows VALUES (1)")),
    body: "INSERT INTO pool_reset_rows VALUES (2);",
    callIn: (conn, call) => Effect.andThen(conn.execute("BEGIN"), conn.execute(call)),
    clean: (pool) =>
      Effect.gen(function* () {
        expect(yield* pool.withConnection((conn) => Effect.succeed(conn.transactionStatus))).toBe("idle")
        expect(Option.getOrThrow(yield* pool.fetchVal("SELECT count(*) FROM pool_reset_rows"))).toBe(0n)
      }),
  },
  {
    name: "failed transaction",
    plain: (conn) => Effect.andThen(conn.execute("BEGIN"), Effect.exit(conn.execute("SELECT 1/0"))),
    body: "PERFORM 1/0;",
    callIn: (conn, call) => Effect.andThen(conn.execute("BEGIN"), Effect.exit(conn.execute(call))),
    clean: (pool) =>
      Effect.gen(function* () {
        yield* pool.execute("INSERT INTO pool_reset_rows VALUES (3)")
        expect(Option.getOrThrow(yield* pool.fetchVal("SELECT count(*) FROM pool_reset_rows"))).toBe(1n)
        yield* pool.execute("DELETE FROM pool_reset_rows")
      }),
  },
]

const preparedClean = (pool: Pool) =>
  Effect.gen(function* () {
    // The next borrower can PREPARE the same name (no 42P05) ...
    yield* pool.withConnection((conn) => conn.execute("PREPARE report_q AS SELECT 2"))
    // ... and pgfx's own prepared statements (its statement cache) survive the reset.
    expect(
      Option.getOrThrow(yield* pool.fetchVal("SELECT count(*) > 0 FROM pg_prepared_statements WHERE NOT from_sql")),
    ).toBe(true)
  })

const pidOf = (pool: Pool) => Effect.map(pool.fetchVal("SELECT pg_backend_pid()"), Option.getOrThrow)

const setup = withAdmin((admin) =>
  Effect.gen(function* () {
    yield* admin.execute("CREATE TABLE IF NOT EXISTS pool_reset_rows (a int)")
    yield* admin.execute("CREATE SEQUENCE IF NOT EXISTS pool_reset_seq")
    for (const kind of kinds) {
      yield* admin.execute(
        `CREATE OR REPLACE FUNCTION ${fn(kind)}() RETURNS int LANGUAGE plpgsql AS $$ BEGIN ${kind.body} RETURN 1; END $$`,
      )
    }
    yield* admin.execute(`CREATE OR REPLACE FUNCTION pool_reset_prepare() RETURNS int LANGUAGE plpgsql AS $$
      BEGIN EXECUTE 'PREPARE report_q AS SELECT 1'; RETURN 1; END $$`)
  }),
)

const teardown = withAdmin((admin) =>
  Effect.gen(function* () {
    for (const kind of kinds) yield* admin.execute(`DROP FUNCTION IF EXISTS ${fn(kind)}()`)
    yield* admin.execute("DROP FUNCTION IF EXISTS pool_reset_prepare()")
    yield* admin.execute("DROP TABLE IF EXISTS pool_reset_rows")
    yield* admin.execute("DROP SEQUENCE IF EXISTS pool_reset_seq")
  }),
)

describe("a released connection is clean for the next borrower", () => {
  beforeAll(() => Effect.runPromise(setup))
  afterAll(() => Effect.runPromise(teardown))

  for (const kind of kinds) {
    it.live(`${kind.name}, through plain SQL`, () =>
      Effect.gen(function* () {
        const pool = yield* PgPool.make(poolOptions({ max: 1 }))
        const pid = yield* pidOf(pool)
        yield* pool.withConnection(kind.plain)
        yield* kind.clean(pool)
        expect(yield* pidOf(pool)).toBe(pid)
      }),
    )

    it.live(`${kind.name}, through a function`, () =>
      Effect.gen(function* () {
        const pool = yield* PgPool.make(poolOptions({ max: 1 }))
        const pid = yield* pidOf(pool)
        const call = `SELECT ${fn(kind)}()`
        const callIn = kind.callIn
        if (callIn === undefined) {
          // Twice: the first call prepares the statement, the second takes the shortcuts' fast path.
          Option.getOrThrow(yield* pool.fetchVal(call))
          yield* kind.clean(pool)
          Option.getOrThrow(yield* pool.fetchVal(call))
        } else yield* pool.withConnection((conn) => callIn(conn, call))
        yield* kind.clean(pool)
        expect(yield* pidOf(pool)).toBe(pid)
      }),
    )
  }

  it.live("SQL-level prepared statement, through plain SQL", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1 }))
      const pid = yield* pidOf(pool)
      yield* pool.withConnection((conn) => conn.execute("PREPARE report_q AS SELECT 1"))
      yield* preparedClean(pool)
      yield* preparedClean(pool)
      expect(yield* pidOf(pool)).toBe(pid)
    }),
  )

  it.live("SQL-level prepared statement, through a function: deallocated by a fullReset hook", () =>
    Effect.gen(function* () {
      // No client can see this PREPARE, and looking for one on every release costs more than the
      // rest of the reset: apps that PREPARE inside functions add PgPool.fullReset as a hook.
      const pool = yield* PgPool.make(poolOptions({ max: 1, reset: PgPool.fullReset }))
      const pid = yield* pidOf(pool)
      Option.getOrThrow(yield* pool.fetchVal("SELECT pool_reset_prepare()"))
      yield* preparedClean(pool)
      expect(yield* pidOf(pool)).toBe(pid)
    }),
  )

  /**
   * The next borrower's first request: when it was pipelined behind a reset that closed the
   * connection, it did not run and fails with an error that is safe to retry; run again, it runs
   * on a fresh connection.
   */
  const afterClosingReset = <A>(effect: Effect.Effect<A, unknown>) =>
    Effect.flatMap(Effect.exit(effect), (exit) => {
      if (Exit.isSuccess(exit)) return Effect.succeed(exit.value)
      const error = failureOf(exit)
      expect(error).toMatchObject({ _tag: "PgConnectionError", reason: "Closed", sent: false })
      expect(PgError.isSafeToRetry(error)).toBe(true)
      return effect
    })

  it.live("SQL-level prepared statement, through a function: the default reset closes the connection", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1 }))
      const pid = yield* pidOf(pool)
      // Through the fast path and through a checkout.
      yield* pool.fetchVal("SELECT pool_reset_prepare()")
      yield* afterClosingReset(pool.withConnection((conn) => conn.execute("PREPARE report_q AS SELECT 2")))
      const second = yield* pidOf(pool)
      expect(second).not.toBe(pid)
      yield* pool.withConnection((conn) => conn.fetchVal("SELECT pool_reset_prepare()"))
      yield* afterClosingReset(preparedClean(pool))
      expect(yield* pidOf(pool)).not.toBe(second)
    }),
  )

  it.live("a request pipelined behind a failing reset does not run", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1 }))
      let refused = 0
      for (let i = 10; i < 15; i++) {
        // The next reset's check fails; the INSERT is written behind it before its answer comes.
        yield* pool.fetchVal("SELECT pool_reset_prepare()")
        const exit = yield* Effect.exit(pool.execute(`INSERT INTO pool_reset_rows VALUES (${i})`))
        const rows = Option.getOrThrow(yield* pool.fetchVal(`SELECT count(*) FROM pool_reset_rows WHERE a = ${i}`))
        if (Exit.isFailure(exit)) {
          refused++
          expect(failureOf(exit)).toMatchObject({ _tag: "PgConnectionError", reason: "Closed", sent: false })
          expect(rows).toBe(0n)
        } else expect(rows).toBe(1n)
      }
      yield* pool.execute("DELETE FROM pool_reset_rows")
      expect(refused).toBeGreaterThan(0)
    }),
  )

  it.live("the reset's own statements are prepared again after DEALLOCATE ALL", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make(poolOptions({ max: 1 }))
      const pid = yield* pidOf(pool)
      // Plain SQL: the command tag tells the session, and the next reset prepares them again.
      yield* pool.withConnection((conn) => conn.execute("SET work_mem = '1234kB'; DEALLOCATE ALL"))
      yield* kinds[0]!.clean(pool)
      yield* kinds[0]!.clean(pool)
      expect(yield* pidOf(pool)).toBe(pid)
      // Inside a function no tag tells: the reset fails on a missing statement and closes the
      // connection; what was pipelined behind it did not run. (A fresh pool: above, the cached
      // statements the DEALLOCATE dropped made the connection re-parse everything from then on.)
      const fresh = yield* PgPool.make(poolOptions({ max: 1 }))
      const freshPid = yield* pidOf(fresh)
      yield* fresh.withConnection((conn) =>
        conn.execute("SET work_mem = '1234kB'; DO $$BEGIN EXECUTE 'DEALLOCATE ALL'; END$$"),
      )
      yield* afterClosingReset(kinds[0]!.clean(fresh))
      yield* kinds[0]!.clean(fresh)
      expect(yield* pidOf(fresh)).not.toBe(freshPid)
    }),
  )

  it.live("sessionReset: noPreparedScan leaves a PREPARE made inside a function; transactionOnly only rolls back", () =>
    Effect.gen(function* () {
      const scanless = yield* PgPool.make(poolOptions({ max: 1, sessionReset: "noPreparedScan" }))
      const pid = yield* pidOf(scanless)
      yield* scanless.fetchVal("SELECT pool_reset_prepare()")
      expect(
        Option.getOrThrow(yield* scanless.fetchVal("SELECT count(*) FROM pg_prepared_statements WHERE from_sql")),
      ).toBe(1n)
      // Everything else is still reset.
      yield* scanless.withConnection((conn) => conn.execute("SET work_mem = '1234kB'"))
      yield* kinds[0]!.clean(scanless)
      expect(yield* pidOf(scanless)).toBe(pid)

      const bare = yield* PgPool.make(poolOptions({ max: 1, sessionReset: "transactionOnly" }))
      yield* bare.withConnection((conn) => conn.execute("SET work_mem = '1234kB'"))
      expect(Option.getOrThrow(yield* bare.fetchVal("SELECT current_setting('work_mem')"))).toBe("1234kB")
      yield* bare.withConnection((conn) =>
        Effect.andThen(conn.execute("BEGIN"), conn.execute("INSERT INTO pool_reset_rows VALUES (4)")),
      )
      expect(yield* bare.withConnection((conn) => Effect.succeed(conn.transactionStatus))).toBe("idle")
      expect(Option.getOrThrow(yield* bare.fetchVal("SELECT count(*) FROM pool_reset_rows"))).toBe(0n)
    }),
  )

  it.live("an unknown sessionReset is a PgConfigError naming the option", () =>
    Effect.gen(function* () {
      const bad = { sessionReset: "none" } as unknown as PgPool.PgPoolOptions
      const error = failureOf(yield* Effect.exit(Effect.scoped(PgPool.make(poolOptions(bad)))))
      expect(error).toMatchObject({ _tag: "PgConfigError", key: "sessionReset" })
    }),
  )
})
