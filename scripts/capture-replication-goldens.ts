/**
 * Captures golden bytes of logical replication from a real PostgreSQL server for
 * `@pgfx/protocol`'s PgOutput and Replication tests, into
 * `packages/protocol/test/golden/replication/*.json`.
 *
 * It starts a TempCluster with `wal_level = logical` (and prepared transactions, and a 64 kB
 * `logical_decoding_work_mem` so that large transactions stream), then:
 *
 * - per scenario, creates a slot, runs a scripted workload and reads the slot's pgoutput messages
 *   with `pg_logical_slot_get_binary_changes` (the bytes the walsender would put in XLogData);
 * - speaks the replication protocol itself over a raw socket (`replication=database`,
 *   START_REPLICATION in CopyBoth mode) to record XLogData and keepalive framing, a Standby status
 *   update, and the end of streaming (CopyDone both ways).
 *
 *   node scripts/capture-replication-goldens.ts
 *
 * LSNs, xids, timestamps and OIDs vary from run to run; the tests read them from the bytes and
 * check what is stable (tags, names, values, flags).
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import type * as Backend from "@pgfx/protocol/Backend"
import * as Frontend from "@pgfx/protocol/Frontend"
import * as Replication from "@pgfx/protocol/Replication"
import * as TempCluster from "@pgfx/testing/TempCluster"
import { Effect } from "effect"
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { build, concat, hex, RawConn, type Target } from "./raw-conn.ts"

interface Scenario {
  readonly name: string
  readonly description: string
  /** pgoutput options, as START_REPLICATION would pass them. */
  readonly options: Readonly<Record<string, string>>
  readonly twoPhase?: boolean
  /** The workload, one SQL string per simple query, run on one session. */
  readonly workload: ReadonlyArray<string>
}

const setup = [
  "CREATE TYPE golden_mood AS ENUM ('sad', 'ok', 'happy')",
  "CREATE TYPE golden_pair AS (a int4, b text)",
  "CREATE TABLE golden_items (id int4 PRIMARY KEY, name text, body text, tags text[], mood golden_mood, pair golden_pair)",
  "ALTER TABLE golden_items ALTER COLUMN body SET STORAGE EXTERNAL",
  "CREATE TABLE golden_full (id int4, note text)",
  "ALTER TABLE golden_full REPLICA IDENTITY FULL",
  "CREATE TABLE golden_bulk (id int4 PRIMARY KEY, pad text)",
  "CREATE PUBLICATION golden_pub FOR TABLE golden_items, golden_full, golden_bulk",
  "SELECT pg_replication_origin_create('golden_origin')",
]

/** A value far larger than the TOAST threshold, stored out of line (STORAGE EXTERNAL: uncompressed). */
const toasted = "(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 200) g)"

const changes: ReadonlyArray<string> = [
  `BEGIN; INSERT INTO golden_items VALUES (1, 'one', ${toasted}, ARRAY['a', NULL, 'c'], 'happy', ROW(7, 'seven')); ` +
    "INSERT INTO golden_full VALUES (1, 'first'), (2, 'second'); COMMIT",
  // The TOASTed body is unchanged: 'u'.
  "UPDATE golden_items SET name = 'uno' WHERE id = 1",
  // The key changes: the old key is sent ('K').
  "UPDATE golden_items SET id = 2 WHERE id = 1",
  // REPLICA IDENTITY FULL: the old row is sent ('O').
  "UPDATE golden_full SET note = 'changed' WHERE id = 1",
  "DELETE FROM golden_items WHERE id = 2",
  "DELETE FROM golden_full WHERE id = 2",
  "SELECT pg_logical_emit_message(true, 'golden', 'in a transaction')",
  "SELECT pg_logical_emit_message(false, 'golden', 'outside')",
  "TRUNCATE golden_items, golden_full RESTART IDENTITY CASCADE",
  // A transaction replayed from another origin: an Origin message.
  "SELECT pg_replication_origin_session_setup('golden_origin')",
  "BEGIN; SELECT pg_replication_origin_xact_setup('0/ABCDEF', now()); " +
    "INSERT INTO golden_full VALUES (3, 'from elsewhere'); COMMIT",
  "SELECT pg_replication_origin_session_reset()",
]

/** Larger than logical_decoding_work_mem (64 kB): streamed when streaming is on. */
const bulk = (from: number) =>
  `INSERT INTO golden_bulk SELECT g, repeat('x', 20) FROM generate_series(${from}, ${from + 599}) g`

/** A large transaction left open until the walsender has streamed it (WAL is flushed meanwhile), then rolled back. */
const abortedWhileStreamed = (from: number): ReadonlyArray<string> => [
  "BEGIN",
  bulk(from),
  "SELECT pg_sleep(1.5)",
  "ROLLBACK",
]

