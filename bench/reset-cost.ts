/**
 * Where the pool reset's server CPU goes: on one connection, each row sends one message run
 * (ending in one Sync, or simple queries) `runs` times, one at a time, and reports the backend's
 * CPU per run (`/proc/<pid>/schedstat`: Linux, the server on this machine), the median of
 * `ROUNDS` interleaved rounds. Statements marked `named` are prepared once, then only bound and
 * executed, as the reset does; `BEGIN` is parsed every time, as in the reset.
 *
 * - `Sync alone`: the fixed cost of a message run answered by one ReadyForQuery, the server's
 *   wake-up included (each run here waits for its answer; in the pool the reset shares a write
 *   with the next query, so its Sync costs less than this).
 * - `+ 10x X`: `BEGIN`, X ten times, `COMMIT`: X's own cost is (this − `BEGIN; COMMIT`) / 10.
 * - `reset: ...`: the whole reset, and the layouts compared with it (docs/benchmarks.md).
 *
 * `CACHED=n` prepares n more statements on the connection first (a busy statement cache): what
 * reads `pg_prepared_statements` grows with them. `ONLY=regex` runs the matching rows only.
 *
 * Run: `node bench/reset-cost.ts [runs per row]` (starts a throwaway PostgreSQL;
 * `PGFX_BENCH_URL` to use an existing server). `ROUNDS` (default 5).
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import type { Connection } from "@pgfx/client/internal/connection/Connection"
import { unguard } from "@pgfx/client/internal/pool/Lease"
import type { Handler } from "@pgfx/client/internal/wire/Session"
import * as Backend from "@pgfx/protocol/Backend"
import * as Frontend from "@pgfx/protocol/Frontend"
import type { Writer } from "@pgfx/protocol/Writer"
import { Effect } from "effect"
import * as fs from "node:fs"
import { benchServer, median } from "./server.ts"

const runs = Number(process.argv[2] ?? 5_000)
const rounds = Number(process.env.ROUNDS ?? 5)
const cached = Number(process.env.CACHED ?? 0)

const check =
  "SELECT pg_catalog.pg_advisory_unlock_all(), 1 / (SELECT pg_catalog.count(*) = 0 FROM pg_catalog.pg_prepared_statements WHERE from_sql)::int4"
const foldedCheck = check.replace("SELECT ", "SELECT pg_catalog.set_config('session_authorization', NULL, false), ")
const doBlock =
  "DO $b$DECLARE s text; BEGIN FOR s IN SELECT name FROM pg_catalog.pg_prepared_statements WHERE from_sql" +
  " LOOP EXECUTE pg_catalog.format('DEALLOCATE %I', s); END LOOP; END$b$"
/** The reset's statements besides `BEGIN` and `COMMIT` (internal/pool/Reset.ts), with short labels. */
const parts: ReadonlyArray<readonly [string, string]> = [
  ["CLOSE ALL", "CLOSE ALL"],
  ["UNLISTEN *", "UNLISTEN *"],
  ["SET SESSION AUTHORIZATION DEFAULT", "SET SESSION AUTHORIZATION DEFAULT"],
  ["RESET ALL", "RESET ALL"],
  ["DISCARD TEMP", "DISCARD TEMP"],
  ["DISCARD SEQUENCES", "DISCARD SEQUENCES"],
  ["SELECT pg_advisory_unlock_all()", "SELECT pg_catalog.pg_advisory_unlock_all()"],
  ["the same + the prepared-statement check", check],
]
const statements = parts.slice(0, -1).map(([, sql]) => sql)

/** A step of a message run: a named statement (bound and executed), SQL parsed every time, or a simple query. */
type Step = { readonly named: string } | { readonly parsed: string } | { readonly query: string }

/** Each statement's own cost: `BEGIN`, the statement `repeat` times, `COMMIT`. */
const repeat = 10

type Row = readonly [string, ReadonlyArray<Step>]

const allRows: ReadonlyArray<Row> = [
  ["Sync alone", []],
  ["SELECT 1, prepared", [{ named: "SELECT 1" }]],
  ["SELECT 1, parsed each time", [{ parsed: "SELECT 1" }]],
  ["BEGIN; COMMIT", [{ parsed: "BEGIN" }, { named: "COMMIT" }]],
  ...parts.map(([label, sql]): Row => [
    `+ ${repeat}x ${label}`,
    [{ parsed: "BEGIN" }, ...Array.from({ length: repeat }, () => ({ named: sql })), { named: "COMMIT" }],
  ]),
  ...parts
    .slice(0, 2)
    .map(([label, sql]): Row => [
      `+ ${repeat}x ${label}, parsed each time`,
      [{ parsed: "BEGIN" }, ...Array.from({ length: repeat }, () => ({ parsed: sql })), { named: "COMMIT" }],
    ]),
  ["+ DO block deallocating (from_sql)", [{ parsed: "BEGIN" }, { named: doBlock }, { named: "COMMIT" }]],
  [
    "reset: full (prepared, one Sync)",
    [
      { parsed: "BEGIN" },
      ...statements.slice(0, -1).map((named) => ({ named })),
      { named: check },
      { named: "COMMIT" },
    ],
  ],
  [
    "reset: full, session user in the SELECT",
    [
      { parsed: "BEGIN" },
      ...statements
        .filter((sql) => !sql.startsWith("SET SESSION") && !sql.startsWith("SELECT"))
        .map((named) => ({ named })),
      { named: foldedCheck },
      { named: "COMMIT" },
    ],
  ],
  ["reset: noPreparedScan", [{ parsed: "BEGIN" }, ...statements.map((named) => ({ named })), { named: "COMMIT" }]],
  ["reset: one simple query, no check", [{ query: ["BEGIN", ...statements, "COMMIT"].join("; ") }]],
  [
    "reset: simple query, then check + COMMIT",
    [{ query: ["BEGIN", ...statements.slice(0, -1)].join("; ") }, { named: check }, { named: "COMMIT" }],
  ],
  [
    "reset: check, then one simple query",
    [{ parsed: "BEGIN" }, { named: check }, { query: [...statements.slice(0, -1), "COMMIT"].join("; ") }],
  ],
  [
    "reset: one simple query, EXECUTE of the prepared check",
    [{ query: ["BEGIN", "@check@", ...statements.slice(0, -1), "COMMIT"].join("; ") }],
  ],
  [
    "reset: one simple query with the check",
    [{ query: ["BEGIN", ...statements.slice(0, -1), check, "COMMIT"].join("; ") }],
  ],
  // Drops every prepared statement: the rows are prepared again after it (not counted).
  ["DISCARD ALL (simple query)", [{ query: "DISCARD ALL" }]],
]

