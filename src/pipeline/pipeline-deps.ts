import type { Clock } from "../ports/clock.ts";
import type { EventBus } from "../ports/event-bus.ts";
import type { Forge } from "../ports/forge.ts";
import type { LanguageModel } from "../ports/language-model.ts";
import type { Store } from "../ports/store.ts";
import type { CheckRunner } from "../verify/check-runner.ts";
import type { ScriptRunner } from "../ports/script-runner.ts";
import type { IdleLane } from "./idle-lane.ts";
import type { PriceTable } from "../domain/price-table.ts";
import type { OutboundProxy } from "../net/outbound-dispatcher.ts";
import type { CodeSandbox } from "../ports/code-sandbox.ts";
import type { SpreadsheetReader } from "../ports/spreadsheet-reader.ts";

/** Everything a round's pipeline touches: ports and the few settings it needs. */
export interface PipelineDeps {
  readonly store: Store;
  readonly forge: Forge;
  /** Undefined when no model is configured; the generate stage then fails with a clear error. */
  readonly model: LanguageModel | undefined;
  readonly events: EventBus;
  readonly clock: Clock;
  readonly fetch: typeof fetch;
  /** Runs the evaluator's JS checks in a browser; undefined when verification is off. */
  readonly checkRunner?: CheckRunner;
  /** Runs the Python of a candidate (compile, the scripts the brief names); Python is "not verified" without it. */
  readonly scriptRunner?: ScriptRunner;
  /** Rounds of this process between their start and their report right now. */
  readonly activity: { roundsInFlight: number };
  /** Where after-the-report work (the live check) waits for a quiet moment; inline without it. */
  readonly afterRound?: IdleLane;
  /**
   * The adapters behind build-time tools (src/build-tools/): without a sandbox `run_js` is not
   * offered; without a spreadsheet reader neither `convert_file` nor the brief's conversions run.
   */
  readonly buildTools?: { readonly sandbox?: CodeSandbox; readonly spreadsheets?: SpreadsheetReader };
  readonly settings: PipelineSettings;
}

export interface PipelineSettings {
  readonly maxAttachmentBytes: number;
  readonly allowPrivateUrls: boolean;
  /** FETCH_USER_AGENT (`{email}` stands for the request's); undefined → briefwright and the request's email. */
  readonly fetchUserAgent?: string;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY for build-time fetches. */
  readonly outboundProxy?: OutboundProxy;
  readonly gitAuthor: { readonly name: string; readonly email: string };
  readonly licenseHolder: string;
  readonly llmTimeoutMs: number;
  /** Prices per model for the cost of each call (`LLM_PRICES`); unpriced (0) when absent. */
  readonly llmPrices?: PriceTable;
  /** Time kept back for deploy + Pages + report when generation runs. */
  readonly deployReserveMs: number;
  /** Longest single wait between report attempts. */
  readonly reportMaxBackoffMs: number;
  /** First wait between report attempts (PROTOCOL §3: 1 s). */
  readonly reportInitialBackoffMs: number;
  /** Model answers a round may ask for before giving up (unusable and gate-blocked ones count). */
  readonly buildMaxAttempts: number;
  /** Repairs after failed checks a round may make, on top of buildMaxAttempts. */
  readonly repairMaxAttempts: number;
  /** How long one JS check may take to become true (the evaluator's patience). */
  readonly checkTimeoutMs: number;
  /** Cap on one Python compile or script run while verifying (SCRIPT_TIMEOUT_SECONDS). */
  readonly scriptTimeoutMs: number;
  /** Whether the model writes the README's prose (README_PROSE). */
  readonly readmeProse: boolean;
  /** Values that must never be committed: the student secret, provider keys. */
  readonly knownSecrets: readonly string[];
}
