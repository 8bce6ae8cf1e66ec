/**
 * COPY: asyncpg's four methods (the docs' examples), each direction and format, files, Sinks,
 * callbacks and Streams, the options, progress, and failures (a bad value, a constraint, a bad
 * line, interruption mid-stream both ways), each followed by a query proving the connection is
 * still usable and nothing was half-committed.
 */
import { describe, expect, it } from "@effect/vitest"
import * as PgCopy from "@pgfx/client/PgCopy"
import { Deferred, Effect, Exit, Fiber, Option, Schedule, Sink, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as PgClient from "@pgfx/client/PgClient"
import * as PgPool from "@pgfx/client/PgPool"
import { connect, tcpOptions } from "./support/connect.ts"
import { failureOf } from "./support/failure.ts"
import { eventually } from "./support/wait.ts"

const tmpFile = (name: string) => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pgfx-copy-")), name)
const text = (chunks: ReadonlyArray<Uint8Array>) => Buffer.concat(chunks.map((c) => Buffer.from(c))).toString("utf8")

describe("asyncpg's COPY examples", () => {
  it.live("copyRecordsToTable returns COPY 2", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE mytable (a int, b text, c text)")
      const status = yield* PgCopy.copyRecordsToTable(conn, "mytable", {
        records: [
          [1, "foo", "bar"],
          [2, "ham", "spam"],
        ],
      })
      expect(status).toBe("COPY 2")
      const rows = yield* conn.fetch("SELECT * FROM mytable ORDER BY a")
      expect(rows.map((r) => [r.a, r.b, r.c])).toEqual([
        [1, "foo", "bar"],
        [2, "ham", "spam"],
      ])
    }),
  )

  it.live("copyFromTable and copyFromQuery into a csv file; copyToTable from that file", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute(
        "CREATE TEMP TABLE mytable (foo int, bar text); INSERT INTO mytable SELECT g, 'r' || g FROM generate_series(1, 100) g",
      )
      const file = tmpFile("file.csv")
      expect(
        yield* PgCopy.copyFromTable(conn, "mytable", { columns: ["foo", "bar"], output: file, format: "csv" }),
      ).toBe("COPY 100")
      expect(fs.readFileSync(file, "utf8").split("\n").slice(0, 2)).toEqual(["1,r1", "2,r2"])
      const q = tmpFile("q.csv")
      expect(
        yield* PgCopy.copyFromQuery(conn, "SELECT foo, bar FROM mytable WHERE foo > $1", [90], {
          output: q,
          format: "csv",
        }),
      ).toBe("COPY 10")
      expect(fs.readFileSync(q, "utf8")).toBe(Array.from({ length: 10 }, (_, i) => `${91 + i},r${91 + i}\n`).join(""))
      yield* conn.execute("CREATE TEMP TABLE copied (foo int, bar text)")
      expect(yield* PgCopy.copyToTable(conn, "copied", { source: file, format: "csv" })).toBe("COPY 100")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT sum(foo) FROM copied"))).toBe(5050n)
    }),
  )
})

