import { describe, expect, it } from "vitest";
import { hasWorkflowFiles, pagesDeployWorkflows } from "./pages-workflow.ts";

const tree = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([path, text]) => [path, Buffer.from(text)]));

const deployWorkflow = `name: Deploy
on: [push]
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/upload-pages-artifact@v3
        with: { path: . }
      - id: deployment
        uses: "actions/deploy-pages@v4"
`;

describe("pages workflows", () => {
  it("finds workflows that deploy Pages, in .yml and .yaml", () => {
    const files = tree({
      "index.html": "uses: actions/deploy-pages@v4",
      ".github/workflows/pages.yml": deployWorkflow,
      ".github/workflows/lint.yaml": "jobs:\n  lint:\n    steps:\n      - uses: actions/checkout@v4\n",
      ".github/workflows/other.yaml": deployWorkflow,
    });
    expect(pagesDeployWorkflows(files).sort()).toEqual([".github/workflows/other.yaml", ".github/workflows/pages.yml"]);
    expect(hasWorkflowFiles(files)).toBe(true);
  });

  it("ignores a commented-out step and files outside .github/workflows", () => {
    const files = tree({
      ".github/workflows/ci.yml": "steps:\n  # - uses: actions/deploy-pages@v4\n  - run: ruff check .\n",
      "docs/workflows/pages.yml": deployWorkflow,
      ".github/workflows/nested/pages.yml": deployWorkflow,
    });
    expect(pagesDeployWorkflows(files)).toEqual([]);
    expect(hasWorkflowFiles(tree({ "index.html": "x" }))).toBe(false);
    expect(hasWorkflowFiles(files)).toBe(true);
  });
});
