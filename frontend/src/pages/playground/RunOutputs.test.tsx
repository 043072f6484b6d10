import { act, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { renderWithProviders } from "../../test-utils";
import { RunOutputs } from "./RunOutputs";

class FakeSocket {
  static instances: FakeSocket[] = [];
  url: string;
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  closed = false;
  constructor(url: string) {
    this.url = url;
    FakeSocket.instances.push(this);
  }
  close() {
    this.closed = true;
  }
  deliver(message: unknown) {
    act(() => this.onmessage?.({ data: JSON.stringify(message) }));
  }
}

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
  FakeSocket.instances = [];
  vi.stubGlobal("WebSocket", FakeSocket);
  vi.stubGlobal(
    "fetch",
    vi.fn(async () =>
      Response.json({
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
      }),
    ),
  );
});
afterEach(() => vi.unstubAllGlobals());

describe("RunOutputs", () => {
  it("streams a run's output in over its socket, then shows the step's final output", async () => {
    renderWithProviders(<RunOutputs runs={[{ runId: "run-1", title: "Refund please" }]} step="draft" />);
    const socket = FakeSocket.instances[0]!;
    expect(socket.url).toMatch(/\/ws\/runs\/run-1/);
    expect(screen.getByLabelText("Streamed output")).toHaveTextContent("Waiting for output…");

    socket.deliver({
      type: "run.snapshot",
      run_id: "run-1",
      status: "RUNNING",
      step_runs: [{ step_run_id: "draft-1", step: "draft", status: "RUNNING", attempt: 1 }],
      lines: [chunk(1, "Briefly: ")],
    });
    socket.deliver(chunk(2, "on "));
    expect(screen.getByLabelText("Streamed output")).toHaveTextContent("Briefly: on");
    expect(screen.getByText("Running")).toBeInTheDocument();

    socket.deliver({ type: "run.status", run_id: "run-1", status: "SUCCEEDED" });
    expect(await screen.findByLabelText("draft output")).toHaveTextContent("reply: Briefly: on it.");
    expect(screen.getByText("Succeeded")).toBeInTheDocument();
    expect(socket.closed).toBe(true);
  });
});
