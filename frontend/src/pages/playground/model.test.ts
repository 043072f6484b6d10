import { describe, expect, it } from "vitest";
import type { Variable } from "../../api/types";
import {
  catalogTree,
  cellSpread,
  failedCells,
  emptyLiveRun,
  liveRunReducer,
  counted,
  failureOf,
  inputSummary,
  outputText,
  overridesFromEdits,
  pullRequestReducer,
  sameOverrides,
  streamedText,
} from "./model";
import { cell, comparison, queuedPullRequest, score, variable } from "./fixtures";
import { failedRun, stepRun } from "../runs/fixtures";

/** A variable of `workflow`'s `step`, typed by its default. */
function variableOf(workflow: string, step: string, name: string, value: unknown): Variable {
  return variable(name, typeof value === "string" ? "string" : "number", value, {
    id: `${workflow}/${step}/${name}`,
    workflow,
    step,
  });
}

describe("catalogTree", () => {
  it("lists workflows with variables and their steps, sorted", () => {
    const tree = catalogTree([
      variableOf("SupportReply", "draft", "b", 1),
      variableOf("Import", "load", "a", 1),
      variableOf("SupportReply", "classify", "a", 1),
      variableOf("SupportReply", "draft", "a", 1),
    ]);
    expect([...tree.entries()]).toEqual([
      ["Import", ["load"]],
      ["SupportReply", ["classify", "draft"]],
    ]);
  });
});

describe("overridesFromEdits", () => {
  const variables = [
    variableOf("W", "draft", "prompt", "Hi"),
    variableOf("W", "draft", "temperature", 0.3),
  ];

  it("sends only the values that differ from their code default", () => {
    expect(overridesFromEdits(variables, { draft: { prompt: "Hi", temperature: 0.7 } })).toEqual({
      draft: { temperature: 0.7 },
    });
    expect(overridesFromEdits(variables, { draft: { prompt: "Hi" } })).toEqual({});
  });

  it("keeps values for variables the catalog does not know", () => {
    expect(overridesFromEdits(variables, { polish: { shout: true } })).toEqual({
      polish: { shout: true },
    });
  });

  it("compares overrides regardless of key order", () => {
    expect(sameOverrides({ a: { x: 1, y: 2 } }, { a: { y: 2, x: 1 } })).toBe(true);
    expect(sameOverrides({ a: { x: 1 } }, { a: { x: 1, y: 2 } })).toBe(false);
  });
});

describe("outputText", () => {
  it("reads strings and lone string fields as they are, other objects as key: value lines", () => {
    expect(outputText("hello")).toBe("hello");
    expect(outputText({ reply: "Hi there" })).toBe("Hi there");
    expect(outputText({ reply: "Hi there", ok: true })).toBe("reply: Hi there\nok: true");
    expect(outputText(null)).toBe("");
  });
});

describe("inputSummary", () => {
  it("is the first string field, else compact JSON, on one line cut to 80 characters", () => {
    expect(inputSummary({ n: 1, ticket: "Refund\n  please" })).toBe("Refund please");
    expect(inputSummary({ n: 1 })).toBe('{"n":1}');
    expect(inputSummary({ ticket: "x".repeat(100) })).toBe(`${"x".repeat(79)}…`);
  });
});

describe("counted", () => {
  it("puts the noun in the plural unless the count is one", () => {
    expect(counted(1, "input")).toBe("1 input");
    expect(counted(0, "input")).toBe("0 inputs");
    expect(counted(3, "input")).toBe("3 inputs");
  });
});

describe("failureOf", () => {
  it("is the run's error, which names the step that failed, over the shown step's own", () => {
    const run = {
      ...failedRun(),
      error: "Step 'understand' failed: KeyError: 'question'",
      step_runs: [
        stepRun({ id: "s-draft", step: "draft", status: "CANCELLED", error: "cancelled" }),
      ],
    };
    expect(failureOf(run, "draft")).toBe("Step 'understand' failed: KeyError: 'question'");
    expect(failureOf({ ...run, error: "" }, "draft")).toBe("cancelled");
  });
});

