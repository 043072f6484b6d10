import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  fakeApi,
  FakeSocket,
  page,
  renderWithProviders,
  stubSockets,
  type FakeCall,
} from "../../test-utils";
import { ComparisonGrid } from "./ComparisonGrid";
import { LiveComparison } from "./ComparisonPage";
import type { Cell } from "../../api/types";
import { cell, comparison, score } from "./fixtures";
import { comparisonReducer, comparisonState } from "./model";

const finished = comparison([
  cell(0, 0, { output: { reply: "Thanks for reaching out: we received your message." } }),
  cell(0, 1, { output: { reply: "Briefly: we received your message." } }),
]);

describe("ComparisonGrid", () => {
  it("lays out inputs as rows and the baseline and variant as columns", () => {
    renderWithProviders(<ComparisonGrid comparison={finished} />);
    const grid = screen.getByRole("table", { name: "Comparison" });
    // Each header's own text, without its folded overrides.
    const headers = within(grid)
      .getAllByRole("columnheader")
      .map((th) =>
        Array.from(th.childNodes)
          .filter((node) => node.nodeName !== "DETAILS")
          .map((node) => node.textContent)
          .join(""),
      );
    expect(headers).toEqual(["Input", "Baseline (code defaults)", "brief · rev 2"]);
    expect(within(grid).getByRole("rowheader")).toHaveTextContent("Refund please");
    expect(screen.getByLabelText("Baseline (code defaults) output")).toHaveTextContent(
      "Thanks for reaching out: we received your message.",
    );
    expect(screen.getByLabelText("brief output")).toHaveTextContent(
      "Briefly: we received your message.",
    );
    expect(screen.getByLabelText("brief output")).not.toHaveTextContent("reply");
  });

  it("says baseline once, and names a baseline column that does not say it", () => {
    const untitled = {
      ...finished,
      columns: finished.columns.map((column, index) =>
        index === 0 ? { ...column, title: "Code defaults" } : column,
      ),
    };
    renderWithProviders(<ComparisonGrid comparison={untitled} />);
    expect(screen.getAllByRole("columnheader")[1]).toHaveTextContent(/^Code defaults · baseline$/);
  });

  it("shows the overrides that made an edited column, folded, and none for the baseline", async () => {
    const user = userEvent.setup();
    renderWithProviders(<ComparisonGrid comparison={finished} />);
    const [baseline, brief] = screen.getAllByRole("columnheader").slice(1);
    expect(within(baseline!).queryByText(/override/)).not.toBeInTheDocument();
    const folded = within(brief!).getByText("1 override");
    const details = folded.closest("details")!;
    expect(details).not.toHaveAttribute("open");

    await user.click(folded);
    expect(details).toHaveAttribute("open");
    expect(within(details).getByText("draft.system_prompt")).toBeVisible();
    expect(within(details).getByText("Be brief.")).toBeVisible();
  });

  it("diffs each variant cell against the baseline cell of its row, and not the baseline itself", () => {
    renderWithProviders(<ComparisonGrid comparison={finished} />);
    const diffs = screen.getAllByRole("group", { name: /diff against the baseline/ });
    expect(diffs).toHaveLength(1);
    expect(diffs[0]).toHaveAccessibleName("brief: diff against the baseline");
    const removed = Array.from(diffs[0]!.querySelectorAll("del"))
      .map((node) => node.textContent)
      .join("");
    const added = Array.from(diffs[0]!.querySelectorAll("ins"))
      .map((node) => node.textContent)
      .join("");
    expect(removed).toContain("Thanks for reaching out");
    expect(added).toContain("Briefly");
  });

  it("shows the stream of a running cell and no diff until both cells finished", () => {
    renderWithProviders(
      <ComparisonGrid
        comparison={comparison(
          [
            cell(0, 0, { output: { reply: "Thanks" } }),
            cell(0, 1, {
              status: "RUNNING",
              is_finished: false,
              stream: "Briefly: we",
              duration_ms: null,
            }),
          ],
          false,
        )}
      />,
    );
    expect(screen.getByLabelText("brief output")).toHaveTextContent("Briefly: we");
    expect(screen.getByText("Running")).toBeInTheDocument();
    expect(
      screen.queryByRole("group", { name: /diff against the baseline/ }),
    ).not.toBeInTheDocument();
  });

  /** The grid with the variant's cell failed (with `fields`); answers that cell. */
  function renderFailedCell(fields: Partial<Cell>) {
    renderWithProviders(
      <ComparisonGrid
        comparison={comparison([
          cell(0, 0, { output: "ok" }),
          cell(0, 1, { status: "FAILED", output: null, ...fields }),
        ])}
      />,
    );
    return screen.getByRole("cell", { name: "Refund please · brief" });
  }

  it("shows a failed cell's error in place of its empty output", () => {
    const failed = renderFailedCell({
      outputs: { understand: null, draft: null },
      error: "Step 'understand' failed: KeyError: 'question'",
    });
    expect(within(failed).getByText("Step 'understand' failed: KeyError: 'question'")).toHaveClass(
      "cell-error",
    );
    expect(within(failed).getByText("Failed")).toBeInTheDocument();
    expect(screen.queryByLabelText("brief output")).not.toBeInTheDocument();
    expect(screen.queryByText("(no output)")).not.toBeInTheDocument();
  });

  it("keeps what a failed cell streamed above its error", () => {
    const failed = renderFailedCell({ stream: "Briefly: we", error: "Step 'draft' failed: boom" });
    expect(screen.getByLabelText("brief output")).toHaveTextContent("Briefly: we");
    expect(within(failed).getByText("Step 'draft' failed: boom")).toHaveClass("cell-error");
  });
});

