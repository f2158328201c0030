import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/**
 * Checkpoints a SQLite WAL from a worker thread with its own connection, so the copying and
 * fsyncs a checkpoint needs never run on the event loop. With SQLite's automatic checkpoint, the
 * commit that crosses the threshold copies the pages and fsyncs twice inline: on a VM disk a
 * multi-millisecond stall of every request in flight, which alone breaks a 10 ms p99.
 *
 * The worker only ever runs PASSIVE checkpoints: they never take the write lock, so the main
 * connection — whose busy handler would sleep on the event loop — never waits for this one.
 * (An earlier version asked for RESTART past a threshold; RESTART holds the write lock through
 * the copy and both fsyncs, and the event loop slept in the busy handler for all of it.)
 *
 * PASSIVE alone does not bound the WAL: SQLite rewinds it only when a write transaction starts
 * with every frame already checkpointed, and under steady writes each checkpoint ends behind the
 * latest commit. So past `rewindAfterFrames` the worker asks the owner to `quiesce`: the owner
 * holds back new write transactions of this process (asynchronously — the group commit keeps
 * queueing) and says when none is running; the worker checkpoints what is left (a few frames
 * written since its last pass, and the fsyncs) and says so; the next write rewinds the WAL. The
 * pause is that last pass, once per `rewindAfterFrames` frames; if the worker does not answer
 * within `quiesceLimitMs` the owner resumes anyway.
 */
export interface WalCheckpointer {
  /** Ends the worker (and its connection). Idempotent. */
  stop(): Promise<void>;
}

export interface WalCheckpointerOptions {
  readonly intervalMs: number;
  /** WAL size (frames) past which the worker asks for a quiet moment to let SQLite rewind it. */
  readonly rewindAfterFrames: number;
  /** Holds back this process's write transactions; resolves with the function that resumes them. */
  readonly quiesce: () => Promise<() => void>;
  /** Resume writes after this long even if the worker has not answered. */
  readonly quiesceLimitMs: number;
  /** Called if the worker dies, so the owner can fall back to SQLite's automatic checkpoint. */
  readonly onFailure: (error: unknown) => void;
}

// CommonJS because an `eval` worker is one; the driver's path comes in workerData so this runs
// from any working directory.
const workerSource = `
const { workerData, parentPort } = require("node:worker_threads");
const Database = require(workerData.driverPath);
const db = new Database(workerData.file);
// PASSIVE never waits for locks; a busy checkpointer (another process's) just means "next time".
db.pragma("busy_timeout = 0");
const passive = () => {
  try {
    return db.pragma("wal_checkpoint(PASSIVE)")[0];
  } catch (error) {
    if (/^SQLITE_(BUSY|LOCKED)/.test(String(error && error.code))) return undefined;
    throw error;
  }
};
let waiting = false;
parentPort.on("message", (message) => {
  if (message !== "quiet") return;
  try {
    passive();
  } finally {
    waiting = false;
    parentPort.postMessage("resume");
  }
});
setInterval(() => {
  if (waiting) return;
  const result = passive();
  // The WAL still this long means no write found it fully checkpointed since it was last rewound.
  if (!result || result.log <= workerData.rewindAfterFrames) return;
  // Catch up once more first, so the pass that runs while writes are held back is short.
  passive();
  waiting = true;
  parentPort.postMessage("quiesce");
}, workerData.intervalMs);
`;

export function startWalCheckpointer(file: string, options: WalCheckpointerOptions): WalCheckpointer {
  const driverPath = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(workerSource, {
    eval: true,
    workerData: { file, driverPath, intervalMs: options.intervalMs, rewindAfterFrames: options.rewindAfterFrames },
  });
  // Housekeeping must not keep a finished process alive.
  worker.unref();

  let stopping = false;
  let resume: (() => void) | undefined;
  let limit: NodeJS.Timeout | undefined;
  const resumeWrites = () => {
    clearTimeout(limit);
    limit = undefined;
    const release = resume;
    resume = undefined;
    release?.();
  };
  worker.on("message", (message: unknown) => {
    if (message === "resume") {
      resumeWrites();
    } else if (message === "quiesce" && !resume) {
      void options.quiesce().then((release) => {
        if (stopping) return release();
        resume = release;
        limit = setTimeout(resumeWrites, options.quiesceLimitMs);
        limit.unref();
        worker.postMessage("quiet");
      });
    }
  });

  worker.on("error", (error) => {
    resumeWrites();
    if (!stopping) options.onFailure(error);
  });
  worker.on("exit", (code) => {
    resumeWrites();
    if (!stopping && code !== 0) options.onFailure(new Error(`WAL checkpointer exited with code ${code}`));
  });
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopping = true;
      return (stopped ??= worker.terminate().then(() => resumeWrites()));
    },
  };
}
