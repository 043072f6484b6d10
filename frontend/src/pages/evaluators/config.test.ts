import { describe as group, expect, it } from "vitest";
import { configOf, describe, draftOf, kindLabel } from "./config";

group("evaluator config", () => {
  it("shapes a draft into the config the kind takes", () => {
    expect(configOf("contains", { text: " refund ", case_sensitive: "true" })).toEqual({
      config: { text: "refund", case_sensitive: true },
    });
    expect(configOf("length", { min: "", max: "200" })).toEqual({ config: { max: 200 } });
    expect(configOf("json_schema", { schema: '{"type": "object"}' })).toEqual({
      config: { schema: { type: "object" } },
    });
    expect(configOf("is_json", {})).toEqual({ config: {} });
  });

  it("says what is wrong with a number or JSON that is not one", () => {
    expect(configOf("latency", { max_ms: "soon" })).toEqual({
      error: "Longest run (ms) is not a number: soon",
    });
    expect(configOf("json_schema", { schema: "{type" })).toEqual({
      error: "JSON schema is not JSON.",
    });
  });

  it("turns a stored config back into the form's draft", () => {
    expect(draftOf("regex", { pattern: "^Hi", case_sensitive: false })).toEqual({
      pattern: "^Hi",
      case_sensitive: "",
    });
    expect(draftOf("json_schema", { schema: { type: "object" } })).toEqual({
      schema: '{\n  "type": "object"\n}',
    });
  });

  it("says in a line what each evaluator checks", () => {
    expect(describe("contains", { text: "refund" })).toBe('contains "refund"');
    expect(describe("length", { min: 10, max: null })).toBe("at least 10 characters");
    expect(describe("length", { min: 10, max: 200 })).toBe("10 to 200 characters");
    expect(describe("llm_judge", { rubric: "Polite.", model: "gpt-4o-mini" })).toBe(
      "gpt-4o-mini: Polite.",
    );
    expect(describe("code", { function: "support.concise", worker: "w1" })).toBe(
      "support.concise, run by the workers that register it (last: w1)",
    );
    expect(describe("new_kind", { size: 1 })).toBe('{"size":1}');
    expect(kindLabel("code")).toBe("Code (SDK)");
    expect(kindLabel("llm_judge")).toBe("LLM judge");
  });
});
