/**
 * The C reference: libpq's own tools. `pgbench` (one thread, `-M prepared`, text results, no
 * conversion to language values) for the query workloads, `psql \copy` for bulk insert. The
 * system's client tools (PostgreSQL 15 here) talk to the PostgreSQL 18 server fine.
 *
 * pgbench durations are whole seconds (`-T`), rounded from the spec; its warm-up is a separate
 * short pgbench run before the measured one.
 */
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import {
  copyText,
  type Driver,
  ingestResult,
  ingestRows,
  median,
  PeerUnavailable,
  percentile,
  runChild,
  timed,
} from "../child.ts"
import { type ConnInfo, type OkResult, type RunRequest, unsupported } from "../protocol.ts"

const tool = (req: RunRequest, name: string): string => {
  const file = Path.join(req.pgBinDir, name)
  if (req.pgBinDir === "" || !Fs.existsSync(file)) {
    throw new PeerUnavailable(`${name} not found (set PGFX_BENCH_PGBIN to a directory holding pgbench and psql)`)
  }
  return file
}

const exec = (file: string, args: ReadonlyArray<string>, conn: ConnInfo): string => {
  const result = spawnSync(file, args, {
    env: { ...process.env, PGPASSWORD: conn.password },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  })
  if (result.error !== undefined) throw result.error
  if (result.status !== 0) {
    throw new Error(`${Path.basename(file)} exited with ${result.status}: ${result.stderr.trim().slice(-2000)}`)
  }
  return result.stdout
}

const connArgs = (conn: ConnInfo) => ["-h", conn.host, "-p", String(conn.port), "-U", conn.user]

const seconds = (ms: number) => String(Math.max(1, Math.round(ms / 1000)))

/** Runs pgbench with a script; returns transactions per second. */
const pgbench = (
  req: RunRequest,
  conn: ConnInfo,
  script: string,
  args: ReadonlyArray<string>,
  name = "script",
): number => {
  const file = Path.join(req.tmpDir, `${name}.sql`)
  Fs.writeFileSync(file, script)
  const out = exec(
    tool(req, "pgbench"),
    ["-n", "-M", "prepared", "-j", "1", ...connArgs(conn), "-f", file, ...args, conn.database],
    conn,
  )
  const match = /^tps = ([\d.]+)/m.exec(out)
  if (match === null) throw new Error(`no tps line in pgbench output:\n${out}`)
  return Number(match[1])
}

/** `$1` in the spec's SQL becomes pgbench's `:name`. */
const withVar = (sql: string, name: string) => sql.replace("$1", `:${name}`)

const durationRun = (req: RunRequest, conn: ConnInfo, script: string, clients: number): number => {
  const { spec } = req
  pgbench(req, conn, script, ["-c", String(clients), "-T", seconds(spec.warmupMs)])
  return pgbench(req, conn, script, ["-c", String(clients), "-T", seconds(spec.durationMs)])
}

const psql = (req: RunRequest, command: string): string =>
  exec(
    tool(req, "psql"),
    ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", ...connArgs(req.conn), "-d", req.conn.database, "-c", command],
    req.conn,
  )

const driver: Driver = {
  W1: async (req) => {
    const { spec } = req
    const script = `\\set id random(1, ${spec.idRange})\n${withVar(spec.sql, "id")};\n`
    return { status: "ok", value: durationRun(req, req.conn, script, spec.connections), check: {} }
  },
  W1p: async (req) => {
    // Pipeline mode: the 10 callers' queries go out as one pipeline per round trip.
    const { spec } = req
    const ids = Array.from({ length: spec.callers }, (_, k) => `id${k}`)
    const script = [
      ...ids.map((id) => `\\set ${id} random(1, ${spec.idRange})`),
      "\\startpipeline",
      ...ids.map((id) => `${withVar(spec.sql, id)};`),
      "\\endpipeline",
      "",
    ].join("\n")
    return { status: "ok", value: durationRun(req, req.conn, script, 1) * spec.callers, check: {} }
  },
  W2: async (req) => {
    const { spec } = req
    return { status: "ok", value: durationRun(req, req.catalogConn, `${spec.sql};\n`, spec.connections), check: {} }
  },
  W3: async (req) => {
    const { spec } = req
    pgbench(req, req.conn, `${spec.warmupSql};\n`, ["-c", "1", "-t", "1"], "warmup")
    const tps = pgbench(req, req.conn, `${spec.sql};\n`, ["-c", "1", "-t", String(spec.repeats)])
    return { status: "ok", value: tps * spec.count, check: {}, extra: { note: "libpq text rows, no conversion" } }
  },
  W4: async (req) => {
    const { spec } = req
    const copy = (count: number, name: string) => {
      const file = Path.join(req.tmpDir, `${name}.tsv`)
      const rows = ingestRows(count)
      Fs.writeFileSync(file, copyText(rows, 0, rows.length))
      return `\\copy ${spec.table} (${spec.columns.join(", ")}) FROM '${file}'`
    }
    const warmup = copy(spec.warmupCount, "warmup")
    const measured = copy(spec.count, "rows")
    psql(req, `TRUNCATE ${spec.table}`)
    psql(req, warmup)
    psql(req, `TRUNCATE ${spec.table}`)
    const elapsed = await timed(async () => {
      psql(req, measured)
    })
    const [rows, sumA] = psql(req, `SELECT count(*), sum(a) FROM ${spec.table}`).trim().split("|").map(Number)
    return ingestResult(spec.count, elapsed, rows, sumA)
  },
  W5: async (req) => {
    const { spec } = req
    const script = `\\set v random(1, 1000000)\n${withVar(spec.sql, "v")};\n`
    pgbench(req, req.conn, script, ["-c", "1", "-t", String(spec.warmupCount)])
    const prefix = Path.join(req.tmpDir, "w5log")
    pgbench(req, req.conn, script, ["-c", "1", "-t", String(spec.count), "-l", `--log-prefix=${prefix}`])
    const logs = Fs.readdirSync(req.tmpDir).filter((f) => f.startsWith("w5log"))
    // Per-transaction log lines: client_id transaction_no time_us script_no epoch epoch_us.
    const samples = logs.flatMap((f) =>
      Fs.readFileSync(Path.join(req.tmpDir, f), "utf8")
        .trim()
        .split("\n")
        .map((line) => Number(line.split(" ")[2])),
    )
    return {
      status: "ok",
      value: median(samples),
      check: { queries: samples.length },
      extra: { p99Us: percentile(samples, 99) },
    } satisfies OkResult
  },
  W6: unsupported("pgbench/psql have no streaming-cursor equivalent"),
  W7: async (req) => {
    // -C: a new connection (SCRAM) for every transaction; the tps includes connection time.
    const { spec } = req
    pgbench(req, req.conn, `${spec.sql};\n`, ["-C", "-c", "1", "-t", String(spec.warmupCount)])
    const elapsed = await timed(async () => {
      pgbench(req, req.conn, `${spec.sql};\n`, ["-C", "-c", "1", "-t", String(spec.count)])
    })
    return { status: "ok", value: spec.count / elapsed, check: { connects: spec.count } }
  },
  W8: unsupported("pgbench/psql have no executeMany"),
}

await runChild(driver)
