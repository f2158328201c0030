import { z } from "zod";
import type { CodeSandbox, SandboxLimits } from "../ports/code-sandbox.ts";
import type { BuildToolFactory } from "./build-tool.ts";
import { textPreview } from "./build-tool.ts";
import { extensionOf } from "./convert-file.ts";

export const RUN_JS_TOOL = "run_js" as const;

const runJsArguments = z.object({
  code: z
    .string()
    .describe('A JavaScript function expression, e.g. (files) => { const d = files["raw.json"]; return { max: …, min: … }; }. It gets one object keyed by the input paths'),
  inputs: z.array(z.string()).describe("Paths of fetched, saved or attached files to pass in: .json files arrive parsed, anything else as text"),
  save_as: z.string().optional().describe("A relative path such as data.json: the result is saved there (a returned string as is, anything else as JSON)"),
});

export type RunJsArguments = z.infer<typeof runJsArguments>;

export type RunJsResult =
  | { readonly ok: true; readonly kind: "text" | "json"; readonly bytes: number; readonly saved_as: string | null; readonly result: string; readonly truncated: boolean }
  | { readonly ok: false; readonly error: string };

export interface RunJsSettings {
  readonly sandbox: CodeSandbox;
  /** Per run. Defaults: 5 s, 64 MiB, output capped at 1 MiB. */
  readonly limits?: Partial<SandboxLimits>;
  /** Runs allowed in one round (a runaway loop of tool calls is refused past it). Default 20. */
  readonly maxRuns?: number;
}

/**
 * `run_js({code, inputs, save_as?})` for the model: derived data (a maximum, a filtered list, a
 * total) is computed by code over the real bytes rather than by model arithmetic. The code runs in
 * the sandbox (no network, no file system, capped time and memory); its result is saved as a file
 * of the round when asked. A failure — a throw, an endless loop, unbounded allocation — comes back
 * as `{ok: false, error}` for the model to read and fix.
 */
export function runJsBuildTool(settings: RunJsSettings): BuildToolFactory {
  const limits: SandboxLimits = { timeoutMs: 5000, memoryBytes: 64 * 1024 * 1024, maxOutputBytes: 1024 * 1024, ...settings.limits };
  const maxRuns = settings.maxRuns ?? 20;
  return ({ files, record }) => {
    let runs = 0;
    return {
      name: RUN_JS_TOOL,
      description:
        "Run a small JavaScript function over fetched or attached data and optionally save its result as a file. Use it to " +
        "derive values the brief asks for (maximum, minimum, totals, filtered entries) instead of computing them yourself. " +
        "The function runs in a sandbox with only standard JavaScript: no fetch, no require, no timers, no file system.",
      parameters: runJsArguments,
      async execute(args: RunJsArguments, { signal }): Promise<RunJsResult> {
        const path = args.save_as?.trim() || null;
        const from = args.inputs.join(", ");
        const refuse = (reason: string): RunJsResult => {
          record({ tool: RUN_JS_TOOL, outcome: "refused", path, from, bytes: 0, detail: reason });
          return { ok: false, error: reason };
        };
        if (path !== null) {
          const problem = files.savePathProblem(path);
          if (problem) return refuse(problem);
        }
        if (++runs > maxRuns) return refuse(`no more than ${maxRuns} runs are allowed while building one round`);
        const input: Record<string, unknown> = {};
        for (const name of args.inputs) {
          const bytes = files.read(name);
          if (!bytes) return refuse(`there is no file ${JSON.stringify(name)}; readable files: ${files.readablePaths().join(", ") || "(none)"}`);
          input[name] = asInput(name, bytes);
        }
        const result = await settings.sandbox.run({ code: args.code, input, limits, signal });
        if (!result.ok) return refuse(`the function failed (${result.kind}): ${result.error}`);
        const body = Buffer.from(result.kind === "json" ? `${result.output}\n` : result.output, "utf8");
        if (path !== null) {
          const contentType = result.kind === "json" ? "application/json" : extensionOf(path) === "csv" ? "text/csv; charset=utf-8" : "text/plain; charset=utf-8";
          files.save({ path, url: from, bytes: body.length, contentType, base64: body.toString("base64"), via: "tool", tool: RUN_JS_TOOL });
        }
        record({ tool: RUN_JS_TOOL, outcome: path === null ? "answered" : "saved", path, from, bytes: body.length, detail: result.kind });
        const shown = textPreview(Buffer.from(result.output, "utf8"));
        return { ok: true, kind: result.kind, bytes: body.length, saved_as: path, result: shown.preview, truncated: shown.truncated };
      },
    };
  };
}

/** A .json file arrives parsed (so the code need not parse it); anything else as text. */
function asInput(name: string, bytes: Buffer): unknown {
  const text = bytes.toString("utf8");
  if (extensionOf(name) !== "json") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
