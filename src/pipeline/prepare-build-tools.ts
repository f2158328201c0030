import { BuildFiles } from "../build-tools/build-files.ts";
import type { BuildToolContext, BuildToolFactory, BuildToolRun } from "../build-tools/build-tool.ts";
import { convertFileBuildTool, convertIntoBuildFiles } from "../build-tools/convert-file-tool.ts";
import { ConversionError } from "../build-tools/convert-file.ts";
import { FETCH_URL_TOOL, fetchUrlBuildTool } from "../build-tools/fetch-url-tool.ts";
import { runJsBuildTool } from "../build-tools/run-js-tool.ts";
import type { BuildContract } from "../domain/build-contract.ts";
import { fetchUserAgent } from "../net/fetch-user-agent.ts";
import type { ModelTool } from "../ports/language-model.ts";
import type { AnalyzedAttachment } from "./analyze-stage.ts";
import { fetchBuildFiles } from "./fetch-build-files.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";

export interface PreparedBuildTools {
  /** The round's made files: the contract's fetches and conversions, then what tools save. */
  readonly files: BuildFiles;
  /** What the model is offered (none when it takes no tools). */
  readonly tools: readonly ModelTool[];
}

/**
 * Everything a round's build gets from build-time tools before the model is asked: the brief's
 * fetches and conversions made by the product (so their files are in every candidate), and the
 * tools the model may call — `fetch_url`, `convert_file`, `run_js` — over the same files.
 */
export async function prepareBuildTools(
  input: {
    readonly roundId: string;
    readonly email: string;
    readonly attachments: readonly AnalyzedAttachment[];
    readonly current?: ReadonlyMap<string, Buffer>;
  },
  contract: BuildContract,
  deps: PipelineDeps,
): Promise<PreparedBuildTools> {
  const { roundId } = input;
  const readable = new Map(input.current ?? []);
  for (const attachment of input.attachments) readable.set(attachment.name, Buffer.from(attachment.base64, "base64"));
  const files = new BuildFiles({ readable, reservedPaths: ["LICENSE", "README.md", "index.html", ...input.attachments.map((a) => a.name)] });
  const userAgent = fetchUserAgent(deps.settings.fetchUserAgent, input.email);

  for (const fetched of await fetchBuildFiles(contract, roundId, deps, userAgent)) files.save({ ...fetched, tool: FETCH_URL_TOOL });

  const record = (via: "contract" | "tool") => (run: BuildToolRun) => {
    if (run.tool === FETCH_URL_TOOL) {
      if (run.outcome === "refused") deps.events.emit("fetch-refuse", roundId, { path: run.path, url: run.from, reason: run.detail ?? "", via });
      else deps.events.emit("fetch-complete", roundId, { path: run.path, url: run.from, bytes: run.bytes, via });
      return;
    }
    deps.events.emit("build-tool-run", roundId, { ...run, via });
  };

  const spreadsheets = deps.buildTools?.spreadsheets;
  const contractContext: BuildToolContext = { files, record: record("contract") };
  for (const conversion of contract.conversions) {
    if (!spreadsheets) {
      contractContext.record({ tool: "convert_file", outcome: "refused", path: conversion.to, from: conversion.from, bytes: 0, detail: "no spreadsheet reader is configured" });
      continue;
    }
    try {
      const converted = convertIntoBuildFiles(conversion, contractContext, spreadsheets, "contract");
      contractContext.record({ tool: "convert_file", outcome: "saved", path: converted.path, from: conversion.from, bytes: converted.bytes.length, detail: `${converted.rows} rows${converted.sheet ? ` from sheet ${converted.sheet}` : ""}` });
    } catch (error) {
      // The model is told what is missing through the prompt's obligations and can still use convert_file.
      if (!(error instanceof ConversionError)) throw error;
      contractContext.record({ tool: "convert_file", outcome: "refused", path: conversion.to, from: conversion.from, bytes: 0, detail: error.message });
    }
  }

  if (!deps.model?.supportsTools) return { files, tools: [] };
  const factories: BuildToolFactory[] = [
    fetchUrlBuildTool({ allowPrivateUrls: deps.settings.allowPrivateUrls, maxBytes: deps.settings.maxAttachmentBytes, fetch: deps.fetch, userAgent, proxy: deps.settings.outboundProxy }),
  ];
  if (spreadsheets) factories.push(convertFileBuildTool(spreadsheets));
  if (deps.buildTools?.sandbox) factories.push(runJsBuildTool({ sandbox: deps.buildTools.sandbox, limits: { maxOutputBytes: deps.settings.maxAttachmentBytes } }));
  const toolContext: BuildToolContext = { files, record: record("tool") };
  return { files, tools: factories.map((create) => create(toolContext)) };
}
