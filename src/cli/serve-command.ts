import { loadConfig } from "../config.ts";
import { startService } from "../main.ts";

/** `briefwright serve`: the service, until SIGINT or SIGTERM. */
export async function runServeCommand(): Promise<void> {
  const config = loadConfig();
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
