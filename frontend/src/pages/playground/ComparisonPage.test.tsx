import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router-dom";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  apiErrorResponse,
  fakeApi,
  FakeSocket,
  page,
  renderAs,
  stubSockets,
} from "../../test-utils";
import { ComparisonPage } from "./ComparisonPage";
import { cell, comparison } from "./fixtures";

const finished = comparison([
  cell(0, 0, { output: { reply: "Thanks for reaching out." } }),
  cell(0, 1, { output: { reply: "Briefly: on it." } }),
]);

function renderComparisonPage() {
  return renderAs(
    <Routes>
      <Route path="/playground/compare/:comparisonId" element={<ComparisonPage />} />
    </Routes>,
    { route: "/playground/compare/cmp-1" },
  );
}

beforeEach(stubSockets);
afterEach(() => vi.unstubAllGlobals());

describe("ComparisonPage", () => {
  it("shows a finished comparison's grid and summary, without subscribing to it", async () => {
    const calls = fakeApi("viewer", { "GET /playground/compare/cmp-1": finished });
    renderComparisonPage();

    const grid = await screen.findByRole("table", { name: "Comparison" });
    expect(within(grid).getByRole("rowheader")).toHaveTextContent("Refund please");
    expect(screen.getByLabelText("brief output")).toHaveTextContent("Briefly: on it.");
    expect(screen.getByText("all runs finished")).toBeInTheDocument();
    expect(screen.getByText(/^2 columns × 1 input ·/)).toBeInTheDocument();
    expect(
      screen.getByRole("heading", { level: 1, name: "Comparison of SupportReply" }),
    ).toBeInTheDocument();
    expect(screen.getByText(/^Started by pat/)).toBeInTheDocument();
    expect(screen.queryByText("cmp-1")).not.toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Back to the playground" })).toHaveAttribute(
      "href",
      "/playground?workflow=SupportReply",
    );
    expect(FakeSocket.instances).toEqual([]);
    expect(calls.map((call) => call.path)).toEqual(["/playground/compare/cmp-1"]);
  });

  it("follows a running comparison live until it finishes", async () => {
    fakeApi("viewer", {
      "GET /playground/compare/cmp-1": comparison(
        [
          cell(0, 0, { output: { reply: "Thanks for reaching out." } }),
          cell(0, 1, { status: "RUNNING", is_finished: false, duration_ms: null }),
        ],
        false,
      ),
    });
    renderComparisonPage();

    expect(await screen.findByText("1 of 2 runs finished")).toBeInTheDocument();
    expect(screen.getByText(/^2 columns × 1 input ·/)).toBeInTheDocument();
    const socket = FakeSocket.last!;
    expect(socket.url).toMatch(/\/ws\/playground\/compare\/cmp-1/);
    socket.receive({ type: "cell", cell: cell(0, 1, { output: { reply: "Briefly: on it." } }) });
    expect(screen.getByLabelText("brief output")).toHaveTextContent("Briefly: on it.");
    expect(screen.getByText("all runs finished")).toBeInTheDocument();
    expect(socket.isClosed).toBe(true);
  });

  it("names the step a comparison started from", async () => {
    fakeApi("viewer", { "GET /playground/compare/cmp-1": { ...finished, from_step: "review" } });
    renderComparisonPage();
    expect(
      await screen.findByRole("heading", {
        level: 1,
        name: "Comparison of SupportReply from step review",
      }),
    ).toBeInTheDocument();
  });

  it("shows the API's error for an unknown comparison, and links back to the playground", async () => {
    fakeApi("viewer", {
      "GET /playground/compare/cmp-1": () =>
        apiErrorResponse(404, "not_found", "No comparison cmp-1."),
    });
    renderComparisonPage();
    expect(await screen.findByRole("alert")).toHaveTextContent("not_found No comparison cmp-1.");
    expect(screen.getByRole("link", { name: "Back to the playground" })).toHaveAttribute(
      "href",
      "/playground",
    );
    expect(screen.queryByRole("table")).not.toBeInTheDocument();
  });

  it("re-runs the failed cells for an editor, then follows the new attempt live", async () => {
    const failed = comparison([
      cell(0, 0, { status: "FAILED", error: "Step 'classify' failed: KeyError: 'question'" }),
      cell(0, 1, { output: { reply: "Briefly: on it." } }),
    ]);
    const rerun = comparison(
      [
        { ...failed.cells[0]!, is_latest: false },
        cell(0, 0, { attempt: 1, run_id: "run-0-0-again", status: "PENDING", is_finished: false }),
        failed.cells[1]!,
      ],
      false,
    );
    let current = failed;
    const calls = fakeApi("editor", {
      "GET /playground/compare/cmp-1": () => current,
      "GET /playground/datasets": page([]),
      "POST /playground/compare/cmp-1/rerun-failed": () => (current = rerun),
    });
    renderComparisonPage();

    await userEvent.click(await screen.findByRole("button", { name: "Re-run 1 failed cell" }));

    await waitFor(() => expect(FakeSocket.last?.url).toMatch(/compare\/cmp-1/));
    expect(calls.filter((call) => call.method === "POST").map((call) => call.path)).toEqual([
      "/playground/compare/cmp-1/rerun-failed",
    ]);
    expect(screen.queryByRole("button", { name: /Re-run/ })).not.toBeInTheDocument();
    expect(screen.getByText("1 earlier attempt")).toBeInTheDocument();
    FakeSocket.last!.receive({
      type: "cell",
      cell: cell(0, 0, { attempt: 1, run_id: "run-0-0-again", output: { reply: "Now it works." } }),
    });
    expect(screen.getByLabelText("Baseline (code defaults) output")).toHaveTextContent(
      "Now it works.",
    );
  });

  it("sums up against the chosen column, asking the API and telling the live socket", async () => {
    const running = comparison(
      [cell(0, 0), cell(0, 1, { status: "RUNNING", is_finished: false })],
      false,
    );
    const calls = fakeApi("viewer", {
      "GET /playground/compare/cmp-1": (call: { path: string }) => ({
        ...running,
        baseline: call.path.endsWith("?baseline=1") ? 1 : 0,
      }),
    });
    renderComparisonPage();
    await screen.findByText("1 of 2 runs finished");
    const socket = FakeSocket.last!;
    socket.open();
    expect(socket.sent).toEqual([]);

    await userEvent.selectOptions(screen.getByLabelText("Hold the columns against"), "brief");

    await waitFor(() =>
      expect(socket.sent).toEqual([{ type: "comparison.baseline", baseline: 1 }]),
    );
    expect(calls.map((call) => call.path)).toContain("/playground/compare/cmp-1?baseline=1");
    await waitFor(() => expect(screen.getByLabelText("Hold the columns against")).toHaveValue("1"));
    // A reconnect says it again.
    socket.closeFromServer(1006);
    await waitFor(() => expect(FakeSocket.instances).toHaveLength(2), { timeout: 2000 });
    FakeSocket.last!.open();
    expect(FakeSocket.last!.sent).toEqual([{ type: "comparison.baseline", baseline: 1 }]);
  });

  it("saves a comparison's rows to a dataset of its workflow", async () => {
    const calls = fakeApi("editor", {
      "GET /playground/compare/cmp-1": finished,
      "GET /playground/datasets": page([
        { id: "ds-1", workflow: "SupportReply", name: "refunds", version: 2, row_count: 3 },
      ]),
      "POST /playground/datasets/ds-1/rows": { id: "ds-1", name: "refunds", version: 3 },
    });
    renderComparisonPage();

    await userEvent.click(await screen.findByRole("button", { name: "Save rows to dataset" }));

    expect(await screen.findByRole("status")).toHaveTextContent(
      "Saved 1 row to refunds (version 3).",
    );
    expect(calls.find((call) => call.method === "POST")).toEqual({
      method: "POST",
      path: "/playground/datasets/ds-1/rows",
      body: { comparison: "cmp-1", expected_from_output: false },
    });
  });
});
