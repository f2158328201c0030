import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const promptsDir = fileURLToPath(new URL("../../prompts/", import.meta.url));
const cache = new Map<string, string>();

function template(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(`${promptsDir}${name}.md`, "utf8");
    cache.set(name, text);
  }
  return text;
}

/** Fills `{{placeholders}}` of `prompts/<name>.md`; a missing value is a programming error. */
export function renderPrompt(name: string, values: Readonly<Record<string, string | number>>): string {
  return template(name).replace(/\{\{(\w+)\}\}/g, (_match, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`prompt ${name} needs {{${key}}}`);
    return String(value);
  });
}
