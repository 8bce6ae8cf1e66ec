/**
 * postgres.js (`postgres` 4.x) with its defaults (prepared statements, its own pool of `max`
 * connections, concurrent queries on one connection pipelined, parameters typed by the server:
 * `infer: false`). SQL text comes from the spec, so queries go through
 * `sql.unsafe(text, params, { prepare: true })`, which is what the tagged template does by default.
 */
import type * as Postgres from "postgres"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import {
  copyText,
  type Driver,
  ingestCheckSql,
  ingestResult,
  ingestRows,
  latencies,
  loadPeer,
  pickId,
  RssProbe,
  runCallers,
  runChild,
  selectColumns,
  streamResult,
  Tally,
  timed,
} from "../child.ts"
import type { ConnInfo } from "../protocol.ts"

const makeDriver = async (): Promise<Driver> => {
  const postgres = (await loadPeer("postgres", () => import("postgres"))).default

  const open = (conn: ConnInfo, max: number): Postgres.Sql =>
    postgres({
      host: conn.host,
      port: conn.port,
      user: conn.user,
      password: conn.password,
      database: conn.database,
      max,
      onnotice: () => {},
    })

  const prepared = { prepare: true }

  const ingestCheck = async (sql: Postgres.Sql, table: string) => {
    const [row] = await sql.unsafe(ingestCheckSql(table))
    return { rows: Number(row.rows), sumA: Number(row.suma) }
  }

  const pointQueries: Driver["W1"] = async (req) => {
    const { spec } = req
    const sql = open(req.conn, spec.connections)
    const value = await runCallers(spec.callers, spec.warmupMs, spec.durationMs, async (caller, i) => {
      const id = pickId(caller, i, spec.idRange)
      const rows = await sql.unsafe(spec.sql, [id], prepared)
      if (rows.length !== 1 || rows[0].id !== id) throw new Error(`W1: wrong row for id ${id}`)
    })
    return { status: "ok", value, check: {} }
  }

  return {
    W1: pointQueries,
    W1p: pointQueries,
    W2: async (req) => {
      const { spec } = req
      const sql = open(req.catalogConn, spec.connections)
      const tally = new Tally(selectColumns(spec.sql))
      let rows = 0
      const value = await runCallers(spec.callers, spec.warmupMs, spec.durationMs, async () => {
        const result = await sql.unsafe(spec.sql, [], prepared)
        tally.all(result)
        rows = result.length
      })
      return { status: "ok", value, check: { rows } }
    },
    W3: async (req) => {
      const { spec } = req
      const sql = open(req.conn, 1)
      const columns = selectColumns(spec.sql)
      new Tally(columns).all(await sql.unsafe(spec.warmupSql, [], prepared))
      let tally = new Tally(columns)
      const seconds = await timed(async () => {
        for (let r = 0; r < spec.repeats; r++) {
          tally = new Tally(columns)
          tally.all(await sql.unsafe(spec.sql, [], prepared))
        }
      })
      return { status: "ok", value: (spec.count * spec.repeats) / seconds, check: tally.check() }
    },
    W4: async (req) => {
      const { spec } = req
      const sql = open(req.conn, 1)
      const copyIn = async (count: number) => {
        const rows = ingestRows(count)
        return timed(async () => {
          const chunks = function* () {
            for (let k = 0; k < rows.length; k += 1000) yield copyText(rows, k, Math.min(rows.length, k + 1000))
          }
          await pipeline(Readable.from(chunks()), await sql.unsafe(spec.sql).writable())
        })
      }
      await sql.unsafe(`TRUNCATE ${spec.table}`)
      await copyIn(spec.warmupCount)
      await sql.unsafe(`TRUNCATE ${spec.table}`)
      const seconds = await copyIn(spec.count)
      const check = await ingestCheck(sql, spec.table)
      return ingestResult(spec.count, seconds, check.rows, check.sumA)
    },
    W5: async (req) => {
      const { spec } = req
      const sql = open(req.conn, 1)
      return latencies(spec.warmupCount, spec.count, async (i) => {
        const [row] = await sql.unsafe(spec.sql, [i], prepared)
        if (row.int4 !== i) throw new Error(`W5: got ${String(row.int4)} for ${i}`)
      })
    },
    W6: async (req) => {
      const { spec } = req
      const sql = open(req.conn, 1)
      const columns = selectColumns(spec.sql)
      const stream = async (text: string, tally: Tally) => {
        for await (const rows of sql.unsafe(text, [], prepared).cursor(spec.fetchSize)) tally.all(rows)
      }
      await stream(spec.warmupSql, new Tally(columns))
      const tally = new Tally(columns)
      const probe = new RssProbe()
      probe.start()
      const seconds = await timed(() => stream(spec.sql, tally))
      return streamResult(probe.stop(), tally, seconds)
    },
    W7: async (req) => {
      const { spec } = req
      const once = async () => {
        const sql = open(req.conn, 1)
        await sql.unsafe(spec.sql)
        await sql.end()
      }
      for (let i = 0; i < spec.warmupCount; i++) await once()
      const seconds = await timed(async () => {
        for (let i = 0; i < spec.count; i++) await once()
      })
      return { status: "ok", value: spec.count / seconds, check: { connects: spec.count } }
    },
    W8: async (req) => {
      // postgres.js's batch: every insert issued at once inside `begin`, pipelined on the connection.
      const { spec } = req
      const sql = open(req.conn, 1)
      const many = async (count: number) => {
        const rows = ingestRows(count)
        return timed(async () => {
          await sql.begin((tx) => rows.map((row) => tx.unsafe(spec.sql, row, prepared)))
        })
      }
      await sql.unsafe(`TRUNCATE ${spec.table}`)
      await many(spec.warmupCount)
      await sql.unsafe(`TRUNCATE ${spec.table}`)
      const seconds = await many(spec.count)
      const check = await ingestCheck(sql, spec.table)
      return ingestResult(spec.count, seconds, check.rows, check.sumA)
    },
  }
}

await runChild(makeDriver)