describe("COPY TO STDOUT", () => {
  it.live("as a Stream, to a Sink and to a callback; text, csv and binary", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE t (id int, name text); INSERT INTO t VALUES (1, 'a'), (2, NULL)")
      const chunks = yield* Stream.runCollect(PgCopy.streamFromTable(conn, "t"))
      expect(text(chunks)).toBe("1\ta\n2\t\\N\n")
      const csv = yield* Stream.runCollect(
        PgCopy.streamFromQuery(conn, "SELECT * FROM t WHERE name = $1 OR id = $2", ["a", 2], {
          format: "csv",
          header: true,
          null: "NULL",
        }),
      )
      expect(text(csv)).toBe("id,name\n1,a\n2,NULL\n")
      const collected: Array<Uint8Array> = []
      const status = yield* PgCopy.copyFromTable(conn, "t", {
        output: Sink.forEach((c: Uint8Array) => Effect.sync(() => collected.push(c))),
        format: "binary",
      })
      expect(status).toBe("COPY 2")
      expect(Buffer.from(collected[0]!).subarray(0, 11).toString("latin1")).toBe("PGCOPY\n\xff\r\n\0")
      const lines: Array<string> = []
      yield* PgCopy.copyFromTable(conn, "t", {
        output: (c) => {
          lines.push(Buffer.from(c).toString())
        },
        columns: ["name"],
        format: "csv",
        forceQuote: true,
      })
      expect(lines).toEqual(['"a"\n', "\n"])
    }),
  )

  it.live("interrupting a stream mid-way cancels the COPY; the connection stays usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const taken = yield* Stream.runCollect(
        Stream.take(PgCopy.streamFromQuery(conn, "SELECT g, repeat('x', 100) FROM generate_series(1, 5000000) g"), 3),
      )
      expect(taken.length).toBe(3)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 42"))).toBe(42)
      // A consumer that stops taking chunks: reading pauses, so the server ends up blocked on
      // its send buffer (wait event ClientWrite) instead of pgfx buffering the whole result.
      const fiber = yield* Effect.forkChild(
        Stream.runForEach(
          PgCopy.streamFromQuery(conn, "SELECT g, repeat('y', 200) FROM generate_series(1, 5000000) g"),
          () => Effect.never,
        ),
      )
      const other = yield* connect()
      const pid = conn.serverPid
      let waitEvent: unknown = undefined
      for (let i = 0; i < 100 && waitEvent !== "ClientWrite"; i++) {
        yield* Effect.sleep("100 millis")
        waitEvent = Option.getOrThrow(
          yield* other.fetchVal("SELECT wait_event FROM pg_stat_activity WHERE pid = $1", [pid]),
        )
      }
      expect(waitEvent).toBe("ClientWrite")
      yield* Fiber.interrupt(fiber)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 43"))).toBe(43)
    }),
  )

  it.live("a server error is a typed failure; invalid options fail before anything is sent", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const missing = failureOf(yield* Effect.exit(Stream.runDrain(PgCopy.streamFromTable(conn, "no_such_table"))))
      expect(missing._tag).toBe("PgServerError")
      const invalid = failureOf(
        yield* Effect.exit(Stream.runDrain(PgCopy.streamFromTable(conn, "t", { quote: "'", format: "text" }))),
      )
      expect(invalid._tag).toBe("PgInterfaceError")
      expect(invalid.message).toContain("quote is only available with the csv format")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1"))).toBe(1)
    }),
  )
})