describe("liveRunReducer", () => {
  const line = (seq: number, text: string, kind: "log" | "stream" = "stream") => ({
    type: "step_run.line" as const,
    step_run_id: "s1",
    attempt: 1,
    kind,
    seq,
    text,
  });

  it("joins the step's stream chunks in order, once each, past its log lines", () => {
    let state = liveRunReducer(emptyLiveRun, {
      type: "run.snapshot",
      run_id: "r",
      status: "RUNNING",
      step_runs: [{ step_run_id: "s1", step: "draft", status: "RUNNING", attempt: 1 }],
      lines: [line(0, "Briefly: ")],
    });
    state = liveRunReducer(state, line(3, "received."));
    state = liveRunReducer(state, line(2, "we "));
    state = liveRunReducer(state, line(0, "Briefly: "));
    expect(streamedText(state, "draft")).toBe("Briefly: ");
    state = liveRunReducer(state, line(1, "drafting", "log"));
    expect(streamedText(state, "draft")).toBe("Briefly: we received.");
    expect(streamedText(state, "review")).toBe("");
    state = liveRunReducer(state, { type: "run.status", run_id: "r", status: "SUCCEEDED" });
    expect(state.status).toBe("SUCCEEDED");
  });
});

describe("pullRequestReducer", () => {
  const queued = queuedPullRequest();

  it("applies state messages for its own request only", () => {
    const base = {
      reason: "",
      attempts: 1,
      branch: "b",
      commit_sha: "c",
      pr_state: "" as const,
      updated_at: "",
    };
    const opened = pullRequestReducer(queued, {
      type: "pull_request.state",
      id: "pr-1",
      state: "opened",
      pr_number: 7,
      pr_url: "https://github.example/acme/app/pull/7",
      ...base,
    });
    expect(opened?.state).toBe("opened");
    expect(opened?.pr_url).toBe("https://github.example/acme/app/pull/7");
    const other = pullRequestReducer(queued, {
      type: "pull_request.state",
      id: "pr-2",
      state: "failed",
      pr_number: null,
      pr_url: "",
      ...base,
    });
    expect(other).toBe(queued);
  });
});

describe("repeats and re-runs", () => {
  it("spreads a cell's repeats: unstable when they end differently, pending ones not counted", () => {
    const same = { output: { reply: "Hi" }, scores: [score("polite")] };
    const steady = cellSpread([cell(0, 0, same), cell(0, 0, { ...same, repeat: 1 })]);
    expect(steady).toMatchObject({ repeats: 2, finished: 2, isUnstable: false });

    const spread = cellSpread([
      cell(0, 0, same),
      cell(0, 0, {
        ...same,
        repeat: 1,
        status: "FAILED",
        scores: [score("polite", { value: 0, passed: false })],
      }),
      cell(0, 0, {
        repeat: 2,
        status: "RUNNING",
        is_finished: false,
        duration_ms: null,
        scores: [score("polite", { status: "pending", value: null, passed: null })],
      }),
    ]);
    expect(spread).toEqual({
      repeats: 3,
      finished: 2,
      evaluators: [
        {
          evaluator: "ev-polite",
          name: "polite",
          score: { mean: 0.5, min: 0, max: 1 },
          passed: 1,
          scored: 2,
        },
      ],
      latency: { mean: 1200, min: 1200, max: 1200 },
      isUnstable: true,
    });
  });

  it("re-runs the latest attempts that failed or that an evaluator could not judge", () => {
    const matrix = comparison([
      cell(0, 0, { status: "FAILED", is_latest: false }),
      cell(0, 0, { attempt: 1, run_id: "again", status: "FAILED" }),
      cell(0, 1, {
        run_id: "unjudged",
        scores: [score("json", { status: "error", value: null, passed: null })],
      }),
    ]);
    expect(failedCells(matrix).map((c) => c.run_id)).toEqual(["again", "unjudged"]);
  });
});