const scenarios: ReadonlyArray<Scenario> = [
  {
    name: "v1-text",
    description: "protocol 1, text values: every data message, Relation and Type, Origin, both kinds of Message",
    options: { proto_version: "1", publication_names: "golden_pub", messages: "true" },
    workload: changes,
  },
  {
    name: "v2-binary",
    description: "protocol 2, binary values, the same changes",
    options: { proto_version: "2", publication_names: "golden_pub", messages: "true", binary: "true" },
    workload: changes,
  },
  {
    name: "v2-streaming",
    description:
      "protocol 2, streaming on: a committed and an aborted transaction larger than logical_decoding_work_mem",
    options: { proto_version: "2", publication_names: "golden_pub", messages: "true", streaming: "on" },
    workload: [
      `BEGIN; ${bulk(1)}; SELECT pg_logical_emit_message(true, 'golden', 'streamed'); COMMIT`,
      ...abortedWhileStreamed(5001),
    ],
  },
  {
    name: "v3-two-phase",
    description: "protocol 3, two_phase: PREPARE then COMMIT PREPARED / ROLLBACK PREPARED, and a streamed PREPARE",
    options: { proto_version: "3", publication_names: "golden_pub", two_phase: "on", streaming: "on" },
    twoPhase: true,
    workload: [
      "BEGIN; INSERT INTO golden_full VALUES (10, 'prepared'); PREPARE TRANSACTION 'golden_g1'",
      "COMMIT PREPARED 'golden_g1'",
      "BEGIN; INSERT INTO golden_full VALUES (11, 'rolled back'); PREPARE TRANSACTION 'golden_g2'",
      "ROLLBACK PREPARED 'golden_g2'",
      `BEGIN; ${bulk(10001)}; PREPARE TRANSACTION 'golden_g3'`,
      "COMMIT PREPARED 'golden_g3'",
    ],
  },
  {
    name: "v4-parallel",
    description: "protocol 4, streaming parallel: a streamed transaction aborted (Stream Abort with its LSN and time)",
    options: { proto_version: "4", publication_names: "golden_pub", streaming: "parallel" },
    workload: abortedWhileStreamed(20001),
  },
]

interface CapturedMessage {
  readonly lsn: string
  readonly hex: string
}

const quoteLiteral = (s: string): string => `'${s.replaceAll("'", "''")}'`

/** Opens a `replication=database` session on a raw socket. */
const replicationSession = async (t: Target): Promise<RawConn> => {
  const c = await RawConn.open(t)
  c.send(
    build((w) =>
      Frontend.startup(w, { user: t.user, database: t.database, replication: "database", client_encoding: "UTF8" }),
    ),
  )
  await c.untilReady()
  return c
}

const copyData = (m: Backend.BackendMessage): Uint8Array | undefined => (m._tag === "CopyData" ? m.data : undefined)

/** The end marker every scenario's workload finishes with (a non-transactional Message). */
const END_PREFIX = "golden-end"
const endMarker = `SELECT pg_logical_emit_message(false, '${END_PREFIX}', '')`
const isEndMarker = (payload: Uint8Array): boolean =>
  payload[0] === 0x77 && payload[25] === 0x4d && Buffer.from(payload).includes(Buffer.from(`${END_PREFIX}\0`))

/**
 * Streams the slot over the replication protocol while the workload runs (so that a large
 * transaction still in progress is streamed, and one rolled back afterwards gives Stream Abort),
 * until the end marker.
 */
const captureScenario = (conn: PgConnection.PgConnection, t: Target, s: Scenario) =>
  Effect.gen(function* () {
    const slot = `golden_${s.name.replaceAll("-", "_")}`
    yield* conn.fetch("SELECT pg_create_logical_replication_slot($1, 'pgoutput', false, $2)", [
      slot,
      s.twoPhase === true,
    ])
    const options = Object.entries({ ...s.options, messages: "true" })
      .map(([k, v]) => `${k} ${quoteLiteral(v)}`)
      .join(", ")
    const c = yield* Effect.promise(async () => {
      const c = await replicationSession(t)
      c.send(build((w) => Frontend.query(w, `START_REPLICATION SLOT ${slot} LOGICAL 0/0 (${options})`)))
      await c.until("CopyBothResponse", (m) => m._tag === "CopyBothResponse")
      return c
    })
    for (const sql of s.workload) yield* conn.simpleQuery(sql)
    yield* conn.simpleQuery(endMarker)
    const payloads = yield* Effect.promise(async () => {
      const frames = await c.until("the end marker", (m) => {
        const d = copyData(m)
        return d !== undefined && isEndMarker(d)
      })
      c.send(build((w) => Frontend.copyDone(w)))
      await c.untilReady()
      c.send(build((w) => Frontend.terminate(w)))
      await c.closed()
      return frames.map((f) => copyData(f.msg)).filter((d): d is Uint8Array => d !== undefined && d[0] === 0x77)
    })
    yield* conn.fetch("SELECT pg_drop_replication_slot($1)", [slot])
    // Leave the tables as they were for the next scenario.
    yield* conn.simpleQuery("TRUNCATE golden_items, golden_full, golden_bulk")
    const messages: Array<CapturedMessage> = payloads.map((d) => {
      const view = new DataView(d.buffer, d.byteOffset, d.byteLength)
      return { lsn: Replication.formatLsn(view.getBigUint64(1)), hex: hex(d.subarray(25)) }
    })
    return { name: s.name, description: s.description, options: s.options, messages }
  })

