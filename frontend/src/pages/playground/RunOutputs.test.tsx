import { screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  fakeApi,
  FakeSocket,
  page,
  renderWithProviders,
  stubSockets,
  type FakeCall,
} from "../../test-utils";
import type { RunDetail, StepRun } from "../../api/types";
import { stepRun } from "../runs/fixtures";
import { RunOutputs } from "./RunOutputs";

const chunk = (seq: number, text: string, attempt = 1) => ({
  type: "step_run.line",
  step_run_id: "draft-1",
  attempt,
  kind: "stream",
  seq,
  level: "info",
  text,
  created_at: "2026-01-01T00:00:00Z",
});

const words = ["Thanks ", "for ", "writing ", "in, ", "we ", "are ", "on ", "it."];
const storedPage = (through: number) => ({
  ...page(
    words.slice(0, through + 1).map((text, seq) => ({
      attempt: 1,
      seq,
      text,
      level: "",
      created_at: "2026-01-01T00:00:00Z",
    })),
  ),
  text: words.slice(0, through + 1).join(""),
});
const snapshot = (status: string, lines: unknown[]) => ({
  type: "run.snapshot",
  run_id: "run-1",
  status,
  step_runs: [
    { step_run_id: "classify-1", step: "classify", status: "SUCCEEDED", attempt: 1 },
    { step_run_id: "draft-1", step: "draft", status: "RUNNING", attempt: 1 },
  ],
  lines,
});
let calls: FakeCall[] = [];

/** Run "run-1" of SupportReply, failed with `error` unless a test says otherwise. */
const endedRun = (error: string, step_runs: StepRun[]): RunDetail => ({
  id: "run-1",
  workflow: "SupportReply",
  version: 1,
  status: "FAILED",
  error,
  input: {},
  additional_metadata: {},
  overrides: {},
  created_at: "2026-01-01T00:00:00Z",
  step_runs,
});

beforeEach(() => {
  stubSockets();
  calls = fakeApi("viewer", {
    "GET /step-runs/draft-1/stream": storedPage(4),
    "GET /runs/run-1": {
      id: "run-1",
      workflow: "SupportReply",
      version: 1,
      status: "SUCCEEDED",
      input: {},
      additional_metadata: {},
      overrides: {},
      step_runs: [
        {
          id: "draft-1",
          step: "draft",
          action: "a",
          status: "SUCCEEDED",
          output: { reply: "Briefly: on it." },
          error: "",
          playground: [],
          parents: [],
          attempts: [],
        },
      ],
    },
  });
});
afterEach(() => vi.unstubAllGlobals());

