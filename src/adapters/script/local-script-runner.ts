import { spawn, spawnSync } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { unsafePathProblem } from "../../domain/repository-path.ts";
import { BriefwrightError } from "../../domain/errors.ts";
import type { ScriptRunner, ScriptRunnerCapabilities, ScriptRunRequest, ScriptRunResult } from "../../ports/script-runner.ts";

/** The runner could not prepare or clean up its working copy (not the script's fault). */
export class ScriptRunnerError extends BriefwrightError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("script-runner-failed", message, options);
  }
}

export interface LocalScriptRunnerSettings {
  /** The Python command: a name looked up in `searchPath`, or an absolute path. Default `python3`. */
  readonly pythonCommand?: string;
  /**
   * PATH of the child, and where a bare command name is looked up. The child gets this and a
   * handful of fixed variables, never this process's environment (which holds the secrets).
   * Default: the system's own folders, so Debian's python3 with its python3-* modules is found.
   */
  readonly searchPath?: string;
  /** `auto` probes `unshare -n` (root) then `unshare -rn` (user namespaces); `none` skips that. */
  readonly networkIsolation?: "auto" | "none";
  /** Bytes of stdout and of stderr kept, each (the end is kept). Default 64 KiB. */
  readonly maxOutputBytes?: number;
  /** Where working copies are made. Default the OS temp folder. */
  readonly tempDir?: string;
}

const DEFAULT_SEARCH_PATH = "/usr/local/bin:/usr/bin:/bin";

/**
 * Runs scripts as local child processes: each call copies the tree into a fresh temporary
 * folder, starts the interpreter there in its own process group — inside a new network
 * namespace when isolation is asked for (nothing but a loopback device, so no DNS and no
 * route out) — kills the whole group at the time cap, and removes the folder afterwards.
 */
export function createLocalScriptRunner(settings: LocalScriptRunnerSettings = {}): ScriptRunner {
  const pythonCommand = settings.pythonCommand ?? "python3";
  const searchPath = settings.searchPath ?? DEFAULT_SEARCH_PATH;
  const maxOutputBytes = settings.maxOutputBytes ?? 64 * 1024;
  const isolationPrefix = settings.networkIsolation === "none" ? undefined : probeNetworkIsolation();
  const capabilities: ScriptRunnerCapabilities = Object.freeze({ networkIsolation: isolationPrefix ? "namespace" : "none" });

  async function run(request: ScriptRunRequest): Promise<ScriptRunResult> {
    request.signal?.throwIfAborted();
    if (request.isolateNetwork && !isolationPrefix) {
      return { outcome: "unavailable", reason: "this host cannot take network access away from a process (no usable unshare), so the script was not run" };
    }
    const interpreter = await resolveCommand(pythonCommand, searchPath);
    if (!interpreter) return { outcome: "unavailable", reason: `${pythonCommand} is not installed on this host` };

    let workDir: string;
    try {
      workDir = await mkdtemp(join(settings.tempDir ?? tmpdir(), "briefwright-script-"));
    } catch (cause) {
      throw new ScriptRunnerError("cannot create a working folder for the script", { cause });
    }
    try {
      await writeTree(workDir, request.files);
      const argv = [...(request.isolateNetwork ? isolationPrefix! : []), interpreter, ...request.args];
      return await runProcess(argv, workDir, request, searchPath, maxOutputBytes);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }

  return { version: 1, kind: "local-process", capabilities, run };
}

/** The command prefix that gives a child no network, or undefined when this host has none. */
function probeNetworkIsolation(): readonly string[] | undefined {
  for (const prefix of [["unshare", "--net"], ["unshare", "--map-root-user", "--net"]]) {
    const probe = spawnSync(prefix[0]!, [...prefix.slice(1), "true"], { stdio: "ignore", timeout: 5000 });
    if (probe.status === 0) return prefix;
  }
  return undefined;
}

async function resolveCommand(command: string, searchPath: string): Promise<string | undefined> {
  const candidates = command.includes("/") ? [command] : searchPath.split(":").filter(Boolean).map((folder) => join(folder, command));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next folder
    }
  }
  return undefined;
}

async function writeTree(root: string, files: ScriptRunRequest["files"]): Promise<void> {
  for (const [path, content] of files) {
    // The tree passed the gate already; this keeps a bad path from ever leaving the folder.
    const problem = unsafePathProblem(path);
    if (problem) throw new ScriptRunnerError(`cannot copy ${JSON.stringify(path)}: ${problem}`);
    const target = join(root, path);
    try {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    } catch (cause) {
      throw new ScriptRunnerError(`cannot copy ${path} into the working folder`, { cause });
    }
  }
}

function runProcess(argv: readonly string[], cwd: string, request: ScriptRunRequest, searchPath: string, maxOutputBytes: number): Promise<ScriptRunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd,
      // A fixed environment: the service's own (tokens, the student secret) must not reach a script.
      env: {
        PATH: searchPath,
        HOME: cwd,
        LANG: "C.UTF-8",
        PYTHONIOENCODING: "utf-8",
        PYTHONDONTWRITEBYTECODE: "1",
        PYTHONHASHSEED: "0",
        MPLBACKEND: "Agg",
      },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so the time cap kills what the script started too.
      detached: true,
    });
    const stdout = new TailBuffer(maxOutputBytes);
    const stderr = new TailBuffer(maxOutputBytes);
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    let timedOut = false;
    let aborted = false;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, request.timeoutMs);
    const onAbort = () => {
      aborted = true;
      killGroup();
    };
    request.signal?.addEventListener("abort", onAbort, { once: true });
    // Aborted while the tree was being copied: the listener came too late to hear it.
    if (request.signal?.aborted) onAbort();
    child.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", onAbort);
      if (error.code === "ENOENT") resolve({ outcome: "unavailable", reason: `${argv[0]} is not installed on this host` });
      else reject(new ScriptRunnerError(`cannot start ${argv[0]}`, { cause: error }));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", onAbort);
      if (aborted) return reject(request.signal?.reason);
      resolve({ outcome: "exited", exitCode: code, timedOut, stdout: stdout.text(), stderr: stderr.text() });
    });
  });
}

/** Keeps the last `max` bytes of a stream: a traceback's last line is the one that matters. */
class TailBuffer {
  #chunks: Buffer[] = [];
  #size = 0;
  #dropped = false;
  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    while (this.#size > this.max && this.#chunks.length > 0) {
      const excess = this.#size - this.max;
      const first = this.#chunks[0]!;
      this.#dropped = true;
      if (first.length <= excess) {
        this.#chunks.shift();
        this.#size -= first.length;
      } else {
        this.#chunks[0] = first.subarray(excess);
        this.#size -= excess;
      }
    }
  }

  text(): string {
    const text = Buffer.concat(this.#chunks).toString("utf8");
    return this.#dropped ? `…${text}` : text;
  }
}
