import { describe, expect, it } from "vitest";
import { describeJsonShape, jsonShapeProblems, parseJsonShape, type JsonShape } from "./json-shape.ts";

describe("parseJsonShape: the loose notation", () => {
  it.each<[string, JsonShape | undefined]>([
    ["{people: 3}", { kind: "object", fields: [{ key: "people", shape: { kind: "literal", value: 3 } }] }],
    ["{'a': str, \"b\": int, c: float, d: bool, e: list, f: dict}", {
      kind: "object",
      fields: [
        { key: "a", shape: { kind: "type", type: "string" } },
        { key: "b", shape: { kind: "type", type: "integer" } },
        { key: "c", shape: { kind: "type", type: "number" } },
        { key: "d", shape: { kind: "type", type: "boolean" } },
        { key: "e", shape: { kind: "type", type: "array" } },
        { key: "f", shape: { kind: "type", type: "object" } },
      ],
    }],
    ["{x: True, y: None, z: \"fixed\"}", { kind: "object", fields: [{ key: "x", shape: { kind: "literal", value: true } }, { key: "y", shape: { kind: "literal", value: null } }, { key: "z", shape: { kind: "literal", value: "fixed" } }] }],
    ["{note: \"...\", other: ...}", { kind: "object", fields: [{ key: "note", shape: { kind: "type", type: "any" } }, { key: "other", shape: { kind: "type", type: "any" } }] }],
    ["{tags: [str], ids: list[int]}", { kind: "object", fields: [{ key: "tags", shape: { kind: "array", items: { kind: "type", type: "string" } } }, { key: "ids", shape: { kind: "array", items: { kind: "type", type: "integer" } } }] }],
    ["{v: str | null, w: int|float}", { kind: "object", fields: [{ key: "v", shape: { kind: "type", type: "any" } }, { key: "w", shape: { kind: "type", type: "any" } }] }],
    ["{a: {b: {c: 1,},},}", { kind: "object", fields: [{ key: "a", shape: { kind: "object", fields: [{ key: "b", shape: { kind: "object", fields: [{ key: "c", shape: { kind: "literal", value: 1 } }] } }] } }] }],
    ["{this is prose}", undefined],
    ["{a: 1", undefined],
    ["{a: banana}", undefined],
  ])("%s", (source, shape) => expect(parseJsonShape(source)).toEqual(shape));
});

describe("jsonShapeProblems", () => {
  const shape = parseJsonShape("{people: 3, case_1: {swerve: bool, reason: str}, tags: [str]}")!;

  it("passes a value with every key, type and fixed value (extra keys allowed)", () => {
    expect(jsonShapeProblems({ people: 3, case_1: { swerve: true, reason: "fewer hurt" }, tags: ["a"], extra: 1 }, shape)).toEqual([]);
  });

  it("names each missing key, wrong type and wrong value with its path", () => {
    expect(jsonShapeProblems({ people: 2, case_1: { swerve: "yes", Reason: "x" }, tags: ["a", 3] }, shape)).toEqual([
      "$.people must be 3, found number 2",
      "$.case_1.swerve must be a boolean (true/false), found string \"yes\"",
      "$.case_1.reason is missing (there is \"Reason\"; keys must match exactly)",
      "$.tags[1] must be a string, found number 3",
    ]);
    expect(jsonShapeProblems([1], shape)).toEqual(["$ must be an object, found array [1]"]);
  });

  it("tells integers from numbers", () => {
    expect(jsonShapeProblems(2.5, { kind: "type", type: "integer" })).toEqual(["$ must be an integer, found number 2.5"]);
    expect(jsonShapeProblems(2.5, { kind: "type", type: "number" })).toEqual([]);
  });

  it("describes a shape as a template for the prompt", () => {
    expect(describeJsonShape(shape)).toBe('{"people": 3, "case_1": {"swerve": <boolean>, "reason": <string>}, "tags": [<string>, …]}');
  });
});
