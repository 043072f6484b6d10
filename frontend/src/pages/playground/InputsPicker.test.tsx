import { fireEvent, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/client";
import type { Run, RunDetail } from "../../api/types";
import { page, renderWithProviders } from "../../test-utils";
import { failedRun } from "../runs/fixtures";
import type { PastRun } from "./api";
import { InputsPicker, type CustomInput } from "./InputsPicker";

function pastRun(id: string, input: RunDetail["input"]): PastRun {
  const run: Run = {
    id,
    workflow: "SupportReply",
    status: "SUCCEEDED",
    created_at: "2026-01-01T00:00:00Z",
    additional_metadata: {},
  };
  return { run, detail: { ...failedRun(), id, status: "SUCCEEDED", input }, error: null };
}

const refund = pastRun("run-refund", { ticket: "Refund please" });
const shipping = pastRun("run-shipping", { ticket: "Where is my parcel?" });

/** The picker wired to state as the playground page wires it; shows what it chose. */
function Picker({ pastRuns }: { pastRuns: PastRun[] }) {
  const [selected, setSelected] = useState<string[]>([]);
  const [custom, setCustom] = useState<CustomInput>({ enabled: false, value: {}, valid: true });
  return (
    <>
      <InputsPicker
        pastRuns={pastRuns}
        list={{
          data: page(pastRuns.map((past) => past.run)),
          error: null,
          loading: false,
          reload: () => {},
        }}
        selected={selected}
        onToggle={(runId, isChosen) =>
          setSelected((current) =>
            isChosen ? [...current, runId] : current.filter((id) => id !== runId),
          )
        }
        custom={custom}
        onCustomChange={setCustom}
      />
      <output data-testid="chosen">{selected.join(",")}</output>
      <output data-testid="custom">
        {custom.enabled ? `${JSON.stringify(custom.value)} ${custom.valid}` : "none"}
      </output>
    </>
  );
}

describe("InputsPicker", () => {
  it("lists past runs by their input and chooses several", async () => {
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

  it("cannot choose a run whose input is still loading or could not be read", () => {
    const loading: PastRun = { ...refund, detail: undefined };
    const failed: PastRun = {
      ...shipping,
      detail: undefined,
      error: new ApiError(403, "forbidden", "Not yours."),
    };
    renderWithProviders(<Picker pastRuns={[loading, failed]} />);
    expect(screen.getByRole("checkbox", { name: /Loading input/ })).toBeDisabled();
    expect(screen.getByRole("checkbox", { name: /Input unavailable: Not yours\./ })).toBeDisabled();
  });

  it("points to a custom input when the workflow has no finished run", () => {
    renderWithProviders(<Picker pastRuns={[]} />);
    expect(
      screen.getByText("No finished runs of this workflow yet: write a custom input below."),
    ).toBeInTheDocument();
  });

  it("takes a custom JSON object and refuses anything else", async () => {
    const user = userEvent.setup();
    renderWithProviders(<Picker pastRuns={[refund]} />);
    expect(
      screen.queryByRole("textbox", { name: "Custom input (JSON object)" }),
    ).not.toBeInTheDocument();

    await user.click(screen.getByRole("checkbox", { name: "Also use a custom input" }));
    const editor = screen.getByRole("textbox", { name: "Custom input (JSON object)" });
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
