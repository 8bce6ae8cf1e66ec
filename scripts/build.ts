/**
 * Builds every publishable package to JavaScript, declarations and source maps (`dist/`), in
 * dependency order, so each package compiles against the declarations its dependencies just
 * emitted (the build configs resolve `@pgfx/*` without the `@pgfx/source` condition).
 *
 * ```sh
 * npm run build             # all packages
 * node scripts/build.ts     # the same
 * ```
 *
 * The repository itself never needs this: tests, examples and the bench run on the TypeScript
 * sources. The consumer test (`test/consumer.test.ts`) builds, packs and installs the result.
 *
 * @since 0.1.0
 */
import { execFileSync } from "node:child_process"
import { rmSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

/** The publishable packages, each after the packages it depends on. @since 0.1.0 */
export const packages = ["protocol", "types", "client", "sql", "testing", "gssapi"] as const

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const tsc = join(root, "node_modules", "typescript", "bin", "tsc")

/** Removes each package's old `dist/` and compiles it again. @since 0.1.0 */
export const build = (): void => {
  for (const name of packages) {
    const dir = join(root, "packages", name)
    rmSync(join(dir, "dist"), { recursive: true, force: true })
    execFileSync(process.execPath, [tsc, "-p", join(dir, "tsconfig.build.json")], { cwd: dir, stdio: "inherit" })
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) build()
