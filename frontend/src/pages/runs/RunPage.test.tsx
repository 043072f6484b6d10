import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Route, Routes } from "react-router-dom";
import type { RunDetail } from "../../api/types";
import { failedRun } from "./fixtures";
import { RunPage } from "./RunPage";
import {
  apiErrorResponse,
  fakeApi,
  FakeSocket,
  page,
  renderAs,
  stubSockets,
} from "../../test-utils";

function renderRunPage(id = "run-1") {
  return renderAs(
    <Routes>
      <Route path="/runs/:runId" element={<RunPage />} />
    </Routes>,
    { route: `/runs/${id}` },
  );
}

const noLines = {
  "GET /step-runs/sr-load/logs": page([]),
  "GET /step-runs/sr-load/stream": { ...page([]), text: "" },
};

const line = (kind: "log" | "stream", seq: number, text: string) => ({
  type: "step_run.line",
  step_run_id: "sr-load",
  attempt: 2,
  kind,
  seq,
  level: kind === "log" ? "info" : "",
  text,
  created_at: "2026-11-24T10:01:00Z",
});
const stored = (seq: number, text: string, level = "") => ({
  attempt: 2,
  seq,
  level,
  text,
  created_at: "2026-11-24T10:01:00Z",
});

beforeEach(() => stubSockets());
afterEach(() => vi.unstubAllGlobals());

