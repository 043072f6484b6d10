import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AppRoutes } from "./App";
import { setTenant } from "./api/client";
import type { Session } from "./api/types";
import { RequireRole } from "./components/RequireRole";
import { SessionProvider } from "./session";
import { renderWithProviders } from "./test-utils";

const alice = { id: 1, username: "alice", email: "alice@example.com" };
const acme = { id: "6f0c6f5e-0000-4000-8000-000000000001", slug: "acme", name: "Acme" };
const globex = { id: "6f0c6f5e-0000-4000-8000-000000000002", slug: "globex", name: "Globex" };
const signedOut: Session = { user: null, memberships: [] };

interface RecordedCall {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

const emptyPage = { count: 0, next: null, previous: null, results: [] };

/**
 * Answers /api/v1/session from `sessions` in order, any other address with an empty
 * page (what the pages behind the session list), and records every call.
 */
function fakeServer(sessions: Session[]) {
  const calls: RecordedCall[] = [];
  const fetchMock = vi.fn(async (url: string, init: RequestInit) => {
    const method = init.method ?? "GET";
    calls.push({
      method,
      url,
      headers: init.headers as Record<string, string>,
      body: init.body ? JSON.parse(init.body as string) : undefined,
    });
    if (method === "DELETE") return new Response(null, { status: 204 });
    if (
      method === "POST" &&
      (JSON.parse(init.body as string) as { password: string }).password !== "right"
    ) {
      return Response.json(
        {
          error: { code: "invalid_credentials", message: "The username or password is not right." },
        },
        { status: 400 },
      );
    }
    if (url !== "/api/v1/session") return Response.json(emptyPage);
    return Response.json(sessions.shift() ?? signedOut);
  });
  vi.stubGlobal("fetch", fetchMock);
  return calls;
}

function renderApp(path: string) {
  return renderWithProviders(
    <SessionProvider>
      <AppRoutes />
    </SessionProvider>,
    { route: path },
  );
}

beforeEach(() => {
  setTenant(null);
  document.cookie = "csrftoken=token-123";
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("session", () => {
  it("shows sign-in for any page when signed out, then that page after signing in", async () => {
    const user = userEvent.setup();
    const calls = fakeServer([
      signedOut,
      { user: alice, memberships: [{ tenant: acme, role: "viewer" }] },
    ]);
    renderApp("/workers");

    await user.type(await screen.findByLabelText("Username"), "alice");
    await user.type(screen.getByLabelText("Password"), "right");
    await user.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByRole("heading", { name: "Workers" })).toBeInTheDocument();
    expect(screen.getByText("alice")).toBeInTheDocument();
    expect(screen.getByText("viewer")).toBeInTheDocument();
    expect(screen.queryByRole("combobox", { name: "Tenant" })).not.toBeInTheDocument();
    const signIn = calls[1];
    expect(signIn?.method).toBe("POST");
    expect(signIn?.url).toBe("/api/v1/session");
    expect(signIn?.headers["X-CSRFToken"]).toBe("token-123");
    expect(signIn?.body).toEqual({ username: "alice", password: "right" });
  });

  it("shows the server's message on bad credentials", async () => {
    const user = userEvent.setup();
    fakeServer([signedOut]);
    renderApp("/runs");

    await user.type(await screen.findByLabelText("Username"), "alice");
    await user.type(screen.getByLabelText("Password"), "wrong");
    await user.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByRole("alert")).toHaveTextContent(
      "The username or password is not right.",
    );
    expect(screen.getByRole("button", { name: "Sign in" })).toBeEnabled();
  });

  it("switches tenants with the header select and sends the new tenant", async () => {
    const user = userEvent.setup();
    const calls = fakeServer([
      {
        user: alice,
        memberships: [
          { tenant: acme, role: "admin" },
          { tenant: globex, role: "viewer" },
        ],
      },
    ]);
    renderApp("/");

    const tenantSelect = await screen.findByRole("combobox", { name: "Tenant" });
    expect(await screen.findByRole("heading", { name: "Runs" })).toBeInTheDocument();
    expect(tenantSelect).toHaveValue("acme");
    expect(screen.getByText("admin")).toBeInTheDocument();

    await user.selectOptions(tenantSelect, "globex");
    expect(screen.getByText("viewer")).toBeInTheDocument();
    expect(localStorage.getItem("hatchet.tenant")).toBe("globex");

    await user.click(screen.getByRole("button", { name: "Sign out" }));
    expect(await screen.findByRole("button", { name: "Sign in" })).toBeInTheDocument();
    const signOut = calls.at(-1);
    expect(signOut?.method).toBe("DELETE");
    expect(signOut?.headers["X-Hatchet-Tenant"]).toBe("globex");
  });

  it("shows a not-found view for unknown addresses", async () => {
    fakeServer([{ user: alice, memberships: [{ tenant: acme, role: "viewer" }] }]);
    renderApp("/nowhere");
    expect(await screen.findByRole("heading", { name: "Page not found" })).toBeInTheDocument();
  });
});

describe("RequireRole", () => {
  it("renders editor controls for editors and admins but not viewers", async () => {
    for (const [role, isShown] of [
      ["viewer", false],
      ["editor", true],
      ["admin", true],
    ] as const) {
      fakeServer([{ user: alice, memberships: [{ tenant: acme, role }] }]);
      const { unmount } = render(
        <SessionProvider>
          <RequireRole role="editor">
            <button type="button">Cancel run</button>
          </RequireRole>
          <p>ready</p>
        </SessionProvider>,
      );
      await screen.findByText("ready");
      await waitFor(() =>
        expect(screen.queryByRole("button", { name: "Cancel run" }) !== null).toBe(isShown),
      );
      unmount();
    }
  });
});
