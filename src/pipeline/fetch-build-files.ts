import type { BuildContract } from "../domain/build-contract.ts";
import { describeError } from "../domain/errors.ts";
import { fetchPublicUrl } from "../net/fetch-public-url.ts";
import type { FetchedFile } from "./generate-stage.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";

/**
 * Files the brief says to fill from a URL ("fetch … and save data.json"), fetched once at build
 * time under the outbound rules. A refused or failed fetch is recorded and the round goes on:
 * the model is told, and the page can still fetch at run time.
 */
export async function fetchBuildFiles(contract: BuildContract, roundId: string, deps: PipelineDeps, userAgent?: string): Promise<FetchedFile[]> {
  const fetched: FetchedFile[] = [];
  for (const file of contract.files) {
    if (!file.fetchFrom || file.origin !== "current") continue;
    try {
      const resource = await fetchPublicUrl(
        file.fetchFrom,
        { allowPrivateUrls: deps.settings.allowPrivateUrls, maxBytes: deps.settings.maxAttachmentBytes, timeoutMs: 15_000, userAgent, proxy: deps.settings.outboundProxy },
        deps.fetch,
      );
      fetched.push({ path: file.path, url: resource.url, bytes: resource.body.length, contentType: resource.contentType, base64: resource.body.toString("base64"), via: "contract" });
      deps.events.emit("fetch-complete", roundId, { path: file.path, url: resource.url, bytes: resource.body.length, via: "contract" });
    } catch (error) {
      deps.events.emit("fetch-refuse", roundId, { path: file.path, url: file.fetchFrom, reason: describeError(error), via: "contract" });
    }
  }
  return fetched;
}
