import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Paginated, Workflow } from "../../api/types";
import { apiErrorResponse, fakeApi, LocationProbe, page, renderAs } from "../../test-utils";
import { WorkflowsPage } from "./WorkflowsPage";

const nightlyImport: Workflow = {
  id: "w1",
  name: "NightlyImport",
  latest_version: 2,
  step_count: 2,
  created_at: "2026-11-01T00:00:00Z",
};

function renderWorkflowsPage() {
  return renderAs(
    <Routes>
      <Route
        path="/workflows"
        element={
          <>
            <WorkflowsPage />
            <LocationProbe />
          </>
        }
      />
      <Route path="/workflows/:name" element={<LocationProbe />} />
    </Routes>,
    { route: "/workflows" },
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("WorkflowsPage", () => {
  it("lists workflows with their latest version and step count, each opening its page", async () => {
    const user = userEvent.setup();
    fakeApi("viewer", {
      "GET /workflows": page([
        nightlyImport,
        { ...nightlyImport, id: "w2", name: "Unversioned", latest_version: null, step_count: 0 },
      ]),
    });
    renderWorkflowsPage();
    const table = await screen.findByRole("table", { name: "Workflows" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(
      within(rows[0]!)
        .getAllByRole("cell")
        .slice(0, 3)
        .map((cell) => cell.textContent),
    ).toEqual(["NightlyImport", "2", "2"]);
    expect(
      within(rows[1]!)
        .getAllByRole("cell")
        .slice(0, 3)
        .map((cell) => cell.textContent),
    ).toEqual(["Unversioned", "—", "0"]);

    await user.click(screen.getByRole("link", { name: "NightlyImport" }));
    expect(screen.getByTestId("location")).toHaveTextContent("/workflows/NightlyImport");
  });

  it("says when there are none", async () => {
    fakeApi("viewer", { "GET /workflows": page([]) });
    renderWorkflowsPage();
    expect(await screen.findByText(/No workflows yet/)).toBeInTheDocument();
    expect(screen.queryByRole("navigation", { name: "Pagination" })).not.toBeInTheDocument();
  });

  it("pages through many workflows, fifty at a time, keeping the page in the address", async () => {
    const user = userEvent.setup();
    const many = (offset: number): Paginated<Workflow> => ({
      ...page([{ ...nightlyImport, name: `Workflow${offset}` }]),
      count: 120,
    });
    const calls = fakeApi("viewer", {
      "GET /workflows?limit=50&offset=0": many(0),
      "GET /workflows?limit=50&offset=50": many(50),
    });
    renderWorkflowsPage();
    expect(await screen.findByText("1–50 of 120")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Previous" })).toBeDisabled();

    await user.click(screen.getByRole("button", { name: "Next" }));
    expect(await screen.findByRole("link", { name: "Workflow50" })).toBeInTheDocument();
    expect(screen.getByText("51–100 of 120")).toBeInTheDocument();
    expect(screen.getByTestId("location")).toHaveTextContent("/workflows?offset=50");

    await user.click(screen.getByRole("button", { name: "Previous" }));
    expect(await screen.findByRole("link", { name: "Workflow0" })).toBeInTheDocument();
    expect(screen.getByTestId("location")).toHaveTextContent(/^\/workflows$/);
    expect(calls.map((call) => call.path)).toEqual([
      "/workflows?limit=50&offset=0",
      "/workflows?limit=50&offset=50",
    ]);
  });

  it("shows the API's error, and lists the workflows once a retry succeeds", async () => {
    const user = userEvent.setup();
    let isDown = true;
    fakeApi("viewer", {
      "GET /workflows": () =>
        isDown
          ? apiErrorResponse(503, "unavailable", "The database is not answering.")
          : page([nightlyImport]),
    });
    renderWorkflowsPage();
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "unavailable The database is not answering.",
    );
    isDown = false;
    await user.click(screen.getByRole("button", { name: "Retry" }));
    await waitFor(() =>
      expect(screen.getByRole("link", { name: "NightlyImport" })).toBeInTheDocument(),
    );
  });
});
