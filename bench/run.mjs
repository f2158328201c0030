#!/usr/bin/env node
// `npm run bench -- <name>`: runs bench/<name>.ts through tsx. Benchmarks print their figures;
// none of them is part of `npm test`.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const available = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.startsWith("bench-")).map((f) => f.slice(0, -3));
const [name, ...rest] = process.argv.slice(2);
if (!name || !existsSync(`${dir}${name}.ts`)) {
  console.error(`usage: npm run bench -- <${available.join("|")}>`);
  process.exit(2);
}
const result = spawnSync(process.execPath, ["--import", "tsx", `${dir}${name}.ts`, ...rest], { stdio: "inherit" });
process.exit(result.status ?? 1);
