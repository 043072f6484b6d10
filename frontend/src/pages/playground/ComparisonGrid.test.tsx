import { screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Cell, Comparison } from "../../api/types";
import { FakeSocket, renderWithProviders, stubSockets } from "../../test-utils";
import { ComparisonGrid } from "./ComparisonGrid";
import { LiveComparison } from "./ComparisonPage";
import { comparisonReducer } from "./model";

function cell(row: number, column: number, fields: Partial<Cell> = {}): Cell {
  return {
    row,
    column,
    run_id: `run-${row}-${column}`,
    kind: "run",
    status: "SUCCEEDED",
    is_finished: true,
    output_step: "review",
    output: null,
    outputs: {},
    error: "",
    started_at: null,
    finished_at: null,
    duration_ms: 1200,
    usage: null,
    stream: "",
    ...fields,
  };
}

function comparison(cells: Cell[], is_finished = true): Comparison {
  return {
    id: "cmp-1",
    workflow: "SupportReply",
    from_step: null,
    columns: [
      { title: "Baseline (code defaults)", variant: null, variant_name: "", revision: null, overrides: {} },
      {
        title: "brief",
        variant: "var-1",
        variant_name: "brief",
        revision: 2,
        overrides: { draft: { system_prompt: "Be brief." } },
      },
    ],
    rows: [{ title: "Refund please", source_run: "past-1", input: { ticket: "Refund please" } }],
    cells,
    is_finished,
    created_by: "pat",
    created_at: "2026-01-01T00:00:00Z",
  };
}

const finished = comparison([
  cell(0, 0, { output: { reply: "Thanks for reaching out: we received your message." } }),
  cell(0, 1, { output: { reply: "Briefly: we received your message." } }),
]);

describe("ComparisonGrid", () => {
  it("lays out inputs as rows and the baseline and variant as columns", () => {
    renderWithProviders(<ComparisonGrid comparison={finished} />);
    const grid = screen.getByRole("table", { name: "Comparison" });
    const headers = within(grid).getAllByRole("columnheader").map((th) => th.textContent);
    expect(headers).toEqual(["Input", "Baseline (code defaults) · baseline", "brief · rev 2"]);
    expect(within(grid).getByRole("rowheader")).toHaveTextContent("Refund please");
    expect(screen.getByLabelText("Baseline (code defaults) output")).toHaveTextContent(
      "reply: Thanks for reaching out: we received your message.",
    );
    expect(screen.getByLabelText("brief output")).toHaveTextContent("reply: Briefly: we received your message.");
  });

  it("diffs each variant cell against the baseline cell of its row, and not the baseline itself", () => {
    renderWithProviders(<ComparisonGrid comparison={finished} />);
    const diffs = screen.getAllByRole("group", { name: /diff against the baseline/ });
    expect(diffs).toHaveLength(1);
    expect(diffs[0]).toHaveAccessibleName("brief: diff against the baseline");
    const removed = Array.from(diffs[0]!.querySelectorAll("del")).map((node) => node.textContent).join("");
    const added = Array.from(diffs[0]!.querySelectorAll("ins")).map((node) => node.textContent).join("");
    expect(removed).toContain("Thanks for reaching out");
    expect(added).toContain("Briefly");
  });

  it("shows the stream of a running cell and no diff until both cells finished", () => {
    renderWithProviders(
      <ComparisonGrid
        comparison={comparison(
          [
            cell(0, 0, { output: { reply: "Thanks" } }),
            cell(0, 1, { status: "RUNNING", is_finished: false, stream: "Briefly: we", duration_ms: null }),
          ],
          false,
        )}
      />,
    );
    expect(screen.getByLabelText("brief output")).toHaveTextContent("Briefly: we");
    expect(screen.getByText("Running")).toBeInTheDocument();
    expect(screen.queryByRole("group", { name: /diff against the baseline/ })).not.toBeInTheDocument();
  });

  it("shows a failed cell's error", () => {
    renderWithProviders(
      <ComparisonGrid
        comparison={comparison([cell(0, 0, { output: "ok" }), cell(0, 1, { status: "FAILED", error: "model timed out" })])}
      />,
    );
    expect(screen.getByText("model timed out")).toBeInTheDocument();
    expect(screen.getByText("Failed")).toBeInTheDocument();
  });
});

describe("comparisonReducer", () => {
  const running = comparison(
    [cell(0, 0, { output: "a" }), cell(0, 1, { status: "PENDING", is_finished: false, duration_ms: null })],
    false,
  );

  it("moves a cell's status, appends its stream, then replaces it when it finishes", () => {
    let state = comparisonReducer(running, { type: "cell.status", row: 0, column: 1, run_id: "run-0-1", status: "RUNNING" });
    expect(state?.cells[1]?.status).toBe("RUNNING");
    state = comparisonReducer(state, {
      type: "cell.stream", row: 0, column: 1, run_id: "run-0-1", step: "draft", step_run_id: "s", attempt: 1, seq: 1, text: "Briefly ",
    });
    state = comparisonReducer(state, {
      type: "cell.stream", row: 0, column: 1, run_id: "run-0-1", step: "draft", step_run_id: "s", attempt: 1, seq: 2, text: "done",
    });
    expect(state?.cells[1]?.stream).toBe("Briefly done");
    state = comparisonReducer(state, { type: "cell", cell: cell(0, 1, { output: "Briefly done." }) });
    expect(state?.cells[1]?.is_finished).toBe(true);
    expect(state?.is_finished).toBe(true);
    expect(state?.cells[0]).toBe(running.cells[0]);
  });

  it("takes a snapshot whole and ignores cells it does not have", () => {
    expect(comparisonReducer(null, { type: "comparison.snapshot", comparison: finished })).toBe(finished);
    const state = comparisonReducer(running, { type: "cell.status", row: 5, column: 5, run_id: "x", status: "FAILED" });
    expect(state).toBe(running);
  });
});

describe("LiveComparison", () => {
  beforeEach(stubSockets);
  afterEach(() => vi.unstubAllGlobals());

  it("subscribes to the comparison and fills cells in as messages arrive", () => {
    const initial = comparison(
      [
        cell(0, 0, { output: { reply: "Thanks for reaching out." } }),
        cell(0, 1, { status: "RUNNING", is_finished: false, duration_ms: null }),
      ],
      false,
    );
    renderWithProviders(<LiveComparison initial={initial} />);
    const socket = FakeSocket.instances[0]!;
    expect(socket.url).toMatch(/\/ws\/playground\/compare\/cmp-1/);
    expect(screen.getByText("1 of 2 runs finished")).toBeInTheDocument();

    socket.receive({
      type: "cell.stream", row: 0, column: 1, run_id: "run-0-1", step: "draft", step_run_id: "s", attempt: 1, seq: 1, text: "Briefly: ",
    });
    expect(screen.getByLabelText("brief output")).toHaveTextContent("Briefly:");

    socket.receive({ type: "cell", cell: cell(0, 1, { output: { reply: "Briefly: on it." } }) });
    socket.receive({ type: "comparison.finished", id: "cmp-1" });
    expect(screen.getByLabelText("brief output")).toHaveTextContent("reply: Briefly: on it.");
    expect(screen.getByRole("group", { name: "brief: diff against the baseline" })).toBeInTheDocument();
    expect(screen.getByText("all runs finished")).toBeInTheDocument();
    expect(socket.isClosed).toBe(true);
  });
});