describe("comparisonReducer", () => {
  const running = comparisonState(
    comparison(
      [
        cell(0, 0, { output: "a" }),
        cell(0, 1, { status: "PENDING", is_finished: false, duration_ms: null }),
      ],
      false,
    ),
  );
  const chunk = (seq: number, text: string) =>
    ({
      type: "cell.stream",
      row: 0,
      column: 1,
      run_id: "run-0-1",
      step: "draft",
      step_run_id: "s",
      attempt: 1,
      seq,
      text,
    }) as const;

  it("moves a cell's status, merges its stream, then replaces it when it finishes", () => {
    let state = comparisonReducer(running, {
      type: "cell.status",
      row: 0,
      column: 1,
      run_id: "run-0-1",
      status: "RUNNING",
    });
    expect(state.comparison.cells[1]?.status).toBe("RUNNING");
    state = comparisonReducer(state, chunk(0, "Briefly "));
    state = comparisonReducer(state, chunk(1, "done"));
    expect(state.comparison.cells[1]?.stream).toBe("Briefly done");
    state = comparisonReducer(state, {
      type: "cell",
      cell: cell(0, 1, { output: "Briefly done." }),
    });
    expect(state.comparison.cells[1]?.is_finished).toBe(true);
    expect(state.comparison.is_finished).toBe(true);
    expect(state.comparison.cells[0]).toBe(running.comparison.cells[0]);
  });

  it("keeps each chunk once and in seq order, and holds those past a gap until it is filled", () => {
    let state = comparisonReducer(running, chunk(0, "Briefly: "));
    state = comparisonReducer(state, chunk(2, "it."));
    state = comparisonReducer(state, chunk(0, "Briefly: "));
    expect(state.comparison.cells[1]?.stream).toBe("Briefly: ");
    state = comparisonReducer(state, {
      type: "lines.filled",
      fill: {
        step_run_id: "s",
        attempt: 1,
        through: 2,
        lines: [{ step_run_id: "s", attempt: 1, kind: "stream", seq: 1, text: "on " }],
      },
    });
    expect(state.comparison.cells[1]?.stream).toBe("Briefly: on it.");
    expect(state.comparison.cells[1]?.stream_chunks.map((c) => c.seq)).toEqual([0, 1, 2]);
  });

  it("takes a snapshot whole, with the chunks it already holds, and ignores cells it does not have", () => {
    expect(
      comparisonReducer(running, { type: "comparison.snapshot", comparison: finished }).comparison,
    ).toEqual(finished);
    const state = comparisonReducer(running, {
      type: "cell.status",
      row: 5,
      column: 5,
      run_id: "x",
      status: "FAILED",
    });
    expect(state).toEqual(running);
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
      type: "cell.stream",
      row: 0,
      column: 1,
      run_id: "run-0-1",
      step: "draft",
      step_run_id: "s",
      attempt: 1,
      seq: 0,
      text: "Briefly: ",
    });
    expect(screen.getByLabelText("brief output")).toHaveTextContent("Briefly:");

    socket.receive({ type: "cell", cell: cell(0, 1, { output: { reply: "Briefly: on it." } }) });
    socket.receive({ type: "comparison.finished", id: "cmp-1" });
    expect(screen.getByLabelText("brief output")).toHaveTextContent("Briefly: on it.");
    expect(
      screen.getByRole("group", { name: "brief: diff against the baseline" }),
    ).toBeInTheDocument();
    expect(screen.getByText("all runs finished")).toBeInTheDocument();
    expect(socket.isClosed).toBe(true);
  });
});

