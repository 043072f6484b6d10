import { fireEvent, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Route, Routes } from "react-router-dom";
import type { Cron, WorkflowDetail } from "../../api/types";
import { apiErrorResponse, fakeApi, page, renderAs } from "../../test-utils";
import { WorkflowPage } from "./WorkflowPage";
import { WorkflowsPage } from "./WorkflowsPage";

const detail: WorkflowDetail = {
  id: "w1",
  name: "NightlyImport",
  created_at: "2026-11-01T00:00:00Z",
  is_paused: false,
  latest_version: 2,
  versions: [
    { number: 1, checksum: "aaaaaaaaaaaaaaaa", created_at: "2026-11-01T00:00:00Z", definition: {} },
    { number: 2, checksum: "bbbbbbbbbbbbbbbb", created_at: "2026-11-02T00:00:00Z", definition: {} },
  ],
  steps: [
    {
      name: "fetch",
      action: "NightlyImport:fetch",
      parents: [],
      timeout_seconds: 60,
      schedule_timeout_seconds: 300,
      retries: 0,
      backoff: { factor: 2, max_seconds: 60 } as never,
      is_on_failure: false,
      rate_limits: [{ key: "llm", units: 1 }],
      desired_worker_labels: {
        gpu: { value: true, comparator: "=", required: true, weight: 100 },
        region: { value: "eu", comparator: "=", required: false, weight: 10 },
      },
      concurrency: { key: "input.customer", max_runs: 2, strategy: "GROUP_ROUND_ROBIN" },
      sticky: "hard",
    },
    {
      name: "load",
      action: "NightlyImport:load",
      parents: ["fetch"],
      timeout_seconds: 60,
      schedule_timeout_seconds: 300,
      retries: 2,
      backoff: { factor: 2, max_seconds: 60 } as never,
      is_on_failure: false,
      rate_limits: [
        { dynamic_key: "input.user", units: "input.tokens", limit: 5, period: "minute" },
      ],
      desired_worker_labels: {
        memory_gb: { value: 16, comparator: ">=", required: true, weight: 100 },
      },
      concurrency: null,
      sticky: "hard",
    },
    {
      name: "alert",
      action: "NightlyImport:alert",
      parents: [],
      timeout_seconds: 30,
      schedule_timeout_seconds: 300,
      retries: 0,
      backoff: { factor: 2, max_seconds: 60 } as never,
      is_on_failure: true,
      rate_limits: [],
      desired_worker_labels: {},
      concurrency: null,
      sticky: "hard",
    },
  ],
  triggers: { on_events: ["import:requested"], on_crons: ["0 3 * * *"] },
  recent_runs: [{ id: "run-old-0001", status: "FAILED", created_at: "2026-11-23T03:00:00Z" }],
};
const cron: Cron = {
  id: "c1",
  workflow: "NightlyImport",
  name: "",
  expression: "0 3 * * *",
  timezone: "UTC",
  source: "code" as Cron["source"],
  is_paused: false,
  input: {},
  additional_metadata: {},
  next_fire_at: "2099-01-01T03:00:00Z",
  last_fired_at: null,
  created_at: "2026-11-01T00:00:00Z",
};

