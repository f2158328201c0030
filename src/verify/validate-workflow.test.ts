import { describe, expect, it } from "vitest";
import { isWorkflowPath, validateWorkflow } from "./validate-workflow.ts";

const path = ".github/workflows/ci.yml";

const pagesWorkflow = `name: CI
on:
  push:
    branches: [main]
  workflow_dispatch:
permissions:
  contents: read
  pages: write
  id-token: write
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: pip install ruff pandas openpyxl
      - run: ruff check .
      - run: python execute.py > result.json
      - uses: actions/upload-pages-artifact@v3
        with:
          path: .
  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: \${{ steps.deployment.outputs.page_url }}
    steps:
      - id: deployment
        uses: actions/deploy-pages@v4
`;

describe("validateWorkflow", () => {
  it("accepts a workflow that lints, runs a script and deploys Pages", async () => {
    expect(await validateWorkflow(path, pagesWorkflow)).toEqual({ valid: true });
  });

  it("accepts a one-event, one-job workflow", async () => {
    expect(await validateWorkflow(path, "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ok\n")).toEqual({ valid: true });
  });

  it.each([
    ["invalid YAML", "on: push\njobs:\n  a:\n    runs-on: [\n", /Flow sequence|indented|YAML|Unexpected/i],
    ["an unknown job key", "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz:\n      - run: echo\n", /Unexpected value 'stepz'/],
    ["an unknown event in on", "on: pushh\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n", /Unexpected value 'pushh'/],
    ["a job without runs-on", "on: push\njobs:\n  a:\n    steps:\n      - run: echo\n", /Required property is missing: runs-on/],
    ["no jobs", "on: push\n", /Required property is missing: jobs/],
    ["no on", "jobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n", /Required property is missing: on/],
    ["an unclosed expression", "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.sha \n", /expression is not closed/],
    ["a bad cron", "on:\n  schedule:\n    - cron: 'every day'\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n", /cron/i],
    ["needs naming no job", "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: build\n    steps:\n      - run: echo\n", /job|needs|dependenc/i],
    ["an empty file", "", /Expected a scalar value, a sequence, or a mapping/],
  ])("refuses %s, naming the problem", async (_case, content, problem) => {
    const result = await validateWorkflow(path, content);
    expect(result.valid).toBe(false);
    if (result.valid) return;
    expect(result.problems.join("\n")).toMatch(problem);
  });

  it("reads only YAML directly under .github/workflows as a workflow", () => {
    expect(isWorkflowPath(".github/workflows/ci.yml")).toBe(true);
    expect(isWorkflowPath(".github/workflows/pages.yaml")).toBe(true);
    expect(isWorkflowPath(".github/workflows/nested/ci.yml")).toBe(false);
    expect(isWorkflowPath("ci.yml")).toBe(false);
    expect(isWorkflowPath(".github/dependabot.yml")).toBe(false);
  });
});
