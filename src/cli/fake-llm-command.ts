import { CliUsageError } from "../domain/errors.ts";
import { startFakeLlm } from "../fake-llm/start-fake-llm.ts";
import { parseCommandArgs } from "./parse-command-args.ts";

const USAGE =
  "usage: briefwright fake-llm --fixtures <file-or-dir> [--fixtures …] [--port <n>] [--host <addr>] [--require-key]";

/**
 * `briefwright fake-llm`: serves the scripted LLM (PROTOCOL §6) until SIGINT or SIGTERM. The one
 * line it prints is what scripts wait for before pointing the product at it.
 */
export async function runFakeLlmCommand(argv: string[]): Promise<void> {
  const parsed = parseCommandArgs(
    argv,
    {
      fixtures: { type: "string", multiple: true },
      port: { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" },
      "require-key": { type: "boolean", default: false },
    },
    USAGE,
  );
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const values = parsed.values as { fixtures?: string[]; port: string; host: string; "require-key": boolean };
  const fixtures = values.fixtures ?? [];
  if (fixtures.length === 0) throw new CliUsageError("--fixtures: at least one fixture file or directory is required", USAGE);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliUsageError(`--port: must be 0…65535, got "${values.port}"`, USAGE);

  const fake = await startFakeLlm({ fixtures, port, host: values.host, requireKey: values["require-key"] });
  process.stdout.write(`fake-llm listening on ${fake.url}\n`);

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await fake.close();
}
