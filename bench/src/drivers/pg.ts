/**
 * node-postgres (`pg` 8.x), used as its README shows: `Pool#query` for concurrent callers, one
 * `Client` otherwise, text results parsed by pg-types' defaults (int8 and numeric stay strings).
 * Peers it pulls in: pg-copy-streams (W4, text COPY), pg-cursor (W6).
 *
 * With `--native` the same code runs on `pg.native` (libpq through pg-native), which has no
 * pipelining, COPY streams or cursors.
 */
import type * as Pg from "pg"
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
import { type ConnInfo, unsupported } from "../protocol.ts"

const native = process.argv.includes("--native")

type PgModule = Pick<typeof Pg, "Client" | "Pool">

const config = (conn: ConnInfo) => ({
  host: conn.host,
  port: conn.port,
  user: conn.user,
  password: conn.password,
  database: conn.database,
})

const load = async (): Promise<PgModule> => {
  const pg = (await loadPeer("pg", () => import("pg"))).default
  if (!native) return pg
  return loadPeer("pg-native", async () => {
    let binding: PgModule | null
    try {
      binding = pg.native
    } catch (error) {
      const message = error instanceof Error ? error.message.split("\n")[0] : String(error)
      throw new Error(`${message} (built for another Node? run \`npm run bench:native\`)`)
    }
    if (binding === null) throw new Error("pg.native is null (the optional pg-native package is not installed)")
    return binding
  })
}

