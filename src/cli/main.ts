import { BriefwrightError, ConfigError, describeError } from "../domain/errors.ts";

const usage = `briefwright — turns an app brief into a deployed, verified, revisable web app

Usage:
  briefwright serve                                  start the service (API + workers)
  briefwright fake-llm --fixtures <file|dir> --port <n>  the scripted LLM (OpenAI-compatible, Gemini, embeddings)
  briefwright demo                                   service + scripted LLM + a round 1 and a round 2
  briefwright migrate                                apply database migrations and exit
`;

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  serve: async () => (await import("./serve-command.ts")).runServeCommand(),
  "fake-llm": async (argv) => (await import("./fake-llm-command.ts")).runFakeLlmCommand(argv),
  demo: async (argv) => (await import("./demo-command.ts")).runDemoCommand(argv),
  migrate: async () => (await import("./migrate-command.ts")).runMigrateCommand(),
};

const [name, ...argv] = process.argv.slice(2);
const command = name ? commands[name] : undefined;
if (!command) {
  process.stdout.write(usage);
  process.exit(name === undefined || name === "help" || name === "--help" ? 0 : 2);
}
try {
  await command(argv);
} catch (error) {
  // A bad setting stops the start with a message that names the variable, not a stack trace.
  if (error instanceof ConfigError) {
    process.stderr.write(`briefwright: configuration error: ${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`briefwright: ${error instanceof BriefwrightError ? error.message : describeError(error)}\n`);
  if (!(error instanceof BriefwrightError) && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(1);
}
