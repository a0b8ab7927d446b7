import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    fileParallelism: false,
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["test/integration/**"],
          globalSetup: ["test/testenv/programs.ts"],
          // CI runs on a loaded 2-core machine: a test that spawns `ark` can take tens of seconds
          // there, and the spawn helper's own deadline (120 s) must fail before the test does.
          testTimeout: 180_000,
          hookTimeout: 180_000
        }
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/testenv/programs.ts", "test/testenv/globalSetup.ts"],
          testTimeout: 180_000,
          hookTimeout: 600_000
        }
      }
    ]
  }
})