describe("COPY FROM STDIN", () => {
  it.live("from a Stream, an iterable and an async iterable of chunks; progress", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE t (id int, name text)")
      expect(
        yield* PgCopy.copyToTable(conn, "t", { source: Stream.make(new TextEncoder().encode("1\ta\n"), "2\tb\n") }),
      ).toBe("COPY 2")
      expect(yield* PgCopy.copyToTable(conn, "t", { source: ["3,c\n", "4,d\n"], format: "csv" })).toBe("COPY 2")
      const progress: Array<number> = []
      async function* gen() {
        for (let i = 5; i < 1005; i++) yield `${i}|n${i}\n`
      }
      expect(
        yield* PgCopy.copyToTable(conn, "t", {
          source: gen(),
          delimiter: "|",
          onProgress: (p) => progress.push(p.bytes),
        }),
      ).toBe("COPY 1000")
      expect(progress.length).toBeGreaterThan(0)
      expect(progress.at(-1)).toBe(Array.from({ length: 1000 }, (_, i) => `${i + 5}|n${i + 5}\n`).join("").length)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM t"))).toBe(1004n)
    }),
  )

  it.live("a bad line is a typed failure naming the line; nothing is loaded", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE t (id int)")
      const error = failureOf(yield* Effect.exit(PgCopy.copyToTable(conn, "t", { source: ["1\n2\nthree\n4\n"] })))
      expect(error._tag).toBe("PgServerError")
      if (error._tag === "PgServerError") {
        expect(error.code).toBe("22P02")
        expect(error.where).toContain("line 3")
      }
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM t"))).toBe(0n)
    }),
  )

  it.live("a failing source aborts with CopyFail and fails with its own error", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE t (id int)")
      const source = Stream.concat(Stream.make("1\n", "2\n"), Stream.fail("source broke"))
      const exit = yield* Effect.exit(PgCopy.copyToTable(conn, "t", { source }))
      expect(failureOf(exit)).toBe("source broke")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM t"))).toBe(0n)
    }),
  )

  it.live("string chunks: a pair split across chunks stays whole; a lone surrogate aborts, nothing loaded", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE t (id int, s text)")
      // "😀" is the pair \ud83d\ude00: split across two chunks, and across a string/string edge.
      const grin = "\ud83d\ude00"
      expect(yield* PgCopy.copyToTable(conn, "t", { source: ["1\ta\ud83d", "\ude00b\n2\t\uFEFFc\n"] })).toBe("COPY 2")
      expect((yield* conn.fetch("SELECT s FROM t ORDER BY id")).map((r) => r.s)).toEqual([`a${grin}b`, "\uFEFFc"])
      yield* conn.execute("TRUNCATE t")
      const sources: ReadonlyArray<ReadonlyArray<Uint8Array | string>> = [
        ["1\ta\ud800b\n"], // a lone high surrogate inside a chunk
        ["1\ta\udc00b\n"], // a lone low surrogate
        ["1\ta\n2\tb\ud83d"], // a high surrogate ending the source
        ["1\ta\ud83d", new TextEncoder().encode("\n")], // a high surrogate followed by bytes
      ]
      for (const source of sources) {
        const error = failureOf(yield* Effect.exit(PgCopy.copyToTable(conn, "t", { source })))
        expect(error._tag).toBe("PgInterfaceError")
        expect(error.message).toContain("surrogate")
        expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM t"))).toBe(0n)
      }
    }),
  )

  it.live("interrupting mid-stream sends CopyFail; nothing is committed; the connection stays usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE t (id int)")
      let sent = 0
      const endless = Stream.map(
        Stream.iterate(0, (n) => n + 1),
        (n) => {
          sent++
          return `${n}\n`
        },
      )
      const fiber = yield* Effect.forkChild(PgCopy.copyToTable(conn, "t", { source: endless }))
      yield* eventually("the COPY is under way", () => sent >= 10_000)
      yield* Fiber.interrupt(fiber)
      expect(Exit.hasInterrupts(yield* Fiber.await(fiber))).toBe(true)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM t"))).toBe(0n)
      // A timeout aborts it the same way.
      const timedOut = failureOf(yield* Effect.exit(PgCopy.copyToTable(conn, "t", { source: endless, timeout: 200 })))
      expect(timedOut._tag).toBe("PgTimeoutError")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM t"))).toBe(0n)
    }),
  )
})