describe("RunOutputs", () => {
  it("streams a run's output in over its socket, then shows the step's final output", async () => {
    renderWithProviders(
      <RunOutputs runs={[{ runId: "run-1", title: "Refund please" }]} step="draft" />,
    );
    const socket = FakeSocket.instances[0]!;
    expect(socket.url).toMatch(/\/ws\/runs\/run-1/);
    expect(screen.getByLabelText("Streamed output")).toHaveTextContent("Waiting for output…");

    socket.receive({
      type: "run.snapshot",
      run_id: "run-1",
      status: "RUNNING",
      step_runs: [{ step_run_id: "draft-1", step: "draft", status: "RUNNING", attempt: 1 }],
      lines: [chunk(0, "Briefly: ")],
    });
    socket.receive(chunk(1, "on "));
    expect(screen.getByLabelText("Streamed output")).toHaveTextContent("Briefly: on");
    expect(screen.getByText("Running")).toBeInTheDocument();

    socket.receive({ type: "run.status", run_id: "run-1", status: "SUCCEEDED" });
    expect(await screen.findByLabelText("draft output")).toHaveTextContent("Briefly: on it.");
    expect(screen.getByLabelText("draft output")).not.toHaveTextContent("reply");
    expect(screen.getByText("Succeeded")).toBeInTheDocument();
    expect(socket.isClosed).toBe(true);
  });

  const shown = () => screen.getByLabelText("Streamed output").textContent;
  const render = () => {
    renderWithProviders(
      <RunOutputs runs={[{ runId: "run-1", title: "Refund please" }]} step="draft" />,
    );
    return FakeSocket.last!;
  };

  it("keeps each chunk once and in order, across a reconnect", async () => {
    const first = render();
    first.receive(snapshot("RUNNING", [chunk(0, words[0]!), chunk(1, words[1]!)]));
    first.receive(chunk(1, words[1]!));
    first.receive(chunk(3, words[3]!));
    first.receive(chunk(2, words[2]!));
    expect(shown()).toBe("Thanks for writing in, ");
    first.closeFromServer(1006);
    await waitFor(() => expect(FakeSocket.instances).toHaveLength(2), { timeout: 3000 });
    const second = FakeSocket.last!;
    second.receive(
      snapshot(
        "RUNNING",
        words.slice(0, 6).map((text, seq) => chunk(seq, text)),
      ),
    );
    second.receive(chunk(5, words[5]!));
    second.receive(chunk(6, words[6]!));
    expect(shown()).toBe("Thanks for writing in, we are on ");
  });

  it("fills a gap from the stored stream", async () => {
    const socket = render();
    socket.receive(snapshot("RUNNING", [chunk(0, words[0]!), chunk(1, words[1]!)]));
    socket.receive(chunk(2, words[2]!));
    socket.receive(chunk(4, words[4]!));
    await waitFor(() => expect(shown()).toBe("Thanks for writing in, we "));
    expect(calls.map((call) => call.path)).toEqual([
      "/step-runs/draft-1/stream?attempt=1&limit=500&offset=0",
    ]);
  });

  it("shows the step's latest attempt only", () => {
    const socket = render();
    socket.receive(
      snapshot("RUNNING", [chunk(0, "Thanks "), chunk(1, "for "), chunk(0, "Briefly: ", 2)]),
    );
    socket.receive(chunk(1, "on it.", 2));
    expect(shown()).toBe("Briefly: on it.");
  });

  it("shows the stored stream of a run that ended without the step's output", async () => {
    calls = fakeApi("viewer", {
      "GET /runs/run-1": endedRun("Step 'draft' failed: model went away", [
        stepRun({ id: "draft-1", step: "draft", status: "FAILED", error: "model went away" }),
      ]),
      "GET /step-runs/draft-1/stream": storedPage(4),
    });
    const socket = render();
    socket.receive(snapshot("RUNNING", [chunk(0, words[0]!)]));
    // The run's end arrives before its last chunks, and closes the socket.
    socket.receive({ type: "run.status", run_id: "run-1", status: "FAILED" });
    expect(await screen.findByText("Step 'draft' failed: model went away")).toBeInTheDocument();
    await waitFor(() => expect(shown()).toBe("Thanks for writing in, we "));
  });

  it("says so when the step succeeded without output and streamed nothing", async () => {
    calls = fakeApi("viewer", {
      "GET /runs/run-1": {
        ...endedRun("", [stepRun({ id: "draft-1", step: "draft", output: null })]),
        status: "SUCCEEDED",
      },
      "GET /step-runs/draft-1/stream": { ...page([]), text: "" },
    });
    const socket = render();
    socket.receive(snapshot("RUNNING", []));
    socket.receive({ type: "run.status", run_id: "run-1", status: "SUCCEEDED" });
    expect(await screen.findByText("(no output)")).toBeInTheDocument();
    expect(screen.queryByLabelText("draft output")).not.toBeInTheDocument();
  });

  it("shows why a run failed in another step, where the step shown was only cancelled", async () => {
    calls = fakeApi("viewer", {
      "GET /runs/run-1": endedRun("Step 'understand' failed: KeyError: 'question'", [
        stepRun({
          id: "understand-1",
          step: "understand",
          status: "FAILED",
          error: "KeyError: 'question'",
        }),
        stepRun({
          id: "draft-1",
          step: "draft",
          status: "CANCELLED",
          error: "cancelled",
          parents: ["understand"],
        }),
      ]),
      "GET /step-runs/draft-1/stream": { ...page([]), text: "" },
    });
    const socket = render();
    socket.receive(snapshot("RUNNING", []));
    socket.receive({ type: "run.status", run_id: "run-1", status: "FAILED" });

    expect(
      await screen.findByText("Step 'understand' failed: KeyError: 'question'"),
    ).toBeInTheDocument();
    expect(screen.getByText("Failed")).toBeInTheDocument();
    expect(screen.queryByText("cancelled")).not.toBeInTheDocument();
    // No empty box where the output would be.
    await waitFor(() =>
      expect(calls.map((call) => call.path)).toContain("/step-runs/draft-1/stream?limit=1"),
    );
    expect(screen.queryByLabelText("Streamed output")).not.toBeInTheDocument();
  });
});
