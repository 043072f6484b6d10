import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeApi, renderAs } from "../../test-utils";
import { DatasetPage } from "./DatasetPage";
import { tickets, ticketsDetail } from "./fixtures";

const path = `/playground/datasets/${tickets.id}`;

function renderDataset(route = `/datasets/${tickets.id}`) {
  return renderAs(
    <Routes>
      <Route path="/datasets/:datasetId" element={<DatasetPage />} />
    </Routes>,
    { route },
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("DatasetPage", () => {
  it("shows the newest version's rows, and an older version on request", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("viewer", {
      [`GET ${path}`]: ticketsDetail(2),
      [`GET ${path}?version=1`]: ticketsDetail(1),
    });
    renderDataset();

    const table = await screen.findByRole("table", { name: "Rows of version 2" });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((row) => row.textContent)).toEqual([
      "1Where is my refund?refundangrya0000000",
      '2Site down{"tag":"bug"}none',
    ]);
    expect(screen.getByRole("link", { name: "Export v2 as JSONL" }).getAttribute("href")).toBe(
      `/api/v1${path}/export?version=2`,
    );
    expect(screen.queryByRole("checkbox")).toBeNull();
    expect(screen.queryByRole("form", { name: "Upload rows" })).toBeNull();

    await user.selectOptions(screen.getByLabelText("Version"), "1");

    await screen.findByRole("table", { name: "Rows of version 1" });
    expect(calls.map((call) => call.path)).toContain(`${path}?version=1`);
  });

  it("lets an editor remove rows, making a new version", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("editor", {
      [`GET ${path}`]: ticketsDetail(2),
      [`POST ${path}/rows/remove`]: { ...ticketsDetail(2), version: 3, shown_version: 3 },
    });
    renderDataset();

    await user.click(await screen.findByRole("checkbox", { name: "Select row 2" }));
    await user.click(screen.getByRole("button", { name: "Remove 1 row" }));

    await waitFor(() =>
      expect(calls.find((call) => call.method === "POST")?.body).toEqual({
        rows: ["r0000000-0000-4000-8000-000000000002"],
      }),
    );
  });

  it("lets an editor rename and describe the dataset", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("editor", {
      [`GET ${path}`]: ticketsDetail(2),
      [`PATCH ${path}`]: { ...ticketsDetail(2), name: "refunds" },
    });
    renderDataset();

    const name = await screen.findByRole("textbox", { name: "Name" });
    await user.clear(name);
    await user.type(name, "refunds ");
    await user.click(screen.getByRole("button", { name: "Save" }));

    await waitFor(() =>
      expect(calls.find((call) => call.method === "PATCH")?.body).toEqual({
        name: "refunds",
        description: "Real refund tickets",
      }),
    );
  });

  it("uploads a file as the multipart field file", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("editor", {
      [`GET ${path}`]: ticketsDetail(2),
      [`POST ${path}/upload`]: ticketsDetail(2),
    });
    renderDataset();
    const file = new File(['{"input": {"ticket": "x"}}\n'], "more.jsonl");

    await user.upload(await screen.findByLabelText("JSONL or CSV file"), file);
    await user.click(screen.getByRole("button", { name: "Upload rows" }));

    await waitFor(() => expect(calls.some((call) => call.path === `${path}/upload`)).toBe(true));
    const [, init] = vi.mocked(fetch).mock.calls.find(([url]) => String(url).endsWith("/upload"))!;
    expect((init?.body as FormData).get("file")).toBe(file);
  });
});
