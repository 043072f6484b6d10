import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AlertEvent, AlertRule } from "../../api/types";
import { apiErrorResponse, fakeApi, page, renderAs } from "../../test-utils";
import { AlertsPage } from "./AlertsPage";

const refunds: AlertRule = {
  id: "r-1",
  name: "refunds failing",
  kind: "failed_runs",
  workflow: "Refund",
  threshold: 5,
  window_seconds: 600,
  cooldown_seconds: 3600,
  webhook_urls: ["https://hooks.slack.com/…"],
  emails: ["oncall@example.com"],
  is_enabled: true,
  state: "firing",
  fired_at: "2026-01-01T00:00:00Z",
  notified_at: "2026-01-01T00:00:00Z",
  created_at: "2026-01-01T00:00:00Z",
};

const fired: AlertEvent = {
  id: "e-1",
  rule: "r-1",
  rule_name: "refunds failing",
  kind: "firing",
  title: "Firing: refunds failing: 5 failed runs of Refund in the last 10 min (threshold 5)",
  message: "Refund: Step 'only' failed: ValueError",
  created_at: "2026-01-01T00:00:00Z",
  deliveries: [
    {
      id: "d-1",
      channel: "email",
      destination: "oncall@example.com",
      status: "delivered",
      attempts: 1,
      error: "",
      delivered_at: "2026-01-01T00:00:01Z",
    },
    {
      id: "d-2",
      channel: "webhook",
      destination: "https://hooks.slack.com/…",
      status: "failed",
      attempts: 3,
      error: "HTTP 404: no_service",
      delivered_at: null,
    },
  ],
};

afterEach(() => vi.unstubAllGlobals());

describe("Alerts", () => {
  it("lets an admin create a rule and shows it in the list", async () => {
    const user = userEvent.setup();
    let rules: AlertRule[] = [];
    const calls = fakeApi("admin", {
      "GET /alerts/rules": () => page(rules),
      "GET /alerts/events": page([]),
      "POST /alerts/rules": () => {
        rules = [refunds];
        return Response.json(refunds, { status: 201 });
      },
    });
    renderAs(<AlertsPage />);

    expect(await screen.findByText(/No alert rules yet/)).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "New rule" }));
    const form = screen.getByRole("form", { name: "New alert rule" });
    await user.type(within(form).getByLabelText("Rule name"), "refunds failing");
    await user.type(within(form).getByLabelText("Workflow (blank: all)"), "Refund");
    await user.type(
      within(form).getByLabelText("Webhook URLs (one a line)"),
      "https://hooks.slack.com/services/T/B/x\n",
    );
    await user.type(
      within(form).getByLabelText("Email addresses (one a line)"),
      "oncall@example.com",
    );
    await user.click(within(form).getByRole("button", { name: "Save rule" }));

    expect(await screen.findByRole("cell", { name: "refunds failing" })).toBeInTheDocument();
    expect(screen.getByText("5 failed runs of Refund within 600 s")).toBeInTheDocument();
    expect(screen.queryByRole("form")).not.toBeInTheDocument();
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      name: "refunds failing",
      kind: "failed_runs",
      workflow: "Refund",
      threshold: 5,
      window_seconds: 600,
      cooldown_seconds: 3600,
      webhook_urls: ["https://hooks.slack.com/services/T/B/x"],
      emails: ["oncall@example.com"],
      is_enabled: true,
    });
  });

  it("shows the server's refusal of a rule beside the form", async () => {
    const user = userEvent.setup();
    fakeApi("admin", {
      "GET /alerts/rules": page([]),
      "GET /alerts/events": page([]),
      "POST /alerts/rules": apiErrorResponse(
        400,
        "invalid_request",
        "webhook_urls: Give a webhook URL or an email address to send alerts to.",
      ),
    });
    renderAs(<AlertsPage />);

    await user.click(await screen.findByRole("button", { name: "New rule" }));
    await user.type(screen.getByLabelText("Rule name"), "nowhere");
    await user.click(screen.getByRole("button", { name: "Save rule" }));

    expect(
      await screen.findByText(/Give a webhook URL or an email address to send alerts to/),
    ).toBeInTheDocument();
    expect(screen.getByRole("form", { name: "New alert rule" })).toBeInTheDocument();
  });

  it("sends a test and shows each destination's outcome", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("admin", {
      "GET /alerts/rules": page([refunds]),
      "GET /alerts/events": page([]),
      "POST /alerts/rules/r-1/test": { ...fired, kind: "test", title: "Test of refunds failing" },
    });
    renderAs(<AlertsPage />);

    await user.click(await screen.findByRole("button", { name: "Send test" }));

    const outcome = await screen.findByRole("status", { name: "Test of refunds failing" });
    const items = within(outcome).getAllByRole("listitem");
    expect(items.map((item) => item.textContent)).toEqual([
      "delivered email oncall@example.com",
      "failed webhook https://hooks.slack.com/… — HTTP 404: no_service",
    ]);
    expect(calls.filter((call) => call.method === "POST").map((call) => call.path)).toEqual([
      "/alerts/rules/r-1/test",
    ]);
  });

  it("edits a rule from its whole version, with every field sent back", async () => {
    const user = userEvent.setup();
    const whole = { ...refunds, webhook_urls: ["https://hooks.slack.com/services/T/B/x"] };
    const calls = fakeApi("admin", {
      "GET /alerts/rules": page([refunds]),
      "GET /alerts/rules/r-1": whole,
      "GET /alerts/events": page([]),
      "PATCH /alerts/rules/r-1": { ...whole, threshold: 3 },
    });
    renderAs(<AlertsPage />);

    await user.click(await screen.findByRole("button", { name: "Edit" }));
    const threshold = await screen.findByLabelText("Failed runs");
    await user.clear(threshold);
    await user.type(threshold, "3");
    await user.click(screen.getByRole("button", { name: "Save rule" }));

    await vi.waitFor(() => expect(screen.queryByRole("form")).not.toBeInTheDocument());
    const patch = calls.find((call) => call.method === "PATCH");
    expect(patch?.body).toMatchObject({
      threshold: 3,
      webhook_urls: ["https://hooks.slack.com/services/T/B/x"],
      emails: ["oncall@example.com"],
    });
  });

  it("shows viewers the rules and recent alerts, without controls", async () => {
    fakeApi("viewer", {
      "GET /alerts/rules": page([refunds]),
      "GET /alerts/events": page([fired]),
    });
    renderAs(<AlertsPage />);

    const events = await screen.findByRole("region", { name: "Recent alerts" });
    expect(await within(events).findByText(fired.title)).toBeInTheDocument();
    expect(within(events).getByText(/HTTP 404: no_service/)).toBeInTheDocument();
    const rules = screen.getByRole("region", { name: "Rules" });
    expect(within(rules).getByText("firing")).toHaveClass("alert-state-firing");
    expect(screen.queryByRole("button", { name: "New rule" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Send test" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Delete" })).not.toBeInTheDocument();
  });
});
