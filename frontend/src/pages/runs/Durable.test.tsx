import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Route, Routes } from "react-router-dom";
import type { ChildRun, DurableWait, RunDetailWithWaits } from "../../api/types";
import { failedRun, stepRun } from "./fixtures";
import { dagStepsOf, RunPage } from "./RunPage";
import { payloadFor } from "./Waits";
import { fakeApi, page, renderAs, stubSockets } from "../../test-utils";

const child = (n: number, status: ChildRun["status"] = "SUCCEEDED"): ChildRun => ({
  id: `child-${n}`,
  workflow: "Summarise",
  status,
  spawn_key: `#${n}`,
  parent_step_run: "sr-fan",
  created_at: "2026-11-24T10:00:00Z",
});

function parentRun(childCount: number, waits: DurableWait[] = []): RunDetailWithWaits {
  const shown = Array.from({ length: Math.min(childCount, 50) }, (_, n) => child(n));
  return {
    ...failedRun(),
    status: "RUNNING",
    error: "",
    step_runs: [stepRun({ id: "sr-fan", step: "fan", status: "WAITING" })],
    children: {
      count: childCount,
      by_status: { SUCCEEDED: childCount },
      by_step_run: { "sr-fan": childCount },
      runs: shown,
    },
    step_waits: { "sr-fan": waits },
  };
}

const sleeping: DurableWait = {
  ordinal: 0,
  kind: "sleep",
  spec: { seconds: 3600 },
  created_at: "2026-11-24T10:00:00Z",
  due_at: "2026-11-24T11:00:00Z",
  resolved_at: null,
  result: null,
};

const awaitingApproval: DurableWait = {
  ...sleeping,
  kind: "event",
  spec: { key: "ticket:approved", filter: { "ticket.id": 42 }, lookback: 0, timeout: null },
  due_at: null,
};

const noLines = {
  "GET /step-runs/sr-fan/logs": page([]),
  "GET /step-runs/sr-fan/stream": { ...page([]), text: "" },
};

function renderRunPage() {
  return renderAs(
    <Routes>
      <Route path="/runs/:runId" element={<RunPage />} />
    </Routes>,
    { route: "/runs/run-1" },
  );
}

beforeEach(() => stubSockets());
afterEach(() => vi.unstubAllGlobals());

describe("a run with child runs and durable waits", () => {
  it("draws a few children one by one, and many as one node", () => {
    const few = dagStepsOf(parentRun(2));
    expect(few.map((step) => step.label)).toEqual(["fan", "↳ Summarise", "↳ Summarise"]);
    expect(few[1]).toMatchObject({ id: "child:child-0", parents: ["sr-fan"] });

    const many = dagStepsOf(parentRun(100));
    expect(many.map((step) => step.label)).toEqual(["fan", "↳ 100 child runs"]);
    expect(many[1]).toMatchObject({ id: "children:sr-fan", parents: ["sr-fan"] });
  });

  it("lists the first children and links to all of them", async () => {
    fakeApi("viewer", { "GET /runs/run-1": parentRun(100), ...noLines });
    renderRunPage();

    expect(await screen.findByRole("heading", { name: "Child runs (100)" })).toBeInTheDocument();
    expect(screen.getAllByRole("link", { name: "Summarise" })).toHaveLength(50);
    expect(screen.getByRole("link", { name: "All 100 child runs" })).toHaveAttribute(
      "href",
      "/runs?parent_run=run-1",
    );
  });

  it("shows what a step sleeps for, and lets an editor skip the sleep", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("editor", {
      "GET /runs/run-1": parentRun(0, [sleeping]),
      "POST /step-runs/sr-fan/skip-wait": { ...sleeping, resolved_at: "2026-11-24T10:05:00Z" },
      ...noLines,
    });
    renderRunPage();

    const waits = await screen.findByRole("list", { name: "Waits of fan" });
    expect(waits).toHaveTextContent("sleep for 3600s");
    expect(waits).toHaveTextContent("waiting");
    await user.click(screen.getByRole("button", { name: "Skip the sleep" }));
    await waitFor(() =>
      expect(calls.some((call) => call.path === "/step-runs/sr-fan/skip-wait")).toBe(true),
    );
  });

  it("sends the event a step waits for, with a payload that meets its filter", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("editor", {
      "GET /runs/run-1": parentRun(0, [awaitingApproval]),
      "POST /events": { events: [] },
      ...noLines,
    });
    renderRunPage();

    expect(await screen.findByRole("list", { name: "Waits of fan" })).toHaveTextContent(
      "event ticket:approved where ticket.id = 42",
    );
    await user.click(screen.getByRole("button", { name: "Send event ticket:approved" }));
    await waitFor(() =>
      expect(calls.find((call) => call.path === "/events")?.body).toEqual({
        key: "ticket:approved",
        payload: { ticket: { id: 42 } },
      }),
    );
  });

  it("offers viewers no control over a wait", async () => {
    fakeApi("viewer", { "GET /runs/run-1": parentRun(0, [sleeping]), ...noLines });
    renderRunPage();
    await screen.findByRole("list", { name: "Waits of fan" });
    expect(screen.queryByRole("button", { name: "Skip the sleep" })).not.toBeInTheDocument();
  });

  it("builds a payload from dotted filter paths", () => {
    expect(payloadFor({ "ticket.id": 1, "ticket.team": "a", by: "me" })).toEqual({
      ticket: { id: 1, team: "a" },
      by: "me",
    });
  });
});
