import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeApi, LocationProbe, page, renderAs } from "../../test-utils";
import { supportWorkflows } from "../workflows/fixtures";
import { DatasetsPage } from "./DatasetsPage";
import { tickets, ticketsDetail } from "./fixtures";

function renderDatasets() {
  return renderAs(
    <>
      <Routes>
        <Route path="/datasets" element={<DatasetsPage />} />
        <Route path="/datasets/:datasetId" element={<p>dataset page</p>} />
      </Routes>
      <LocationProbe />
    </>,
    { route: "/datasets" },
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("DatasetsPage", () => {
  it("lists the datasets with their workflow, rows and version", async () => {
    fakeApi("viewer", { "GET /playground/datasets": page([tickets]) });
    renderDatasets();

    const link = await screen.findByRole("link", { name: "tickets" });
    expect(link.getAttribute("href")).toBe(`/datasets/${tickets.id}`);
    const row = link.closest("tr") as HTMLElement;
    expect(row.textContent).toContain("Support");
    expect(row.textContent).toContain("v2");
    expect(screen.queryByRole("form", { name: "New dataset" })).toBeNull();
  });

  it("lets an editor make a dataset and opens it", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("editor", {
      "GET /playground/datasets": page([]),
      "GET /workflows": supportWorkflows,
      "POST /playground/datasets": {
        ...ticketsDetail(),
        version: 0,
        row_count: 0,
        versions: [],
        rows: [],
        shown_version: null,
      },
    });
    renderDatasets();

    await screen.findByText(/No datasets yet/);
    await screen.findByRole("option", { name: "Support" });
    await user.selectOptions(screen.getByLabelText("Workflow"), "Support");
    await user.type(screen.getByLabelText("Name"), "tickets ");
    await user.click(screen.getByRole("button", { name: "New dataset" }));

    await waitFor(() =>
      expect(screen.getByTestId("location").textContent).toBe(`/datasets/${tickets.id}`),
    );
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      workflow: "Support",
      name: "tickets",
      description: "",
    });
  });
});
