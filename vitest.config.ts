import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    {
      // Its published sourcemaps point at sources it does not ship; once inlined (below), Vite
      // would warn about every file of it on every run.
      name: "drop-workflow-parser-sourcemaps",
      enforce: "pre",
      load(id) {
        if (!id.includes("/node_modules/@actions/")) return null;
        const path = id.split("?")[0]!;
        if (!path.endsWith(".js")) return null;
        return { code: readFileSync(path, "utf8").replace(/\/\/# sourceMappingURL=\S+\s*$/, ""), map: null };
      },
    },
  ],
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests spawn git, Chromium and child services; two cores do not like a crowd.
    maxWorkers: 2,
    pool: "forks",
    // @actions/workflow-parser imports its schema JSON without an import attribute, which plain
    // Node 20 refuses; tsx (how the CLI runs) and Vite's transform both accept it.
    server: { deps: { inline: ["@actions/workflow-parser"] } },
  },
});
