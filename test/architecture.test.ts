/**
 * The package chain of docs/architecture.md, enforced by reading imports:
 *
 *   @pgfx/protocol <- @pgfx/types <- @pgfx/client <- @pgfx/sql
 *   @pgfx/testing may use protocol and the public client modules (never client internals)
 *   @pgfx/gssapi may use the public client modules and its native binding (kerberos)
 *
 * A test fails when an import breaks the chain, or when a package imports something it does
 * not declare in its package.json.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")

interface Rule {
  /** Packages (or package prefixes) this package may import. */
  readonly allow: ReadonlyArray<string>
  /** Specifiers this package must never import, even when otherwise allowed. */
  readonly deny: ReadonlyArray<RegExp>
}

const rules: Record<string, Rule> = {
  protocol: {
    allow: ["effect", "node:crypto", "node:buffer"],
    deny: [/^effect\/Schema$/, /^node:(net|tls|dgram|http|https|fs)$/],
  },
  types: {
    allow: ["effect", "@pgfx/protocol", "node:buffer"],
    deny: [/^node:(net|tls|dgram|http|https)$/, /^@pgfx\/(client|sql|testing)/],
  },
  client: {
    allow: ["effect", "@effect/platform-node", "@pgfx/protocol", "@pgfx/types", "node:"],
    deny: [/^effect\/sql/, /^effect\/unstable\/sql/, /^@pgfx\/(sql|testing)/],
  },
  sql: {
    allow: ["effect", "@pgfx/client", "@pgfx/types"],
    deny: [/^@pgfx\/client\/internal/, /^@pgfx\/(testing)/],
  },
  testing: {
    allow: ["effect", "@effect/platform-node", "@pgfx/protocol", "@pgfx/client", "node:"],
    deny: [/^@pgfx\/client\/internal/, /^@pgfx\/(types|sql)/],
  },
  gssapi: {
    allow: ["effect", "@pgfx/client", "kerberos", "node:buffer"],
    deny: [/^@pgfx\/client\/internal/, /^@pgfx\/(protocol|types|sql|testing)/],
  },
}

// An import/export may span lines, but never into a JSDoc line (` * import ... from "..."` examples).
const importRe =
  /(?:^|\n)\s*(?:import|export)\s(?:[^'"\n]|\n(?!\s*\*))*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g

const sourceFiles = (dir: string): Array<string> =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts"))
        .map((f) => path.join(dir, f))
    : []

const importsOf = (file: string): Array<string> => {
  const text = fs.readFileSync(file, "utf8")
  const out: Array<string> = []
  for (const m of text.matchAll(importRe)) out.push((m[1] ?? m[2])!)
  return out
}

const packageOf = (spec: string): string => {
  if (spec.startsWith("node:")) return spec
  const parts = spec.split("/")
  return spec.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!
}

describe("package dependency chain", () => {
  for (const [pkg, rule] of Object.entries(rules)) {
    it(`@pgfx/${pkg} imports only what the chain allows`, () => {
      const manifest = JSON.parse(fs.readFileSync(path.join(root, "packages", pkg, "package.json"), "utf8")) as {
        dependencies?: Record<string, string>
        peerDependencies?: Record<string, string>
      }
      const declared = new Set([
        ...Object.keys(manifest.dependencies ?? {}),
        ...Object.keys(manifest.peerDependencies ?? {}),
      ])
      const violations: Array<string> = []
      for (const file of sourceFiles(path.join(root, "packages", pkg, "src"))) {
        for (const spec of importsOf(file)) {
          if (spec.startsWith(".")) continue
          const rel = path.relative(root, file)
          const allowed = rule.allow.some(
            (a) => spec === a || spec.startsWith(a.endsWith(":") ? a : `${a}/`) || packageOf(spec) === a,
          )
          if (!allowed) violations.push(`${rel}: "${spec}" is not allowed in @pgfx/${pkg}`)
          if (rule.deny.some((d) => d.test(spec))) violations.push(`${rel}: "${spec}" is forbidden in @pgfx/${pkg}`)
          if (!spec.startsWith("node:") && !declared.has(packageOf(spec))) {
            violations.push(`${rel}: "${packageOf(spec)}" is not declared in packages/${pkg}/package.json`)
          }
        }
      }
      expect(violations).toEqual([])
    })
  }

  it("detects a violation (the checker itself works)", () => {
    const fake = `import * as Net from "node:net"\nimport { x } from "@pgfx/client/PgConnection"\n`
    const specs = [...fake.matchAll(importRe)].map((m) => m[1] ?? m[2])
    expect(specs).toEqual(["node:net", "@pgfx/client/PgConnection"])
    const docExample = `export interface A {}\n/**\n * @example\n * import { B } from "@pgfx/client/B"\n */\n`
    expect([...docExample.matchAll(importRe)]).toEqual([])
    expect(rules.protocol!.deny.some((d) => d.test("node:net"))).toBe(true)
    expect(rules.testing!.deny.some((d) => d.test("@pgfx/client/internal/Connection"))).toBe(true)
    expect(rules.testing!.deny.some((d) => d.test("@pgfx/client/PgConnection"))).toBe(false)
  })
})

// The modules of @pgfx/client's src/ form a graph by their relative imports (type imports
// included); its strongly connected components of more than one module are its import cycles.
const clientSrc = path.join(root, "packages", "client", "src")

const importGraph = (dir: string): Map<string, Array<string>> => {
  const graph = new Map<string, Array<string>>()
  for (const file of sourceFiles(dir)) {
    const deps = importsOf(file)
      .filter((spec) => spec.startsWith("."))
      .map((spec) => path.resolve(path.dirname(file), spec))
    graph.set(file, [...new Set(deps)])
  }
  return graph
}

/** Tarjan's algorithm: the components of more than one module (or a module importing itself). */
const importCycles = (graph: ReadonlyMap<string, ReadonlyArray<string>>): Array<Array<string>> => {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: Array<string> = []
  const onStack = new Set<string>()
  const cycles: Array<Array<string>> = []
  const visit = (v: string): void => {
    index.set(v, index.size)
    low.set(v, index.get(v)!)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) !== index.get(v)) return
    const component: Array<string> = []
    let w: string
    do {
      w = stack.pop()!
      onStack.delete(w)
      component.push(w)
    } while (w !== v)
    if (component.length > 1 || graph.get(v)!.includes(v)) cycles.push(component.sort())
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return cycles
}

describe("client import graph", () => {
  it("has no import cycle in packages/client/src (type imports included)", () => {
    const cycles = importCycles(importGraph(clientSrc)).map((c) => c.map((f) => path.relative(clientSrc, f)))
    expect(cycles).toEqual([])
  })

  it("finds a cycle through a type import (the checker itself works)", () => {
    const graph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts"]],
      ["d.ts", ["a.ts"]],
      ["e.ts", ["e.ts"]],
    ])
    expect(importCycles(graph)).toEqual([["a.ts", "b.ts", "c.ts"], ["e.ts"]])
    const typeOnly = `import type { A } from "./A.ts"\nexport type { B } from "./B.ts"\n`
    expect([...typeOnly.matchAll(importRe)].map((m) => m[1])).toEqual(["./A.ts", "./B.ts"])
  })
})
