import type { FixtureResponse, LoadedFixtureFile } from "./fixture-file.ts";

/** Which scripted response serves a request. */
export interface ScriptedResponse {
  /** Position of the fixture across all files, in matching order. */
  readonly fixtureIndex: number;
  /** `<file>#<index in file>`, for messages and records. */
  readonly fixtureSource: string;
  /** Which of the fixture's responses (the last repeats, so this stops growing). */
  readonly responseIndex: number;
  readonly response: FixtureResponse;
}

export interface NoMatchingFixture {
  /** The match lists that were tried, in order, to name the problem in the 404. */
  readonly tried: readonly (readonly string[])[];
}

interface ScriptEntry {
  readonly source: string;
  readonly match: readonly string[];
  readonly responses: readonly FixtureResponse[];
  served: number;
}

/**
 * The fixtures of a run with their rotation state. First match wins, in file order then order
 * within a file; each fixture serves its responses in turn and then keeps repeating the last.
 */
export class FixtureScript {
  readonly #entries: ScriptEntry[];

  constructor(files: readonly LoadedFixtureFile[]) {
    this.#entries = files.flatMap(({ source, file }) =>
      file.fixtures.map((fixture, index) => ({
        source: `${source}#${index}`,
        match: fixture.match,
        responses: fixture.responses,
        served: 0,
      })),
    );
  }

  /** Picks and consumes the response for a file-producing request whose messages read `text`. */
  next(text: string): ScriptedResponse | NoMatchingFixture {
    const fixtureIndex = this.#entries.findIndex((entry) => entry.match.every((needle) => text.includes(needle)));
    const entry = this.#entries[fixtureIndex];
    if (entry === undefined) return { tried: this.#entries.map((e) => e.match) };
    const responseIndex = Math.min(entry.served, entry.responses.length - 1);
    entry.served += 1;
    // The schema guarantees at least one response per fixture.
    const response = entry.responses[responseIndex]!;
    return { fixtureIndex, fixtureSource: entry.source, responseIndex, response };
  }
}
