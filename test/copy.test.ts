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
import { connect } from "./support/connect.ts"
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
