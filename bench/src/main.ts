/**
 * pgfx's side-by-side benchmark harness (issue 10). See docs/benchmarks.md.
 *
 *   npm run bench                       full run (3 rounds)
 *   npm run bench:quick                 fewer rounds, rows and seconds (a couple of minutes)
 *   npm run bench -- --only W1,W3 --drivers pgfx,pg
 *   npm run bench -- --rounds 5 --url postgres://user:pw@127.0.0.1:5432/db
 *
 * Starts its own PostgreSQL 18 (TempCluster) unless `--url` is given, fills the workload tables,
 * then runs every (driver, workload) in a fresh process, drivers interleaved (the order rotates
 * every round), and prints medians and ratios; the JSON and Markdown go to bench/results/.
 */
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { parseArgs } from "node:util"
import { prepare, type Server } from "./cluster.ts"
import { benchDir, drivers as allDrivers, type Machine, peerVersions, probeMachine } from "./drivers.ts"
import { workloadIds, type RunResult } from "./protocol.ts"
import { formatValue, renderMarkdown, renderText, type RunRecord, summarize } from "./report.ts"
import { runOnce } from "./runner.ts"
import { type Preset, sizesOf, specs as specsOf, workloads as allWorkloads } from "./workloads.ts"

const usage = `usage: node bench/src/main.ts [--quick | --smoke] [--rounds N] [--only W1,W3] [--drivers pgfx,pg]
                                [--url postgres://...] [--out DIR]
  workloads: ${workloadIds.join(", ")}
  drivers:   ${allDrivers.map((d) => (d.optIn === true ? `${d.id} (only when listed)` : d.id)).join(", ")}`

const fail = (message: string): never => {
  console.error(`bench: ${message}\n${usage}`)
  process.exit(2)
}

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    smoke: { type: "boolean", default: false },
    rounds: { type: "string" },
    only: { type: "string" },
    drivers: { type: "string" },
    url: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", default: false },
  },
})
if (args.help) {
  console.log(usage)
  process.exit(0)
}

const preset: Preset = args.smoke ? "smoke" : args.quick ? "quick" : "full"
const sizes = sizesOf(preset)
const rounds = args.rounds === undefined ? sizes.rounds : Number(args.rounds)
if (!Number.isInteger(rounds) || rounds < 1) fail(`--rounds must be a positive integer, got ${args.rounds}`)

const pick = <A extends { id: string; optIn?: boolean }>(
  all: ReadonlyArray<A>,
  list: string | undefined,
  what: string,
): Array<A> => {
  if (list === undefined) return all.filter((a) => a.optIn !== true)
  const wanted = list
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
  for (const id of wanted)
    if (!all.some((a) => a.id.toLowerCase() === id.toLowerCase())) fail(`unknown ${what} "${id}"`)
  return all.filter((a) => wanted.some((id) => id.toLowerCase() === a.id.toLowerCase()))
}
const workloads = pick(allWorkloads, args.only, "workload")
const drivers = pick(allDrivers, args.drivers, "driver")
const specs = specsOf(preset)

/** Per-run time limit: generous, the machine is shared. */
const timeoutMs = preset === "full" ? 20 * 60_000 : 5 * 60_000

const rotate = <A>(items: ReadonlyArray<A>, by: number): Array<A> => items.map((_, i) => items[(i + by) % items.length])

const machineInfo = (machine: Machine) => ({
  nproc: Os.availableParallelism(),
  cpu: Os.cpus()[0]?.model ?? "unknown",
  memoryGiB: Math.round(Os.totalmem() / 2 ** 30),
  kernel: `${Os.type()} ${Os.release()}`,
  node: process.version,
  python:
    "path" in machine.python
      ? `${machine.python.path}: python ${machine.python.version.replace(" ", ", asyncpg ")}${machine.python.note}`
      : machine.python.reason,
  pgbench: "dir" in machine.pgBin ? machine.pgBin.version : machine.pgBin.reason,
  peers: peerVersions(),
})

