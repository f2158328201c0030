import { readFileSync } from "node:fs";
import path from "node:path";
import { decodeAttachment } from "../../src/domain/attachment.ts";
import { normalizeChecks } from "../../src/domain/check.ts";
import type { RawAttachment, RawCheck } from "../../src/domain/task.ts";
import type { JsCheck } from "../../src/verify/check-runner.ts";

import { sharedFixtures } from "./shared-dir.ts";

export const sharedFixturesDir = sharedFixtures;

/** One round of a reference app: the files a correct answer deploys and the JS checks it must pass. */
export interface ReferencePage {
  /** `sum-of-sales-r1` … */
  readonly name: string;
  readonly task: string;
  readonly round: number;
  readonly files: Map<string, Buffer>;
  /** This round's JS checks, then every earlier round's (the evaluator re-runs those too). */
  readonly checks: readonly JsCheck[];
}

interface TaskRequest {
  readonly task: string;
  readonly round: number;
  readonly brief: string;
  readonly checks: readonly RawCheck[];
  readonly attachments?: readonly RawAttachment[];
}

interface LlmFixtures {
  readonly fixtures: ReadonlyArray<{ readonly match: readonly string[]; readonly responses: ReadonlyArray<{ readonly files?: Record<string, string> }> }>;
}

/**
 * The reference answers in `fixtures/llm/<app>.json`, paired with the requests in
 * `fixtures/tasks/<app>-r<n>.json` the way the scripted LLM pairs them (first fixture whose
 * match strings all occur). Attachments from round 1 stay in the repository for later rounds.
 */
export function loadReferencePages(apps: readonly string[] = ["sum-of-sales", "markdown-to-html"], fixturesDir = sharedFixturesDir): ReferencePage[] {
  const pages: ReferencePage[] = [];
  for (const app of apps) {
    const { fixtures } = JSON.parse(readFileSync(path.join(fixturesDir, "llm", `${app}.json`), "utf8")) as LlmFixtures;
    const repository = new Map<string, Buffer>();
    const earlierChecks: JsCheck[] = [];
    for (let round = 1; ; round++) {
      let request: TaskRequest;
      try {
        request = JSON.parse(readFileSync(path.join(fixturesDir, "tasks", `${app}-r${round}.json`), "utf8")) as TaskRequest;
      } catch {
        break;
      }
      const text = `${request.brief}\n${JSON.stringify(request.checks)}\n${(request.attachments ?? []).map((a) => a.name).join("\n")}`;
      const fixture = fixtures.find((candidate) => candidate.match.every((needle) => text.includes(needle)));
      const files = fixture?.responses[0]?.files;
      if (!files) throw new Error(`no reference answer for ${app} round ${round}`);
      for (const attachment of request.attachments ?? []) {
        const decoded = decodeAttachment({ name: attachment.name, url: attachment.url }, 5_000_000);
        repository.set(decoded.name, decoded.content);
      }
      for (const [name, content] of Object.entries(files)) repository.set(name, Buffer.from(content, "utf8"));
      const roundChecks = normalizeChecks(request.checks).flatMap((check) => (check.kind === "js" ? [{ id: `r${round}.${check.id}`, expression: check.expression }] : []));
      pages.push({ name: `${app}-r${round}`, task: request.task, round, files: new Map(repository), checks: [...roundChecks, ...earlierChecks] });
      earlierChecks.unshift(...roundChecks);
    }
  }
  return pages;
}