const makeDriver = async (): Promise<Driver> => {
  const pg = await load()

  const client = async (conn: ConnInfo, pipelined = false): Promise<Pg.Client> => {
    const c = new pg.Client({ ...config(conn), ...(pipelined && !native ? { pipeline: true } : {}) })
    await c.connect()
    return c
  }

  const pointQueries = async (
    conn: ConnInfo,
    spec: { sql: string; callers: number; connections: number; warmupMs: number; durationMs: number; idRange: number },
  ): Promise<number> => {
    // Several connections: the pool, as applications use it. One connection: a Client
    // (with pg's pipeline mode when pg has one).
    const target: Pg.Pool | Pg.Client =
      spec.connections > 1 ? new pg.Pool({ ...config(conn), max: spec.connections }) : await client(conn, true)
    return runCallers(spec.callers, spec.warmupMs, spec.durationMs, async (caller, i) => {
      const id = pickId(caller, i, spec.idRange)
      const result = await target.query(spec.sql, [id])
      if (result.rows.length !== 1 || result.rows[0].id !== id) throw new Error(`W1: wrong row for id ${id}`)
    })
  }

  const ingestCheck = async (c: Pg.Client, table: string) => {
    const result = await c.query(ingestCheckSql(table))
    return { rows: Number(result.rows[0].rows), sumA: Number(result.rows[0].suma) }
  }

  const copyIn = async (copyFrom: (sql: string) => NodeJS.WritableStream, c: Pg.Client, sql: string, count: number) => {
    const rows = ingestRows(count)
    return timed(async () => {
      const chunks = function* () {
        for (let k = 0; k < rows.length; k += 1000) yield copyText(rows, k, Math.min(rows.length, k + 1000))
      }
      await pipeline(Readable.from(chunks()), c.query(copyFrom(sql) as never) as unknown as NodeJS.WritableStream)
    })
  }

  const copyStreams = native ? undefined : await loadPeer("pg-copy-streams", () => import("pg-copy-streams"))
  const cursorModule = native ? undefined : await loadPeer("pg-cursor", () => import("pg-cursor"))

  return {
    W1: (req) => pointQueries(req.conn, req.spec).then((value) => ({ status: "ok", value, check: {} })),
    W1p: (req) => pointQueries(req.conn, req.spec).then((value) => ({ status: "ok", value, check: {} })),
    W2: async (req) => {
      const { spec } = req
      const pool = new pg.Pool({ ...config(req.catalogConn), max: spec.connections })
      const tally = new Tally(selectColumns(spec.sql))
      let rows = 0
      const value = await runCallers(spec.callers, spec.warmupMs, spec.durationMs, async () => {
        const result = await pool.query(spec.sql)
        tally.all(result.rows)
        rows = result.rows.length
      })
      return { status: "ok", value, check: { rows } }
    },
    W3: async (req) => {
      const { spec } = req
      const c = await client(req.conn)
      const columns = selectColumns(spec.sql)
      new Tally(columns).all((await c.query(spec.warmupSql)).rows)
      let tally = new Tally(columns)
      const seconds = await timed(async () => {
        for (let r = 0; r < spec.repeats; r++) {
          tally = new Tally(columns)
          tally.all((await c.query(spec.sql)).rows)
        }
      })
      return { status: "ok", value: (spec.count * spec.repeats) / seconds, check: tally.check() }
    },
    W4:
      copyStreams === undefined
        ? unsupported("pg-native has no COPY streams (pg-copy-streams needs the JavaScript client)")
        : async (req) => {
            const { spec } = req
            const c = await client(req.conn)
            await c.query(`TRUNCATE ${spec.table}`)
            await copyIn(copyStreams.from, c, spec.sql, spec.warmupCount)
            await c.query(`TRUNCATE ${spec.table}`)
            const seconds = await copyIn(copyStreams.from, c, spec.sql, spec.count)
            const check = await ingestCheck(c, spec.table)
            return ingestResult(spec.count, seconds, check.rows, check.sumA)
          },
    W5: async (req) => {
      const { spec } = req
      const c = await client(req.conn)
      return latencies(spec.warmupCount, spec.count, async (i) => {
        const result = await c.query(spec.sql, [i])
        if (result.rows[0].int4 !== i) throw new Error(`W5: got ${String(result.rows[0].int4)} for ${i}`)
      })
    },
    W6:
      cursorModule === undefined
        ? unsupported("pg-native has no cursors (pg-cursor needs the JavaScript client)")
        : async (req) => {
            const { spec } = req
            const Cursor = cursorModule.default
            const c = await client(req.conn)
            const columns = selectColumns(spec.sql)
            const stream = async (sql: string, tally: Tally) => {
              const cursor = c.query(new Cursor(sql))
              for (;;) {
                const rows = await cursor.read(spec.fetchSize)
                if (rows.length === 0) break
                tally.all(rows)
              }
              await cursor.close()
            }
            await stream(spec.warmupSql, new Tally(columns))
            const tally = new Tally(columns)
            const probe = new RssProbe()
            probe.start()
            const seconds = await timed(() => stream(spec.sql, tally))
            const rss = probe.stop()
            return streamResult(rss, tally, seconds)
          },
    W7: async (req) => {
      const { spec } = req
      const once = async () => {
        const c = await client(req.conn)
        await c.query(spec.sql)
        await c.end()
      }
      for (let i = 0; i < spec.warmupCount; i++) await once()
      const seconds = await timed(async () => {
        for (let i = 0; i < spec.count; i++) await once()
      })
      return { status: "ok", value: spec.count / seconds, check: { connects: spec.count } }
    },
    W8: async (req) => {
      // pg's best batch: pipeline mode (8.x), all inserts queued at once inside one transaction.
      const { spec } = req
      const c = await client(req.conn, true)
      const many = async (count: number) => {
        const rows = ingestRows(count)
        return timed(async () => {
          await c.query("BEGIN")
          await Promise.all(rows.map((row) => c.query(spec.sql, row)))
          await c.query("COMMIT")
        })
      }
      await c.query(`TRUNCATE ${spec.table}`)
      await many(spec.warmupCount)
      await c.query(`TRUNCATE ${spec.table}`)
      const seconds = await many(spec.count)
      const check = await ingestCheck(c, spec.table)
      return ingestResult(spec.count, seconds, check.rows, check.sumA)
    },
  }
}

await runChild(makeDriver)