describe("RunPage", () => {
  it("opens on the failed step and shows its error and traceback in a <pre>", async () => {
    fakeApi("editor", { "GET /runs/run-1": failedRun(), ...noLines });
    renderRunPage();

    expect(await screen.findByRole("heading", { name: /NightlyImport/ })).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Step load" })).toBeInTheDocument();
    expect(screen.getByText("3 of 4")).toBeInTheDocument();
    expect(screen.queryByRole("list", { name: "Why it waits" })).not.toBeInTheDocument();
    const traceback = screen.getByText(/Traceback \(most recent call last\)/);
    expect(traceback.tagName).toBe("PRE");
    expect(traceback).toHaveTextContent(
      "ConnectionError: warehouse refused the connection: too many clients",
    );
    expect(screen.getByText(/worker browser-worker/)).toBeInTheDocument();
    expect(await screen.findByRole("button", { name: /^load/ })).toHaveAttribute(
      "aria-pressed",
      "true",
    );
    expect(screen.getByRole("list", { name: "Step timeline" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Retry" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Cancel" })).not.toBeInTheDocument();
  });
  it("shows a step's text output as text, its JSON one click away", async () => {
    const user = userEvent.setup();
    const run = failedRun();
    fakeApi("viewer", {
      "GET /runs/run-1": {
        ...run,
        step_runs: run.step_runs.map((stepRun) =>
          stepRun.step === "load"
            ? { ...stepRun, output: { summary: "**Loaded** 3 rows" } }
            : stepRun,
        ),
      },
      ...noLines,
    });
    renderRunPage();

    const output = await screen.findByRole("group", { name: "Output of load" });
    expect(within(output).getByText("Loaded").tagName).toBe("STRONG");
    expect(output).not.toHaveTextContent("summary");
    await user.click(within(output).getByRole("button", { name: "JSON" }));
    expect(within(output).getByRole("group", { name: "Output of load (JSON)" })).toHaveTextContent(
      'summary: "**Loaded** 3 rows"',
    );
  });

  it("says why the run, and each queued step of it, waits", async () => {
    const run = failedRun();
    fakeApi("viewer", {
      "GET /runs/run-1": {
        ...run,
        status: "PENDING",
        error: "",
        concurrency_key: 'NightlyImport:"acme"',
        waiting_reason: 'Its concurrency key NightlyImport:"acme" is full: 1 run going.',
        step_waiting_reasons: { "sr-fetch": "No worker serves NightlyImport:fetch." },
      },
      ...noLines,
    });
    renderRunPage();
    const waits = await screen.findByRole("list", { name: "Why it waits" });
    expect(
      within(waits)
        .getAllByRole("listitem")
        .map((item) => item.textContent),
    ).toEqual([
      'Waiting: Its concurrency key NightlyImport:"acme" is full: 1 run going.',
      "Step fetch is queued: No worker serves NightlyImport:fetch.",
    ]);
    expect(screen.getByText('NightlyImport:"acme"', { selector: "code" })).toBeInTheDocument();
  });

  it("links the event that started the run", async () => {
    fakeApi("viewer", {
      "GET /runs/run-1": { ...failedRun(), trigger: "event", event: "e-1" },
      ...noLines,
    });
    renderRunPage();
    expect(await screen.findByRole("link", { name: "Event e-1" })).toHaveAttribute(
      "href",
      "/events/e-1",
    );
  });

  it("hides cancel, retry and replay from viewers", async () => {
    fakeApi("viewer", { "GET /runs/run-1": failedRun(), ...noLines });
    renderRunPage();
    await screen.findByRole("heading", { name: "Step load" });
    expect(screen.queryByRole("button", { name: "Retry" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Replay" })).not.toBeInTheDocument();
  });

  it("retries, shows the server's refusal, and follows the socket's status messages", async () => {
    const user = userEvent.setup();
    let run: RunDetail = failedRun();
    const calls = fakeApi("editor", {
      "GET /runs/run-1": () => run,
      "POST /runs/run-1/retry": () =>
        apiErrorResponse(409, "conflict", "The run is not failed or cancelled."),
      ...noLines,
      "GET /step-runs/sr-fetch/logs": page([]),
      "GET /step-runs/sr-fetch/stream": { ...page([]), text: "" },
    });
    renderRunPage();
    await user.click(await screen.findByRole("button", { name: "Retry" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "The run is not failed or cancelled.",
    );
    expect(calls.some((call) => call.method === "POST" && call.path === "/runs/run-1/retry")).toBe(
      true,
    );

    // The run runs again: the socket says so before the refetch brings the details.
    const socket = FakeSocket.last;
    expect(socket?.url).toMatch(/\/ws\/runs\/run-1/);
    run = { ...run, status: "SUCCEEDED", error: "" };
    socket?.receive({
      type: "step_run.status",
      step_run_id: "sr-load",
      status: "RUNNING",
      attempt: 2,
    });
    socket?.receive(line("stream", 0, "chunk one "));
    socket?.receive(line("stream", 2, "chunk two"));
    socket?.receive(line("log", 1, "loaded 3 rows"));
    expect(
      within(screen.getByRole("button", { name: /^load/ })).getByText("Running"),
    ).toBeInTheDocument();
    expect(screen.getByLabelText("Stream of load")).toHaveTextContent("chunk one chunk two");
    expect(screen.getByLabelText("Logs of load")).toHaveTextContent("loaded 3 rows");
    socket?.receive({ type: "run.status", run_id: "run-1", status: "SUCCEEDED" });
    await waitFor(() =>
      expect(screen.queryByRole("button", { name: "Retry" })).not.toBeInTheDocument(),
    );
  });

  it("fills a gap in the lines from the stored logs and stream", async () => {
    const calls = fakeApi("viewer", {
      "GET /runs/run-1": failedRun(),
      ...noLines,
      "GET /step-runs/sr-load/logs?attempt=2&limit=500&offset=0": page([
        stored(1, "loaded 3 rows", "info"),
      ]),
      "GET /step-runs/sr-load/stream?attempt=2&limit=500&offset=0": {
        ...page([stored(0, "chunk one "), stored(2, "chunk two ")]),
        text: "chunk one chunk two ",
      },
    });
    renderRunPage();
    await screen.findByRole("heading", { name: "Step load" });
    const socket = FakeSocket.last;
    socket?.receive(line("stream", 0, "chunk one "));
    // seq 1 (a log line) and 2 (a chunk) were lost on the way.
    socket?.receive(line("stream", 3, "chunk three"));
    await waitFor(() =>
      expect(screen.getByLabelText("Stream of load")).toHaveTextContent(
        "chunk one chunk two chunk three",
      ),
    );
    expect(screen.getByLabelText("Logs of load")).toHaveTextContent("loaded 3 rows");
    expect(
      calls
        .filter((call) => call.path.includes("attempt="))
        .map((call) => call.path)
        .sort(),
    ).toEqual([
      "/step-runs/sr-load/logs?attempt=2&limit=500&offset=0",
      "/step-runs/sr-load/stream?attempt=2&limit=500&offset=0",
    ]);
  });

  it("replays from the chosen step and goes to the new run", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("editor", {
      "GET /runs/run-1": failedRun(),
      "GET /runs/run-2": { ...failedRun(), id: "run-2", status: "RUNNING", error: "" },
      "POST /runs/run-1/replay": () =>
        Response.json({ ...failedRun(), id: "run-2" }, { status: 201 }),
      ...noLines,
    });
    renderRunPage();
    await user.selectOptions(await screen.findByLabelText("Replay from"), "load");
    await user.click(screen.getByRole("button", { name: "Replay" }));
    expect(calls.find((call) => call.path === "/runs/run-1/replay")?.body).toEqual({
      from_step: "load",
    });
    await waitFor(() => expect(calls.some((call) => call.path === "/runs/run-2")).toBe(true));
    expect(await screen.findByText("run-2")).toBeInTheDocument();
  });

  it("cancels an unfinished run after a confirming click", async () => {
    const user = userEvent.setup();
    const running: RunDetail = { ...failedRun(), status: "RUNNING", error: "", finished_at: null };
    const calls = fakeApi("editor", {
      "GET /runs/run-1": running,
      "POST /runs/run-1/cancel": () => ({ ...running, status: "CANCELLED" }),
      ...noLines,
    });
    renderRunPage();
    const cancel = await screen.findByRole("button", { name: "Cancel" });
    expect(screen.getByRole("status")).toHaveTextContent(/Connecting|Reconnecting|Live/);
    expect(screen.queryByRole("button", { name: "Retry" })).not.toBeInTheDocument();
    await user.click(cancel);
    expect(calls.some((call) => call.method === "POST")).toBe(false);
    await user.click(screen.getByRole("button", { name: "Confirm cancel" }));
    await waitFor(() =>
      expect(
        calls.some((call) => call.method === "POST" && call.path === "/runs/run-1/cancel"),
      ).toBe(true),
    );
  });

  it("shows the API's error when the run does not exist", async () => {
    fakeApi("editor", {});
    renderRunPage("missing");
    expect(await screen.findByRole("alert")).toHaveTextContent("No fake for GET /runs/missing");
  });
});
