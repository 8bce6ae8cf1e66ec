/**
 * Every TypeScript block in the documentation compiles: each ```ts block of README.md,
 * docs/*.md and packages/* /README.md becomes its own module and the lot is type-checked with
 * the repository's settings (strict, erasable syntax only), except that unused names are
 * allowed (a snippet may declare what it only shows).
 *
 * A fragment that needs names from around it says so where a reader sees it: an HTML comment
 * just before the block (blank lines between allowed), `<!-- prelude: conn -->`, puts `docs/preludes/conn.ts` in front
 * of the block. Preludes declare values (`declare const conn: ...`) with inline `import()` types,
 * so a block's own imports never collide with them. No block is skipped.
 */
import { describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const out = path.join(root, ".tmp", "doc-blocks")
const preludes = path.join(root, "docs", "preludes")

interface Block {
  readonly doc: string
  /** 1-based line of the block's first code line in the document. */
  readonly line: number
  readonly prelude: string | undefined
  readonly code: string
}

const documents = (): Array<string> => [
  "README.md",
  ...fs
    .readdirSync(path.join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
  ...fs
    .readdirSync(path.join(root, "packages"))
    .map((p) => `packages/${p}/README.md`)
    .filter((f) => fs.existsSync(path.join(root, f))),
]

/** The ```ts blocks of a document, each with the prelude its preceding comment names. */
const blocksOf = (doc: string, text: string): Array<Block> => {
  const lines = text.split("\n")
  const blocks: Array<Block> = []
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)```(ts|typescript)\s*$/.exec(lines[i]!)
    if (fence === null) continue
    const indent = fence[1]!.length
    const start = i + 1
    let end = start
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end]!)) end++
    let before = i - 1
    while (before >= 0 && lines[before]!.trim() === "") before--
    const prelude = before >= 0 ? /^\s*<!--\s*prelude:\s*([\w-]+)\s*-->\s*$/.exec(lines[before]!)?.[1] : undefined
    const code = lines
      .slice(start, end)
      .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
      .join("\n")
    blocks.push({ doc, line: start + 1, prelude, code })
    i = end
  }
  return blocks
}

const moduleName = (block: Block) => `${block.doc.replace(/[^\w]+/g, "_")}_L${block.line}.ts`

const tscOutput = (project: string) =>
  new Promise<string>((resolve) => {
    execFile(
      process.execPath,
      [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", project, "--pretty", "false"],
      { cwd: root, maxBuffer: 16 << 20 },
      (_error, stdout, stderr) => resolve(stdout + stderr),
    )
  })

describe("documentation code blocks", () => {
  it("finds blocks and their preludes", () => {
    const blocks = blocksOf("x.md", "<!-- prelude: conn -->\n\n```ts\nyield* x\n```\n\n```ts\nconst a = 1\n```\n")
    expect(blocks).toEqual([
      { doc: "x.md", line: 4, prelude: "conn", code: "yield* x" },
      { doc: "x.md", line: 8, prelude: undefined, code: "const a = 1" },
    ])
  })

  it("every ts block of README.md, docs/*.md and the package READMEs type-checks", async () => {
    fs.rmSync(out, { recursive: true, force: true })
    fs.mkdirSync(out, { recursive: true })
    const blocks = documents().flatMap((doc) => blocksOf(doc, fs.readFileSync(path.join(root, doc), "utf8")))
    expect(blocks.length).toBeGreaterThan(10)
    const offsets = new Map<string, { block: Block; offset: number }>()
    for (const block of blocks) {
      let prefix = ""
      if (block.prelude !== undefined) {
        const file = path.join(preludes, `${block.prelude}.ts`)
        expect(fs.existsSync(file), `${block.doc}:${block.line} names a missing prelude ${file}`).toBe(true)
        prefix = fs.readFileSync(file, "utf8")
      }
      const name = moduleName(block)
      // `export {}` keeps every block a module of its own, with its own scope.
      const text = `${prefix}${block.code}\nexport {}\n`
      fs.writeFileSync(path.join(out, name), text)
      offsets.set(name, { block, offset: prefix.split("\n").length - 1 })
    }
    const config = {
      extends: "../../tsconfig.base.json",
      compilerOptions: { noUnusedLocals: false, noUnusedParameters: false },
      include: ["*.ts"],
    }
    fs.writeFileSync(path.join(out, "tsconfig.json"), JSON.stringify(config))
    const output = await tscOutput(path.join(out, "tsconfig.json"))
    // Point each error at the document line it comes from.
    const errors = output
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => {
        const m = /^(?:.*[/\\])?([\w.]+\.ts)\((\d+),(\d+)\): (.*)$/.exec(l)
        const at = m === null ? undefined : offsets.get(m[1]!)
        if (m === null || at === undefined) return l
        const line = Number(m[2]) - at.offset
        return line < 1
          ? `docs/preludes/${at.block.prelude}.ts:${m[2]} (before ${at.block.doc}:${at.block.line}): ${m[4]}`
          : `${at.block.doc}:${at.block.line + line - 1}:${m[3]}: ${m[4]}`
      })
    expect(errors).toEqual([])
  }, 180_000)
})
