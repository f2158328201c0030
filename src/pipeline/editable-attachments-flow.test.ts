import { describe, expect, it } from "vitest";
import { buildContract } from "../domain/build-contract.ts";
import { renderObligations } from "../domain/render-obligations.ts";
import type { TaskRequest } from "../domain/task.ts";
import type { AnalyzedAttachment } from "./analyze-stage.ts";
import { assemble } from "./assemble-stage.ts";
import { readAnswer, startConversation, startRepair, type PromptInput } from "./generate-stage.ts";

// An attachment the brief asks to fix travels contract → prompt → answer → assembly as a file the
// model edits; one it does not stays byte for byte.
const buggy = "import json\nrows = [1, 2, 3]\nprint(json.dumps({'total': sum(rows[1:])}))\n";
const fixed = "import json\nrows = [1, 2, 3]\nprint(json.dumps({'total': sum(rows)}))\n";
const logo = "<svg xmlns='http://www.w3.org/2000/svg'/>";
const attachment = (name: string, mimeType: string, text: string): AnalyzedAttachment => ({ name, mimeType, bytes: Buffer.byteLength(text), base64: Buffer.from(text).toString("base64") });
const attachments = [attachment("execute.py", "text/x-python", buggy), attachment("logo.svg", "image/svg+xml", logo)];
const brief = "Commit execute.py after fixing the non-trivial error in it. Commit logo.svg as-is.";

function promptInput(round = 1, current?: Map<string, Buffer>): PromptInput {
  const request: TaskRequest = { email: "a@example.com", task: "fixer", round, nonce: "n", brief, checks: [], evaluationUrl: "http://127.0.0.1:1/", attachments: [] };
  const contract = buildContract({
    brief,
    checks: [],
    attachments: attachments.map((a) => ({ name: a.name, mimeType: a.mimeType, content: Buffer.from(a.base64, "base64") })),
  });
  return { request, checks: [], attachments, contract, fetched: [], current, history: [] };
}

const assembleWith = (input: PromptInput, generated: Map<string, string>, current?: ReadonlyMap<string, Buffer>) =>
  assemble({
    request: input.request,
    generated,
    attachments,
    editableAttachments: input.contract.editableAttachments,
    fetched: [],
    current,
    rounds: [{ round: input.request.round, brief }],
    repoUrl: "http://127.0.0.1/git/fixer",
    pagesUrl: "http://127.0.0.1/pages/fixer/",
    licenseHolder: "Test",
    acceptedAt: Date.UTC(2026, 0, 1),
  });

describe("editable attachments, contract to commit", () => {
  it("the contract records which attachment is editable and the obligations say so", () => {
    const { contract } = promptInput();
    expect(contract.editableAttachments).toEqual(["execute.py"]);
    const obligations = renderObligations(contract);
    expect(obligations).toContain("Attachment execute.py is a file to edit");
    expect(obligations).toContain("Keep attachment logo.svg next to index.html, unchanged");
  });

  it("round 1 shows the attachment's whole content as a file to edit", () => {
    const conversation = startConversation(promptInput());
    const prompt = conversation.messages[0]!.content as string;
    expect(prompt).toContain("# Files to edit (attachments the brief asks you to change)");
    expect(prompt).toContain(`## execute.py\n\n\`\`\`\n${buggy}\n\`\`\``);
    expect(prompt).not.toContain(`## logo.svg\n\n\`\`\``);
  });

  it("the model's fixed file is committed, not the attachment; the as-is one stays byte for byte", () => {
    const input = promptInput();
    const files = assembleWith(input, new Map([["index.html", "<p>x</p>"], ["execute.py", fixed], ["logo.svg", "<svg/>"]]));
    expect(files.get("execute.py")!.toString()).toBe(fixed);
    expect(files.get("logo.svg")!.toString()).toBe(logo);
  });

  it("an answer that leaves the file out commits the attachment as it came", () => {
    const files = assembleWith(promptInput(), new Map([["index.html", "<p>x</p>"]]));
    expect(files.get("execute.py")!.toString()).toBe(buggy);
  });

  it("a repair edits the candidate's version, and an untouched one stays edited", () => {
    const input = promptInput();
    const candidate = assembleWith(input, new Map([["index.html", "<p>x</p>"], ["execute.py", fixed]]));
    const repair = startRepair({ ...input, candidate, failures: "- python-run failed" });
    expect(repair.editable.get("execute.py")).toBe(fixed);
    expect(repair.editable.has("logo.svg")).toBe(false);
    const answer = readAnswer(repair, "FILE: index.html\n<<<<<<< SEARCH\n<p>x</p>\n=======\n<p>y</p>\n>>>>>>> REPLACE\n");
    expect(answer.ok).toBe(true);
    if (!answer.ok) return;
    const next = assembleWith(input, answer.files, repair.base);
    expect(next.get("execute.py")!.toString()).toBe(fixed);
    expect(next.get("index.html")!.toString()).toBe("<p>y</p>");
  });

  it("round N starts the file from the new attachment, not the repository's old copy", () => {
    const current = new Map([["index.html", Buffer.from("<p>x</p>")], ["execute.py", Buffer.from("print('old')\n")]]);
    const conversation = startConversation(promptInput(2, current));
    expect(conversation.format).toBe("edit-blocks");
    expect(conversation.editable.get("execute.py")).toBe(buggy);
    expect(conversation.messages[0]!.content as string).toContain(buggy);
    const untouched = assembleWith(promptInput(2), new Map([["index.html", "<p>z</p>"]]), conversation.base);
    expect(untouched.get("execute.py")!.toString()).toBe(buggy);
  });
});
