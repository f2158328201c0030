import { loadConfig } from "../config.ts";
import { startService } from "../main.ts";
import { parseCommandArgs } from "./parse-command-args.ts";

const USAGE = `usage: briefwright serve [--port <n>] [--host <addr>]
  --port <n>     HTTP port of the API (overrides PORT; default 8000)
  --host <addr>  interface to listen on (overrides HOST; default 127.0.0.1)
Everything else comes from the environment and ./.env (README: Configuration).`;

/** `briefwright serve`: the service, until SIGINT or SIGTERM. */
export async function runServeCommand(argv: string[] = []): Promise<void> {
  const { values, help } = parseCommandArgs(argv, { port: { type: "string" }, host: { type: "string" } }, USAGE);
  if (help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  // The flags go through the same schema as PORT and HOST, so a bad value names its variable.
  const overrides: Record<string, string> = {};
  if (typeof values.port === "string") overrides.PORT = values.port;
  if (typeof values.host === "string") overrides.HOST = values.host;
  const config = loadConfig(process.env, { overrides });
  const service = await startService(config);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    service.logger.info({ signal }, "stopping");
    await service.stop();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}
