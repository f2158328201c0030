import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";

/** What GitHub's own workflow parser said about one workflow file. */
export type WorkflowValidation =
  | { readonly valid: true }
  | { readonly valid: false; readonly problems: readonly string[] };

/** Files GitHub Actions reads as workflows: YAML directly in `.github/workflows/`. */
export function isWorkflowPath(path: string): boolean {
  return /^\.github\/workflows\/[^/]+\.ya?ml$/i.test(path);
}

// GitHub stops reading a workflow at its first handful of errors; so does the repair prompt.
const MAX_PROBLEMS = 10;

/**
 * Parses and validates a workflow with `@actions/workflow-parser` — the parser behind GitHub's
 * Actions language server — against GitHub's workflow schema: YAML syntax, unknown keys, bad
 * `on` events, a job without `runs-on`, unclosed `${{ }}` expressions, cron syntax, `needs` that
 * name no job. Pure (no I/O); the parser's messages name the line and column, so they go to the
 * model as they are.
 */
export async function validateWorkflow(path: string, content: string): Promise<WorkflowValidation> {
  const parsed = parseWorkflow({ name: path, content }, new NoOperationTraceWriter());
  const problems = new Set(parsed.context.errors.getErrors().map((error) => error.message));
  // Conversion adds the checks that need the whole workflow (job graph, cron, reusable workflows).
  if (parsed.value && problems.size === 0) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    for (const error of template.errors ?? []) problems.add(error.Message);
  }
  if (!parsed.value && problems.size === 0) problems.add(`${path}: the file is empty or not a YAML mapping`);
  return problems.size === 0 ? { valid: true } : { valid: false, problems: [...problems].slice(0, MAX_PROBLEMS) };
}
