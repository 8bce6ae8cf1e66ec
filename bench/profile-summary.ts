/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): the functions with the most self time, and
 * the self time per source file, each as a share of the profile and, given the number of queries
 * the profiled run made, as µs per query.
 *
 *   node bench/profile-summary.ts .tmp/prof/CPU.*.cpuprofile [--queries=N] [--from=µs --to=µs] [--top=30]
 *
 * With bench/profile-w1.ts, pass its `queries`, `from` and `to` to summarise the measured window only.
 */
import { readFileSync } from "node:fs"
import * as path from "node:path"

interface Node {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: ReadonlyArray<number>
}
interface Profile {
  readonly nodes: ReadonlyArray<Node>
  readonly startTime: number
  readonly endTime: number
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const file = process.argv[2]
if (file === undefined) throw new Error("usage: node bench/profile-summary.ts FILE.cpuprofile [--queries=N] [--top=N]")
const option = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1]
const queries = Number(option("queries") ?? 0)
// Only samples inside [from, to] (µs, the profile's monotonic clock; bench/profile-w1.ts prints them).
const from = Number(option("from") ?? 0)
const to = Number(option("to") ?? Infinity)
const top = Number(option("top") ?? 30)

const profile = JSON.parse(readFileSync(file, "utf8")) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const selfUs = new Map<number, number>()
let at = profile.startTime
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!
  at += profile.timeDeltas[i] ?? 0
  if (at < from || at > to) continue
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
}
let total = 0
for (const us of selfUs.values()) total += us

const shortUrl = (url: string) => {
  if (url === "") return "(native)"
  const p = url.replace(/^file:\/\//, "")
  const nm = p.lastIndexOf("node_modules/")
  if (nm >= 0) return p.slice(nm + "node_modules/".length)
  const pk = p.indexOf("/packages/")
  return pk >= 0 ? p.slice(pk + 1) : path.basename(p)
}

/**
 * The stage of a W1 query a function belongs to, by its file (and, for native frames, its name).
 * First match wins.
 */
const stages: ReadonlyArray<readonly [string, (name: string, file: string) => boolean]> = [
  ["idle", (n) => n === "(idle)"],
  ["GC", (n) => n === "(garbage collector)"],
  ["socket write (system call)", (n, f) => f === "(native)" && /^write(Buffer|v|Latin1String|Utf8String)/.test(n)],
  ["metrics", (n, f) => /effect\/dist\/Metric|PgMetrics|Instrument\.ts/.test(f) || (f === "(native)" && n === "now")],
  ["Effect runtime", (_, f) => f.startsWith("effect/")],
  [
    "decoding (rows, values)",
    (n, f) =>
      /packages\/types\//.test(f) ||
      /PgRecord|RowSchema/.test(f) ||
      (f === "(native)" && /^(decodeRecord|utf8Slice|latin1Slice)$/.test(n)),
  ],
  [
    "read path (session, reader, handlers, replies)",
    (_, f) => /(Session|Reader|Handlers|Replies|Backend|Reset)\.ts$/.test(f),
  ],
  [
    "write path (call, Bind, writer)",
    (_, f) =>
      /(FastQuery|Statement|StatementCache|Writer|Frontend|Connection|Gate|Interrupt|Outcome|PgSql)\.ts$/.test(f),
  ],
  ["pool", (_, f) => /(Pool|PgPool|Route|Lease)\.ts$/.test(f)],
  ["other pgfx", (_, f) => f.startsWith("packages/")],
  ["benchmark script", (_, f) => /profile-w1|hotpath/.test(f)],
  ["Node (streams, timers, buffers)", (_, f) => f !== "(native)"],
  ["other native", () => true],
]
const stageOf = (name: string, file: string): string => stages.find(([, test]) => test(name, file))![0]

const byFunction = new Map<string, number>()
const byFile = new Map<string, number>()
const byStage = new Map<string, number>()
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame
  const where = shortUrl(url)
  const key = `${functionName || "(anonymous)"}  ${where}${url === "" ? "" : `:${lineNumber + 1}`}`
  byFunction.set(key, (byFunction.get(key) ?? 0) + us)
  byFile.set(where, (byFile.get(where) ?? 0) + us)
  const stage = stageOf(functionName, where)
  byStage.set(stage, (byStage.get(stage) ?? 0) + us)
}

const show = (title: string, entries: Map<string, number>, limit = top) => {
  console.log(`\n${title}`)
  console.log(`${"self %".padStart(7)} ${queries > 0 ? "µs/query".padStart(9) : ""}  name`)
  for (const [key, us] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
    const pct = ((100 * us) / total).toFixed(1).padStart(6)
    const per = queries > 0 ? (us / queries).toFixed(2).padStart(9) : ""
    console.log(`${pct}% ${per}  ${key}`)
  }
}

console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled${queries > 0 ? `, ${queries} queries` : ""}`)
show("self time by stage", byStage, stages.length)
show("top functions by self time", byFunction)
show("self time by file", byFile)
