/**
 * Logical replication as a Stream, against its own TempCluster (wal_level = logical, a 64 kB
 * logical_decoding_work_mem so that large transactions stream): the events of a scripted mix of
 * changes, typed errors, a streamed transaction, a walsender killed mid-stream and a consumer
 * restarted (at least once, nothing acknowledged twice), and a slow consumer (bounded memory).
 */
import { expect, layer } from "@effect/vitest"
import * as PgConnection from "@pgfx/client/PgConnection"
import * as PgReplication from "@pgfx/client/PgReplication"
import * as TempCluster from "@pgfx/testing/TempCluster"
import * as CodecRegistry from "@pgfx/types/CodecRegistry"
import { PgTimestamp } from "@pgfx/types/PgTimestamp"
import { Effect, Fiber, Ref, Schema, Stream, Option } from "effect"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { testCluster } from "./support/cluster.ts"
import { failureOf } from "./support/failure.ts"
import { waitUntil } from "./support/wait.ts"

type Change = PgReplication.Change

const cluster = TempCluster.layer({
  url: false,
  logicalReplication: true,
  settings: { logical_decoding_work_mem: "64kB", wal_sender_timeout: "10s" },
  users: [{ name: "pgfx_norepl", login: true }],
})

const optionsOf = (c: TempCluster.TempClusterShape, user = c.user) => ({
  host: c.host,
  port: c.port,
  user,
  database: c.database,
})

/** A permanent slot and a publication for `tables`, dropped with the scope. */
const slotAndPublication = (
  c: TempCluster.TempClusterShape,
  conn: PgConnection.PgConnection,
  name: string,
  tables: ReadonlyArray<string>,
) =>
  Effect.gen(function* () {
    yield* PgReplication.createPublication(conn, name, { tables })
    yield* Effect.scoped(Effect.flatMap(PgReplication.connect(optionsOf(c)), (r) => r.createSlot(name)))
    yield* Effect.addFinalizer(() =>
      Effect.ignore(
        Effect.scoped(
          Effect.andThen(
            Effect.flatMap(PgReplication.connect(optionsOf(c)), (r) => r.dropSlot(name, { wait: true })),
            PgReplication.dropPublication(conn, name, { ifExists: true }),
          ),
        ),
      ),
    )
  })

/** A compact, comparable form of an event. */
const describeChange = (e: Change): string => {
  const show = (row: PgReplication.Row | undefined) =>
    row === undefined
      ? "-"
      : JSON.stringify(
          Object.fromEntries(
            Object.entries(row).map(([k, v]) => [
              k,
              v === PgReplication.unchanged
                ? "<unchanged>"
                : typeof v === "bigint"
                  ? `${v}n`
                  : typeof v === "string" && v.length > 40
                    ? `<${v.length} chars>`
                    : v,
            ]),
          ),
        )
  switch (e._tag) {
    case "Begin":
    case "Commit":
      return e._tag
    case "Insert":
      return `Insert ${e.relation.name} ${show(e.row)}`
    case "Update":
      return `Update ${e.relation.name} ${e.oldKind ?? ""} ${show(e.old)} ${show(e.row)}`
    case "Delete":
      return `Delete ${e.relation.name} ${e.oldKind} ${show(e.old)}`
    case "Truncate":
      return `Truncate ${e.relations.map((r) => r.name).join(",")} cascade=${e.cascade} restart=${e.restartIdentity}`
    case "Message":
      return `Message ${e.transactional} ${e.prefix} ${new TextDecoder().decode(e.content)}`
  }
}

/** The first `n` events of the slot, each Commit acknowledged. */
/** Until a replication slot matching `found` exists (polled on the server). */
const untilSlot = (conn: PgConnection.PgConnection, what: string, found: (slot: PgReplication.SlotInfo) => boolean) =>
  waitUntil(
    what,
    Effect.map(PgReplication.listSlots(conn), (slots) => slots.some(found)),
  )

