import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalScriptRunner } from "../../src/adapters/script/local-script-runner.ts";
import type { ScriptRunner, ScriptRunRequest } from "../../src/ports/script-runner.ts";

// The script-runner port's contract, run against every adapter (narrow with SCRIPT_RUNNERS).
// Real interpreters, real processes: Debian's python3 (see .ci/run).
const adapters: ReadonlyArray<{ name: string; create: () => ScriptRunner }> = [{ name: "local-process", create: () => createLocalScriptRunner() }];
const wanted = process.env.SCRIPT_RUNNERS?.split(",").map((name) => name.trim());

const tree = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([path, text]) => [path, Buffer.from(text)]));

describe.each(adapters.filter((adapter) => !wanted || wanted.includes(adapter.name)))("ScriptRunner contract: $name", ({ create }) => {
  let runner: ScriptRunner;
  let listener: Server;
  let connections = 0;
  let port = 0;

  beforeAll(async () => {
    runner = create();
    listener = createServer((socket) => {
      connections++;
      socket.end("hello\n");
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    port = (listener.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => listener.close(resolve));
  });

  const run = (files: Record<string, string>, args: string[], extra: Partial<ScriptRunRequest> = {}) =>
    runner.run({ interpreter: "python", args, files: tree(files), timeoutMs: 20_000, isolateNetwork: true, ...extra });

  it("says which version and how it confines", () => {
    expect(runner.version).toBe(1);
    expect(["namespace", "none"]).toContain(runner.capabilities.networkIsolation);
  });

  it("runs a script in a copy of the tree: its files are there, its writes go nowhere", async () => {
    const files = { "data/in.csv": "a,b\n1,2\n", "run.py": "import csv\nrows = list(csv.reader(open('data/in.csv')))\nopen('out.txt', 'w').write('x')\nprint(len(rows))\n" };
    const result = await run(files, ["run.py"]);
    expect(result).toMatchObject({ outcome: "exited", exitCode: 0, timedOut: false, stdout: "2\n" });
    // A second run starts from the tree again, not from the first run's folder.
    const again = await run({ "check.py": "import os\nprint(os.path.exists('out.txt'))\n" }, ["check.py"]);
    expect(again).toMatchObject({ exitCode: 0, stdout: "False\n" });
  });

  it("reports a failing script's exit code and stderr", async () => {
    const result = await run({ "bad.py": "values = [1, 2]\nprint(values[5])\n" }, ["bad.py"]);
    expect(result.outcome).toBe("exited");
    if (result.outcome !== "exited") return;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/IndexError: list index out of range/);
  });

  it("does not hand the service's environment to a script", async () => {
    const result = await run({ "env.py": "import os, json\nprint(json.dumps(sorted(os.environ)))\n" }, ["env.py"]);
    expect(result.outcome).toBe("exited");
    if (result.outcome !== "exited") return;
    const names: string[] = JSON.parse(result.stdout);
    expect(names).toContain("PATH");
    expect(names.some((name) => /SECRET|TOKEN|KEY|DATABASE_URL/.test(name))).toBe(false);
  });

  it("stops a script at the time cap, with what it started", async () => {
    const result = await run({ "spin.py": "import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'while True: pass'])\nwhile True:\n    pass\n" }, ["spin.py"], { timeoutMs: 1500 });
    expect(result).toMatchObject({ outcome: "exited", timedOut: true, exitCode: null });
  });

  it("with isolation, a script reaches no network, not even this machine's loopback", async () => {
    if (runner.capabilities.networkIsolation === "none") {
      // Such a runner must refuse instead of running unconfined.
      expect((await run({ "x.py": "print(1)\n" }, ["x.py"])).outcome).toBe("unavailable");
      return;
    }
    const probe = `import socket\ntry:\n    socket.create_connection(("127.0.0.1", ${port}), timeout=3).recv(10)\n    print("connected")\nexcept OSError as error:\n    print("refused", type(error).__name__)\n`;
    const confined = await run({ "net.py": probe }, ["net.py"]);
    expect(confined).toMatchObject({ outcome: "exited", exitCode: 0 });
    if (confined.outcome === "exited") expect(confined.stdout).toMatch(/^refused/);
    expect(connections).toBe(0);
    // The same probe without isolation does connect, so the refusal above is the namespace's doing.
    const open = await run({ "net.py": probe }, ["net.py"], { isolateNetwork: false });
    if (open.outcome === "exited") expect(open.stdout).toBe("connected\n");
    expect(connections).toBe(1);
  });

  it("answers unavailable, not a failure, when the interpreter is not installed", async () => {
    const missing = createLocalScriptRunner({ pythonCommand: "python-not-installed-9z" });
    expect(await missing.run({ interpreter: "python", args: ["x.py"], files: tree({ "x.py": "print(1)" }), timeoutMs: 5000, isolateNetwork: false })).toEqual({
      outcome: "unavailable",
      reason: "python-not-installed-9z is not installed on this host",
    });
  });

  it("rejects with the signal's reason when aborted", async () => {
    const controller = new AbortController();
    const pending = run({ "spin.py": "while True:\n    pass\n" }, ["spin.py"], { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("round deadline")), 300);
    await expect(pending).rejects.toThrow("round deadline");
  });
});
