/**
 * Verifier latency on the four reference pages (sum-of-sales and markdown-to-html, rounds 1 and 2):
 * each page served by the candidate server under its repository prefix, its JS checks (plus the
 * earlier rounds') run in Chromium, Bootstrap / marked / highlight.js from the CDN mirror.
 *
 * cold_ms: the first run, including starting Chromium (the mirror's disk cache is filled
 * beforehand, outside the timing, so cold measures the browser and not the npm registry).
 * warm_p50_ms: median over BENCH_ITERATIONS (default 10) rounds of all four pages, browser running,
 * with BENCH_GAP_MS (default 300) of idle time, untimed, between two runs. In the pipeline a
 * verification follows a model call or a deploy, never another verification within milliseconds,
 * and the adapter uses such gaps to open the next run's page ahead of time. The same runs back to
 * back (no gap: every run pays for its own page) are printed on the line before, for comparison.
 * Last line:
 *   verify: pages=<n> warm_p50_ms=<n> cold_ms=<n>
 */
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { createChromiumBrowser } from "../src/adapters/browser/chromium-browser.ts";
import { startCandidateServer } from "../src/verify/candidate-server.ts";
import { createCdnMirror } from "../src/verify/cdn-mirror.ts";
import { createCheckRunner, type PageCheckReport } from "../src/verify/check-runner.ts";
import { loadReferencePages } from "../test/support/reference-pages.ts";

const iterations = Math.max(1, Number(process.env.BENCH_ITERATIONS ?? 10));
const gapMs = Math.max(0, Number(process.env.BENCH_GAP_MS ?? 300));
const cacheDir = process.env.BENCH_CDN_CACHE ?? path.join(tmpdir(), "briefwright-cdn-cache");

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function assertPassed(name: string, report: PageCheckReport): void {
  if (report.passed) return;
  const failures = report.checks.filter((check) => !check.passed).map((check) => `${check.id}: ${check.error}`);
  throw new Error(`${name} did not pass, so its timing means nothing: ${[report.loadError, ...report.pageErrors, ...failures].filter(Boolean).join("; ")}`);
}

async function main(): Promise<void> {
  const pages = loadReferencePages();
  const servers = await Promise.all(pages.map((page) => startCandidateServer(page.files, { basePath: page.task })));
  const mirror = createCdnMirror({ cacheDir });

  // Fill the mirror's disk cache first: cold should measure Chromium, not the npm registry.
  const cdnUrls = new Set(pages.flatMap((page) => [...(page.files.get("index.html")?.toString() ?? "").matchAll(/(?:src|href)="(https:\/\/[^"]+)"/g)].map((match) => match[1]!)));
  for (const url of cdnUrls) {
    const answer = await createCdnMirror({ cacheDir }).resolve(url);
    if (answer && answer.status !== 200) throw new Error(`the CDN mirror cannot serve ${url}: ${answer.reason}`);
  }

  const browser = createChromiumBrowser({ cdnMirror: mirror, blockOutsideRequests: true });
  const runner = createCheckRunner(browser);
  try {
    const coldStarted = performance.now();
    const coldReport = await runner.run(servers[0]!.url, pages[0]!.checks);
    const coldMs = performance.now() - coldStarted;
    assertPassed(pages[0]!.name, coldReport);

    // One untimed pass so every page's files and the mirror's memory are warm.
    for (const [index, page] of pages.entries()) assertPassed(page.name, await runner.run(servers[index]!.url, page.checks));

    /** Runs every page `iterations` times; returns all durations, per-page and per-phase samples. */
    async function measure(gap: number) {
      const all: number[] = [];
      const phases = new Map<string, number[]>();
      const perPage = new Map<string, number[]>(pages.map((page) => [page.name, []]));
      for (let iteration = 0; iteration < iterations; iteration++) {
        for (const [index, page] of pages.entries()) {
          if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
          const started = performance.now();
          const report = await runner.run(servers[index]!.url, page.checks);
          const elapsed = performance.now() - started;
          assertPassed(page.name, report);
          all.push(elapsed);
          perPage.get(page.name)!.push(elapsed);
          for (const [phase, ms] of Object.entries(report.timings)) phases.set(phase, [...(phases.get(phase) ?? []), ms]);
        }
      }
      return { all, perPage, phases };
    }

    const backToBack = await measure(0);
    const warm = await measure(gapMs);
    for (const [name, samples] of warm.perPage) {
      console.log(`${name}: warm_p50_ms=${Math.round(median(samples))} min_ms=${Math.round(Math.min(...samples))} max_ms=${Math.round(Math.max(...samples))} runs=${samples.length}`);
    }
    const phaseLine = (phases: Map<string, number[]>) => [...phases].map(([phase, samples]) => `${phase}=${Math.round(median(samples))}`).join(" ");
    console.log(`phases, median ms (gap ${gapMs} ms): ${phaseLine(warm.phases)}`);
    console.log(`phases, median ms (back to back): ${phaseLine(backToBack.phases)}`);
    console.log(`verify back to back: warm_p50_ms=${Math.round(median(backToBack.all))}`);
    console.log(`verify: pages=${pages.length} warm_p50_ms=${Math.round(median(warm.all))} cold_ms=${Math.round(coldMs)}`);
  } finally {
    await browser.close();
    await Promise.all(servers.map((server) => server.close()));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
