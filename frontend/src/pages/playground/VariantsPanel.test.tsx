import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Variant, VariantRevision } from "../../api/types";
import { fakeApi, page, renderAs, type FakeCall } from "../../test-utils";
import { VariantsPanel } from "./VariantsPanel";

const brief: Variant = {
  id: "var-1",
  workflow: "SupportReply",
  name: "brief",
  notes: "",
  overrides: { draft: { system_prompt: "Be brief." } },
  revision: 2,
  created_by: "pat",
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-02T00:00:00Z",
};
const revisions: VariantRevision[] = [
  {
    number: 2,
    name: "brief",
    notes: "",
    overrides: brief.overrides,
    changes: [
      { step: "draft", name: "system_prompt", kind: "changed", old: "Be short.", new: "Be brief." },
    ],
    restored_from: null,
    author: "pat",
    created_at: "2026-01-02T00:00:00Z",
  },
  {
    number: 1,
    name: "brief",
    notes: "",
    overrides: { draft: { system_prompt: "Be short." } },
    changes: [{ step: "draft", name: "system_prompt", kind: "added", old: null, new: "Be short." }],
    restored_from: null,
    author: "pat",
    created_at: "2026-01-01T00:00:00Z",
  },
];
function fakeServer() {
  return fakeApi("editor", {
    "GET /playground/variants/var-1/revisions": page(revisions),
    "POST /playground/variants/var-1/restore": {
      ...brief,
      revision: 3,
      overrides: revisions[1]!.overrides,
    },
    "POST /playground/variants": (call: FakeCall) =>
      Response.json(
        { ...brief, id: "var-2", name: (call.body as { name: string }).name, revision: 1 },
        { status: 201 },
      ),
    "GET /playground/variants": page([brief]),
  });
}

function renderPanel(props: { selected?: Variant; onLoad: (variant: Variant) => void }) {
  return renderAs(
    <VariantsPanel
      workflow="SupportReply"
      overrides={{ draft: { system_prompt: "Be crisp." } }}
      selected={props.selected}
      hasUnsavedEdits={false}
      onLoad={props.onLoad}
    />,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("VariantsPanel", () => {
  it("saves the current overrides under a name and loads the new variant", async () => {
    const calls = fakeServer();
    const onLoad = vi.fn();
    const user = userEvent.setup();
    renderPanel({ onLoad });
    const save = await screen.findByRole("button", { name: "Save variant" });
    expect(save).toBeDisabled();
    await user.type(screen.getByRole("textbox", { name: "Variant name" }), "crisp");
    await user.click(save);
    await waitFor(() =>
      expect(onLoad).toHaveBeenCalledWith(expect.objectContaining({ id: "var-2" })),
    );
    expect(calls.find((call) => call.method === "POST")?.body).toEqual({
      workflow: "SupportReply",
      name: "crisp",
      notes: "",
      overrides: { draft: { system_prompt: "Be crisp." } },
    });
  });

  it("lists saved variants to load, and restores a past revision of the loaded one", async () => {
    const calls = fakeServer();
    const onLoad = vi.fn();
    const user = userEvent.setup();
    renderPanel({ selected: brief, onLoad });
    const load = await screen.findByRole("button", { name: "Load variant brief" });
    expect(load).toHaveAttribute("aria-pressed", "true");
    await user.click(load);
    expect(onLoad).toHaveBeenCalledWith(brief);

    await user.click(screen.getByText("Revisions of “brief”"));
    expect(await screen.findByText("Revision 1")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Restore revision 2" })).not.toBeInTheDocument();
    const first = screen.getByText("Revision 1").closest("li") as HTMLElement;
    expect(within(first).getByText("Be short.")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Restore revision 1" }));
    await waitFor(() =>
      expect(onLoad).toHaveBeenLastCalledWith(expect.objectContaining({ revision: 3 })),
    );
    const restore = calls.find((call) => call.path === "/playground/variants/var-1/restore");
    expect(restore?.body).toEqual({ revision: 1 });
  });
});
