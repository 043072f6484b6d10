import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { layoutBars, Timeline, type TimelineStep } from "./Timeline";

const steps: TimelineStep[] = [
  {
    id: "a",
    label: "fetch",
    status: "SUCCEEDED",
    startedAt: "2026-01-01T00:00:00Z",
    finishedAt: "2026-01-01T00:00:02Z",
  },
  {
    id: "b",
    label: "load",
    status: "RUNNING",
    startedAt: "2026-01-01T00:00:02Z",
    finishedAt: null,
  },
  { id: "c", label: "notify", status: "PENDING", startedAt: null, finishedAt: null },
];
const now = Date.parse("2026-01-01T00:00:08Z");

describe("layoutBars", () => {
  it("places bars from the run's start, running steps reaching now", () => {
    const bars = layoutBars(steps, "2026-01-01T00:00:00Z", now);
    expect(bars.get("a")).toEqual({ left: 0, width: 25, durationMs: 2000 });
    expect(bars.get("b")).toEqual({ left: 25, width: 75, durationMs: 6000 });
    expect(bars.get("c")).toBeNull();
  });

  it("begins at a step that started before the run's (re)start", () => {
    const bars = layoutBars(steps, "2026-01-01T00:00:04Z", now);
    expect(bars.get("a")).toMatchObject({ left: 0, width: 25 });
    expect(bars.get("b")).toMatchObject({ left: 25, width: 75 });
  });

  it("measures from the earliest step when the run's start is unknown, and keeps tiny steps visible", () => {
    const bars = layoutBars(
      [
        {
          id: "x",
          label: "x",
          status: "SUCCEEDED",
          startedAt: "2026-01-01T00:00:10Z",
          finishedAt: "2026-01-01T00:00:10Z",
        },
        {
          id: "y",
          label: "y",
          status: "SUCCEEDED",
          startedAt: "2026-01-01T00:00:10Z",
          finishedAt: "2026-01-01T00:00:20Z",
        },
      ],
      null,
      now,
    );
    expect(bars.get("x")?.left).toBe(0);
    expect(bars.get("x")?.width).toBeGreaterThan(0);
    expect(bars.get("y")?.width).toBe(100);
  });
});

describe("Timeline", () => {
  it("draws one row per step with its status colour, duration, and 'Not started'", () => {
    const { container } = render(
      <Timeline steps={steps} runStartedAt="2026-01-01T00:00:00Z" now={now} selectedId="b" />,
    );
    const list = screen.getByRole("list", { name: "Step timeline" });
    const rows = within(list).getAllByRole("listitem");
    expect(rows.map((row) => row.querySelector(".timeline-label")?.textContent)).toEqual([
      "fetch",
      "load",
      "notify",
    ]);
    expect(rows[0]).toHaveTextContent("Succeeded, 2.0 s");
    expect(rows[1]).toHaveTextContent("Running, 6.0 s");
    expect(rows[1]).toHaveClass("selected");
    expect(rows[2]).toHaveTextContent("Not started");
    const bars = container.querySelectorAll<HTMLElement>(".timeline-bar");
    expect(bars).toHaveLength(2);
    expect(bars[1]).toHaveClass("tone-active");
    expect(bars[1]?.style.left).toBe("25%");
    expect(bars[1]?.style.width).toBe("75%");
  });
});
