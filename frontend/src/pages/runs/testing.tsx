// Test support for the runs and workflows pages: a fetch stand-in answering by
// "METHOD /path", recording each call, and a render inside a session with a role.
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

export type FakeRoutes = Record<string, unknown>;

export function apiErrorResponse(status: number, code: string, message: string) {
  return Response.json({ error: { code, message, details: {} } }, { status });
}

function sessionFor(role: Role): Session {
  return {
    user: { id: 1, username: "dev", email: "dev@example.com" },
    memberships: [
      { tenant: { id: "00000000-0000-4000-8000-000000000001", slug: "acme", name: "Acme" }, role },
    ],
  };
}

/**
 * Stubs fetch. A route is looked up by "METHOD /path?query", then "METHOD /path";
 * its value is JSON to answer 200 with, a Response, or a function of the call
 * returning either. Anything else answers 404 so an unexpected request shows.
 */
export function fakeApi(role: Role, routes: FakeRoutes): FakeCall[] {
  const calls: FakeCall[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const method = init.method ?? "GET";
      const path = url.replace(/^\/api\/v1/, "");
      if (path === "/session") return Response.json(sessionFor(role));
      const call: FakeCall = {
        method,
        path,
        body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
      };
      calls.push(call);
      const route = routes[`${method} ${path}`] ?? routes[`${method} ${path.split("?")[0]}`];
      if (route === undefined) return apiErrorResponse(404, "not_found", `No fake for ${method} ${path}`);
      const answer = typeof route === "function" ? (route as (call: FakeCall) => unknown)(call) : route;
      if (answer instanceof Response) return answer;
      return Response.json(answer);
    }),
  );
  return calls;
}

/** A WebSocket stand-in: tests push server messages with `FakeSocket.last.receive(...)`. */
export class FakeSocket {
  static instances: FakeSocket[] = [];
  static get last(): FakeSocket | undefined {
    return FakeSocket.instances[FakeSocket.instances.length - 1];
  }
  url: string;
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(url: string) {
    this.url = url;
    FakeSocket.instances.push(this);
  }
  receive(message: unknown) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  close() {}
}

export function stubSockets() {
  FakeSocket.instances = [];
  vi.stubGlobal("WebSocket", FakeSocket);
}

export function renderAs(ui: ReactNode, { route = "/" } = {}) {
  setTenant(null);
  document.cookie = "csrftoken=token-123";
  return renderWithProviders(<SessionProvider>{ui}</SessionProvider>, { route });
}

export function page<T>(results: T[]) {
  return { count: results.length, next: null, previous: null, results };
}
