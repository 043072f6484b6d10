import { screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeApi, FakeSocket, renderWithProviders, stubSockets } from "../../test-utils";
import { RunOutputs } from "./RunOutputs";

const chunk = (seq: number, text: string) => ({
  type: "step_run.line",
  step_run_id: "draft-1",
  attempt: 1,
  kind: "stream",
  seq,
  level: "info",
  text,
  created_at: "2026-01-01T00:00:00Z",
});

beforeEach(() => {
  stubSockets();
  fakeApi("viewer", {
    "GET /runs/run-1": {
      id: "run-1",
      workflow: "SupportReply",
      version: 1,
      status: "SUCCEEDED",
      input: {},
      additional_metadata: {},
      overrides: {},
      step_runs: [
        { id: "draft-1", step: "draft", action: "a", status: "SUCCEEDED", output: { reply: "Briefly: on it." }, error: "", playground: [], parents: [], attempts: [] },
      ],
    },
  });
});
afterEach(() => vi.unstubAllGlobals());

describe("RunOutputs", () => {
  it("streams a run's output in over its socket, then shows the step's final output", async () => {
    renderWithProviders(<RunOutputs runs={[{ runId: "run-1", title: "Refund please" }]} step="draft" />);
    const socket = FakeSocket.instances[0]!;
    expect(socket.url).toMatch(/\/ws\/runs\/run-1/);
    expect(screen.getByLabelText("Streamed output")).toHaveTextContent("Waiting for output…");

    socket.receive({
      type: "run.snapshot",
      run_id: "run-1",
      status: "RUNNING",
      step_runs: [{ step_run_id: "draft-1", step: "draft", status: "RUNNING", attempt: 1 }],
      lines: [chunk(1, "Briefly: ")],
    });
    socket.receive(chunk(2, "on "));
    expect(screen.getByLabelText("Streamed output")).toHaveTextContent("Briefly: on");
    expect(screen.getByText("Running")).toBeInTheDocument();

    socket.receive({ type: "run.status", run_id: "run-1", status: "SUCCEEDED" });
    expect(await screen.findByLabelText("draft output")).toHaveTextContent("reply: Briefly: on it.");
    expect(screen.getByText("Succeeded")).toBeInTheDocument();
    expect(socket.isClosed).toBe(true);
  });
});