function renderWorkflowPage() {
  return renderAs(
    <Routes>
      <Route path="/workflows" element={<WorkflowsPage />} />
      <Route path="/workflows/:name" element={<WorkflowPage />} />
      <Route path="/runs/:runId" element={<p>run page</p>} />
    </Routes>,
    { route: "/workflows/NightlyImport" },
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("WorkflowPage", () => {
  it("shows the graph, versions, triggers with the next cron time, and linked recent runs", async () => {
    fakeApi("viewer", { "GET /workflows/NightlyImport": detail, "GET /crons": page([cron]) });
    renderWorkflowPage();
    expect(await screen.findByRole("button", { name: /^load/ })).toBeInTheDocument();
    expect(screen.getByText("import:requested")).toBeInTheDocument();
    expect(await screen.findByText("0 3 * * *")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Run run-old-0001" })).toHaveAttribute(
      "href",
      "/runs/run-old-0001",
    );
    const versions = screen.getByRole("table", { name: "Versions, newest first" });
    expect(within(versions).getAllByRole("row")[1]).toHaveTextContent("2");
    expect(screen.queryByRole("button", { name: "Trigger run" })).not.toBeInTheDocument();
  });

  it("refuses invalid JSON and non-objects, then triggers and opens the new run", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("editor", {
      "GET /workflows/NightlyImport": detail,
      "GET /crons": page([]),
      "POST /workflows/NightlyImport/runs": () => Response.json({ id: "run-new" }, { status: 201 }),
    });
    renderWorkflowPage();
    const button = await screen.findByRole("button", { name: "Trigger run" });
    const input = screen.getByRole("textbox", { name: "Run input" });

    fireEvent.change(input, { target: { value: '{"day": ' } });
    expect(button).toBeDisabled();
    expect(screen.getByRole("alert")).toHaveTextContent(/Invalid JSON/);

    fireEvent.change(input, { target: { value: "[1, 2]" } });
    expect(button).toBeDisabled();
    expect(screen.getByRole("alert")).toHaveTextContent("The input must be a JSON object");

    fireEvent.change(input, { target: { value: '{"day": "2026-11-23"}' } });
    expect(button).toBeEnabled();
    fireEvent.change(screen.getByRole("textbox", { name: "Run metadata" }), {
      target: { value: '{"source": "ui"}' },
    });
    await user.click(button);
    expect(await screen.findByText("run page")).toBeInTheDocument();
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      input: { day: "2026-11-23" },
      additional_metadata: { source: "ui" },
    });
  });

  it("pauses the workflow, saying that new runs wait, and resumes it", async () => {
    const user = userEvent.setup();
    let workflow = detail;
    const calls = fakeApi("editor", {
      "GET /workflows/NightlyImport": () => workflow,
      "GET /crons": page([]),
      "POST /workflows/NightlyImport/pause": () => {
        workflow = { ...detail, is_paused: true };
        return workflow;
      },
      "POST /workflows/NightlyImport/resume": () => {
        workflow = detail;
        return workflow;
      },
    });
    renderWorkflowPage();

    await user.click(await screen.findByRole("button", { name: "Pause" }));
    expect(await screen.findByRole("heading", { name: "Paused" })).toBeInTheDocument();
    expect(screen.getByText(/New runs wait/)).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Resume" }));
    expect(await screen.findByRole("button", { name: "Pause" })).toBeInTheDocument();
    expect(calls.filter((call) => call.method === "POST").map((call) => call.path)).toEqual([
      "/workflows/NightlyImport/pause",
      "/workflows/NightlyImport/resume",
    ]);
  });

  it("shows the server's refusal of a trigger", async () => {
    const user = userEvent.setup();
    fakeApi("editor", {
      "GET /workflows/NightlyImport": detail,
      "GET /crons": page([]),
      "POST /workflows/NightlyImport/runs": () =>
        apiErrorResponse(400, "invalid", "No worker serves this workflow."),
    });
    renderWorkflowPage();
    await user.click(await screen.findByRole("button", { name: "Trigger run" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("No worker serves this workflow.");
  });

  it("lists each step's parents (or that it runs on failure), timeout and retries, asks for this workflow's crons, and links its runs", async () => {
    const calls = fakeApi("viewer", {
      "GET /workflows/NightlyImport": detail,
      "GET /crons": page([cron]),
    });
    renderWorkflowPage();
    const steps = await screen.findByRole("table", { name: "Step settings" });
    const rows = within(steps).getAllByRole("row").slice(1);
    expect(rows.map((row) => row.textContent)).toEqual([
      "fetch—60 s0" +
        "takes 1 of rate limit llm" +
        "needs gpu = true" +
        "prefers region = eu (weight 10)" +
        "at most 2 at once per input.customer" +
        "stays on its run's worker (hard)",
      "loadfetch60 s2" +
        "takes input.tokens of rate limit per input.user (5 a minute)" +
        "needs memory_gb >= 16" +
        "stays on its run's worker (hard)",
      "alertruns when any other step fails for good30 s0stays on its run's worker (hard)",
    ]);
    expect(screen.getByText("alert (on failure)")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "All runs of NightlyImport" })).toHaveAttribute(
      "href",
      "/runs?workflow=NightlyImport",
    );
    await screen.findByText("0 3 * * *");
    expect(calls.map((call) => call.path)).toEqual([
      "/workflows/NightlyImport",
      "/crons?workflow=NightlyImport&limit=100",
    ]);
  });

  it("says when a workflow has no steps, triggers or runs yet", async () => {
    fakeApi("viewer", {
      "GET /workflows/NightlyImport": {
        ...detail,
        steps: [],
        triggers: { on_events: [], on_crons: [] },
        recent_runs: [],
      },
      "GET /crons": page([]),
    });
    renderWorkflowPage();
    expect(await screen.findByText("This version has no steps.")).toBeInTheDocument();
    expect(screen.getByText("No event triggers it.")).toBeInTheDocument();
    expect(screen.getByText("No runs yet.")).toBeInTheDocument();
    expect(await screen.findByText("No cron runs it.")).toBeInTheDocument();
  });

  it("shows the API's error for an unknown workflow", async () => {
    fakeApi("viewer", {});
    renderWorkflowPage();
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "No fake for GET /workflows/NightlyImport",
    );
  });
});
