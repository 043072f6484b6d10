import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { RateLimit } from "../../api/types";
import { apiErrorResponse, fakeApi, page, renderAs } from "../../test-utils";
import { RateLimitsPage } from "./RateLimitsPage";

const llm: RateLimit = {
  id: "rl-1",
  key: "llm",
  limit: 60,
  period: "minute",
  dynamic: false,
  used: 12,
  created_at: "2026-05-01T10:00:00Z",
  updated_at: "2026-05-01T10:00:00Z",
};
const perUser: RateLimit = {
  ...llm,
  id: "rl-2",
  key: "user-42",
  limit: 5,
  period: "hour",
  dynamic: true,
  used: 5,
};

afterEach(() => vi.unstubAllGlobals());

function rowOf(key: string): HTMLElement {
  return screen.getByText(key, { selector: "code" }).closest("tr") as HTMLElement;
}

function putForm(): HTMLElement {
  return screen.getByRole("heading", { name: "Put a rate limit" }).closest("form") as HTMLElement;
}

describe("RateLimitsPage", () => {
  it("lists each limit with its use in the window and its kind", async () => {
    fakeApi("viewer", { "GET /rate-limits": page([llm, perUser]) });
    renderAs(<RateLimitsPage />);

    await screen.findByText("llm");
    const row = rowOf("llm");
    expect(row).toHaveTextContent("60 / minute");
    expect(row).toHaveTextContent("12 of 60");
    expect(within(row).getByRole("meter", { name: "Units used" })).toHaveAttribute(
      "aria-valuetext",
      "12 of 60 units used in the last minute",
    );
    expect(row).toHaveTextContent("named");
    expect(row.querySelector("time")).toHaveAttribute("dateTime", "2026-05-01T10:00:00Z");
    expect(within(rowOf("user-42")).getByText("dynamic")).toHaveClass("status-badge");
  });

  it("polls, so the use moves without a reload", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let used = 12;
    fakeApi("viewer", { "GET /rate-limits": () => page([{ ...llm, used }]) });
    renderAs(<RateLimitsPage />);
    expect(await screen.findByText("12 of 60")).toBeInTheDocument();

    used = 30;
    await vi.advanceTimersByTimeAsync(3_100);
    expect(await screen.findByText("30 of 60")).toBeInTheDocument();
    vi.useRealTimers();
  });

  it("explains rate limits when there is none", async () => {
    fakeApi("viewer", { "GET /rate-limits": page([]) });
    renderAs(<RateLimitsPage />);
    expect(await screen.findByText(/No rate limits yet/)).toHaveTextContent(
      'hatchet.rate_limits.put("llm", limit=60, period="minute")',
    );
  });

  it("creates a limit from the form, then lists it", async () => {
    const user = userEvent.setup();
    let rateLimits: RateLimit[] = [];
    const calls = fakeApi("editor", {
      "GET /rate-limits": () => page(rateLimits),
      "POST /rate-limits": () => {
        rateLimits = [{ ...llm, used: 0 }];
        return Response.json(rateLimits[0], { status: 201 });
      },
    });
    renderAs(<RateLimitsPage />);

    await screen.findByText(/No rate limits yet/);
    const form = putForm();
    await user.type(within(form).getByLabelText("Key"), "llm");
    await user.type(within(form).getByLabelText("Limit"), "60");
    await user.selectOptions(within(form).getByLabelText("Period"), "minute");
    await user.click(within(form).getByRole("button", { name: "Save limit" }));

    expect(await within(form).findByRole("status")).toHaveTextContent("Created llm");
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      key: "llm",
      limit: 60,
      period: "minute",
    });
    expect(await screen.findByText("0 of 60")).toBeInTheDocument();
    expect(within(form).getByLabelText("Key")).toHaveValue("");
  });

  it("edits a row's limit through the form, which says it updated it", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("editor", {
      "GET /rate-limits": page([llm]),
      "POST /rate-limits": { ...llm, limit: 30, period: "second" },
    });
    renderAs(<RateLimitsPage />);

    await screen.findByText("llm");
    await user.click(within(rowOf("llm")).getByRole("button", { name: "Edit" }));
    const form = putForm();
    expect(within(form).getByLabelText("Key")).toHaveValue("llm");
    expect(within(form).getByLabelText("Period")).toHaveValue("minute");
    const limit = within(form).getByLabelText("Limit");
    expect(limit).toHaveValue(60);
    expect(limit).toHaveFocus();
    await user.clear(limit);
    await user.type(limit, "30");
    await user.selectOptions(within(form).getByLabelText("Period"), "second");
    await user.click(within(form).getByRole("button", { name: "Save limit" }));

    expect(await within(form).findByRole("status")).toHaveTextContent("Updated llm");
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      key: "llm",
      limit: 30,
      period: "second",
    });
  });

  it("deletes a limit after confirmation", async () => {
    const user = userEvent.setup();
    let rateLimits = [llm, perUser];
    const calls = fakeApi("editor", {
      "GET /rate-limits": () => page(rateLimits),
      "DELETE /rate-limits/rl-1": () => {
        rateLimits = [perUser];
        return null;
      },
    });
    renderAs(<RateLimitsPage />);

    await screen.findByText("llm");
    const row = rowOf("llm");
    await user.click(within(row).getByRole("button", { name: "Delete" }));
    expect(calls.some((call) => call.method === "DELETE")).toBe(false);
    await user.click(within(row).getByRole("button", { name: "Click again to confirm" }));

    expect(await screen.findByText("user-42")).toBeInTheDocument();
    await vi.waitFor(() => expect(screen.queryByText("llm")).not.toBeInTheDocument());
    expect(calls.filter((call) => call.method === "DELETE").map((call) => call.path)).toEqual([
      "/rate-limits/rl-1",
    ]);
  });

  it("shows a viewer the limits with no form and no buttons", async () => {
    fakeApi("viewer", { "GET /rate-limits": page([llm, perUser]) });
    renderAs(<RateLimitsPage />);

    expect(await screen.findByText("llm")).toBeInTheDocument();
    expect(screen.queryAllByRole("button")).toHaveLength(0);
    expect(screen.queryByRole("form")).not.toBeInTheDocument();
    expect(screen.queryByRole("columnheader", { name: "Actions" })).not.toBeInTheDocument();
  });

  it("shows the API's validation error beside the form", async () => {
    const user = userEvent.setup();
    fakeApi("editor", {
      "GET /rate-limits": page([llm]),
      "POST /rate-limits": () =>
        apiErrorResponse(
          400,
          "invalid_request",
          "limit: Ensure this value is less than or equal to 1000000000.",
          { limit: ["Ensure this value is less than or equal to 1000000000."] },
        ),
    });
    renderAs(<RateLimitsPage />);

    await screen.findByText("llm");
    const form = putForm();
    await user.type(within(form).getByLabelText("Key"), "llm");
    await user.type(within(form).getByLabelText("Limit"), "5000000000");
    await user.click(within(form).getByRole("button", { name: "Save limit" }));

    expect(await within(form).findByRole("alert")).toHaveTextContent(
      "limit: Ensure this value is less than or equal to 1000000000.",
    );
    expect(within(form).queryByRole("status")).not.toBeInTheDocument();
    expect(within(form).getByLabelText("Key")).toHaveValue("llm");
  });
});
