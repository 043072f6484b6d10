import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router-dom";
import { afterEach, describe, expect, it, vi } from "vitest";
import { apiErrorResponse, fakeApi, LocationProbe, page, renderAs } from "../../test-utils";
import type { Evaluator } from "./api";
import { supportWorkflows } from "../workflows/fixtures";
import { EvaluatorsPage } from "./EvaluatorsPage";

function evaluator(fields: Partial<Evaluator>): Evaluator {
  return {
    id: "e1",
    workflow: "Support",
    step: "",
    name: "mentions refund",
    kind: "contains",
    config: { text: "refund", case_sensitive: false },
    threshold: 0.5,
    created_by: "ada",
    created_at: "2026-12-01T00:00:00Z",
    updated_at: "2026-12-01T00:00:00Z",
    ...fields,
  };
}

const mentionsRefund = evaluator({});
const polite = evaluator({
  id: "e2",
  name: "polite",
  kind: "llm_judge",
  config: { rubric: "Thanks the customer.", model: "gpt-4o-mini" },
  threshold: 0.7,
});

function renderEvaluators(route = "/evaluators") {
  return renderAs(
    <>
      <Routes>
        <Route path="/evaluators" element={<EvaluatorsPage />} />
      </Routes>
      <LocationProbe />
    </>,
    { route },
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("EvaluatorsPage", () => {
  it("lists what each evaluator checks, read-only for a viewer", async () => {
    fakeApi("viewer", {
      "GET /playground/evaluators": page([mentionsRefund, polite]),
      "GET /workflows": supportWorkflows,
    });
    renderEvaluators();

    const row = (await screen.findByText("mentions refund")).closest("tr") as HTMLElement;
    expect(row.textContent).toContain('contains "refund"');
    const judge = screen.getByText("polite").closest("tr") as HTMLElement;
    expect(judge.textContent).toContain("LLM judge");
    expect(judge.textContent).toContain("gpt-4o-mini: Thanks the customer.");
    expect(screen.queryByRole("form", { name: "New evaluator" })).toBeNull();
    expect(screen.queryByRole("button", { name: /Edit / })).toBeNull();
    expect(screen.getByRole("button", { name: "Try polite" })).toBeTruthy();
  });

  it("filters by workflow through the address", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("viewer", {
      "GET /playground/evaluators": page([mentionsRefund]),
      "GET /workflows": supportWorkflows,
    });
    renderEvaluators();
    await screen.findByText("mentions refund");
    await screen.findByRole("option", { name: "Support" });

    await user.selectOptions(screen.getByLabelText("Show workflow"), "Support");

    expect(screen.getByTestId("location").textContent).toBe("/evaluators?workflow=Support");
    await waitFor(() =>
      expect(calls.map((call) => call.path)).toContain(
        "/playground/evaluators?limit=200&workflow=Support",
      ),
    );
  });

  it("lets an editor configure a check without code", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("editor", {
      "GET /playground/evaluators": page([]),
      "GET /workflows": supportWorkflows,
      "POST /playground/evaluators": evaluator({ id: "e3", name: "short", kind: "length" }),
    });
    renderEvaluators("/evaluators?workflow=Support");
    const form = await screen.findByRole("form", { name: "New evaluator" });

    await user.type(within(form).getByLabelText("Name"), "short");
    await user.selectOptions(within(form).getByLabelText("Kind"), "length");
    await user.type(within(form).getByLabelText("Most characters"), "280");
    await user.click(within(form).getByRole("button", { name: "Add evaluator" }));

    await waitFor(() =>
      expect(calls.find((call) => call.method === "POST")?.body).toEqual({
        workflow: "Support",
        name: "short",
        kind: "length",
        config: { max: 280 },
        step: "",
        threshold: 0.5,
      }),
    );
  });

  it("refuses JSON that is not JSON before sending, and shows the server's refusal", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("editor", {
      "GET /playground/evaluators": page([]),
      "GET /workflows": supportWorkflows,
      "POST /playground/evaluators": apiErrorResponse(
        400,
        "invalid",
        "config: schema: Not a JSON Schema: 7 is not valid under any of the given schemas.",
      ),
    });
    renderEvaluators("/evaluators?workflow=Support");
    const form = await screen.findByRole("form", { name: "New evaluator" });
    await user.type(within(form).getByLabelText("Name"), "shape");
    await user.selectOptions(within(form).getByLabelText("Kind"), "json_schema");
    const schema = within(form).getByLabelText("JSON schema");

    await user.type(schema, "{{type");
    await user.click(within(form).getByRole("button", { name: "Add evaluator" }));
    expect((await within(form).findByRole("alert")).textContent).toBe("JSON schema is not JSON.");
    expect(calls.filter((call) => call.method === "POST")).toEqual([]);

    await user.clear(schema);
    await user.type(schema, "7");
    await user.click(within(form).getByRole("button", { name: "Add evaluator" }));
    expect(await within(form).findByText(/Not a JSON Schema/)).toBeTruthy();
  });

  it("changes an evaluator in place", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("editor", {
      "GET /playground/evaluators": page([mentionsRefund]),
      "GET /workflows": supportWorkflows,
      "PATCH /playground/evaluators/e1": evaluator({ config: { text: "refunded" } }),
    });
    renderEvaluators();
    await user.click(await screen.findByRole("button", { name: "Edit mentions refund" }));
    const form = screen.getByRole("form", { name: "Change mentions refund" });
    const text = within(form).getByLabelText("Text");
    expect((text as HTMLInputElement).value).toBe("refund");

    await user.type(text, "ed");
    await user.click(within(form).getByRole("button", { name: "Save" }));

    await waitFor(() =>
      expect(calls.find((call) => call.method === "PATCH")?.body).toEqual({
        name: "mentions refund",
        kind: "contains",
        config: { text: "refunded", case_sensitive: false },
        step: "",
        threshold: 0.5,
      }),
    );
    await waitFor(() => expect(screen.queryByRole("form", { name: /Change/ })).toBeNull());
  });

  it("tries an evaluator on an output typed by hand", async () => {
    const user = userEvent.setup();
    const calls = fakeApi("viewer", {
      "GET /playground/evaluators": page([mentionsRefund]),
      "GET /workflows": supportWorkflows,
      "POST /playground/evaluators/e1/try": {
        status: "done",
        value: 0,
        passed: false,
        reason: "does not contain 'refund'",
        error: "",
        tokens: null,
        cost: null,
        latency_ms: null,
      },
    });
    renderEvaluators();
    await user.click(await screen.findByRole("button", { name: "Try mentions refund" }));
    const form = screen.getByRole("form", { name: "Try mentions refund" });

    await user.type(within(form).getByLabelText("Output to try"), "We are sorry.");
    await user.click(within(form).getByRole("button", { name: "Evaluate" }));

    const verdict = await within(form).findByRole("status");
    expect(verdict.textContent).toContain("Fail");
    expect(verdict.textContent).toContain("does not contain 'refund'");
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      output: "We are sorry.",
      expected: null,
    });
  });
});