const runAll = async (server: Server, machine: Machine): Promise<Array<RunRecord>> => {
  const records: Array<RunRecord> = []
  /** Outcomes that will not change in a later round (gaps, missing peers): run those once. */
  const settled = new Map<string, RunResult>()
  for (let round = 1; round <= rounds; round++) {
    for (const workload of workloads) {
      for (const driver of rotate(drivers, round - 1)) {
        const key = `${driver.id}/${workload.id}`
        const known = settled.get(key) ?? settled.get(`${driver.id}/*`)
        if (known !== undefined) {
          records.push({ round, workload: workload.id, driver: driver.id, result: known, wallMs: 0 })
          continue
        }
        const command = driver.command(machine)
        let result: RunResult
        let wallMs = 0
        let log = ""
        if ("unavailable" in command) {
          result = { status: "unavailable", reason: command.unavailable }
        } else {
          const outcome = await runOnce(
            command.argv,
            {
              workload: workload.id,
              spec: specs[workload.id],
              conn: server.conn,
              catalogConn: server.catalogConn,
              pgBinDir: "dir" in machine.pgBin ? machine.pgBin.dir : "",
            },
            timeoutMs,
          )
          ;({ result, wallMs, log } = outcome)
        }
        if (result.status === "unavailable") settled.set(`${driver.id}/*`, result)
        if (result.status === "not-implemented" || result.status === "unsupported") settled.set(key, result)
        records.push({ round, workload: workload.id, driver: driver.id, result, wallMs })
        const shown =
          result.status === "ok" ? formatValue(workload.unit, result.value) : `${result.status}: ${result.reason}`
        console.log(
          `[round ${round}/${rounds}] ${workload.id.padEnd(4)} ${driver.label.padEnd(26)} ${shown}` +
            (wallMs > 0 ? `  (${(wallMs / 1000).toFixed(1)} s)` : ""),
        )
        if (result.status === "error" && log !== "") console.log(log.replace(/^/gm, "    | "))
      }
    }
  }
  return records
}

const main = Effect.gen(function* () {
  const machine = probeMachine(drivers.some((d) => d.kind === "python"))
  const info = machineInfo(machine)
  const loadBefore = Os.loadavg()
  const startedAt = new Date()
  console.log(
    `pgfx bench: preset ${preset}, ${rounds} round(s), workloads ${workloads.map((w) => w.id).join(",")}, drivers ${drivers.map((d) => d.id).join(",")}`,
  )
  console.log(`machine: ${info.nproc} cpus (${info.cpu}), ${info.memoryGiB} GiB, ${info.kernel}, node ${info.node}`)
  console.log(
    `peers: ${Object.entries(info.peers)
      .map(([name, version]) => `${name} ${version}`)
      .join(", ")}; asyncpg: ${info.python}`,
  )
  console.log(`load average at start: ${loadBefore.map((l) => l.toFixed(2)).join(" ")}`)
  const server = yield* prepare({ url: args.url, w1Rows: sizes.w1Rows, w3Rows: sizes.w3Rows })
  console.log(`server: ${server.version} (${server.source}) at ${server.conn.host}:${server.conn.port}`)
  const records = yield* Effect.promise(() => runAll(server, machine))
  const loadAfter = Os.loadavg()
  const summaries = summarize(workloads, drivers, records)
  const text = renderText(summaries)
  const loads = (l: ReadonlyArray<number>) => l.map((x) => x.toFixed(2)).join(" ")
  const markdown = [
    `Run of ${startedAt.toISOString()}, preset ${preset}, ${rounds} round(s): ${server.version.split(" on ")[0]}, ` +
      `node ${info.node}, ${info.nproc} cpus (${info.cpu}), load average ${loads(loadBefore)} at the start and ` +
      `${loads(loadAfter)} at the end.`,
    "",
    `Peers: ${Object.entries(info.peers)
      .filter(([, version]) => version !== "not installed")
      .map(([name, version]) => `${name} ${version}`)
      .join(", ")}; asyncpg: ${info.python}; C: ${info.pgbench}.`,
    "",
    renderMarkdown(summaries),
  ].join("\n")
  console.log(text)
  console.log(`\nload average at end: ${loadAfter.map((l) => l.toFixed(2)).join(" ")}`)

  const outDir = args.out ?? Path.join(benchDir, "results")
  Fs.mkdirSync(outDir, { recursive: true })
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-")
  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    preset,
    rounds,
    argv: process.argv.slice(2),
    machine: { ...info, loadAverageStart: loadBefore, loadAverageEnd: loadAfter },
    server: { version: server.version, source: server.source, settings: server.settings },
    specs: Object.fromEntries(workloads.map((w) => [w.id, specs[w.id]])),
    runs: records,
    summary: summaries,
    markdown,
  }
  const file = Path.join(outDir, `bench-${stamp}.json`)
  Fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)
  Fs.writeFileSync(Path.join(outDir, "latest.json"), `${JSON.stringify(report, null, 2)}\n`)
  Fs.writeFileSync(Path.join(outDir, "latest.md"), `${markdown}\n`)
  console.log(`\nwrote ${file} (and latest.json, latest.md)`)
})

if (workloads.length === 0 || drivers.length === 0) fail("nothing selected")

await Effect.runPromise(Effect.scoped(main) as Effect.Effect<void>).catch((error: unknown) => {
  console.error("bench: failed:", error)
  process.exit(1)
})
