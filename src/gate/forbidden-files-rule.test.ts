import { describe, expect, it } from "vitest";
import { buildContract } from "../domain/build-contract.ts";
import { normalizeChecks } from "../domain/check.ts";
import { dropForbiddenFiles } from "./forbidden-files-rule.ts";
import { runSafetyGate } from "./safety-gate.ts";

const contract = buildContract({ brief: "Run execute.py in CI and publish result.json. Do not commit result.json.", checks: normalizeChecks(["output.log is NOT committed"]), attachments: [] });
const files = new Map([
  ["index.html", Buffer.from("<!doctype html><title>x</title>")],
  ["result.json", Buffer.from("{}")],
  ["output.log", Buffer.from("log")],
  ["execute.py", Buffer.from("print(1)")],
]);

describe("forbidden files", () => {
  it("are dropped from the candidate, each with a fixed decision", () => {
    const { files: kept, decisions } = dropForbiddenFiles(files, contract);
    expect([...kept.keys()]).toEqual(["index.html", "execute.py"]);
    expect(decisions.map((d) => [d.rule, d.severity, d.path])).toEqual([
      ["forbidden-files", "fixed", "result.json"],
      ["forbidden-files", "fixed", "output.log"],
    ]);
    expect(files.has("result.json")).toBe(true); // the input is not changed
  });

  it("never reach the tree the gate passes on, and are not listed as required files", async () => {
    const report = await runSafetyGate({ files, contract, brief: "" });
    expect(report.files.has("result.json")).toBe(false);
    expect(report.decisions.filter((d) => d.rule === "forbidden-files")).toHaveLength(2);
    expect(contract.files.map((f) => f.path)).not.toContain("result.json");
  });

  it("leave a tree alone when nothing is forbidden", () => {
    const none = buildContract({ brief: "Commit result.json.", checks: [], attachments: [] });
    expect(dropForbiddenFiles(files, none).files.size).toBe(4);
  });
});
