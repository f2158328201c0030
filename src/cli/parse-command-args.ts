import { parseArgs, type ParseArgsConfig } from "node:util";
import { CliUsageError, describeError } from "../domain/errors.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * One command's arguments, strictly: an unknown option, a missing value or a stray word is a
 * CliUsageError carrying the command's usage (printed by cli/main.ts, exit 2) instead of a stack
 * trace. `-h`/`--help` on any command answers `{ help: true }` before anything is started.
 */
export function parseCommandArgs(argv: string[], options: Options, usage: string): { values: Record<string, string | boolean | (string | boolean)[] | undefined>; help: boolean } {
  try {
    const { values } = parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, strict: true, allowPositionals: false });
    return { values, help: values.help === true };
  } catch (cause) {
    throw new CliUsageError(describeError(cause).replace(/^TypeError(\s*\[[A-Z_]+\])?:\s*/, ""), usage, { cause });
  }
}
