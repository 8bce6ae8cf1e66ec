/**
 * COPY: asyncpg's four methods (the docs' examples), each direction and format, files, Sinks,
 * callbacks and Streams, the options, progress, and failures (a bad value, a constraint, a bad
 * line, interruption mid-stream both ways), each followed by a query proving the connection is
 * still usable and nothing was half-committed.
 */
import { describe, expect, it } from "@effect/vitest"
import * as PgCopy from "@pgfx/client/PgCopy"
import { Effect, Exit, Fiber, Sink, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as PgClient from "@pgfx/client/PgClient"
import * as PgPool from "@pgfx/client/PgPool"
import { connect, tcpOptions } from "./support/connect.ts"
import { failureOf } from "./support/failure.ts"

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
      expect(yield* conn.fetchVal("SELECT sum(foo) FROM copied")).toBe(5050n)
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
      expect(yield* conn.fetchVal("SELECT 42")).toBe(42)
      // Interrupted while the consumer is slow (reading is paused).
      const fiber = yield* Effect.forkChild(
        Stream.runForEach(PgCopy.streamFromQuery(conn, "SELECT g FROM generate_series(1, 5000000) g"), () =>
          Effect.sleep("1 millis"),
        ),
      )
      yield* Effect.sleep("300 millis")
      yield* Fiber.interrupt(fiber)
      expect(yield* conn.fetchVal("SELECT 43")).toBe(43)
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
      expect(yield* conn.fetchVal("SELECT 1")).toBe(1)
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
      expect(yield* conn.fetchVal("SELECT count(*) FROM t")).toBe(1004n)
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
      expect(yield* conn.fetchVal("SELECT count(*) FROM t")).toBe(0n)
    }),
  )

  it.live("a failing source aborts with CopyFail and fails with its own error", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE t (id int)")
      const source = Stream.concat(Stream.make("1\n", "2\n"), Stream.fail("source broke"))
      const exit = yield* Effect.exit(PgCopy.copyToTable(conn, "t", { source }))
      expect(failureOf(exit)).toBe("source broke")
      expect(yield* conn.fetchVal("SELECT count(*) FROM t")).toBe(0n)
    }),
  )

  it.live("interrupting mid-stream sends CopyFail; nothing is committed; the connection stays usable", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE t (id int)")
      const endless = Stream.map(
        Stream.iterate(0, (n) => n + 1),
        (n) => `${n}\n`,
      )
      const fiber = yield* Effect.forkChild(PgCopy.copyToTable(conn, "t", { source: endless }))
      yield* Effect.sleep("300 millis")
      yield* Fiber.interrupt(fiber)
      expect(Exit.hasInterrupts(yield* Fiber.await(fiber))).toBe(true)
      expect(yield* conn.fetchVal("SELECT count(*) FROM t")).toBe(0n)
      // A timeout aborts it the same way.
      const timedOut = failureOf(yield* Effect.exit(PgCopy.copyToTable(conn, "t", { source: endless, timeout: 200 })))
      expect(timedOut._tag).toBe("PgTimeoutError")
      expect(yield* conn.fetchVal("SELECT count(*) FROM t")).toBe(0n)
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
      expect(yield* conn.fetchVal("SELECT at = $1 FROM r WHERE id = 1", [at])).toBe(true)
      const third = yield* conn.fetch("SELECT * FROM r WHERE id = 3")
      expect(third[0]!.values).toEqual([3, null, null, 2.5, null, null, false])
      expect(yield* conn.fetchVal("SELECT string_agg(id::text, ',' ORDER BY id) FROM r WHERE id >= 10")).toBe(
        "10,12,14,16,18,20",
      )
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
      expect(yield* conn.fetchVal("SELECT count(*) FROM r")).toBe(0n)
      const progress: Array<number | undefined> = []
      yield* PgCopy.copyRecordsToTable(conn, "r", { records, onProgress: (p) => progress.push(p.rows) })
      expect(progress.at(-1)).toBe(5000)
      expect(yield* conn.fetchVal("SELECT count(*) FROM r")).toBe(5000n)
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
      expect(yield* conn.fetchVal("SELECT count(*) FROM r")).toBe(0n)
    }),
  )

  it.live("inside a transaction; interrupted mid-way (CopyFail: nothing loaded)", () =>
    Effect.gen(function* () {
      const conn = yield* connect()
      yield* conn.execute("CREATE TEMP TABLE r (id int4)")
      yield* conn.transaction(
        Effect.gen(function* () {
          yield* PgCopy.copyRecordsToTable(conn, "r", { records: [[1], [2]] })
          expect(yield* conn.fetchVal("SELECT count(*) FROM r")).toBe(2n)
        }),
      )
      const endless = Stream.map(
        Stream.iterate(0, (n) => n + 1),
        (n) => [n],
      )
      const fiber = yield* Effect.forkChild(PgCopy.copyRecordsToTable(conn, "r", { records: endless }))
      yield* Effect.sleep("300 millis")
      yield* Fiber.interrupt(fiber)
      expect(yield* conn.fetchVal("SELECT count(*) FROM r")).toBe(2n)
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
