import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setTenant } from "../../api/client";
import type { Variant, VariantRevision } from "../../api/types";
import { SessionProvider } from "../../session";
import { renderWithProviders } from "../../test-utils";
import { VariantsPanel } from "./VariantsPanel";

const tenant = { id: "6f0c6f5e-0000-4000-8000-000000000001", slug: "acme", name: "Acme" };
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
    changes: [{ step: "draft", name: "system_prompt", kind: "changed", old: "Be short.", new: "Be brief." }],
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
const page = <T,>(results: T[]) => ({ count: results.length, next: null, previous: null, results });

function fakeServer() {
  const calls: { method: string; url: string; body: unknown }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit) => {
      const method = init.method ?? "GET";
      const body = init.body ? JSON.parse(init.body as string) : undefined;
      calls.push({ method, url, body });
      const path = url.replace("/api/v1", "");
      if (path === "/session") {
        return Response.json({
          user: { id: 1, username: "pat", email: "pat@example.com" },
          memberships: [{ tenant, role: "editor" }],
        });
      }
      if (path.startsWith("/playground/variants/var-1/revisions")) return Response.json(page(revisions));
      if (path === "/playground/variants/var-1/restore") {
        return Response.json({ ...brief, revision: 3, overrides: revisions[1]!.overrides });
      }
      if (path.startsWith("/playground/variants") && method === "POST") {
        return Response.json({ ...brief, id: "var-2", name: body.name, revision: 1 }, { status: 201 });
      }
      if (path.startsWith("/playground/variants")) return Response.json(page([brief]));
      return Response.json({ error: { code: "not_found", message: path } }, { status: 404 });
    }),
  );
  return calls;
}

function renderPanel(props: { selected?: Variant; onLoad: (variant: Variant) => void }) {
  return renderWithProviders(
    <SessionProvider>
      <VariantsPanel
        workflow="SupportReply"
        overrides={{ draft: { system_prompt: "Be crisp." } }}
        selected={props.selected}
        hasUnsavedEdits={false}
        onLoad={props.onLoad}
      />
    </SessionProvider>,
  );
}

beforeEach(() => setTenant(null));
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
    await waitFor(() => expect(onLoad).toHaveBeenCalledWith(expect.objectContaining({ id: "var-2" })));
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
    await waitFor(() => expect(onLoad).toHaveBeenLastCalledWith(expect.objectContaining({ revision: 3 })));
    const restore = calls.find((call) => call.url === "/api/v1/playground/variants/var-1/restore");
    expect(restore?.body).toEqual({ revision: 1 });
  });
});
