// Test support for the pages in this folder and its siblings: a fetch stand-in that
// answers by "METHOD /path" and records every call, and a render inside a session
// with the chosen role.
import type { ReactNode } from "react";
import { vi } from "vitest";
import { setTenant } from "../../api/client";
import type { Role, Session } from "../../api/types";
import { SessionProvider } from "../../session";
import { renderWithProviders } from "../../test-utils";

export interface FakeCall {
  method: string;
  /** Relative to /api/v1, with the query string. */
  path: string;
  body: unknown;
}

/** A JSON value to answer 200 with, a Response, or a function of the call giving either. */
export type FakeAnswer = unknown;
export type FakeRoutes = Record<string, FakeAnswer | ((call: FakeCall) => FakeAnswer)>;

export function apiErrorResponse(status: number, code: string, message: string, details = {}) {
  return Response.json({ error: { code, message, details } }, { status });
}

export function sessionFor(role: Role): Session {
  return {
    user: { id: 1, username: "ada", email: "ada@example.com" },
    memberships: [{ tenant: { id: "00000000-0000-4000-8000-000000000001", slug: "acme", name: "Acme" }, role }],
  };
}

/**
 * Stubs fetch: a call to `/api/v1/session` gets a session with `role`; any other is
 * looked up in `routes` by "METHOD /path?query" then "METHOD /path". Unknown routes
 * answer 404, so a test sees a request it did not expect.
 */
export function fakeApi(role: Role, routes: FakeRoutes): FakeCall[] {
  const calls: FakeCall[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const method = init.method ?? "GET";
      const path = url.replace(/^\/api\/v1/, "");
      const call: FakeCall = {
        method,
        path,
        body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
      };
      if (path === "/session") return Response.json(sessionFor(role));
      calls.push(call);
      const route = routes[`${method} ${path}`] ?? routes[`${method} ${path.split("?")[0]}`];
      if (route === undefined) return apiErrorResponse(404, "not_found", `No fake for ${method} ${path}`);
      const answer = typeof route === "function" ? (route as (call: FakeCall) => FakeAnswer)(call) : route;
      if (answer instanceof Response) return answer;
      if (answer === null) return new Response(null, { status: 204 });
      return Response.json(answer);
    }),
  );
  return calls;
}

export function renderAs(ui: ReactNode, { route = "/" } = {}) {
  setTenant(null);
  document.cookie = "csrftoken=token-123";
  return renderWithProviders(<SessionProvider>{ui}</SessionProvider>, { route });
}

export function page<T>(results: T[]) {
  return { count: results.length, next: null, previous: null, results };
}
