import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Role } from "../../api/types";
import { fakeApi, page, renderAs, stubSockets } from "../../test-utils";
import { variable } from "./fixtures";
import { PlaygroundPage } from "./PlaygroundPage";

const prompt = "You are a friendly support agent. Answer in two sentences.";

/** The catalog, one past run (and a playground run the picker leaves out) and its detail. */
function fakeServer(role: Role) {
  return fakeApi(role, {
    "GET /playground/variables": page([
      variable("system_prompt", "string", prompt),
      variable("temperature", "number", 0.3),
    ]),
    "GET /playground/variants": page([]),
    "GET /runs": page([
      {
        id: "past-1",
        workflow: "SupportReply",
        status: "SUCCEEDED",
        created_at: "2026-01-01T00:00:00Z",
        trigger: "event",
      },
      {
        id: "play-1",
        workflow: "SupportReply",
        status: "SUCCEEDED",
        created_at: "2026-01-01T00:00:00Z",
        trigger: "playground",
      },
    ]),
    "GET /runs/past-1": {
      id: "past-1",
      workflow: "SupportReply",
      version: 1,
      status: "SUCCEEDED",
      input: { ticket: "Refund please" },
      additional_metadata: {},
      overrides: {},
      step_runs: [],
    },
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
  it("shows a viewer the variables read-only, with no button that writes", async () => {
    fakeServer("viewer");
    renderPage();
    const textarea = await screen.findByRole("textbox", { name: "system_prompt" });
    expect(textarea).toHaveAttribute("readonly");
    expect(screen.getByRole("combobox", { name: "Workflow" })).toHaveValue("SupportReply");
    expect(screen.getByRole("combobox", { name: "Step" })).toHaveValue("draft");
    await screen.findByText("Refund please");
    for (const name of ["Run", "Compare with baseline", "Save variant", "Open pull request"]) {
      expect(screen.queryByRole("button", { name })).not.toBeInTheDocument();
    }
  });

  it("lets an editor pick a past input (not the playground's own runs) and run the edit on it", async () => {
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
});
