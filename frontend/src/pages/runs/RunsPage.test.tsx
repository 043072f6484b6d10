import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Route, Routes } from "react-router-dom";
import type { Run } from "../../api/types";
import { readFilters, runsPath, writeFilters } from "./filters";
import { RunsPage } from "./RunsPage";
import { apiErrorResponse, fakeApi, LocationProbe, page, renderAs } from "../../test-utils";

const failed: Run = {
  id: "0b7c9f1e-aaaa-4bbb-8ccc-000000000001",
  workflow: "NightlyImport",
  status: "FAILED",
  created_at: "2026-11-24T10:00:00Z",
  started_at: "2026-11-24T10:00:00Z",
  finished_at: "2026-11-24T10:00:04Z",
  trigger: "event",
  event: null,
  additional_metadata: {},
  input_summary: "2026-11-23",
};
const workflows = page([
  {
    id: "w1",
    name: "NightlyImport",
    latest_version: 1,
    step_count: 2,
    created_at: "2026-11-01T00:00:00Z",
  },
]);

function renderRunsPage(route = "/runs") {
  return renderAs(
    <>
      <Routes>
        <Route path="/runs" element={<RunsPage />} />
        <Route path="/runs/:runId" element={<p>run page</p>} />
      </Routes>
      <LocationProbe />
    </>,
    { route },
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("run filters", () => {
  it("round-trip through the address and become the API's query", () => {
    const filters = readFilters(
      new URLSearchParams(
        "status=failed,RUNNING,bogus&workflow=Nightly&event=e-1&parent_run=r-9&metadata=region:eu&metadata=plan:pro&from=2026-11-24T10:00&offset=25",
      ),
    );
    expect(filters).toEqual({
      statuses: ["FAILED", "RUNNING"],
      workflow: "Nightly",
      event: "e-1",
      parentRun: "r-9",
      metadata: ["region:eu", "plan:pro"],
      from: "2026-11-24T10:00",
      to: "",
      offset: 25,
    });
    expect(readFilters(writeFilters(filters))).toEqual(filters);
    const path = runsPath(filters);
    const query = new URLSearchParams(path.split("?")[1]);
    expect(query.get("status")).toBe("FAILED,RUNNING");
    expect(query.get("workflow")).toBe("Nightly");
    expect(query.get("event")).toBe("e-1");
    expect(query.get("parent_run")).toBe("r-9");
    expect(query.getAll("metadata")).toEqual(["region:eu", "plan:pro"]);
    expect(query.get("created_after")).toBe(new Date("2026-11-24T10:00").toISOString());
    expect(query.has("created_before")).toBe(false);
    expect(query.get("limit")).toBe("25");
    expect(query.get("offset")).toBe("25");
    expect(query.has("exclude_trigger")).toBe(false);
    const unfiltered = new URLSearchParams(runsPath({ ...filters, workflow: "" }).split("?")[1]);
    expect(unfiltered.get("exclude_trigger")).toBe("evaluator");
  });
});

describe("RunsPage", () => {
  it("lists runs with links, and keeps filters in the address and the API query", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("viewer", { "GET /runs": page([failed]), "GET /workflows": workflows });
    renderRunsPage();

    const link = await screen.findByRole("link", { name: `Run ${failed.id} of NightlyImport` });
    expect(link).toHaveAttribute("href", `/runs/${failed.id}`);
    const row = link.closest("tr") as HTMLElement;
    expect(within(row).getByText("Failed")).toBeInTheDocument();
    expect(within(row).getByText("event")).toBeInTheDocument();
    expect(within(row).getByText("4.0 s")).toBeInTheDocument();
    expect(within(row).getByRole("cell", { name: "2026-11-23" })).toHaveAttribute(
      "title",
      "2026-11-23",
    );
    expect(screen.getByRole("columnheader", { name: "Input" })).toBeInTheDocument();

    await user.click(screen.getByRole("checkbox", { name: "Failed" }));
    await user.click(screen.getByRole("checkbox", { name: "Cancelled" }));
    await screen.findByRole("option", { name: "NightlyImport" });
    await user.selectOptions(screen.getByLabelText("Workflow"), "NightlyImport");
    expect(screen.getByTestId("location")).toHaveTextContent(
      "/runs?status=FAILED%2CCANCELLED&workflow=NightlyImport",
    );
    await waitFor(() =>
      expect(calls.map((call) => call.path)).toContain(
        "/runs?status=FAILED%2CCANCELLED&workflow=NightlyImport&limit=25&offset=0",
      ),
    );

    await user.click(
      await screen.findByRole("link", { name: `Run ${failed.id} of NightlyImport` }),
    );
    expect(screen.getByText("run page")).toBeInTheDocument();
  });

  it("reads its filters from the address, and says when nothing matches", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("viewer", { "GET /runs": page([]), "GET /workflows": workflows });
    renderRunsPage("/runs?status=RUNNING");
    expect(await screen.findByText("No run matches these filters.")).toBeInTheDocument();
    expect(screen.getByRole("checkbox", { name: "Running" })).toBeChecked();
    expect(calls.find((call) => call.path.startsWith("/runs"))?.path).toBe(
      "/runs?status=RUNNING&exclude_trigger=evaluator&limit=25&offset=0",
    );
    await user.click(screen.getByRole("button", { name: "Clear filters" }));
    expect(await screen.findByText(/No runs yet/)).toBeInTheDocument();
  });

  it("filters by event and metadata pairs, and links a run's event", async () => {
    const user = userEvent.setup();
    const fromEvent: Run = { ...failed, event: "e-1", additional_metadata: { region: "eu" } };
    const calls = fakeApi("viewer", {
      "GET /runs": page([fromEvent]),
      "GET /workflows": workflows,
    });
    renderRunsPage();

    expect(await screen.findByRole("link", { name: "Event e-1" })).toHaveAttribute(
      "href",
      "/events/e-1",
    );
    await user.type(screen.getByLabelText("Event"), " e-1 ");
    await user.type(screen.getByLabelText("Metadata"), "region:eu, plan:pro{Enter}tier:gold");
    await user.click(screen.getByRole("button", { name: "Apply" }));

    expect(screen.getByTestId("location")).toHaveTextContent(
      "/runs?event=e-1&metadata=region%3Aeu&metadata=plan%3Apro&metadata=tier%3Agold",
    );
    await waitFor(() =>
      expect(calls.at(-1)?.path).toBe(
        "/runs?event=e-1&metadata=region%3Aeu&metadata=plan%3Apro&metadata=tier%3Agold&exclude_trigger=evaluator&limit=25&offset=0",
      ),
    );
    expect(screen.getByLabelText("Metadata")).toHaveValue("region:eu\nplan:pro\ntier:gold");
  });

  it("reads the event and metadata from the address, and shows the API's message for a bad pair", async () => {
    const calls = fakeApi("viewer", {
      "GET /runs": apiErrorResponse(
        400,
        "invalid",
        "Metadata filters are name:value pairs; got 'region'.",
      ),
      "GET /workflows": workflows,
    });
    renderRunsPage("/runs?event=e-1&metadata=region");
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "Metadata filters are name:value pairs; got 'region'.",
    );
    expect(screen.getByLabelText("Event")).toHaveValue("e-1");
    expect(screen.getByLabelText("Metadata")).toHaveValue("region");
    expect(calls.find((call) => call.path.startsWith("/runs"))?.path).toBe(
      "/runs?event=e-1&metadata=region&exclude_trigger=evaluator&limit=25&offset=0",
    );
  });

  it("lets an editor add selected runs to a dataset of their workflow", async () => {
    const user = userEvent.setup();
    const other: Run = { ...failed, id: "0b7c9f1e-aaaa-4bbb-8ccc-000000000002" };
    const datasetId = "d0000000-0000-4000-8000-000000000001";
    const calls = fakeApi("editor", {
      "GET /runs": page([failed, other]),
      "GET /workflows": workflows,
      "GET /playground/datasets": page([
        { id: datasetId, workflow: "NightlyImport", name: "imports", row_count: 3 },
      ]),
      [`POST /playground/datasets/${datasetId}/rows`]: {
        id: datasetId,
        name: "imports",
        version: 2,
        row_count: 5,
      },
    });
    renderRunsPage();

    await user.click(await screen.findByRole("checkbox", { name: `Select run ${failed.id}` }));
    await user.click(screen.getByRole("checkbox", { name: `Select run ${other.id}` }));
    expect(screen.getByText("2 runs of NightlyImport selected")).toBeInTheDocument();
    await screen.findByRole("option", { name: "imports (3 rows)" });
    await user.selectOptions(screen.getByLabelText("Dataset"), datasetId);
    await user.click(screen.getByRole("checkbox", { name: "Their outputs are what is expected" }));
    await user.click(screen.getByRole("button", { name: "Add to dataset" }));

    expect((await screen.findByText(/^Added to/)).textContent).toBe(
      "Added to imports: v2, with 5 rows.",
    );
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      runs: [failed.id, other.id],
      expected_from_output: true,
    });
    expect(calls.map((call) => call.path)).toContain(
      "/playground/datasets?limit=200&workflow=NightlyImport",
    );
    expect(screen.getByRole("checkbox", { name: `Select run ${failed.id}` })).not.toBeChecked();
  });

  it("lets an editor add every run the filters match to a dataset", async () => {
    const user = userEvent.setup();
    const datasetId = "d0000000-0000-4000-8000-000000000001";
    const calls = fakeApi("editor", {
      "GET /runs": page([failed]),
      "GET /workflows": workflows,
      "GET /playground/datasets": page([
        { id: datasetId, workflow: "NightlyImport", name: "imports", row_count: 3 },
      ]),
      [`POST /playground/datasets/${datasetId}/rows`]: {
        id: datasetId,
        name: "imports",
        version: 4,
        row_count: 9,
      },
    });
    renderRunsPage("/runs?status=FAILED&workflow=NightlyImport&metadata=region:eu");

    await user.click(
      await screen.findByRole("button", { name: "Add the matching runs to a dataset" }),
    );
    await screen.findByRole("option", { name: "imports (3 rows)" });
    await user.selectOptions(screen.getByLabelText("Dataset"), datasetId);
    await user.click(screen.getByRole("button", { name: "Add to dataset" }));

    expect((await screen.findByText(/^Added to/)).textContent).toBe(
      "Added to imports: v4, with 9 rows.",
    );
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      filter: { status: "FAILED", workflow: "NightlyImport", metadata: ["region:eu"] },
      expected_from_output: false,
    });
  });

  it("lets an editor cancel every run the filters match, after saying how many", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("editor", {
      "GET /runs": { ...page([failed]), count: 1000 },
      "GET /workflows": workflows,
      "POST /runs/cancel": { matched: 1000, cancelled: 990 },
    });
    renderRunsPage("/runs?status=RUNNING&workflow=NightlyImport");

    await user.click(await screen.findByRole("button", { name: "Cancel the 1,000 matching runs" }));
    const confirm = screen.getByRole("group", { name: "Confirm" });
    expect(confirm).toHaveTextContent("Cancel 1,000 matching runs (those that have not finished)?");
    await user.click(within(confirm).getByRole("button", { name: "Cancel them" }));

    expect(await screen.findByText(/^Cancelled 990 of 1000/)).toHaveAttribute("role", "status");
    const post = calls.find((call) => call.method === "POST");
    expect(post?.path).toBe("/runs/cancel?status=RUNNING&workflow=NightlyImport");
  });

  it("offers no bulk action without a filter", async () => {
    fakeApi("editor", { "GET /runs": page([failed]), "GET /workflows": workflows });
    renderRunsPage("/runs");
    await screen.findAllByText("NightlyImport");
    expect(screen.queryByRole("button", { name: /matching run/ })).not.toBeInTheDocument();
  });

  it("shows the API's error", async () => {
    fakeApi("viewer", {
      "GET /runs": apiErrorResponse(400, "invalid", "Unknown status."),
      "GET /workflows": workflows,
    });
    renderRunsPage();
    expect(await screen.findByRole("alert")).toHaveTextContent("Unknown status.");
  });
});
