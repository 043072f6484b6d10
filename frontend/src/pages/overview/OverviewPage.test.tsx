import { fireEvent, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Overview, OverviewBucket } from "../../api/types";
import { apiErrorResponse, fakeApi, LocationProbe, renderAs } from "../../test-utils";
import { OverviewPage } from "./OverviewPage";

const quietBucket: Omit<OverviewBucket, "start"> = {
  runs: 0,
  runs_per_second: 0,
  failed: 0,
  cancelled: 0,
  p50_ms: null,
  p99_ms: null,
  queue_depth: null,
};

/** An hour of 60 quiet buckets, the last ones replaced by `latest`. */
function overviewOf(latest: Partial<OverviewBucket>[], totals: Partial<Overview> = {}): Overview {
  const first = Date.parse("2026-12-04T02:00:00Z");
  const buckets = Array.from({ length: 60 }, (_, i) => ({
    ...quietBucket,
    start: new Date(first + i * 60_000).toISOString(),
    ...latest[i - (60 - latest.length)],
  }));
  return {
    window: "1h",
    bucket_seconds: 60,
    buckets,
    queued: 0,
    running: 0,
    workers: 0,
    ...totals,
  };
}

const busy = overviewOf(
  [
    {
      runs: 120,
      runs_per_second: 2,
      failed: 6,
      cancelled: 1,
      p50_ms: 8,
      p99_ms: 40,
      queue_depth: 12,
    },
    {
      runs: 90,
      runs_per_second: 1.5,
      failed: 3,
      cancelled: 0,
      p50_ms: 11,
      p99_ms: 1250,
      queue_depth: 4,
    },
    // The bucket in progress: its queue not sampled yet.
    { runs: 30, runs_per_second: 1.25, failed: 3, cancelled: 0, p50_ms: 12, p99_ms: 48 },
  ],
  { queued: 5, running: 7, workers: 2 },
);

function chart(title: string): HTMLElement {
  return screen.getByRole("heading", { name: title }).closest("figure") as HTMLElement;
}

afterEach(() => vi.unstubAllGlobals());

describe("OverviewPage", () => {
  it("draws the four charts, each named with its latest values, and the totals now", async () => {
    const calls = fakeApi("viewer", { "GET /overview": busy });
    renderAs(<OverviewPage />);

    expect(await screen.findByText("Queued now")).toBeInTheDocument();
    expect(calls.map((c) => c.path)).toEqual(["/overview?window=1h"]);
    const totals = screen.getByText("Queued now").closest("dl") as HTMLElement;
    expect(totals).toHaveTextContent("Queued now5Running now7Workers connected2");
    expect(screen.getAllByRole("img").map((svg) => svg.getAttribute("aria-label"))).toEqual([
      "Runs per second: now 1.3 runs/s, 0.13 failed/s; peak 2.0 runs/s",
      "Failed runs: 12 failed and 1 cancelled in the window; 3 failed in the latest bucket",
      "Queue depth: latest sample 4 step runs queued; peak 12",
      "Trigger-to-start latency: latest p50 12 ms, p99 48 ms",
    ]);
    // Each series is a line through its values, bridging the buckets without a value.
    const latency = within(chart("Trigger-to-start latency"));
    expect(latency.getByText("p99")).toBeInTheDocument();
    const p99 = chart("Trigger-to-start latency").querySelector('[data-series="p99"] .chart-line');
    expect(p99?.getAttribute("d")?.match(/[ML]/g)).toHaveLength(3);
    expect(latency.getByText("2.0 s")).toBeInTheDocument();
    const runs = chart("Runs per second").querySelector('[data-series="runs/s"]');
    expect(runs?.querySelector(".chart-line")?.getAttribute("d")?.match(/[ML]/g)).toHaveLength(60);
    expect(runs?.querySelector(".chart-area")).not.toBeNull();
  });

  it("asks for the window chosen, and keeps it in the address", async () => {
    const calls = fakeApi("viewer", {
      "GET /overview?window=1h": busy,
      "GET /overview?window=7d": { ...busy, window: "7d", bucket_seconds: 10080 },
    });
    renderAs(
      <>
        <OverviewPage />
        <LocationProbe />
      </>,
      { route: "/overview" },
    );
    await screen.findByText("Queued now");

    fireEvent.change(screen.getByRole("combobox", { name: "Window" }), {
      target: { value: "7d" },
    });

    await vi.waitFor(() => expect(calls.map((c) => c.path)).toContain("/overview?window=7d"));
    expect(screen.getByTestId("location")).toHaveTextContent("/overview?window=7d");
  });

  it("refreshes every 10 seconds", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let queued = 5;
    fakeApi("viewer", { "GET /overview": () => ({ ...busy, queued }) });
    renderAs(<OverviewPage />);
    const totals = (await screen.findByText("Queued now")).closest("dl") as HTMLElement;
    expect(totals).toHaveTextContent("Queued now5");

    queued = 9;
    await vi.advanceTimersByTimeAsync(10_100);
    await vi.waitFor(() => expect(totals).toHaveTextContent("Queued now9"));
    vi.useRealTimers();
  });

  it("says when nothing happened in the window, and shows errors", async () => {
    fakeApi("viewer", { "GET /overview": overviewOf([]) });
    const { unmount } = renderAs(<OverviewPage />);
    expect(await screen.findByText(/No runs were triggered in this window/)).toBeInTheDocument();
    expect(screen.queryAllByRole("img")).toEqual([]);
    unmount();

    fakeApi("viewer", { "GET /overview": () => apiErrorResponse(500, "server_error", "Boom.") });
    renderAs(<OverviewPage />);
    expect(await screen.findByRole("alert")).toHaveTextContent("Boom.");
  });
});
