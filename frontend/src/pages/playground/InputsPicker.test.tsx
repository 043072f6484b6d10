import { fireEvent, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import type { Run } from "../../api/types";
import { page, renderWithProviders } from "../../test-utils";
import { InputsPicker, type CustomInput } from "./InputsPicker";

/** A past run as the runs list answers it with `with_input=true`. */
function pastRun(id: string, input: Record<string, unknown>, input_summary: string): Run {
  return {
    id,
    workflow: "SupportReply",
    status: "SUCCEEDED",
    created_at: "2026-01-01T00:00:00Z",
    started_at: null,
    finished_at: null,
    trigger: "event",
    event: null,
    additional_metadata: {},
    input_summary,
    input,
  };
}

const refund = pastRun("run-refund", { ticket: "Refund please", tier: 2 }, "Refund please");
const shipping = pastRun("run-shipping", { ticket: "Where is my parcel?" }, "Where is my parcel?");

/** The picker wired to state as the playground page wires it; shows what it chose. */
function Picker({ pastRuns, readOnly = false }: { pastRuns: Run[]; readOnly?: boolean }) {
  const [selected, setSelected] = useState<string[]>([]);
  const [custom, setCustom] = useState<CustomInput>({ enabled: false, value: {}, valid: true });
  return (
    <>
      <InputsPicker
        list={{ data: page(pastRuns), error: null, loading: false, reload: () => {} }}
        selected={selected}
        onToggle={(runId, isChosen) =>
          setSelected((current) =>
            isChosen ? [...current, runId] : current.filter((id) => id !== runId),
          )
        }
        custom={custom}
        onCustomChange={setCustom}
        readOnly={readOnly}
      />
      <output data-testid="chosen">{selected.join(",")}</output>
      <output data-testid="custom">
        {custom.enabled ? `${JSON.stringify(custom.value)} ${custom.valid}` : "none"}
      </output>
    </>
  );
}

describe("InputsPicker", () => {
  it("lists past runs by their input's summary and chooses several", async () => {
    const user = userEvent.setup();
    renderWithProviders(<Picker pastRuns={[refund, shipping]} />);
    const list = screen.getByRole("group", { name: "Past runs" });
    expect(
      within(list)
        .getAllByRole("checkbox")
        .map((box) => box.closest("label")?.textContent),
    ).toEqual([
      expect.stringContaining("Refund please"),
      expect.stringContaining("Where is my parcel?"),
    ]);

    await user.click(screen.getByRole("checkbox", { name: /Refund please/ }));
    await user.click(screen.getByRole("checkbox", { name: /Where is my parcel/ }));
    expect(screen.getByTestId("chosen")).toHaveTextContent("run-refund,run-shipping");
    expect(screen.getByRole("checkbox", { name: /Refund please/ })).toBeChecked();

    await user.click(screen.getByRole("checkbox", { name: /Refund please/ }));
    expect(screen.getByTestId("chosen")).toHaveTextContent(/^run-shipping$/);
  });

  it("filters the past runs by their input's text, and says when none matches", async () => {
    const user = userEvent.setup();
    renderWithProviders(<Picker pastRuns={[refund, shipping]} />);
    await user.type(screen.getByRole("searchbox", { name: "Search past runs" }), "PARCEL");
    expect(screen.getByRole("checkbox", { name: /Where is my parcel/ })).toBeInTheDocument();
    expect(screen.queryByRole("checkbox", { name: /Refund please/ })).not.toBeInTheDocument();

    await user.clear(screen.getByRole("searchbox", { name: "Search past runs" }));
    await user.type(screen.getByRole("searchbox", { name: "Search past runs" }), "invoice");
    expect(screen.getByText("No past run's input matches “invoice”.")).toBeInTheDocument();
  });

  it("lets a viewer see the inputs but choose none", () => {
    renderWithProviders(<Picker pastRuns={[refund, shipping]} readOnly />);
    for (const box of screen.getAllByRole("checkbox")) expect(box).toBeDisabled();
    expect(screen.getByRole("checkbox", { name: "Also use a custom input" })).toBeDisabled();
  });

  it("points to a custom input when the workflow has no finished run", () => {
    renderWithProviders(<Picker pastRuns={[]} />);
    expect(
      screen.getByText("No finished runs of this workflow yet: write a custom input below."),
    ).toBeInTheDocument();
  });

  it("starts a custom input from the latest run's input and names the fields inputs have", async () => {
    const user = userEvent.setup();
    renderWithProviders(<Picker pastRuns={[refund, shipping]} />);
    await user.click(screen.getByRole("checkbox", { name: "Also use a custom input" }));

    const editor = screen.getByRole("textbox", { name: "Custom input (JSON object)" });
    expect(JSON.parse((editor as HTMLTextAreaElement).value)).toEqual(refund.input);
    expect(screen.getByTestId("custom")).toHaveTextContent(
      '{"ticket":"Refund please","tier":2} true',
    );
    expect(screen.getByText(/Recent inputs have the fields/)).toHaveTextContent(
      "Recent inputs have the fields ticket, tier.",
    );
  });

  it("takes a custom JSON object and refuses anything else", async () => {
    const user = userEvent.setup();
    renderWithProviders(<Picker pastRuns={[]} />);
    expect(
      screen.queryByRole("textbox", { name: "Custom input (JSON object)" }),
    ).not.toBeInTheDocument();

    await user.click(screen.getByRole("checkbox", { name: "Also use a custom input" }));
    const editor = screen.getByRole("textbox", { name: "Custom input (JSON object)" });
    expect(editor).toHaveValue("{}");
    fireEvent.change(editor, { target: { value: '["not", "an", "object"]' } });
    expect(screen.getByText("The custom input must be a JSON object.")).toBeInTheDocument();
    expect(screen.getByTestId("custom")).toHaveTextContent('["not","an","object"] false');

    fireEvent.change(editor, { target: { value: '{"ticket": "Cancel my order"}' } });
    expect(screen.queryByText("The custom input must be a JSON object.")).not.toBeInTheDocument();
    expect(screen.getByTestId("custom")).toHaveTextContent('{"ticket":"Cancel my order"} true');

    await user.click(screen.getByRole("checkbox", { name: "Also use a custom input" }));
    expect(screen.getByTestId("custom")).toHaveTextContent("none");
  });
});
