import { defineConfig } from "vitest/config"

const unit = (name: string) => ({
  test: {
    name,
    include: [`packages/${name}/test/**/*.test.ts`],
  },
})

export default defineConfig({
  test: {
    projects: [
      unit("protocol"),
      unit("types"),
      unit("client"),
      unit("sql"),
      unit("testing"),
      {
        test: {
          name: "repo",
          include: ["test/architecture.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          exclude: ["test/architecture.test.ts"],
          globalSetup: ["test/globalSetup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
})