const take = (
  c: TempCluster.TempClusterShape,
  slot: string,
  n: number,
  extra: Partial<PgReplication.StreamOptions> = {},
) =>
  PgReplication.stream({ connection: optionsOf(c), slot, publications: [slot], ...extra }).pipe(
    Stream.tap((e) => (e._tag === "Commit" ? e.ack : Effect.void)),
    Stream.take(n),
    Stream.runCollect,
    Effect.timeout("60 seconds"),
  )

layer(cluster, { timeout: 180_000, excludeTestServices: true })("logical replication", (it) => {
  it.effect("a scripted mix of changes over several tables and types yields exactly the expected events", () =>
    Effect.gen(function* () {
      const c = yield* TempCluster.TempCluster
      const conn = yield* PgConnection.make(optionsOf(c))
      yield* conn.simpleQuery(
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE TYPE pair AS (a int4, b text); " +
          "CREATE TABLE items (id int4 PRIMARY KEY, name text, body text, tags text[], mood mood, pair pair, at timestamptz); " +
          "ALTER TABLE items ALTER COLUMN body SET STORAGE EXTERNAL; " +
          "CREATE TABLE notes (id int8, note text, amount numeric); ALTER TABLE notes REPLICA IDENTITY FULL",
      )
      yield* slotAndPublication(c, conn, "mix", ["items", "notes"])
      const big = "x".repeat(5000) + "end"
      yield* conn.execute(
        "INSERT INTO items VALUES (1, 'one', $1, ARRAY['a', NULL, 'c'], 'happy', ROW(7, 'seven'), '2024-05-06T07:08:09.123Z')",
        [big],
      )
      yield* conn.simpleQuery(
        "BEGIN; INSERT INTO notes VALUES (10, 'ten', 1.50), (11, NULL, NULL); UPDATE items SET name = 'uno' WHERE id = 1; COMMIT",
      )
      yield* conn.execute("UPDATE items SET id = 2, mood = 'sad' WHERE id = 1")
      yield* conn.execute("UPDATE notes SET note = 'TEN' WHERE id = 10")
      yield* conn.execute("SELECT pg_logical_emit_message(true, 'app', 'inside')")
      yield* conn.execute("DELETE FROM notes WHERE id = 11")
      yield* conn.execute("DELETE FROM items WHERE id = 2")
      yield* conn.execute("TRUNCATE items, notes RESTART IDENTITY")
      yield* conn.execute("SELECT pg_logical_emit_message(false, 'app', 'outside')")

      const events = yield* take(c, "mix", 27)
      expect(events.map(describeChange)).toEqual([
        "Begin",
        `Insert items {"id":1,"name":"one","body":"<5003 chars>","tags":["a",null,"c"],"mood":"happy","pair":{"a":7,"b":"seven"},"at":"2024-05-06T07:08:09.123Z"}`,
        "Commit",
        "Begin",
        `Insert notes {"id":"10n","note":"ten","amount":"1.50"}`,
        `Insert notes {"id":"11n","note":null,"amount":null}`,
        // The TOASTed body was not changed: marked, never NULL.
        `Update items  - {"id":1,"name":"uno","body":"<unchanged>","tags":["a",null,"c"],"mood":"happy","pair":{"a":7,"b":"seven"},"at":"2024-05-06T07:08:09.123Z"}`,
        "Commit",
        "Begin",
        `Update items key {"id":1,"name":null,"body":null,"tags":null,"mood":null,"pair":null,"at":null} {"id":2,"name":"uno","body":"<unchanged>","tags":["a",null,"c"],"mood":"sad","pair":{"a":7,"b":"seven"},"at":"2024-05-06T07:08:09.123Z"}`,
        "Commit",
        "Begin",
        `Update notes row {"id":"10n","note":"ten","amount":"1.50"} {"id":"10n","note":"TEN","amount":"1.50"}`,
        "Commit",
        "Begin",
        "Message true app inside",
        "Commit",
        "Begin",
        `Delete notes row {"id":"11n","note":null,"amount":null}`,
        "Commit",
        "Begin",
        `Delete items key {"id":2,"name":null,"body":null,"tags":null,"mood":null,"pair":null,"at":null}`,
        "Commit",
        "Begin",
        "Truncate items,notes cascade=false restart=true",
        "Commit",
        "Message false app outside",
      ])
      // Values went through the codecs.
      const insert = events[1]!
      expect(insert._tag === "Insert" && insert.row.at).toBeInstanceOf(PgTimestamp)
      const commit = events[2]!
      if (commit._tag !== "Commit") throw new Error("not a commit")
      expect(commit.endLsn).toBeGreaterThan(commit.commitLsn)
      expect(commit.commitTime.getTime()).toBeGreaterThan(Date.now() - 120_000)
    }).pipe(Effect.scoped),
  )

  it.effect("the connection's custom codecs decode the values (text format)", () =>
    Effect.gen(function* () {
      const c = yield* TempCluster.TempCluster
      const conn = yield* PgConnection.make(optionsOf(c))
      yield* conn.execute("CREATE TABLE priced (id int4 PRIMARY KEY, price numeric)")
      yield* slotAndPublication(c, conn, "priced", ["priced"])
      yield* conn.execute("INSERT INTO priced VALUES (1, 12.50)")
      const codecs = CodecRegistry.builtins.withTypeCodec("numeric", {
        format: "text",
        schema: Schema.NumberFromString,
      })
      const events = yield* PgReplication.stream({
        connection: { ...optionsOf(c), codecs },
        slot: "priced",
        publications: ["priced"],
        binary: false,
      }).pipe(Stream.take(3), Stream.runCollect, Effect.timeout("30 seconds"))
      const insert = events[1]!
      expect(insert._tag === "Insert" && insert.row).toEqual({ id: 1, price: 12.5 })
    }).pipe(Effect.scoped),
  )

  it.effect("typed errors: wal_level, a missing slot, a slot in use, missing privileges, an existing slot", () =>
    Effect.gen(function* () {
      const c = yield* TempCluster.TempCluster
      const conn = yield* PgConnection.make(optionsOf(c))
      yield* conn.execute("CREATE TABLE errs (id int4 PRIMARY KEY)")
      yield* slotAndPublication(c, conn, "errs", ["errs"])

      // The shared integration server runs with the default wal_level (replica).
      const shared = testCluster()
      const walLevel = failureOf(
        yield* Effect.exit(
          PgReplication.stream({
            connection: { host: shared.host, port: shared.port, user: shared.user, database: shared.database },
            slot: "x",
            publications: ["x"],
          }).pipe(Stream.runDrain),
        ),
      )
      expect(walLevel).toMatchObject({ _tag: "PgReplicationError", reason: "WalLevel" })

      const missing = failureOf(
        yield* Effect.exit(
          PgReplication.stream({ connection: optionsOf(c), slot: "nope", publications: ["errs"] }).pipe(
            Stream.runDrain,
          ),
        ),
      )
      expect(missing).toMatchObject({ _tag: "PgReplicationError", reason: "SlotMissing", slot: "nope" })

      // A first stream holds the slot; a second one (no reconnection) is refused.
      const first = yield* Effect.forkChild(
        PgReplication.stream({ connection: optionsOf(c), slot: "errs", publications: ["errs"] }).pipe(Stream.runDrain),
      )
      yield* untilSlot(conn, "the slot is active", (s) => s.name === "errs" && s.active === true)
      const inUse = failureOf(
        yield* Effect.exit(
          PgReplication.stream({
            connection: optionsOf(c),
            slot: "errs",
            publications: ["errs"],
            reconnect: false,
          }).pipe(Stream.runDrain),
        ),
      )
      expect(inUse).toMatchObject({ _tag: "PgReplicationError", reason: "SlotInUse" })
      yield* Fiber.interrupt(first)

      const denied = failureOf(
        yield* Effect.exit(
          PgReplication.stream({ connection: optionsOf(c, "pgfx_norepl"), slot: "errs", publications: ["errs"] }).pipe(
            Stream.runDrain,
          ),
        ),
      )
      expect(denied).toMatchObject({ _tag: "PgReplicationError", reason: "PermissionDenied" })

      const exists = failureOf(
        yield* Effect.exit(
          Effect.scoped(Effect.flatMap(PgReplication.connect(optionsOf(c)), (r) => r.createSlot("errs"))),
        ),
      )
      expect(exists).toMatchObject({ _tag: "PgReplicationError", reason: "SlotExists" })

      // Management: IDENTIFY_SYSTEM, the slot list, the publication list.
      const system = yield* Effect.scoped(Effect.flatMap(PgReplication.connect(optionsOf(c)), (r) => r.identifySystem))
      expect(system.database).toBe(c.database)
      expect(system.xlogPos).toBeGreaterThan(0n)
      const slot = (yield* PgReplication.listSlots(conn)).find((s) => s.name === "errs")
      expect(slot).toMatchObject({ plugin: "pgoutput", slotType: "logical", temporary: false })
      const pubs = yield* PgReplication.listPublications(conn)
      expect(pubs.find((p) => p.name === "errs")).toEqual({
        name: "errs",
        allTables: false,
        tables: [{ schema: "public", table: "errs" }],
      })
    }).pipe(Effect.scoped),
  )

  for (const streaming of [true, "parallel"] as const) {
    const table = streaming === true ? "bulk_on" : "bulk_parallel"
    it.effect(
      `a transaction larger than logical_decoding_work_mem streams (streaming ${streaming}) and arrives at its commit`,
      () =>
        Effect.gen(function* () {
          const c = yield* TempCluster.TempCluster
          const conn = yield* PgConnection.make(optionsOf(c))
          yield* conn.execute(`CREATE TABLE ${table} (id int4 PRIMARY KEY, pad text)`)
          yield* slotAndPublication(c, conn, table, [table])
          // Streamed while in progress: the consumer runs before the transaction commits.
          const consumer = yield* Effect.forkChild(take(c, table, 5002 + 3, { streaming }))
          yield* untilSlot(conn, `the consumer holds slot ${table}`, (s) => s.name === table && s.active === true)
          yield* conn.simpleQuery(
            `BEGIN; INSERT INTO ${table} SELECT g, repeat('p', 100) FROM generate_series(1, 5000) g; ` +
              `INSERT INTO ${table} VALUES (-1, 'kept'); SAVEPOINT s; ` +
              `INSERT INTO ${table} SELECT g, 'x' FROM generate_series(100001, 103000) g; ROLLBACK TO s; COMMIT`,
          )
          yield* conn.execute(`INSERT INTO ${table} VALUES (0, 'after')`)
          const events = yield* Fiber.join(consumer)
          expect(events[0]!._tag).toBe("Begin")
          const inserts = events.slice(1, 5002)
          expect(inserts.every((e) => e._tag === "Insert")).toBe(true)
          expect(inserts.map((e) => (e._tag === "Insert" ? e.row.id : undefined))).toEqual([
            ...Array.from({ length: 5000 }, (_, i) => i + 1),
            -1,
          ])
          expect(events.slice(5002).map((e) => e._tag)).toEqual(["Commit", "Begin", "Insert"])
          const stats = Option.getOrThrow(
            yield* conn.fetchVal("SELECT stream_txns FROM pg_stat_replication_slots WHERE slot_name = $1", [table]),
          )
          expect(Number(stats)).toBeGreaterThan(0)
        }).pipe(Effect.scoped),
    )
  }

  it.effect("a killed walsender and a restarted consumer: nothing lost, only unacknowledged transactions again", () =>
    Effect.gen(function* () {
      const c = yield* TempCluster.TempCluster
      const conn = yield* PgConnection.make(optionsOf(c))
      yield* conn.execute("CREATE TABLE seq (id int4 PRIMARY KEY)")
      yield* slotAndPublication(c, conn, "seq", ["seq"])
      const insertRange = (from: number, to: number) =>
        conn.execute(`DO $$ BEGIN FOR i IN ${from}..${to} LOOP INSERT INTO seq VALUES (i); COMMIT; END LOOP; END $$`)
      yield* insertRange(1, 25)

      const seen = yield* Ref.make<Array<number>>([])
      let current = 0
      let killed = false
      // Commits 1..20 are acknowledged, 21..25 not when the walsender dies after the 25th; 26..40
      // are committed after that. The stream reconnects from 20: 21..25 come again, then 26...
      const first = PgReplication.stream({ connection: optionsOf(c), slot: "seq", publications: ["seq"] }).pipe(
        Stream.mapEffect((e) =>
          Effect.gen(function* () {
            if (e._tag === "Insert") current = e.row.id as number
            if (e._tag !== "Commit") return false
            yield* Ref.update(seen, (s) => [...s, current])
            if (current <= 20 || killed) yield* e.ack
            if (current === 25 && !killed) {
              killed = true
              const pid = Option.getOrThrow(
                yield* conn.fetchVal("SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'seq'"),
              )
              expect(Option.getOrThrow(yield* conn.fetchVal("SELECT pg_terminate_backend($1)", [pid]))).toBe(true)
              yield* insertRange(26, 40)
            }
            return current === 30
          }),
        ),
        Stream.takeUntil((done) => done),
        Stream.runDrain,
      )
      yield* Effect.timeout(first, "60 seconds")
      expect(yield* Ref.get(seen)).toEqual([
        ...Array.from({ length: 25 }, (_, i) => i + 1),
        ...Array.from({ length: 10 }, (_, i) => i + 21),
      ])
      // The ended stream reported 30 as confirmed: a new consumer starts at 31.
      const rest = yield* take(c, "seq", 30)
      const ids = rest.flatMap((e) => (e._tag === "Insert" ? [e.row.id as number] : []))
      expect(ids).toEqual(Array.from({ length: 10 }, (_, i) => i + 31))
    }).pipe(Effect.scoped),
  )

  it.effect("a slow consumer stops the reading: the server waits, client memory stays bounded", () =>
    Effect.gen(function* () {
      const c = yield* TempCluster.TempCluster
      const conn = yield* PgConnection.make(optionsOf(c))
      yield* conn.execute("CREATE TABLE slow (id int4, pad text)")
      yield* slotAndPublication(c, conn, "slow", ["slow"])
      const start = Option.getOrThrow(yield* conn.fetchVal("SELECT pg_current_wal_lsn()::text"))
      // About 60 MB of changes, in 600 transactions.
      yield* conn.execute(
        "DO $$ BEGIN FOR t IN 1..600 LOOP INSERT INTO slow SELECT g, repeat('s', 300) FROM generate_series(1, 300) g; COMMIT; END LOOP; END $$",
      )
      const end = Option.getOrThrow(yield* conn.fetchVal("SELECT pg_current_wal_lsn()::text"))
      const total = PgReplication.parseLsn(end as string)! - PgReplication.parseLsn(start as string)!
      // Retained memory, measured after a full collection.
      setFlagsFromString("--expose-gc")
      const gc = runInNewContext("gc") as () => void
      const retained = () => {
        gc()
        const m = process.memoryUsage()
        return m.heapUsed + m.arrayBuffers
      }
      const baseline = retained()
      let peak = 0
      let blockedAt: bigint | undefined
      let count = 0
      yield* PgReplication.stream({
        connection: optionsOf(c),
        slot: "slow",
        publications: ["slow"],
        bufferSize: 1 << 20,
      }).pipe(
        Stream.mapEffect((e) =>
          Effect.gen(function* () {
            count++
            if (count === 1) {
              // Stop consuming for a while: the walsender must not get far ahead.
              yield* Effect.sleep("3 seconds")
              const sent = Option.getOrThrow(
                yield* conn.fetchVal(
                  "SELECT sent_lsn::text FROM pg_stat_replication WHERE application_name IS NOT NULL AND sent_lsn IS NOT NULL ORDER BY backend_start DESC LIMIT 1",
                ),
              )
              blockedAt = PgReplication.parseLsn(sent as string)! - PgReplication.parseLsn(start as string)!
            }
            if (count % 10_000 === 0) {
              peak = Math.max(peak, retained() - baseline)
              yield* Effect.sleep("5 millis")
            }
            if (e._tag === "Commit") yield* e.ack
            return count
          }),
        ),
        Stream.takeUntil((n) => n === 600 * 302),
        Stream.runDrain,
        Effect.timeout("120 seconds"),
      )
      expect(count).toBe(600 * 302)
      // While the consumer slept, the server had sent only what fills the buffers (ours: 1 MiB; the sockets').
      expect(Number(blockedAt)).toBeLessThan(Number(total) / 2)
      console.log(
        `slow consumer: ${(Number(total) / 2 ** 20).toFixed(1)} MiB of WAL; sent while blocked ${(Number(blockedAt) / 2 ** 20).toFixed(1)} MiB; client memory retained (after GC) peak over baseline ${(peak / 2 ** 20).toFixed(1)} MiB`,
      )
      expect(peak).toBeLessThan(32 * 2 ** 20)
    }).pipe(Effect.scoped),
  )

  it.effect("status updates report the acknowledged position on schedule while the stream runs", () =>
    Effect.gen(function* () {
      const c = yield* TempCluster.TempCluster
      const conn = yield* PgConnection.make(optionsOf(c))
      yield* conn.execute("CREATE TABLE acks (id int4 PRIMARY KEY)")
      yield* slotAndPublication(c, conn, "acks", ["acks"])
      const acked = yield* Ref.make<bigint>(0n)
      const fiber = yield* Effect.forkChild(
        PgReplication.stream({
          connection: optionsOf(c),
          slot: "acks",
          publications: ["acks"],
          statusInterval: "200 millis",
        }).pipe(
          Stream.runForEach((e) =>
            e._tag === "Commit" ? Effect.andThen(e.ack, Ref.set(acked, e.endLsn)) : Effect.void,
          ),
        ),
      )
      yield* conn.execute("INSERT INTO acks VALUES (1)")
      const confirmed = Effect.map(
        conn.fetchVal("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'acks'"),
        (v) => PgReplication.parseLsn(Option.getOrThrow(v) as string) ?? 0n,
      )
      for (let i = 0; i < 100; i++) {
        const a = yield* Ref.get(acked)
        if (a > 0n && (yield* confirmed) >= a) break
        yield* Effect.sleep("50 millis")
      }
      const a = yield* Ref.get(acked)
      expect(a).toBeGreaterThan(0n)
      expect(yield* confirmed).toBeGreaterThanOrEqual(a)
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.scoped),
  )

  it.effect("a temporary slot lives with the stream", () =>
    Effect.gen(function* () {
      const c = yield* TempCluster.TempCluster
      const conn = yield* PgConnection.make(optionsOf(c))
      yield* conn.execute("CREATE TABLE temp_t (id int4 PRIMARY KEY)")
      yield* PgReplication.createPublication(conn, "temp_pub", { tables: ["temp_t"] })
      const fiber = yield* Effect.forkChild(
        PgReplication.stream({
          connection: optionsOf(c),
          slot: "temp_slot",
          publications: ["temp_pub"],
          temporarySlot: true,
        }).pipe(Stream.take(3), Stream.runCollect),
      )
      yield* untilSlot(conn, "a temporary slot", (s) => s.name === "temp_slot" && s.temporary)
      yield* conn.execute("INSERT INTO temp_t VALUES (1)")
      const events = yield* Fiber.join(fiber)
      expect(events.map((e) => e._tag)).toEqual(["Begin", "Insert", "Commit"])
      yield* waitUntil(
        "the temporary slot ends with its stream",
        Effect.map(PgReplication.listSlots(conn), (slots) => !slots.some((s) => s.name === "temp_slot")),
      )
    }).pipe(Effect.scoped),
  )
})
