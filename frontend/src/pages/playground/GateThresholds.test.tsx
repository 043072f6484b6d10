import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Threshold } from "../../api/types";
import { fakeApi, page, renderAs } from "../../test-utils";
import { GateThresholds, boundText } from "./GateThresholds";

const plain: Threshold = {
  id: "thr-1",
  workflow: "SupportReply",
  evaluator: "plain",
  evaluator_id: "ev-1",
  metric: "pass_rate",
  max_drop: 0.05,
  at_least: null,
  created_by: "eve",
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};
const evaluators = page([
  { id: "ev-1", name: "plain" },
  { id: "ev-2", name: "judge" },
]);

afterEach(() => vi.unstubAllGlobals());

describe("GateThresholds", () => {
  it("lists the workflow's thresholds and lets an editor set one", async () => {
    const calls = fakeApi("editor", {
      "GET /playground/thresholds": page([plain]),
      "GET /playground/evaluators": evaluators,
      "POST /playground/thresholds": { ...plain, id: "thr-2", evaluator: "judge" },
    });
    renderAs(<GateThresholds workflow="SupportReply" />);

    expect(await screen.findByText(/plain pass rate: may drop at most 0.05/)).toBeInTheDocument();
    await userEvent.selectOptions(await screen.findByLabelText("Evaluator"), "judge");
    await userEvent.selectOptions(screen.getByLabelText("Metric"), "mean_score");
    const set = screen.getByRole("button", { name: "Set threshold" });
    expect(set).toBeDisabled();
    await userEvent.type(screen.getByLabelText("At least"), "0.8");
    await userEvent.click(set);

    await waitFor(() =>
      expect(calls.find((call) => call.method === "POST")?.body).toEqual({
        workflow: "SupportReply",
        evaluator: "judge",
        metric: "mean_score",
        max_drop: null,
        at_least: 0.8,
      }),
    );
  });

  it("lets a viewer read the thresholds but not change them", async () => {
    fakeApi("viewer", {
      "GET /playground/thresholds": page([plain]),
      "GET /playground/evaluators": evaluators,
    });
    renderAs(<GateThresholds workflow="SupportReply" />);

    expect(await screen.findByText(/plain pass rate/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Set threshold" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Remove/ })).not.toBeInTheDocument();
  });

  it("says both bounds when a threshold has both", () => {
    expect(boundText({ max_drop: 0.1, at_least: 0.5 })).toBe("may drop at most 0.1, at least 0.5");
  });
});
