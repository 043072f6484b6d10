import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Retention } from "../../api/types";
import { apiErrorResponse, fakeApi, renderAs, type FakeCall } from "../../test-utils";
import { RetentionSection } from "./RetentionSection";

const serverDefault: Retention = {
  days: null,
  default_days: 90,
  effective_days: 90,
  is_archived: true,
};

afterEach(() => vi.unstubAllGlobals());

describe("History retention", () => {
  it("shows a viewer the period that applies and no form", async () => {
    fakeApi("viewer", { "GET /retention": serverDefault });
    renderAs(<RetentionSection />);

    const heading = await screen.findByRole("heading", { name: "History retention" });
    const section = heading.closest("section") as HTMLElement;
    await waitFor(() =>
      expect(section).toHaveTextContent(
        "Finished runs (with their step runs, logs and streams) and events are kept 90 days " +
          "(the server's default).",
      ),
    );
    expect(section).toHaveTextContent(
      "Older ones are written to the server's archive, then deleted.",
    );
    expect(screen.queryByRole("form", { name: "History retention" })).not.toBeInTheDocument();
  });

  it("lets an admin set a number of days, then forever, and shows what the server answers", async () => {
    const user = userEvent.setup();
    let current: Retention = serverDefault;
    const calls = fakeApi("admin", {
      "GET /retention": () => current,
      "PUT /retention": (call: FakeCall) => {
        const days = (call.body as { days: number | null }).days;
        current = { ...serverDefault, days, effective_days: days ?? 90, is_archived: false };
        return current;
      },
    });
    renderAs(<RetentionSection />);

    const keep = await screen.findByRole("combobox", { name: "Keep history" });
    expect(keep).toHaveValue("default");
    expect(
      screen.getByRole("option", { name: "The server's default (90 days)" }),
    ).toBeInTheDocument();
    await user.selectOptions(keep, "days");
    await user.clear(screen.getByRole("spinbutton", { name: "Days" }));
    await user.type(screen.getByRole("spinbutton", { name: "Days" }), "14");
    await user.click(screen.getByRole("button", { name: "Save retention" }));

    expect(await screen.findByRole("status")).toHaveTextContent("Saved.");
    expect(calls.filter((call) => call.method === "PUT").map((call) => call.body)).toEqual([
      { days: 14 },
    ]);
    expect(await screen.findByText("14 days")).toBeInTheDocument();
    expect(screen.getByText("Older ones are deleted.")).toBeInTheDocument();

    await user.selectOptions(screen.getByRole("combobox", { name: "Keep history" }), "forever");
    await user.click(screen.getByRole("button", { name: "Save retention" }));
    await waitFor(() =>
      expect(calls.filter((call) => call.method === "PUT").map((call) => call.body)).toEqual([
        { days: 14 },
        { days: 0 },
      ]),
    );
    expect(await screen.findByText("Nothing is deleted.")).toBeInTheDocument();
    expect(screen.getByText("forever")).toBeInTheDocument();
  });

  it("shows the server's refusal next to the form", async () => {
    const user = userEvent.setup();
    fakeApi("admin", {
      "GET /retention": { ...serverDefault, days: 30, effective_days: 30 },
      "PUT /retention": apiErrorResponse(
        400,
        "invalid",
        "days: Ensure this value is less than or equal to 36500.",
        { days: ["Ensure this value is less than or equal to 36500."] },
      ),
    });
    renderAs(<RetentionSection />);

    const days = await screen.findByRole("spinbutton", { name: "Days" });
    expect(days).toHaveValue(30);
    await user.clear(days);
    await user.type(days, "99999");
    await user.click(screen.getByRole("button", { name: "Save retention" }));

    expect(await screen.findByRole("alert")).toHaveTextContent(
      "days: Ensure this value is less than or equal to 36500.",
    );
  });
});
