/**
 * Rebuilds pg-native's addon (the `libpq` package) against the headers of the Node that runs
 * this script: `npm run bench:native`.
 *
 * Needed when `npm install` built it for another Node (npm's `nodedir` pointing at an older
 * system Node's headers), which shows in the bench table as "pg-native: not available: ...
 * undefined symbol". Needs libpq's headers and pg_config (`apt-get install -y libpq-dev`).
 */
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { repoRoot } from "./drivers.ts"

const bin = Path.dirname(process.execPath)
const candidates = [
  // A regular install: <prefix>/bin/node and <prefix>/include/node.
  Path.resolve(bin, ".."),
  // The npm `node` package: node_modules/node/bin/node beside node_modules/node-<platform>-<arch>.
  Path.resolve(bin, "..", "node_modules", `node-${process.platform}-${process.arch}`),
]
const hasHeaders = (dir: string) => Fs.existsSync(Path.join(dir, "include", "node", "node.h"))

/**
 * The npm `node` package copies its binary into place and drops the headers, so fetch this
 * exact version's platform package (it ships `include/node`) from the npm registry into a cache.
 */
const headersFromRegistry = (): string | undefined => {
  const pkg = `node-${process.platform}-${process.arch}`
  const cache = Path.join(repoRoot, "node_modules", ".cache", "pgfx-node-headers", process.version)
  const dir = Path.join(cache, "node_modules", pkg)
  if (hasHeaders(dir)) return dir
  console.log(`fetching ${pkg}@${process.version.slice(1)} (for its headers) into ${cache}`)
  const installed = spawnSync(
    "npm",
    ["install", "--no-save", "--ignore-scripts", "--prefix", cache, `${pkg}@${process.version.slice(1)}`],
    { cwd: repoRoot, stdio: "inherit" },
  )
  return installed.status === 0 && hasHeaders(dir) ? dir : undefined
}

const nodedir = candidates.find(hasHeaders) ?? headersFromRegistry()
if (nodedir === undefined) {
  console.error(
    `no Node headers found for ${process.execPath} (looked in ${candidates.join(", ")} and the npm registry)`,
  )
  process.exit(1)
}
console.log(`rebuilding libpq (pg-native) for node ${process.version} with headers from ${nodedir}`)
const result = spawnSync("npm", ["rebuild", "libpq", `--nodedir=${nodedir}`], { cwd: repoRoot, stdio: "inherit" })
process.exit(result.status ?? 1)