describe("copyRecordsToTable", () => {
  it.live("arrays, objects, iterables, async iterables and Streams; typed values; where; columns", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute(
        "CREATE TEMP TABLE r (id int4, name text, at timestamptz, score float8, tags text[], big int8, ok bool)",
      )
      const at = new Date("2024-05-06T07:08:09.123Z")
      expect(
        yield* PgCopy.copyRecordsToTable(conn, "r", {
          records: [[1, "a", at, 1.5, ["x", "y"], 9007199254740993n, true]],
        }),
      ).toBe("COPY 1")
      expect(
        yield* PgCopy.copyRecordsToTable(conn, "r", {
          records: [
            { id: 2, name: "b" },
            { id: 3, score: 2.5, ok: false },
          ],
        }),
      ).toBe("COPY 2")
      function* rows() {
        for (let i = 4; i <= 6; i++) yield [i, `n${i}`]
      }
      expect(yield* PgCopy.copyRecordsToTable(conn, "r", { records: rows(), columns: ["id", "name"] })).toBe("COPY 3")
      async function* asyncRows() {
        for (let i = 7; i <= 9; i++) yield [i, `n${i}`]
      }
      expect(yield* PgCopy.copyRecordsToTable(conn, "r", { records: asyncRows(), columns: ["id", "name"] })).toBe(
        "COPY 3",
      )
      expect(
        yield* PgCopy.copyRecordsToTable(conn, "r", {
          records: Stream.map(Stream.range(10, 20), (i) => ({ id: i, name: `s${i}` })),
          columns: ["id", "name"],
          where: "id % 2 = 0",
        }),
      ).toBe("COPY 6")
      const first = yield* conn.fetch("SELECT * FROM r WHERE id = 1")
      expect(first[0]!.values.filter((_, i) => i !== 2)).toEqual([1, "a", 1.5, ["x", "y"], 9007199254740993n, true])
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT at = $1 FROM r WHERE id = 1", [at]))).toBe(true)
      const third = yield* conn.fetch("SELECT * FROM r WHERE id = 3")
      expect(third[0]!.values).toEqual([3, null, null, 2.5, null, null, false])
      expect(
        Option.getOrThrow(yield* conn.fetchVal("SELECT string_agg(id::text, ',' ORDER BY id) FROM r WHERE id >= 10")),
      ).toBe("10,12,14,16,18,20")
    }),
  )

  it.live("strings and values a query parameter takes load the same values as the parameters would", () =>
    Effect.gen(function* () {
      const conn = yield* connect({ serverSettings: { TimeZone: "UTC" } })
      const columns =
        "ts timestamptz, t timestamp, d date, tm time, tz timetz, iv interval, n numeric, i int4, b int8, " +
        "f float8, u uuid, days date[], j jsonb, by bytea, ok bool, tr tstzrange"
      yield* conn.execute(`CREATE TEMP TABLE viacopy (${columns}); CREATE TEMP TABLE viaparams (${columns})`)
      const rows: ReadonlyArray<ReadonlyArray<unknown>> = [
        [
          "2024-05-06T07:08:09.123Z",
          "2024-05-06T07:08:09.123456",
          "2024-05-06",
          "07:08:09.5",
          "07:08:09+05:30",
          "P1DT2H",
          "1.500",
          "42",
          "9007199254740993",
          "0.1",
          "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
          ["2024-01-01", null, "infinity"],
          "a JSON string",
          "\\x0102ff",
          "true",
          "[2024-01-02 03:04:05+00,2024-07-01 00:00:00+02)",
        ],
        [
          "2024-05-06 07:08:09+02",
          "0044-03-15 12:00:00 BC",
          "-infinity",
          "24:00:00",
          "00:00:00-15:59:59",
          "1 year 2 mons -3 days +04:05:06.789",
          42,
          7,
          12n,
          -1.5,
          "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
          [],
          { a: [1, "x"] },
          new Uint8Array([0, 1]),
          false,
          "empty",
        ],
      ]
      expect(yield* PgCopy.copyRecordsToTable(conn, "viacopy", { records: rows })).toBe("COPY 2")
      const placeholders = Array.from({ length: 16 }, (_, i) => `$${i + 1}`).join(", ")
      for (const row of rows) yield* conn.execute(`INSERT INTO viaparams VALUES (${placeholders})`, row)
      const copied = yield* conn.fetch("SELECT v::text AS v FROM viacopy AS v ORDER BY ts")
      const inserted = yield* conn.fetch("SELECT v::text AS v FROM viaparams AS v ORDER BY ts")
      expect(copied.map((r) => r.v)).toEqual(inserted.map((r) => r.v))
      expect(copied.length).toBe(2)
      // what binary COPY cannot read is a typed error naming row, column and the accepted forms
      for (const [value, column] of [
        ["now", "ts"],
        ["2024-05-06 07:08:09", "ts"],
        ["2 hours", "iv"],
      ] as const) {
        const record = { ts: "2024-05-06T07:08:09Z", [column]: value }
        const error = failureOf(
          yield* Effect.exit(PgCopy.copyRecordsToTable(conn, "viacopy", { records: [record, record] })),
        )
        expect(error._tag).toBe("PgCopyRecordError")
        if (error._tag === "PgCopyRecordError") {
          expect(error.row).toBe(0)
          expect(error.column).toBe(column)
          expect(error.message).toContain(`record 0, column "${column}"`)
          expect(error.message).toContain("ISO 8601")
          expect(error.message).not.toContain(value)
        }
      }
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM viacopy"))).toBe(2n)
    }),
  )

  it.live("a bad value names the record and column; nothing is loaded; progress counts rows", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE r (id int4, name text)")
      const records = Array.from({ length: 5000 }, (_, i): ReadonlyArray<unknown> => [i, `n${i}`])
      const bad = [...records, [5000, "ok"], [{ not: "a number" }, "x"]]
      const error = failureOf(yield* Effect.exit(PgCopy.copyRecordsToTable(conn, "r", { records: bad })))
      expect(error._tag).toBe("PgCopyRecordError")
      if (error._tag === "PgCopyRecordError") {
        expect(error.row).toBe(5001)
        expect(error.column).toBe("id")
        expect(error.message).toContain('record 5001, column "id"')
      }
      const short = failureOf(yield* Effect.exit(PgCopy.copyRecordsToTable(conn, "r", { records: [[1]] })))
      expect(short._tag).toBe("PgCopyRecordError")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM r"))).toBe(0n)
      const progress: Array<number | undefined> = []
      yield* PgCopy.copyRecordsToTable(conn, "r", { records, onProgress: (p) => progress.push(p.rows) })
      expect(progress.at(-1)).toBe(5000)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM r"))).toBe(5000n)
    }),
  )

  it.live("a constraint violation is a PgServerError with the server's detail; nothing is loaded", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE r (id int4 PRIMARY KEY, name text NOT NULL)")
      const error = failureOf(
        yield* Effect.exit(
          PgCopy.copyRecordsToTable(conn, "r", {
            records: Array.from({ length: 20000 }, (_, i) => [i === 15000 ? 7 : i, "x"]),
          }),
        ),
      )
      expect(error._tag).toBe("PgServerError")
      if (error._tag === "PgServerError") {
        expect(error.condition).toBe("unique_violation")
        expect(error.detail).toContain("(id)=(7)")
      }
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM r"))).toBe(0n)
    }),
  )

  it.live("inside a transaction; interrupted mid-way (CopyFail: nothing loaded)", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE r (id int4)")
      yield* conn.transaction(
        Effect.gen(function* () {
          yield* PgCopy.copyRecordsToTable(conn, "r", { records: [[1], [2]] })
          expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM r"))).toBe(2n)
        }),
      )
      let sent = 0
      const endless = Stream.map(
        Stream.iterate(0, (n) => n + 1),
        (n) => {
          sent++
          return [n]
        },
      )
      const fiber = yield* Effect.forkChild(PgCopy.copyRecordsToTable(conn, "r", { records: endless }))
      yield* eventually("the COPY is under way", () => sent >= 10_000)
      yield* Fiber.interrupt(fiber)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM r"))).toBe(2n)
    }),
  )

  it.live("on a pool and a PgClient: one checkout per copy", () =>
    Effect.gen(function* () {
      const pool = yield* PgPool.make({ ...tcpOptions(), min: 0, max: 2 })
      const table = `copy_pool_${process.pid}_${Date.now()}`
      yield* pool.execute(`CREATE TABLE ${table} (id int4, name text)`)
      yield* Effect.ensuring(
        Effect.gen(function* () {
          expect(yield* PgCopy.copyRecordsToTable(pool, table, { records: [[1, "a"]] })).toBe("COPY 1")
          const client = PgClient.fromPool(pool)
          expect(yield* PgCopy.copyToTable(client, table, { source: ["2\tb\n"] })).toBe("COPY 1")
          const out = yield* Stream.runCollect(PgCopy.streamFromQuery(client, `SELECT * FROM ${table} ORDER BY id`))
          expect(text(out)).toBe("1\ta\n2\tb\n")
          expect(pool.stats.inUse).toBe(0)
        }),
        Effect.ignore(pool.execute(`DROP TABLE ${table}`)),
      )
    }),
  )
})

