import { describe, expect, it } from "vitest";
import { fetchUserAgent } from "./fetch-user-agent.ts";

describe("fetchUserAgent", () => {
  it.each([
    [undefined, "student@example.edu", "briefwright/0.1 (+mailto:student@example.edu)"],
    ["acme-research/1.0 ({email})", "a@b.org", "acme-research/1.0 (a@b.org)"],
    ["fixed-agent/2", "a@b.org", "fixed-agent/2"],
    [undefined, "bad\r\nX-Evil: 1@b.org", "briefwright/0.1 (+mailto:badX-Evil:1@b.org)"],
    [undefined, "", "briefwright/0.1"],
  ])("configured %j with email %j gives %j", (configured, email, expected) => {
    expect(fetchUserAgent(configured, email)).toBe(expected);
  });
});
