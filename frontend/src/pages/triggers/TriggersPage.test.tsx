import { fireEvent, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Cron, Schedule } from "../../api/types";
import { apiErrorResponse, fakeApi, page, renderAs } from "../../test-utils";
import { TriggersPage } from "./TriggersPage";

const nightly: Cron = {
  id: "c-1",
  workflow: "NightlyImport",
  name: "",
  expression: "0 2 * * *",
  timezone: "Europe/Paris",
  source: "declared",
  is_paused: false,
  input: {},
  additional_metadata: {},
  next_fire_at: "2026-05-02T00:00:00Z",
  last_fired_at: null,
};
const later: Schedule = {
  id: "s-1",
  workflow: "SupportReply",
  trigger_at: "2030-01-01T12:00:00Z",
  status: "SCHEDULED",
  input: {},
  additional_metadata: {},
  run_id: null,
};
const workflows = page([{ id: "w-1", name: "NightlyImport" }]);

afterEach(() => vi.unstubAllGlobals());

describe("crons", () => {
  it("lists expression, timezone, state and next fire, and pauses a cron", async () => {
    const user = userEvent.setup();
    let cron = nightly;
    const calls = fakeApi("editor", {
      "GET /crons": () => page([cron]),
      "GET /schedules": page([]),
      "GET /workflows": workflows,
      "POST /crons/c-1/pause": () => {
        cron = { ...nightly, is_paused: true, next_fire_at: null };
        return cron;
      },
    });
    renderAs(<TriggersPage />);

    const row = (await screen.findByText("0 2 * * *")).closest("tr") as HTMLElement;
    expect(row).toHaveTextContent("Europe/Paris");
    expect(row).toHaveTextContent("declared in code");
    expect(within(row).getByText("Active")).toBeInTheDocument();
    expect(row.querySelector("time")).toHaveAttribute("dateTime", "2026-05-02T00:00:00Z");

    await user.click(within(row).getByRole("button", { name: "Pause" }));
    expect(await within(row).findByText("Paused")).toBeInTheDocument();
    expect(within(row).getByRole("button", { name: "Resume" })).toBeInTheDocument();
    expect(calls.filter((call) => call.method === "POST").map((call) => call.path)).toEqual([
      "/crons/c-1/pause",
    ]);
  });

  it("shows the API's refusal to delete a declared cron", async () => {
    const user = userEvent.setup();
    fakeApi("editor", {
      "GET /crons": page([nightly]),
      "GET /schedules": page([]),
      "GET /workflows": workflows,
      "DELETE /crons/c-1": () =>
        apiErrorResponse(
          409,
          "conflict",
          "A cron declared in code cannot be deleted; pause it instead.",
        ),
    });
    renderAs(<TriggersPage />);

    await user.click(await screen.findByRole("button", { name: "Delete" }));
    await user.click(screen.getByRole("button", { name: "Click again to confirm" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "A cron declared in code cannot be deleted; pause it instead.",
    );
  });

  it("shows the API's validation error beside the create form", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("editor", {
      "GET /crons": page([]),
      "GET /schedules": page([]),
      "GET /workflows": workflows,
      "POST /crons": () =>
        apiErrorResponse(
          400,
          "invalid_request",
          "expression: '61 * * * *' is not a valid cron expression.",
          {
            expression: ["'61 * * * *' is not a valid cron expression."],
          },
        ),
    });
    renderAs(<TriggersPage />);

    const form = (await screen.findByRole("heading", { name: "New cron" })).closest(
      "form",
    ) as HTMLElement;
    await user.type(within(form).getByLabelText("Workflow"), "NightlyImport");
    await user.type(within(form).getByLabelText("Expression"), "61 * * * *");
    await user.clear(within(form).getByLabelText("Timezone"));
    await user.type(within(form).getByLabelText("Timezone"), "Europe/Paris");
    fireEvent.change(within(form).getByLabelText("Cron input"), {
      target: { value: '{"full": true}' },
    });
    await user.click(within(form).getByRole("button", { name: "Create cron" }));

    expect(await within(form).findByRole("alert")).toHaveTextContent(
      "expression: '61 * * * *' is not a valid cron expression.",
    );
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      workflow: "NightlyImport",
      expression: "61 * * * *",
      timezone: "Europe/Paris",
      input: { full: true },
    });
  });
});

describe("schedules", () => {
  it("creates a schedule at an instant with its zone, and cancels one", async () => {
    const user = userEvent.setup();
    let schedules = [later];
    const calls = fakeApi("editor", {
      "GET /crons": page([]),
      "GET /schedules": () => page(schedules),
      "GET /workflows": workflows,
      "POST /schedules": () => Response.json({ ...later, id: "s-2" }, { status: 201 }),
      "POST /schedules/s-1/cancel": () => {
        schedules = [{ ...later, status: "CANCELLED" }];
        return schedules[0];
      },
    });
    renderAs(<TriggersPage />);

    const form = (await screen.findByRole("heading", { name: "New schedule" })).closest(
      "form",
    ) as HTMLElement;
    await user.type(within(form).getByLabelText("Workflow"), "SupportReply");
    fireEvent.change(within(form).getByLabelText("Run at"), {
      target: { value: "2030-01-01T12:00" },
    });
    await user.click(within(form).getByRole("button", { name: "Create schedule" }));
    expect(await within(form).findByRole("status")).toHaveTextContent("Scheduled for");
    expect(
      calls.find((call) => call.path === "/schedules" && call.method === "POST")?.body,
    ).toEqual({
      workflow: "SupportReply",
      trigger_at: new Date("2030-01-01T12:00").toISOString(),
      input: {},
    });

    const row = screen
      .getByText("SupportReply", { selector: "strong" })
      .closest("tr") as HTMLElement;
    await user.click(within(row).getByRole("button", { name: "Cancel" }));
    await user.click(within(row).getByRole("button", { name: "Click again to confirm" }));
    expect(await within(row).findByText("Cancelled")).toBeInTheDocument();
    expect(within(row).queryByRole("button", { name: "Cancel" })).not.toBeInTheDocument();
  });

  it("shows a viewer the crons and schedules with no controls", async () => {
    fakeApi("viewer", { "GET /crons": page([nightly]), "GET /schedules": page([later]) });
    renderAs(<TriggersPage />);
    expect(await screen.findByText("0 2 * * *")).toBeInTheDocument();
    expect(await screen.findByText("SupportReply")).toBeInTheDocument();
    expect(screen.queryAllByRole("button")).toHaveLength(0);
    expect(screen.queryByRole("form")).not.toBeInTheDocument();
  });
});
