import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    fileParallelism: false,
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["test/integration/**"]
        }
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/testenv/globalSetup.ts"],
          testTimeout: 180_000,
          hookTimeout: 600_000
        }
      }
    ]
  }
})
