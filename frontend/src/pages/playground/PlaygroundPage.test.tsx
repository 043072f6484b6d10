import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setTenant } from "../../api/client";
import type { Role, Variable } from "../../api/types";
import { SessionProvider } from "../../session";
import { renderWithProviders } from "../../test-utils";
import { PlaygroundPage } from "./PlaygroundPage";

const tenant = { id: "6f0c6f5e-0000-4000-8000-000000000001", slug: "acme", name: "Acme" };
const prompt = "You are a friendly support agent. Answer in two sentences.";

function variable(name: string, type: string, value: unknown): Variable {
  return {
    id: `id-${name}`,
    workflow: "SupportReply",
    step: "draft",
    name,
    type,
    default: value,
    call_site: { path: "examples/support_reply.py", line: 60, function: "draft" },
    version: 1,
    first_seen_at: "2026-01-01T00:00:00Z",
    last_seen_at: "2026-01-01T00:00:00Z",
    history: [],
  };
}

const page = <T,>(results: T[]) => ({ count: results.length, next: null, previous: null, results });

interface Call {
  method: string;
  url: string;
  body: unknown;
}

/** A fake API: the session with `role`, the catalog, one past run and its detail. */
function fakeServer(role: Role) {
  const calls: Call[] = [];
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
          memberships: [{ tenant, role }],
        });
      }
      if (path.startsWith("/playground/variables")) {
        return Response.json(
          page([variable("system_prompt", "string", prompt), variable("temperature", "number", 0.3)]),
        );
      }
      if (path.startsWith("/playground/variants")) return Response.json(page([]));
      if (path.startsWith("/runs?")) {
        return Response.json(
          page([
            { id: "past-1", workflow: "SupportReply", status: "SUCCEEDED", created_at: "2026-01-01T00:00:00Z", trigger: "event" },
            { id: "play-1", workflow: "SupportReply", status: "SUCCEEDED", created_at: "2026-01-01T00:00:00Z", trigger: "playground" },
          ]),
        );
      }
      if (path === "/runs/past-1") {
        return Response.json({
          id: "past-1",
          workflow: "SupportReply",
          version: 1,
          status: "SUCCEEDED",
          input: { ticket: "Refund please" },
          additional_metadata: {},
          overrides: {},
          step_runs: [],
        });
      }
      if (path === "/playground/runs" && method === "POST") {
        return Response.json({ run_id: "new-run", run: { id: "new-run" } }, { status: 201 });
      }
      return Response.json({ error: { code: "not_found", message: `No ${path}` } }, { status: 404 });
    }),
  );
  return calls;
}

class SilentSocket {
  onopen = null;
  onmessage = null;
  onclose = null;
  close() {}
}

function renderPage() {
  return renderWithProviders(
    <SessionProvider>
      <PlaygroundPage />
    </SessionProvider>,
    { route: "/playground" },
  );
}

beforeEach(() => {
  setTenant(null);
  sessionStorage.clear();
  vi.stubGlobal("WebSocket", SilentSocket);
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
    expect(within(screen.getByRole("group", { name: "Past runs" })).getAllByRole("checkbox")).toHaveLength(1);
    const run = screen.getByRole("button", { name: "Run" });
    expect(run).toBeDisabled();
    await user.click(past);

    await user.type(screen.getByRole("searchbox", { name: "Search past runs" }), "nothing like it");
    expect(screen.queryByRole("checkbox", { name: /Refund please/ })).not.toBeInTheDocument();
    await user.clear(screen.getByRole("searchbox", { name: "Search past runs" }));

    await user.click(run);
    await waitFor(() => expect(calls.some((call) => call.url === "/api/v1/playground/runs")).toBe(true));
    const post = calls.find((call) => call.url === "/api/v1/playground/runs");
    expect(post?.body).toEqual({
      workflow: "SupportReply",
      input: { ticket: "Refund please" },
      overrides: { draft: { system_prompt: "Be brief." } },
    });
    expect(await screen.findByRole("article", { name: "Output for Refund please" })).toBeInTheDocument();
  });
});