describe("COPY options", () => {
  it.live("each option asyncpg passes through reaches the server, quoted safely", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute(`CREATE TEMP TABLE "we""ird" ("i d" int, name text)`)
      const out = (options: PgCopy.StreamFromTableOptions) =>
        Effect.map(Stream.runCollect(PgCopy.streamFromTable(conn, 'we"ird', options)), text)
      const load = (source: string, options: Omit<PgCopy.CopyToTableOptions<never>, "source"> = {}) =>
        PgCopy.copyToTable(conn, 'we"ird', { ...options, source: [source] })
      // delimiter and null (a literal with a quote and a backslash), text format
      yield* load("1;it's\\N\n2;plain\n", { delimiter: ";", null: "it's\\N", format: "text" })
      expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT count(*) FROM "we""ird" WHERE name IS NULL`))).toBe(1n)
      expect(yield* out({ delimiter: ";", null: "it's\\N", columns: ["i d", "name"] })).toBe("1;it's\\N\n2;plain\n")
      // csv: header, quote, escape, forceQuote (list and all)
      yield* conn.execute(`TRUNCATE "we""ird"; INSERT INTO "we""ird" VALUES (1, 'say ''hi'''), (2, NULL)`)
      expect(yield* out({ format: "csv", header: true, quote: "'", escape: "\\" })).toBe(
        "i d,name\n1,'say \\'hi\\''\n2,\n",
      )
      expect(yield* out({ format: "csv", forceQuote: ["name"] })).toBe(`1,"say 'hi'"\n2,\n`)
      expect(yield* out({ format: "csv", forceQuote: true })).toBe(`"1","say 'hi'"\n"2",\n`)
      // csv in: header match, forceNotNull, forceNull
      yield* conn.execute(`TRUNCATE "we""ird"`)
      yield* load('i d,name\n1,\n2,""\n', { format: "csv", header: "match", forceNotNull: ["name"] })
      expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT count(*) FROM "we""ird" WHERE name = ''`))).toBe(2n)
      yield* conn.execute(`TRUNCATE "we""ird"`)
      yield* load('1,\n2,""\n', { format: "csv", forceNull: ["name"] })
      expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT count(*) FROM "we""ird" WHERE name IS NULL`))).toBe(2n)
      // encoding
      yield* conn.execute(`TRUNCATE "we""ird"; INSERT INTO "we""ird" VALUES (1, 'é')`)
      const latin1 = yield* Stream.runCollect(PgCopy.streamFromTable(conn, 'we"ird', { encoding: "LATIN1" }))
      expect([...latin1[0]!]).toEqual([0x31, 0x09, 0xe9, 0x0a])
      // binary round trip, freeze (table created in the same transaction), schemaName
      const binary = yield* Stream.runCollect(PgCopy.streamFromTable(conn, 'we"ird', { format: "binary" }))
      yield* conn.transaction(
        Effect.gen(function* () {
          yield* conn.execute("CREATE TABLE frozen (id int, name text)")
          expect(
            yield* PgCopy.copyToTable(conn, "frozen", {
              source: Stream.fromIterable(binary),
              format: "binary",
              freeze: true,
              schemaName: "public",
            }),
          ).toBe("COPY 1")
          expect(Option.getOrThrow(yield* conn.fetchVal("SELECT name FROM public.frozen"))).toBe("é")
          yield* conn.execute("DROP TABLE frozen")
        }),
      )
      // OIDS reaches the server, which (since PostgreSQL 12) no longer knows it: asyncpg passes
      // it through the same way.
      const oids = failureOf(yield* Effect.exit(out({ oids: false })))
      expect(oids.message).toContain('option "oids" not recognized')
      expect(yield* out({})).toBe("1\té\n")
    }),
  )

  it.live("invalid combinations are typed errors; nothing is sent", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE t (id int)")
      const cases: Array<[PgCopy.CopyOptions, string]> = [
        [{ format: "binary", delimiter: "," }, "delimiter cannot be used with the binary format"],
        [{ format: "text", quote: "'" }, "quote is only available with the csv format"],
        [{ format: "csv", delimiter: ",," }, "delimiter must be a single one-byte character"],
        [{ format: "csv", delimiter: '"' }, "delimiter and quote must be different"],
        [{ format: "csv", forceNull: ["id"] }, "forceNull is only available when copying into a table"],
        [{ format: "xml" as "csv" }, "format must be"],
      ]
      for (const [options, message] of cases) {
        const error = failureOf(yield* Effect.exit(Stream.runDrain(PgCopy.streamFromTable(conn, "t", options))))
        expect(error._tag).toBe("PgInterfaceError")
        expect(error.message).toContain(message)
      }
      const freezeOut = failureOf(
        yield* Effect.exit(PgCopy.copyToTable(conn, "t", { source: [], format: "csv", forceQuote: true })),
      )
      expect(freezeOut.message).toContain("forceQuote is only available when copying out")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 1"))).toBe(1)
    }),
  )
})

describe("1,000,000 rows", () => {
  it.live("out of one connection and into another as a Stream (backpressure), identical content", () =>
    Effect.gen(function* () {
      const a = yield* connect()
      const b = yield* connect()
      const table = `copy_big_${process.pid}_${Date.now()}`
      yield* a.execute(`CREATE TABLE ${table}_src (id int4, name text, at timestamptz, score float8);
        INSERT INTO ${table}_src SELECT g, 'name ' || g, timestamptz '2024-01-01' + g * interval '1 second', g / 7.0
        FROM generate_series(1, 1000000) g;
        CREATE TABLE ${table}_dst (LIKE ${table}_src)`)
      const digest = (conn: typeof a, t: string) =>
        Effect.map(
          conn.fetchVal(
            `SELECT count(*) || ':' || md5(string_agg(id || ',' || name || ',' || at || ',' || score, ';' ORDER BY id)) FROM ${t}`,
          ),
          Option.getOrThrow,
        )
      yield* Effect.ensuring(
        Effect.gen(function* () {
          let seen = 0
          const status = yield* PgCopy.copyToTable(b, `${table}_dst`, {
            source: PgCopy.streamFromTable(a, `${table}_src`, {
              format: "binary",
              onProgress: (p) => {
                seen = p.rows ?? 0
              },
            }),
            format: "binary",
          })
          expect(status).toBe("COPY 1000000")
          expect(seen).toBeGreaterThanOrEqual(1000000)
          const want = yield* digest(a, `${table}_src`)
          expect(String(want).startsWith("1000000:")).toBe(true)
          expect(yield* digest(b, `${table}_dst`)).toBe(want)
        }),
        Effect.ignore(a.execute(`DROP TABLE IF EXISTS ${table}_src, ${table}_dst`)),
      )
    }),
  )

  it.live("copyRecordsToTable of 1,000,000 generated rows matches the same rows generated by the server", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE r (id int4, name text, score float8)")
      function* rows() {
        for (let i = 1; i <= 1000000; i++) yield [i, `name ${i}`, i / 8]
      }
      expect(yield* PgCopy.copyRecordsToTable(conn, "r", { records: rows() })).toBe("COPY 1000000")
      const got = Option.getOrThrow(
        yield* conn.fetchVal(
          "SELECT count(*) || ':' || md5(string_agg(id || ',' || name || ',' || score, ';' ORDER BY id)) FROM r",
        ),
      )
      const want = Option.getOrThrow(
        yield* conn.fetchVal(
          "SELECT count(*) || ':' || md5(string_agg(g || ',' || 'name ' || g || ',' || (g / 8.0)::float8, ';' ORDER BY g)) FROM generate_series(1, 1000000) g",
        ),
      )
      expect(got).toBe(want)
    }),
  )
})

describe("COPY edge cases", () => {
  it.live("a missing file is a PgCopyFileError; a released pool handle is refused", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE t (id int)")
      const missing = failureOf(
        yield* Effect.exit(PgCopy.copyToTable(conn, "t", { source: "/nonexistent/pgfx/input.tbl" })),
      )
      expect(missing._tag).toBe("PgCopyFileError")
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM t"))).toBe(0n)
      const unwritable = failureOf(
        yield* Effect.exit(PgCopy.copyFromTable(conn, "t", { output: "/nonexistent/pgfx/out.tbl" })),
      )
      expect(unwritable._tag).toBe("PgCopyFileError")
      const pool = yield* PgPool.make({ ...tcpOptions(), min: 0, max: 1 })
      const handle = yield* pool.withConnection((c) => Effect.succeed(c))
      const released = failureOf(yield* Effect.exit(PgCopy.copyToTable(handle, "t", { source: [] })))
      expect(released._tag).toBe("PgInterfaceError")
    }),
  )

  it.live("interrupted while waiting for a lock (before the server asks for data): cancelled", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      const locker = yield* connect()
      const table = `copy_lock_${process.pid}_${Date.now()}`
      yield* conn.execute(`CREATE TABLE ${table} (id int)`)
      yield* Effect.ensuring(
        Effect.gen(function* () {
          yield* locker.execute(`BEGIN; LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`)
          const timedOut = failureOf(
            yield* Effect.exit(PgCopy.copyToTable(conn, table, { source: ["1\n"], timeout: 300 })),
          )
          expect(timedOut._tag).toBe("PgTimeoutError")
          yield* locker.execute("ROLLBACK")
          expect(Option.getOrThrow(yield* conn.fetchVal(`SELECT count(*) FROM ${table}`))).toBe(0n)
          // A COPY TO timeout cancels it the same way.
          yield* locker.execute(`BEGIN; LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`)
          const outTimedOut = failureOf(
            yield* Effect.exit(Stream.runDrain(PgCopy.streamFromTable(conn, table, { timeout: 300 }))),
          )
          expect(outTimedOut._tag).toBe("PgTimeoutError")
          yield* locker.execute("ROLLBACK")
          expect(Option.getOrThrow(yield* conn.fetchVal("SELECT 7"))).toBe(7)
        }),
        Effect.ignore(locker.execute(`ROLLBACK; DROP TABLE IF EXISTS ${table}`)),
      )
    }),
  )
})

describe("COPY FROM backpressure", () => {
  it.live("a fast producer into a slow server is paced by the socket (bounded memory)", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute(`CREATE TEMP TABLE slow (id int);
        CREATE FUNCTION pg_temp.slow_row() RETURNS trigger LANGUAGE plpgsql AS
          $$ BEGIN PERFORM pg_sleep(0.001); RETURN NEW; END $$;
        CREATE TRIGGER slow_row BEFORE INSERT ON slow FOR EACH ROW EXECUTE FUNCTION pg_temp.slow_row()`)
      const chunk = new TextEncoder().encode("1\n".repeat(32 * 1024))
      let pulled = 0
      const endless = Stream.map(Stream.forever(Stream.succeed(chunk)), (c) => {
        pulled += c.length
        return c
      })
      const fiber = yield* Effect.forkChild(PgCopy.copyToTable(conn, "slow", { source: endless }))
      yield* Effect.sleep("1500 millis")
      // Without backpressure the producer would have pushed gigabytes by now; the socket
      // buffers (a few MiB on loopback) are all that is ahead of the server.
      expect(pulled).toBeGreaterThan(0)
      expect(pulled).toBeLessThan(32 * 1024 * 1024)
      yield* Fiber.interrupt(fiber)
      expect(Option.getOrThrow(yield* conn.fetchVal("SELECT count(*) FROM slow"))).toBe(0n)
    }),
  )
})

describe("COPY and pipelining", () => {
  it.live("queries issued during a COPY wait for it instead of landing in its data", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE t (id int)")
      const copying = yield* Deferred.make<void>()
      const slow = Stream.schedule(
        Stream.map(Stream.range(1, 20), (n) => `${n}\n`),
        Schedule.spaced("10 millis"),
      ).pipe(Stream.tap(() => Deferred.succeed(copying, undefined)))
      const [status, values] = yield* Effect.all(
        [
          PgCopy.copyToTable(conn, "t", { source: slow }),
          Effect.andThen(
            Deferred.await(copying),
            Effect.all(
              [
                Effect.map(conn.fetchVal("SELECT 1"), Option.getOrThrow),
                Effect.map(conn.fetchVal("SELECT count(*) FROM t"), Option.getOrThrow),
              ],
              {
                concurrency: "unbounded",
              },
            ),
          ),
        ],
        { concurrency: "unbounded" },
      )
      expect(status).toBe("COPY 20")
      // The queries ran after the COPY: they saw all of its rows.
      expect(values).toEqual([1, 20n])
      const [out, during] = yield* Effect.all(
        [
          Effect.map(Stream.runCollect(PgCopy.streamFromTable(conn, "t")), (chunks) => chunks.length),
          Effect.map(conn.fetchVal("SELECT 2"), Option.getOrThrow),
        ],
        { concurrency: "unbounded" },
      )
      expect([out, during]).toEqual([20, 2])
    }),
  )
})
