/**
 * The shape every publishable package keeps (docs/architecture.md, "Distribution"), read from
 * the manifests and the source tree, so a module added later is covered without editing a list:
 *
 * - `exports`: the root and `./*` give `types` and `default` in `dist/` (and the sources under
 *   the repository's "@pgfx/source" condition); every sub-folder of `src/` (`internal/`,
 *   `config/`, ...) is closed to installs (`default: null`).
 * - every top-level module of `src/` is re-exported as a namespace by the package index.
 * - `files` ships `dist/`, `src/` (for source maps) and `bin/` when there are commands; each
 *   package has a README and the license; each command is a JavaScript launcher that imports its
 *   own package by name.
 * - scripts/build.ts builds every package after the packages it depends on.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { packages as buildOrder } from "../scripts/build.ts"

const root = path.resolve(import.meta.dirname, "..")

interface Manifest {
  readonly name: string
  readonly private?: boolean
  readonly exports: Record<string, unknown>
  readonly files?: ReadonlyArray<string>
  readonly bin?: Record<string, string>
  readonly scripts?: Record<string, string>
  readonly dependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
}

const published = fs
  .readdirSync(path.join(root, "packages"))
  .map((dir) => ({
    dir,
    manifest: JSON.parse(fs.readFileSync(path.join(root, "packages", dir, "package.json"), "utf8")) as Manifest,
  }))
  .filter((p) => p.manifest.private !== true)

const entry = (src: string, dist: string) => ({ "@pgfx/source": src, types: `${dist}.d.ts`, default: `${dist}.js` })

describe("published packages", () => {
  it("are all built, each after its @pgfx dependencies", () => {
    expect([...buildOrder].sort()).toEqual(published.map((p) => p.dir).sort())
    for (const { dir, manifest } of published) {
      for (const dep of Object.keys(manifest.dependencies ?? {}).filter((d) => d.startsWith("@pgfx/"))) {
        expect(buildOrder.indexOf(dep.slice("@pgfx/".length) as never), `${dir} needs ${dep} first`).toBeLessThan(
          buildOrder.indexOf(dir as never),
        )
      }
    }
  })

  for (const { dir, manifest } of published) {
    const pkg = path.join(root, "packages", dir)
    const src = path.join(pkg, "src")

    describe(manifest.name, () => {
      it("exports the root and every module with types and default, and closes every sub-folder", () => {
        expect(manifest.exports["."]).toEqual(entry("./src/index.ts", "./dist/index"))
        expect(manifest.exports["./*"]).toEqual(entry("./src/*.ts", "./dist/*"))
        expect(manifest.exports["./package.json"]).toBe("./package.json")
        const folders = fs
          .readdirSync(src, { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => d.name)
        const closed = Object.keys(manifest.exports).filter((k) => !["./*", ".", "./package.json"].includes(k))
        expect(closed.sort()).toEqual(
          ["./internal/*", ...folders.filter((f) => f !== "internal").map((f) => `./${f}/*`)].sort(),
        )
        for (const key of closed) {
          const folder = key.slice(2, -2)
          expect(manifest.exports[key], key).toEqual({ "@pgfx/source": `./src/${folder}/*.ts`, default: null })
        }
      })

      it("re-exports every top-level module from its index", () => {
        const index = fs.readFileSync(path.join(src, "index.ts"), "utf8")
        const modules = fs
          .readdirSync(src)
          .filter((f) => f.endsWith(".ts") && f !== "index.ts")
          .map((f) => f.slice(0, -3))
        for (const name of modules) {
          expect(index, `${manifest.name}/src/index.ts lacks ${name}`).toContain(
            `export * as ${name} from "./${name}.ts"`,
          )
        }
      })

      it("ships dist, src and its commands, with a README and the license", () => {
        const bins = Object.entries(manifest.bin ?? {})
        expect(manifest.files).toEqual(["dist", "src", ...(bins.length > 0 ? ["bin"] : [])])
        expect(manifest.scripts?.["build"]).toBe("tsc -p tsconfig.build.json")
        expect(fs.existsSync(path.join(pkg, "tsconfig.build.json"))).toBe(true)
        expect(fs.readFileSync(path.join(pkg, "LICENSE"), "utf8")).toBe(
          fs.readFileSync(path.join(root, "LICENSE"), "utf8"),
        )
        expect(fs.readFileSync(path.join(pkg, "README.md"), "utf8")).toContain(`# ${manifest.name}`)
        expect(manifest.peerDependencies?.["effect"]).toBeDefined()
        for (const [command, target] of bins) {
          expect(target, command).toMatch(/^\.\/bin\/[\w-]+\.js$/)
          const file = path.join(pkg, target)
          const text = fs.readFileSync(file, "utf8")
          expect(text.startsWith("#!/usr/bin/env node\n"), command).toBe(true)
          expect(fs.statSync(file).mode & 0o111, `${command} is executable`).not.toBe(0)
          // The launcher imports its package by name: an install runs dist/, the repo src/.
          for (const m of text.matchAll(/from "([^"]+)"/g)) {
            expect(m[1] === "effect" || m[1]!.startsWith(`${manifest.name}/`), `${command} imports ${m[1]}`).toBe(true)
          }
        }
      })
    })
  }
})
