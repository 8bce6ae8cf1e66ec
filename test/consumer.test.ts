/**
 * The packages as a user gets them: build and `npm pack` every package, install the tarballs and
 * their peer dependencies from the registry into a fresh project outside the repository (under
 * the temp dir), and run an application there under Node 22, Node 24, Bun and Deno, type-check
 * it with tsc (nodenext, and preserve + bundler), and use both commands through `npx`.
 *
 * `@pgfx/gssapi` is installed too: its `kerberos` dependency is built from source by node-gyp
 * (the Kerberos headers, libkrb5-dev, must be installed; `.ci/run` does it), and a probe checks
 * that the binding loads from the install.
 *
 * Nothing here sees the repository's sources: the project lives outside it, and the environment
 * drops `NODE_OPTIONS` and `npm_*` (which carry the repo's "@pgfx/source" condition) and every
 * PG* / pgfx variable. The runtimes come from npm (`node@22`, `bun`, `deno`) into that project;
 * Node 24 is the repository's own (the `node` dev dependency).
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { packages } from "../scripts/build.ts"

const root = path.resolve(import.meta.dirname, "..")
const fixtures = path.join(root, "test", "fixtures", "consumer")
const node24 = path.join(root, "node_modules", "node", "bin", "node")
const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc")

const cleanEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    // npm_config_nodedir stays: node-gyp builds @pgfx/gssapi's kerberos binding with those headers
    if (k === "NODE_OPTIONS" || k === "DATABASE_URL" || (/^(npm_|PG|PGFX_)/i.test(k) && k !== "npm_config_nodedir")) {
      continue
    }
    env[k] = v
  }
  env["PATH"] = `${path.dirname(node24)}${path.delimiter}${process.env["PATH"] ?? ""}`
  return env
}

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const run = (file: string, args: ReadonlyArray<string>, cwd: string, timeout = 180_000): Promise<Run> =>
  new Promise((resolve) => {
    execFile(file, args, { cwd, env: cleanEnv(), timeout, maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr }),
    )
  })

/** Runs and fails with everything the process said unless it exits 0. */
const ok = async (file: string, args: ReadonlyArray<string>, cwd: string, timeout?: number): Promise<Run> => {
  const result = await run(file, args, cwd, timeout)
  if (result.code !== 0) {
    throw new Error(`${file} ${args.join(" ")} exited ${result.code}\n${result.stdout}\n${result.stderr}`)
  }
  return result
}

const npm = (args: ReadonlyArray<string>, cwd: string) => ok("npm", [...args, "--no-audit", "--no-fund"], cwd, 600_000)

let dir = ""
let app = ""

beforeAll(async () => {
  const started = Date.now()
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgfx-consumer-"))
  const packs = path.join(dir, "packs")
  app = path.join(dir, "app")
  fs.mkdirSync(packs)
  fs.mkdirSync(app)
  await ok(node24, [path.join(root, "scripts", "build.ts")], root)
  const dependencies: Record<string, string> = {}
  for (const name of packages) {
    const packed = await npm(["pack", "--json", "--pack-destination", packs], path.join(root, "packages", name))
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; size: number; unpackedSize: number }>
    console.log(`consumer: ${info!.filename} ${info!.size} bytes packed, ${info!.unpackedSize} unpacked`)
    dependencies[`@pgfx/${name}`] = `file:${path.join(packs, info!.filename)}`
  }
  const manifest = {
    name: "pgfx-consumer",
    private: true,
    type: "module",
    dependencies: { ...dependencies, effect: "^4.1.0", "@effect/platform-node": "^4.1.0" },
    devDependencies: { "@types/node": "^24", node: "22", bun: "^1", deno: "^2" },
  }
  fs.writeFileSync(path.join(app, "package.json"), JSON.stringify(manifest, null, 2))
  for (const file of fs.readdirSync(fixtures)) fs.copyFileSync(path.join(fixtures, file), path.join(app, file))
  await npm(["install", "--loglevel=error"], app)
  console.log(`consumer: built, packed and installed in ${Math.round((Date.now() - started) / 1000)} s`)
}, 900_000)

afterAll(() => {
  if (dir !== "") fs.rmSync(dir, { recursive: true, force: true })
}, 120_000)

