import { BriefwrightError, CliUsageError, ConfigError, describeError } from "../domain/errors.ts";

const usage = `briefwright — turns an app brief into a deployed, verified, revisable web app

Usage:
  briefwright serve [--port <n>] [--host <addr>]     start the service (API + workers)
  briefwright fake-llm --fixtures <file|dir> [--port <n>]  the scripted LLM (OpenAI-compatible, Gemini, Anthropic, embeddings)
  briefwright demo [--once] [--port <n>]             service + scripted LLM + a round 1 and a round 2
  briefwright migrate                                apply database migrations and exit
  briefwright <command> --help                       what a command takes

Settings come from the environment (and ./.env); see the README's configuration table.
`;

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  serve: async (argv) => (await import("./serve-command.ts")).runServeCommand(argv),
  "fake-llm": async (argv) => (await import("./fake-llm-command.ts")).runFakeLlmCommand(argv),
  demo: async (argv) => (await import("./demo-command.ts")).runDemoCommand(argv),
  migrate: async (argv) => (await import("./migrate-command.ts")).runMigrateCommand(argv),
};

const [name, ...argv] = process.argv.slice(2);
if (name === undefined || name === "help" || name === "--help" || name === "-h") {
  process.stdout.write(usage);
  process.exit(0);
}
const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
if (!command) {
  process.stderr.write(`briefwright: unknown command ${JSON.stringify(name)}\n\n${usage}`);
  process.exit(2);
}
try {
  await command(argv);
} catch (error) {
  if (error instanceof CliUsageError) {
    process.stderr.write(`briefwright ${name}: ${error.message}\n${error.usage}\n`);
    process.exit(2);
  }
  // A bad setting stops the start with a message that names the variable, not a stack trace.
  if (error instanceof ConfigError) {
    process.stderr.write(`briefwright: configuration error: ${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`briefwright: ${error instanceof BriefwrightError ? error.message : describeError(error)}\n`);
  if (!(error instanceof BriefwrightError) && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(1);
}