describe("LiveComparison shows each chunk of a cell once, in the order it streamed", () => {
  const words = ["Thanks ", "for ", "writing ", "in, ", "we ", "are ", "on ", "it."];
  const stored = (through: number) =>
    words
      .slice(0, through + 1)
      .map((text, seq) => ({ step_run_id: "draft-1", attempt: 1, seq, text }));
  const running = (through: number) =>
    comparison(
      [
        cell(0, 0, { output: "ok" }),
        cell(0, 1, {
          status: "RUNNING",
          is_finished: false,
          duration_ms: null,
          stream: words.slice(0, through + 1).join(""),
          stream_chunks: stored(through),
        }),
      ],
      false,
    );
  const chunk = (seq: number) => ({
    type: "cell.stream",
    row: 0,
    column: 1,
    run_id: "run-0-1",
    step: "draft",
    step_run_id: "draft-1",
    attempt: 1,
    seq,
    text: words[seq],
  });
  const shown = () => screen.getByLabelText("brief output").textContent;
  let calls: FakeCall[] = [];

  beforeEach(() => {
    stubSockets();
    calls = fakeApi("viewer", {
      "GET /step-runs/draft-1/stream": {
        ...page(
          stored(4).map(({ attempt, seq, text }) => ({
            attempt,
            seq,
            text,
            level: "",
            created_at: "2026-01-01T00:00:00Z",
          })),
        ),
        text: words.slice(0, 5).join(""),
      },
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  it("drops the chunks its snapshot already holds", () => {
    renderWithProviders(<LiveComparison initial={running(1)} />);
    const socket = FakeSocket.last!;
    socket.receive({ type: "comparison.snapshot", comparison: running(2) });
    socket.receive(chunk(1));
    socket.receive(chunk(2));
    socket.receive(chunk(3));
    expect(shown()).toBe("Thanks for writing in, ");
  });

  it("puts chunks that arrive out of order in their place", () => {
    renderWithProviders(<LiveComparison initial={running(1)} />);
    const socket = FakeSocket.last!;
    socket.receive(chunk(3));
    socket.receive(chunk(2));
    expect(shown()).toBe("Thanks for writing in, ");
  });

  it("fills a gap from the stored stream", async () => {
    renderWithProviders(<LiveComparison initial={running(1)} />);
    const socket = FakeSocket.last!;
    socket.receive(chunk(2));
    socket.receive(chunk(4));
    await waitFor(() => expect(shown()).toBe("Thanks for writing in, we "));
    expect(calls.map((call) => call.path)).toEqual([
      "/step-runs/draft-1/stream?attempt=1&limit=500&offset=0",
    ]);
  });

  it("catches up after a reconnect from the new socket's snapshot", async () => {
    renderWithProviders(<LiveComparison initial={running(1)} />);
    const first = FakeSocket.last!;
    first.receive(chunk(2));
    first.closeFromServer(1006);
    await waitFor(() => expect(FakeSocket.instances).toHaveLength(2), { timeout: 3000 });
    const second = FakeSocket.last!;
    second.receive({ type: "comparison.snapshot", comparison: running(5) });
    second.receive(chunk(5));
    second.receive(chunk(6));
    expect(shown()).toBe("Thanks for writing in, we are on ");
    expect(calls).toEqual([]);
  });
});

describe("ComparisonGrid's judging", () => {
  const judged = {
    ...comparison([
      cell(0, 0, { scores: [score("mentions refund", { reason: "contains 'refund'" })] }),
      cell(0, 1, {
        cost: 0.0012,
        scores: [
          score("mentions refund", { value: 0, passed: false, reason: "lacks 'refund'" }),
          score("polite", {
            status: "pending",
            value: null,
            passed: null,
            reason: "waiting for its run on a worker",
            run: "run-polite",
          }),
        ],
      }),
    ]),
    summary: [0, 1].map((column) => ({
      column,
      is_baseline: column === 0,
      runs: 1,
      evaluators: [
        {
          evaluator: "ev-mentions refund",
          name: "mentions refund",
          scored: 1,
          passed: 1 - column,
          errored: 0,
          pending: 0,
          pass_rate: 1 - column,
          mean_score: 1 - column,
        },
      ],
      mean_latency_ms: 1200,
      total_tokens: 42,
      total_cost: column ? 0.0012 : null,
      evaluator_cost: null,
      improved: 0,
      regressed: column,
      unchanged: 0,
    })),
  };

  it("shows each cell's verdicts with their reasons, and each column's totals against the baseline", () => {
    renderWithProviders(<ComparisonGrid comparison={judged} />);

    const variant = screen.getByRole("list", { name: "brief scores" });
    expect(
      within(variant)
        .getAllByRole("listitem")
        .map((li) => li.textContent),
    ).toEqual([
      "mentions refund: ✗ 0.00 (lacks 'refund')",
      "polite: … (waiting for its run on a worker)",
    ]);
    // A code evaluator's score links to the run on the user's worker that gives it.
    expect(within(variant).getByRole("link", { name: "polite" }).getAttribute("href")).toBe(
      "/runs/run-polite",
    );
    expect(screen.getByText("$0.0012", { selector: ".comparison-cell-meta span" })).toBeTruthy();
    const totals = screen.getByLabelText("brief summary");
    expect(totals).toHaveTextContent("mentions refund: 0% pass, mean 0.00");
    expect(totals).toHaveTextContent("1.2 s mean · 42 tokens · $0.0012");
    expect(totals).toHaveTextContent("0 better · 1 worse · 0 same than Baseline (code defaults)");
    expect(screen.getByLabelText("Baseline (code defaults) summary")).not.toHaveTextContent(
      "better",
    );
  });

  it("offers a review form in finished cells only when given a reviewer", () => {
    const { unmount } = renderWithProviders(<ComparisonGrid comparison={judged} />);
    expect(screen.queryByRole("form", { name: "Your review" })).toBeNull();
    unmount();

    renderWithProviders(
      <ComparisonGrid comparison={judged} reviewer={{ name: "ada", canReview: true }} />,
    );
    expect(screen.getAllByRole("form", { name: "Your review" })).toHaveLength(2);
  });
});

describe("ComparisonGrid's row filter", () => {
  const verdict = (value: number, status: "done" | "error" = "done") => ({
    evaluator: "ev-1",
    name: "check",
    status,
    value: status === "done" ? value : null,
    passed: status === "done" ? value >= 0.5 : null,
    reason: "",
    error: status === "error" ? "no expected output" : "",
    tokens: null,
    cost: null,
    latency_ms: null,
    run: null,
  });
  const rows = ["same", "worse", "broken"].map((title) => ({
    title,
    source_run: null,
    input: { ticket: title },
  }));
  const filtered = {
    ...comparison([
      cell(0, 0, { output: { reply: "A" }, scores: [verdict(1)] }),
      cell(0, 1, { output: { reply: "A" }, scores: [verdict(1)] }),
      cell(1, 0, { output: { reply: "B" }, scores: [verdict(1)] }),
      cell(1, 1, { output: { reply: "C" }, scores: [verdict(0)] }),
      cell(2, 0, { output: { reply: "D" }, scores: [verdict(1)] }),
      cell(2, 1, { status: "FAILED", output: null, error: "Step 'draft' failed", scores: [] }),
    ]),
    rows,
  };
  const shownRows = () =>
    within(screen.getByRole("table", { name: "Comparison" }))
      .queryAllByRole("rowheader")
      .filter((th) => th.closest("tbody"))
      .map((th) => th.textContent);

  it.each([
    ["all", ["same", "worse", "broken"]],
    ["failing", ["worse"]],
    ["errors", ["broken"]],
    ["differ", ["worse"]],
    ["regressions", ["worse"]],
  ])("shows %s rows", async (filter, expected) => {
    renderWithProviders(<ComparisonGrid comparison={filtered} />);

    await userEvent.selectOptions(screen.getByLabelText("Show"), filter);

    expect(shownRows().map((text) => text?.split("ticket")[0] ?? "")).toEqual(
      expected.map((title) => expect.stringContaining(title)),
    );
  });
});

describe("ComparisonGrid's repeats and attempts", () => {
  const strict = (passed: boolean) => score("strict", { value: passed ? 1 : 0, passed });
  const repeated = {
    ...comparison([
      ...[true, false, true].map((passed, repeat) =>
        cell(0, 0, {
          repeat,
          run_id: `run-0-0-${repeat}`,
          duration_ms: 1000 * (repeat + 1),
          output: { reply: passed ? "strict reply" : "loose reply" },
          scores: [strict(passed)],
        }),
      ),
      ...[0, 1, 2].map((repeat) =>
        cell(0, 1, {
          repeat,
          run_id: `run-0-1-${repeat}`,
          output: { reply: "strict reply" },
          scores: [strict(true)],
        }),
      ),
    ]),
    repeat: 3,
  };

  it("shows the spread of a cell's repeats, marks disagreeing ones unstable, and each repeat in a tab", async () => {
    renderWithProviders(<ComparisonGrid comparison={repeated} />);

    const baseline = screen.getByRole("group", { name: "Baseline (code defaults) spread" });
    expect(baseline).toHaveTextContent("3 repeats · unstable");
    expect(baseline).toHaveTextContent("strict: 2/3 pass, mean 0.67 (0.00–1.00)");
    expect(baseline).toHaveTextContent("2.0 s mean (1.0 s–3.0 s)");
    const brief = screen.getByRole("group", { name: "brief spread" });
    expect(brief).toHaveTextContent("strict: 3/3 pass, mean 1.00 (1.00–1.00)");
    expect(brief).not.toHaveTextContent("unstable");

    const tabs = within(screen.getByRole("tablist", { name: "Baseline (code defaults) repeats" }));
    expect(screen.getByLabelText("Baseline (code defaults) output")).toHaveTextContent(
      "strict reply",
    );
    await userEvent.click(tabs.getByRole("tab", { name: "Repeat 2" }));
    expect(tabs.getByRole("tab", { name: "Repeat 2" })).toHaveAttribute("aria-selected", "true");
    expect(screen.getByLabelText("Baseline (code defaults) output")).toHaveTextContent(
      "loose reply",
    );
  });

  it("shows a re-run cell's latest attempt, its earlier ones folded", async () => {
    const rerun = comparison([
      cell(0, 0, {
        status: "FAILED",
        is_latest: false,
        error: "Step 'classify' failed: KeyError: 'question'",
      }),
      cell(0, 0, { attempt: 1, run_id: "run-0-0-again", output: { reply: "Now it works." } }),
      cell(0, 1, { output: { reply: "Briefly." } }),
    ]);
    renderWithProviders(<ComparisonGrid comparison={rerun} />);

    expect(screen.getByLabelText("Baseline (code defaults) output")).toHaveTextContent(
      "Now it works.",
    );
    await userEvent.click(screen.getByText("1 earlier attempt"));
    expect(screen.getByText("Attempt 1")).toBeVisible();
    expect(screen.getByText("Step 'classify' failed: KeyError: 'question'")).toBeVisible();
  });

  it("lets the viewer hold the columns against another column", async () => {
    const chosen = vi.fn();
    renderWithProviders(<ComparisonGrid comparison={finished} onBaselineChange={chosen} />);

    await userEvent.selectOptions(screen.getByLabelText("Hold the columns against"), "brief");

    expect(chosen).toHaveBeenCalledWith(1);
  });

  it("adds a re-run's new attempt from the socket and leaves the earlier one behind", () => {
    const failed = comparison([cell(0, 0, { status: "FAILED" }), cell(0, 1)]);
    const state = comparisonReducer(comparisonState(failed), {
      type: "cell",
      cell: cell(0, 0, {
        attempt: 1,
        run_id: "run-0-0-again",
        status: "PENDING",
        is_finished: false,
      }),
    });

    expect(state.comparison.cells.map((c) => [c.run_id, c.attempt, c.is_latest, c.status])).toEqual(
      [
        ["run-0-0", 0, false, "FAILED"],
        ["run-0-0-again", 1, true, "PENDING"],
        ["run-0-1", 0, true, "SUCCEEDED"],
      ],
    );
    expect(state.comparison.is_finished).toBe(false);
  });
});