/** The one line of JSON app.ts prints, after checking what it says. */
const expectQuickstart = (result: Run, runtime: string | RegExp) => {
  // Quiet by default: the program's one line and nothing else (no notice, no shutdown warning).
  const lines = result.stdout.trim().split("\n")
  expect(lines, result.stdout).toHaveLength(1)
  const line = lines[0] ?? ""
  const report = JSON.parse(line) as Record<string, unknown>
  expect(report["runtime"]).toMatch(runtime)
  expect(report).toMatchObject({
    copied: "COPY 3",
    rolledBack: "undo",
    espresso: { id: 1, name: "espresso", price: "3.50" },
    count: "3",
  })
}

// Independent programs in one installed project: run side by side.
describe.concurrent("installed from the packed tarballs", () => {
  it("runs the quickstart under Node 24", async () => {
    expectQuickstart(await ok(node24, ["app.ts"], app), /^node 24\./)
  })

  it("runs the quickstart under Node 22", async () => {
    expectQuickstart(await ok(path.join(app, "node_modules", "node", "bin", "node"), ["app.ts"], app), /^node 22\./)
  })

  it("runs the quickstart under Bun", async () => {
    expectQuickstart(await ok(path.join(app, "node_modules", ".bin", "bun"), ["app.ts"], app), "bun")
  })

  it("runs the quickstart under Deno", async () => {
    expectQuickstart(await ok(path.join(app, "node_modules", ".bin", "deno"), ["run", "-A", "app.ts"], app), "deno")
  })

  const typeCheck = (compilerOptions: Record<string, unknown>) => {
    const config = {
      compilerOptions: {
        target: "es2022",
        strict: true,
        noEmit: true,
        allowImportingTsExtensions: true,
        skipLibCheck: false,
        types: ["node"],
        ...compilerOptions,
      },
      files: ["app.ts", "queries.ts", "catalog.ts"],
    }
    const file = `tsconfig.${String(compilerOptions["module"])}.json`
    fs.writeFileSync(path.join(app, file), JSON.stringify(config))
    return ok(node24, [tsc, "-p", file], app)
  }

  it("type-checks under module nodenext (strict, exactOptionalPropertyTypes, no skipLibCheck)", async () => {
    await typeCheck({ module: "nodenext", moduleResolution: "nodenext", exactOptionalPropertyTypes: true })
  })

  it("type-checks under module preserve + moduleResolution bundler (strict, no skipLibCheck)", async () => {
    await typeCheck({ module: "preserve", moduleResolution: "bundler" })
  })

  it("keeps internal modules private", async () => {
    const probe = `import("@pgfx/client/internal/connection/Connection").then(() => process.exit(1), (e) => console.log(e.code))`
    const result = await ok(node24, ["--input-type=module", "-e", probe], app)
    expect(result.stdout.trim()).toBe("ERR_PACKAGE_PATH_NOT_EXPORTED")
  })

  it("@pgfx/gssapi's native binding was built at install and loads", async () => {
    // a unix-socket-free context on a host nobody has a ticket for: GSSAPI itself answers
    const probe = [
      `const Gssapi = await import("@pgfx/gssapi/Gssapi")`,
      `const { Effect } = await import("effect")`,
      `const context = { host: "pgfx-consumer.invalid", port: 5432, unixSocket: false, user: "u", krbSrvName: "postgres", gssLib: undefined, password: undefined, tls: false, request: "GSS" }`,
      `const exchange = Effect.scoped(Effect.flatMap(Gssapi.plugin().start(context), (x) => x.step(undefined)))`,
      `const error = await Effect.runPromise(Effect.flip(exchange))`,
      `console.log(error.cause._tag, error.cause.reason)`,
    ].join("\n")
    const result = await ok(node24, ["--input-type=module", "-e", probe], app)
    expect(result.stdout).toMatch(/^GssapiError /)
    expect(result.stdout).not.toContain("LibraryUnavailable")
  })

  it("npx pgfx-dev-db starts a throwaway server and runs npx pgfx check against it", async () => {
    const result = await ok(
      "npx",
      ["--no-install", "pgfx-dev-db", "--", "npx", "--no-install", "pgfx", "check", "catalog.ts"],
      app,
    )
    expect(result.stdout).toMatch(/^DATABASE_URL=postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/m)
    expect(result.stdout).toContain("ok   relationByName")
    expect(result.stdout).toContain("1 queries checked: 1 ok, 0 failed")
  })

  it("npx pgfx check exits 1 when a declared query does not match", async () => {
    const result = await run(
      "npx",
      ["--no-install", "pgfx-dev-db", "--", "npx", "--no-install", "pgfx", "check", "queries.ts"],
      app,
    )
    expect(result.stdout).toContain("FAIL drinkByName")
    expect(result.code).toBe(1)
  })
})
