/**
 * Logical replication throughput: one INSERT of 1,000,000 rows, streamed through
 * `PgReplication.stream` (binary values, decoded through the codecs), and reports the change
 * events per second and the client CPU (user + system) per event.
 *
 *   node bench/replication.ts                       (starts a TempCluster with wal_level = logical)
 *   node bench/replication.ts --rows 200000 --binary false
 *
 * The wall time includes the walsender decoding the WAL (the server's share); the CPU figure is
 * this process's only. The transaction is decoded by the server at its commit (`streaming:
 * false`), so the stream delivers it with bounded memory.
 */
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgReplication from "@pgfx/client/PgReplication"
import * as TempCluster from "@pgfx/testing/TempCluster"
import { Effect, Stream } from "effect"
import { parseArgs } from "node:util"

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    binary: { type: "string", default: "true" },
  },
})
const rows = Number(values.rows)
const binary = values.binary !== "false"

const main = Effect.gen(function* () {
  const cluster = yield* TempCluster.make({ url: false, logicalReplication: true })
  const options = { host: cluster.host, port: cluster.port, user: cluster.user, database: cluster.database }
  const conn = yield* PgConnection.make(options)
  yield* conn.execute("CREATE TABLE events (id int4 PRIMARY KEY, label text, amount int8, at timestamptz)")
  yield* PgReplication.createPublication(conn, "bench_pub", { tables: ["events"] })
  yield* Effect.scoped(Effect.flatMap(PgReplication.connect(options), (r) => r.createSlot("bench_slot")))
  const insertStarted = performance.now()
  yield* conn.execute(
    "INSERT INTO events SELECT g, 'event number ' || g, g * 100, now() FROM generate_series(1, $1) g",
    [rows],
  )
  const insertSeconds = (performance.now() - insertStarted) / 1000

  let inserts = 0
  let checksum = 0
  const cpu = process.cpuUsage()
  const started = performance.now()
  yield* PgReplication.stream({
    connection: options,
    slot: "bench_slot",
    publications: ["bench_pub"],
    binary,
    streaming: false,
  }).pipe(
    Stream.takeUntil((e) => e._tag === "Commit"),
    // One Effect per batch of events, not per event: the figure is the stream's cost, not Effect's.
    Stream.runForEachArray((batch) => {
      let ack: Effect.Effect<void> = Effect.void
      for (const e of batch) {
        if (e._tag === "Insert") {
          inserts++
          checksum += e.row.id as number
        } else if (e._tag === "Commit") ack = e.ack
      }
      return ack
    }),
  )
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  if (inserts !== rows || checksum !== (rows * (rows + 1)) / 2) {
    throw new Error(`wrong result: ${inserts} inserts, checksum ${checksum}`)
  }
  const events = inserts + 2
  console.log(
    JSON.stringify({
      server: cluster.versionString,
      rows,
      binary,
      insertSeconds: Number(insertSeconds.toFixed(2)),
      streamSeconds: Number(seconds.toFixed(2)),
      eventsPerSecond: Math.round(events / seconds),
      clientCpuSeconds: Number(((used.user + used.system) / 1e6).toFixed(2)),
      clientCpuMicrosPerEvent: Number(((used.user + used.system) / events).toFixed(2)),
    }),
  )
}).pipe(Effect.scoped)

Effect.runPromise(main).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
