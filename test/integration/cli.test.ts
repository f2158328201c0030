import { execFile, spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** The real binary, as a user runs it: `node bin/briefwright.mjs …`. */
const bin = join(process.cwd(), "bin/briefwright.mjs");

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("briefwright CLI", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "briefwright-cli-"));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it.each([[[]], [["help"]], [["--help"]], [["-h"]]])("prints the usage and exits 0 for %j", async (args) => {
    const result = await run(args);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("briefwright serve [--port <n>] [--host <addr>]");
  });

  it("names an unknown command and exits 2", async () => {
    const result = await run(["deploy-everything"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "deploy-everything"');
    expect(result.stderr).toContain("Usage:");
  });

  it.each(["serve", "migrate", "demo", "fake-llm"])("`%s --help` prints that command's usage and starts nothing", async (command) => {
    // A DATA_DIR that must stay empty: serve and migrate would create the database in it.
    const result = await run([command, "--help"], { DATA_DIR: dataDir, PORT: "1" });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`usage: briefwright ${command}`);
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/);
    expect(await readdir(dataDir)).toEqual([]);
  });

  it.each([
    [["serve", "--bogus"], /Unknown option '--bogus'/],
    [["fake-llm", "--port", "1"], /--fixtures: at least one fixture/],
    [["demo", "stray"], /positional|Unexpected argument/i],
  ])("refuses %j with a one-line reason, the command's usage and exit 2, no stack trace", async (args, reason) => {
    const result = await run(args, { DATA_DIR: dataDir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(reason);
    expect(result.stderr).toContain(`usage: briefwright ${args[0]}`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("`serve --port` listens on that port (not PORT), and a bad one names the setting", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [bin, "serve", "--port", String(port), "--host", "127.0.0.1"], {
      env: { ...process.env, DATA_DIR: dataDir, PORT: "1", PAGES_PORT: "0", STUDENT_SECRET: "cli-test-secret", API_KEY: "cli-test-api-key-0123456789", LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const listening = await new Promise<string>((resolve, reject) => {
        const lines = createInterface({ input: child.stdout! });
        lines.on("line", (line) => line.includes("briefwright listening") && resolve(line));
        child.once("exit", (code) => reject(new Error(`serve exited early with ${code}`)));
      });
      expect(JSON.parse(listening).url).toBe(`http://127.0.0.1:${port}`);
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }

    const bad = await run(["serve", "--port", "eighty"], { DATA_DIR: dataDir });
    expect(bad.code).toBe(78);
    expect(bad.stderr).toContain("PORT");
  });
});