/** `ONLY=regex`: the rows whose label matches. */
const rows = allRows.filter(([label]) => new RegExp(process.env.ONLY ?? "").test(label))

/** Counts replies: done at the ReadyForQuery; remembers the first error. */
class Await implements Handler {
  error: string | undefined = undefined
  private readonly done: () => void
  private cycles: number
  constructor(cycles: number, done: () => void) {
    this.cycles = cycles
    this.done = done
  }
  onMessage(type: number, buf: Uint8Array, view: DataView, start: number, end: number): boolean {
    if (type === Backend.Type.ErrorResponse) {
      const msg = Backend.decode(type, buf, view, start, end)
      if (msg._tag === "ErrorResponse") this.error ??= msg.fields.map(([, v]) => v).join(" ")
    }
    if (type !== Backend.Type.ReadyForQuery || --this.cycles > 0) return false
    this.done()
    return true
  }
  onFailure(error: unknown): void {
    this.error = String(error)
    this.done()
  }
}

const roundTrip = (conn: Connection, frame: Uint8Array, cycles = 1): Promise<void> =>
  new Promise((resolve, reject) => {
    const handler: Await = new Await(cycles, () =>
      handler.error === undefined ? resolve() : reject(new Error(handler.error)),
    )
    conn.session.send(handler, frame)
  })

const cpu = (pid: number) => Number(fs.readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]) / 1000

const program = Effect.gen(function* () {
  const options = yield* benchServer
  const conn = unguard(yield* PgConnection.make(options)) as unknown as Connection
  const pid = conn.session.processId
  // The statement cache of a busy session: `cached` more prepared statements.
  const cacheFrames = Array.from({ length: cached }, (_, k) =>
    Frontend.build((w: Writer) => {
      Frontend.close(w, "S", `cached_${k}`)
      Frontend.parse(w, `cached_${k}`, `SELECT $1::int + ${k} AS v${k}`)
      Frontend.sync(w)
    }),
  )
  const names = new Map<string, string>()
  const nameOf = (sql: string) => names.get(sql) ?? `cost_${names.set(sql, `cost_${names.size}`).size - 1}`
  const frames = rows.map(([, steps]) => {
    const prepared = new Set<string>()
    const prepare = Frontend.build((w: Writer) => {
      for (const step of steps) {
        // `@check@` in a simple query: `EXECUTE` of the check, prepared here.
        const sql = "named" in step ? step.named : "query" in step && step.query.includes("@check@") ? check : undefined
        if (sql === undefined || prepared.has(sql)) continue
        prepared.add(sql)
        Frontend.close(w, "S", nameOf(sql))
        Frontend.parse(w, nameOf(sql), sql)
      }
      Frontend.sync(w)
    })
    // A run ends with a Sync unless its last step is a simple query (which ends its own cycle).
    const last = steps.at(-1)
    const sync = last === undefined || !("query" in last)
    const frame = Frontend.build((w: Writer) => {
      for (const step of steps) {
        if ("query" in step) Frontend.query(w, step.query.replace("@check@", `EXECUTE ${nameOf(check)}`))
        else {
          if ("parsed" in step) Frontend.parse(w, "", step.parsed)
          Frontend.bind(w, "", "named" in step ? nameOf(step.named) : "", [], [], [])
          Frontend.execute(w, "")
        }
      }
      if (sync) Frontend.sync(w)
    })
    const cycles = steps.filter((s) => "query" in s).length + (sync ? 1 : 0)
    return { prepare, frame, cycles }
  })
  const results = rows.map(() => [] as Array<number>)
  yield* Effect.promise(async () => {
    for (const { prepare } of frames) await roundTrip(conn, prepare)
    for (const frame of cacheFrames) await roundTrip(conn, frame)
    for (let round = -1; round < rounds; round++) {
      for (let r = 0; r < rows.length; r++) {
        const n = round < 0 ? 200 : runs
        const before = cpu(pid)
        for (let i = 0; i < n; i++) await roundTrip(conn, frames[r]!.frame, frames[r]!.cycles)
        if (round >= 0) results[r]!.push((cpu(pid) - before) / n)
        if (rows[r]![0].startsWith("DISCARD ALL")) {
          for (const { prepare } of frames) await roundTrip(conn, prepare)
          for (let k = 0; k < cached; k++) await roundTrip(conn, cacheFrames[k]!)
        }
      }
    }
  })
  console.log(`server CPU µs per message run, ${runs} runs, median of ${rounds} rounds, ${cached} cached statements`)
  rows.forEach(([label], r) => console.log(`${label.padEnd(48)} ${median(results[r]!).toFixed(1).padStart(7)}`))
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
