import { screen, within } from "@testing-library/react";
import { Route, Routes } from "react-router-dom";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { apiErrorResponse, fakeApi, FakeSocket, renderAs, stubSockets } from "../../test-utils";
import { ComparisonPage } from "./ComparisonPage";
import { cell, comparison } from "./fixtures";

const finished = comparison([
  cell(0, 0, { output: { reply: "Thanks for reaching out." } }),
  cell(0, 1, { output: { reply: "Briefly: on it." } }),
]);

function renderComparisonPage() {
  return renderAs(
    <Routes>
      <Route path="/playground/compare/:comparisonId" element={<ComparisonPage />} />
    </Routes>,
    { route: "/playground/compare/cmp-1" },
  );
}

beforeEach(stubSockets);
afterEach(() => vi.unstubAllGlobals());

describe("ComparisonPage", () => {
  it("shows a finished comparison's grid and summary, without subscribing to it", async () => {
    const calls = fakeApi("viewer", { "GET /playground/compare/cmp-1": finished });
    renderComparisonPage();

    const grid = await screen.findByRole("table", { name: "Comparison" });
    expect(within(grid).getByRole("rowheader")).toHaveTextContent("Refund please");
    expect(screen.getByLabelText("brief output")).toHaveTextContent("Briefly: on it.");
    expect(screen.getByText("all runs finished")).toBeInTheDocument();
    expect(screen.getByText(/^2 columns × 1 input ·/)).toBeInTheDocument();
    expect(
      screen.getByRole("heading", { level: 1, name: "Comparison of SupportReply" }),
    ).toBeInTheDocument();
    expect(screen.getByText(/^Started by pat/)).toBeInTheDocument();
    expect(screen.queryByText("cmp-1")).not.toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Back to the playground" })).toHaveAttribute(
      "href",
      "/playground?workflow=SupportReply",
    );
    expect(FakeSocket.instances).toEqual([]);
    expect(calls.map((call) => call.path)).toEqual(["/playground/compare/cmp-1"]);
  });

  it("follows a running comparison live until it finishes", async () => {
    fakeApi("viewer", {
      "GET /playground/compare/cmp-1": comparison(
        [
          cell(0, 0, { output: { reply: "Thanks for reaching out." } }),
          cell(0, 1, { status: "RUNNING", is_finished: false, duration_ms: null }),
        ],
        false,
      ),
    });
    renderComparisonPage();

    expect(await screen.findByText("1 of 2 runs finished")).toBeInTheDocument();
    expect(screen.getByText(/^2 columns × 1 input ·/)).toBeInTheDocument();
    const socket = FakeSocket.last!;
    expect(socket.url).toMatch(/\/ws\/playground\/compare\/cmp-1/);
    socket.receive({ type: "cell", cell: cell(0, 1, { output: { reply: "Briefly: on it." } }) });
    expect(screen.getByLabelText("brief output")).toHaveTextContent("Briefly: on it.");
    expect(screen.getByText("all runs finished")).toBeInTheDocument();
    expect(socket.isClosed).toBe(true);
  });

  it("names the step a comparison started from", async () => {
    fakeApi("viewer", { "GET /playground/compare/cmp-1": { ...finished, from_step: "review" } });
    renderComparisonPage();
    expect(
      await screen.findByRole("heading", {
        level: 1,
        name: "Comparison of SupportReply from step review",
      }),
    ).toBeInTheDocument();
  });

  it("shows the API's error for an unknown comparison, and links back to the playground", async () => {
    fakeApi("viewer", {
      "GET /playground/compare/cmp-1": () =>
        apiErrorResponse(404, "not_found", "No comparison cmp-1."),
    });
    renderComparisonPage();
    expect(await screen.findByRole("alert")).toHaveTextContent("not_found No comparison cmp-1.");
    expect(screen.getByRole("link", { name: "Back to the playground" })).toHaveAttribute(
      "href",
      "/playground",
    );
    expect(screen.queryByRole("table")).not.toBeInTheDocument();
  });
});
