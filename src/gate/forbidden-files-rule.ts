import type { BuildContract } from "../domain/build-contract.ts";
import type { GateDecision, GateFiles } from "./gate-decision.ts";

const RULE = "forbidden-files";

/**
 * Files the brief or a check says must not be committed ("do not commit result.json") are taken
 * out of the candidate here, deterministically, rather than sent back for a repair: leaving a
 * file out is always possible and never needs the model, and a model that writes the file anyway
 * (to show what the workflow would produce) costs no attempt. Each drop is a `fixed` decision.
 */
export function dropForbiddenFiles(files: GateFiles, contract: BuildContract | undefined): { files: Map<string, Buffer>; decisions: GateDecision[] } {
  const kept = new Map(files);
  const decisions: GateDecision[] = [];
  for (const { rule, text } of contract?.rules ?? []) {
    if (rule.kind !== "file-absent" || !kept.has(rule.path)) continue;
    kept.delete(rule.path);
    decisions.push({ rule: RULE, passed: true, severity: "fixed", detail: `${rule.path} was left out of the commit: ${JSON.stringify(text.slice(0, 160))}`, path: rule.path });
  }
  return { files: kept, decisions };
}
