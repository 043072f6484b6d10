import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Role } from "../../api/types";
import { fakeApi, page, renderAs, stubSockets } from "../../test-utils";
import { variable } from "./fixtures";
import { PlaygroundPage } from "./PlaygroundPage";

const prompt = "You are a friendly support agent. Answer in two sentences.";

const pastRunsQuery =
  "/runs?workflow=SupportReply&status=SUCCEEDED&exclude_trigger=playground&with_input=true&limit=25";

/** The catalog, and one past run with its input, as the runs list answers it. */
function fakeServer(role: Role) {
  return fakeApi(role, {
    "GET /playground/variables": page([
      variable("system_prompt", "string", prompt),
      variable("temperature", "number", 0.3),
    ]),
    "GET /playground/variants": page([]),
    [`GET ${pastRunsQuery}`]: page([
      {
        id: "past-1",
        workflow: "SupportReply",
        status: "SUCCEEDED",
        created_at: "2026-01-01T00:00:00Z",
        trigger: "event",
        input_summary: "Refund please",
        input: { ticket: "Refund please" },
      },
    ]),
    "GET /playground/compare": page([]),
    "POST /playground/runs": () =>
      Response.json({ run_id: "new-run", run: { id: "new-run" } }, { status: 201 }),
  });
}

const renderPage = () => renderAs(<PlaygroundPage />, { route: "/playground" });

beforeEach(() => {
  sessionStorage.clear();
  stubSockets();
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("PlaygroundPage", () => {
  it("shows a viewer the variables and inputs read-only, with no button that writes", async () => {
    fakeServer("viewer");
    renderPage();
    const textarea = await screen.findByRole("textbox", { name: "system_prompt" });
    expect(textarea).toHaveAttribute("readonly");
    const editor = screen.getByRole("region", { name: "system_prompt" });
    expect(within(editor).getByText("Read-only")).toBeInTheDocument();
    expect(screen.getByRole("combobox", { name: "Workflow" })).toHaveValue("SupportReply");
    expect(screen.getByRole("combobox", { name: "Step" })).toHaveValue("draft");
    expect(await screen.findByRole("checkbox", { name: /Refund please/ })).toBeDisabled();
    expect(screen.getByRole("checkbox", { name: "Also use a custom input" })).toBeDisabled();
    for (const name of ["Run", "Compare with baseline", "Save variant", "Open pull request"]) {
      expect(screen.queryByRole("button", { name })).not.toBeInTheDocument();
    }
  });

  it("reads the past runs and their inputs in one request, leaving out the playground's own", async () => {
    const calls = fakeServer("editor");
    renderPage();
    await screen.findByRole("checkbox", { name: /Refund please/ });
    expect(calls.filter((call) => call.path.startsWith("/runs"))).toEqual([
      { method: "GET", path: pastRunsQuery, body: undefined },
    ]);
  });

  it("says what is wrong with a custom input instead of counting the inputs", async () => {
    fakeServer("editor");
    const user = userEvent.setup();
    renderPage();
    await user.click(await screen.findByRole("checkbox", { name: /Refund please/ }));
    await user.click(screen.getByRole("checkbox", { name: "Also use a custom input" }));
    expect(screen.getByText(/^2 inputs chosen/)).toBeInTheDocument();

    fireEvent.change(screen.getByRole("textbox", { name: "Custom input (JSON object)" }), {
      target: { value: '{"ticket": ' },
    });
    expect(screen.getByRole("button", { name: "Run" })).toBeDisabled();
    expect(screen.queryByText(/inputs chosen/)).not.toBeInTheDocument();
    expect(
      screen.getByText(
        "The custom input is not a JSON object: fix it, or untick it to run without it.",
      ),
    ).toBeInTheDocument();
  });

  it("lets an editor pick a past input and run the edit on it", async () => {
    const calls = fakeServer("editor");
    const user = userEvent.setup();
    renderPage();
    const textarea = await screen.findByRole("textbox", { name: "system_prompt" });
    fireEvent.change(textarea, { target: { value: "Be brief." } });

    const past = await screen.findByRole("checkbox", { name: /Refund please/ });
    expect(
      within(screen.getByRole("group", { name: "Past runs" })).getAllByRole("checkbox"),
    ).toHaveLength(1);
    const run = screen.getByRole("button", { name: "Run" });
    expect(run).toBeDisabled();
    await user.click(past);
    expect(screen.getByText(/^1 input chosen\./)).toBeInTheDocument();

    await user.type(screen.getByRole("searchbox", { name: "Search past runs" }), "nothing like it");
    expect(screen.queryByRole("checkbox", { name: /Refund please/ })).not.toBeInTheDocument();
    await user.clear(screen.getByRole("searchbox", { name: "Search past runs" }));

    await user.click(run);
    await waitFor(() => expect(calls.some((call) => call.path === "/playground/runs")).toBe(true));
    const post = calls.find((call) => call.path === "/playground/runs");
    expect(post?.body).toEqual({
      workflow: "SupportReply",
      input: { ticket: "Refund please" },
      overrides: { draft: { system_prompt: "Be brief." } },
    });
    expect(
      await screen.findByRole("article", { name: "Output for Refund please" }),
    ).toBeInTheDocument();
  });

  it("compares the edit over a dataset's version, each cell repeated", async () => {
    const calls = fakeApi("editor", {
      "GET /playground/variables": page([variable("system_prompt", "string", prompt)]),
      "GET /playground/variants": page([]),
      [`GET ${pastRunsQuery}`]: page([]),
      "GET /playground/compare": page([]),
      "GET /playground/datasets": page([
        { id: "ds-1", workflow: "SupportReply", name: "refunds", version: 3, row_count: 12 },
      ]),
      "POST /playground/compare": () => Response.json({ id: "cmp-9" }, { status: 201 }),
    });
    const user = userEvent.setup();
    renderPage();
    const textarea = await screen.findByRole("textbox", { name: "system_prompt" });
    fireEvent.change(textarea, { target: { value: "Be brief." } });
    const compare = screen.getByRole("button", { name: "Compare with baseline" });
    expect(compare).toBeDisabled();

    await user.selectOptions(await screen.findByLabelText("Dataset"), "refunds (12 rows)");
    await user.selectOptions(screen.getByLabelText("Version"), "v2");
    fireEvent.change(screen.getByLabelText("Repeat each cell"), { target: { value: "3" } });
    expect(screen.getByText(/^0 inputs chosen \+ dataset refunds\./)).toBeInTheDocument();
    await user.click(compare);

    await waitFor(() =>
      expect(
        calls.some((call) => call.method === "POST" && call.path === "/playground/compare"),
      ).toBe(true),
    );
    const post = calls.find((call) => call.method === "POST");
    expect(post?.body).toEqual({
      workflow: "SupportReply",
      columns: [
        { baseline: true, title: "Baseline (code defaults)" },
        { overrides: { draft: { system_prompt: "Be brief." } }, title: "Edited" },
      ],
      rows: [],
      repeat: 3,
      dataset: "ds-1",
      dataset_version: 2,
    });
  });
});
