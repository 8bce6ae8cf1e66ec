import { fileURLToPath } from "node:url"
import { defaultServerConditions } from "vite"
import { defineConfig } from "vitest/config"

// Tests run on the TypeScript sources: `@pgfx/*` resolves through the "@pgfx/source" export
// condition (package.json exports); an installed package resolves to its compiled dist/.
const conditions = ["@pgfx/source", ...defaultServerConditions]
// Node processes the tests start (examples, the CLIs) inherit the condition, also when vitest is
// not started through npm (which sets it from .npmrc).
if (!(process.env["NODE_OPTIONS"] ?? "").includes("--conditions=@pgfx/source")) {
  process.env["NODE_OPTIONS"] = `${process.env["NODE_OPTIONS"] ?? ""} --conditions=@pgfx/source`.trim()
}

const unit = (name: string) => ({
  extends: true,
  test: {
    name,
    include: [`packages/${name}/test/**/*.test.ts`],
  },
})

// The same mapping as an alias, for what vitest loads outside its test environments (the
// integration project's globalSetup ignores `ssr.resolve.conditions`), so a fresh clone with no
// compiled dist/ still runs every suite on the sources.
const packages = fileURLToPath(new URL("./packages/", import.meta.url))
const alias = [
  { find: /^@pgfx\/(protocol|types|client|sql|testing|gssapi)$/, replacement: `${packages}$1/src/index.ts` },
  { find: /^@pgfx\/(protocol|types|client|sql|testing|gssapi)\/(.+)$/, replacement: `${packages}$1/src/$2.ts` },
]

export default defineConfig({
  resolve: { alias },
  ssr: { resolve: { conditions } },
  test: {
    projects: [
      unit("protocol"),
      unit("types"),
      unit("client"),
      unit("sql"),
      unit("testing"),
      unit("gssapi"),
      {
        extends: true,
        test: {
          name: "repo",
          include: ["test/architecture.test.ts", "test/docs.test.ts", "test/packages.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "consumer",
          include: ["test/consumer.test.ts"],
          testTimeout: 300_000,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          exclude: ["test/architecture.test.ts", "test/consumer.test.ts", "test/docs.test.ts", "test/packages.test.ts"],
          globalSetup: ["test/globalSetup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
})
