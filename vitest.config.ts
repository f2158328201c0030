import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests spawn git, Chromium and child services; two cores do not like a crowd.
    maxWorkers: 2,
    pool: "forks",
  },
});