/**
 * The replication protocol on a raw socket: START_REPLICATION, one committed insert (XLogData),
 * a keepalive asking for a reply, a Standby status update, then CopyDone both ways.
 */
const captureStreaming = async (t: Target, insert: () => Promise<void>) => {
  const c = await RawConn.open(t)
  c.send(
    build((w) =>
      Frontend.startup(w, { user: t.user, database: t.database, replication: "database", client_encoding: "UTF8" }),
    ),
  )
  await c.untilReady()
  c.send(
    build((w) =>
      Frontend.query(w, "CREATE_REPLICATION_SLOT golden_stream TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT"),
    ),
  )
  await c.untilReady()
  const start = build((w) =>
    Frontend.query(
      w,
      "START_REPLICATION SLOT golden_stream LOGICAL 0/0 (proto_version '1', publication_names 'golden_pub')",
    ),
  )
  c.send(start)
  const head = await c.until("CopyBothResponse", (m) => m._tag === "CopyBothResponse")
  await insert()
  // Begin, Relation, Insert, Commit; then a keepalive (wal_sender_timeout is short, so it asks for a reply).
  const data = await c.until("XLogData with a Commit", (m) => {
    const d = copyData(m)
    return d !== undefined && d[0] === 0x77 && d[25] === 0x43
  })
  const keepalive = await c.until("a keepalive asking for a reply", (m) => {
    const d = copyData(m)
    return d !== undefined && d[0] === 0x6b && d[d.length - 1] === 1
  })
  const status = build((w) =>
    Replication.standbyStatusUpdate(w, { write: 0x1000000n, flush: 0x1000000n, apply: 0x1000000n, clientTime: 0n }),
  )
  const done = build((w) => Frontend.copyDone(w))
  c.send(concat([status, done]))
  const tail = await c.untilReady()
  c.send(build((w) => Frontend.terminate(w)))
  await c.closed()
  return {
    name: "copy-both",
    description:
      "START_REPLICATION: CopyBothResponse, XLogData (Begin, Relation, Insert, Commit), a keepalive asking for a reply; the client's Standby status update and CopyDone; the server's CopyDone, CommandComplete, ReadyForQuery",
    client: hex(concat([start, status, done])),
    server: hex(concat([...head, ...data, ...keepalive, ...tail].map((f) => f.bytes))),
  }
}

const main = Effect.gen(function* () {
  const cluster = yield* TempCluster.make({
    url: false,
    logicalReplication: true,
    settings: { max_prepared_transactions: 10, logical_decoding_work_mem: "64kB", wal_sender_timeout: "2s" },
  })
  const target: Target = { host: cluster.host, port: cluster.port, user: cluster.user, database: cluster.database }
  const conn = yield* PgConnection.make({
    host: cluster.host,
    port: cluster.port,
    user: cluster.user,
    database: cluster.database,
  })
  for (const sql of setup) yield* conn.simpleQuery(sql)
  const captured = []
  for (const s of scenarios) captured.push(yield* captureScenario(conn, target, s))
  const streaming = yield* Effect.promise(() =>
    captureStreaming(target, () =>
      Effect.runPromise(Effect.asVoid(conn.simpleQuery("INSERT INTO golden_full VALUES (42, 'streamed')"))),
    ),
  )
  const outDir = join(
    dirname(fileURLToPath(import.meta.url)),
    "..",
    "packages",
    "protocol",
    "test",
    "golden",
    "replication",
  )
  mkdirSync(outDir, { recursive: true })
  const header = {
    generated: "by scripts/capture-replication-goldens.ts; do not edit",
    serverVersion: cluster.versionString,
  }
  writeFileSync(join(outDir, "pgoutput.json"), `${JSON.stringify({ ...header, scenarios: captured }, null, 2)}\n`)
  writeFileSync(join(outDir, "copy-both.json"), `${JSON.stringify({ ...header, steps: [streaming] }, null, 2)}\n`)
  console.log(
    `wrote pgoutput.json (${captured.map((c) => `${c.name}: ${c.messages.length}`).join(", ")}) and copy-both.json`,
  )
})

Effect.runPromise(Effect.scoped(main)).then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e)
    process.exit(1)
  },
)
