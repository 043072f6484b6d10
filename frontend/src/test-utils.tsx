// What component tests wrap the dashboard's pieces in: a fresh query cache (so no test
// sees another's data) and a router at the address the test needs; and the fake API
// and websocket every page's tests talk to instead of the server.
import { QueryClientProvider } from "@tanstack/react-query";
import { act, render, type RenderResult } from "@testing-library/react";
import { useState, type ReactNode } from "react";
import { MemoryRouter, useLocation } from "react-router-dom";
import { vi } from "vitest";
import { setTenant } from "./api/client";
import type { Role, Session } from "./api/types";
import { createQueryClient } from "./api/useApi";
import { SessionProvider } from "./session";

export function Providers({ children, route = "/" }: { children: ReactNode; route?: string }) {
  const [client] = useState(createQueryClient);
  return (
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[route]}>{children}</MemoryRouter>
    </QueryClientProvider>
  );
}

/** Shows the router's address (path and query), for tests that follow a link or a filter. */
export function LocationProbe() {
  const location = useLocation();
  return <output data-testid="location">{location.pathname + location.search}</output>;
}

export function renderWithProviders(ui: ReactNode, { route = "/" } = {}): RenderResult {
  return render(<Providers route={route}>{ui}</Providers>);
}

/** Renders inside a session (the one `fakeApi` answers with), as a signed-in page is. */
export function renderAs(ui: ReactNode, { route = "/" } = {}): RenderResult {
  setTenant(null);
  document.cookie = "csrftoken=token-123";
  return renderWithProviders(<SessionProvider>{ui}</SessionProvider>, { route });
}

export interface FakeCall {
  method: string;
  /** Relative to /api/v1, with the query string. */
  path: string;
  body: unknown;
}

/** A JSON value to answer 200 with (null: 204), a Response, or a function of the call giving either. */
export type FakeAnswer = unknown;
export type FakeRoutes = Record<string, FakeAnswer | ((call: FakeCall) => FakeAnswer)>;

export function apiErrorResponse(status: number, code: string, message: string, details = {}) {
  return Response.json({ error: { code, message, details } }, { status });
}

export function sessionFor(role: Role): Session {
  return {
    user: { id: 1, username: "ada", email: "ada@example.com" },
    memberships: [
      { tenant: { id: "00000000-0000-4000-8000-000000000001", slug: "acme", name: "Acme" }, role },
    ],
  };
}

/**
 * Stubs fetch: a call to `/api/v1/session` gets a session with `role`; any other is
 * recorded and looked up in `routes` by "METHOD /path?query" then "METHOD /path".
 * Unknown routes answer 404, so a test sees a request it did not expect.
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
      if (route === undefined)
        return apiErrorResponse(404, "not_found", `No fake for ${method} ${path}`);
      const answer =
        typeof route === "function" ? (route as (call: FakeCall) => FakeAnswer)(call) : route;
      if (answer instanceof Response) return answer;
      if (answer === null) return new Response(null, { status: 204 });
      return Response.json(answer);
    }),
  );
  return calls;
}

export function page<T>(results: T[]) {
  return { count: results.length, next: null, previous: null, results };
}

/** A WebSocket stand-in: tests push server messages with `FakeSocket.last?.receive(...)`. */
export class FakeSocket {
  static instances: FakeSocket[] = [];
  static get last(): FakeSocket | undefined {
    return FakeSocket.instances[FakeSocket.instances.length - 1];
  }
  url: string;
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  isClosed = false;
  /** What the page sent, parsed. */
  sent: unknown[] = [];
  constructor(url: string) {
    this.url = url;
    FakeSocket.instances.push(this);
  }
  receive(message: unknown) {
    act(() => this.onmessage?.({ data: JSON.stringify(message) }));
  }
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  /** The server accepts the socket. */
  open() {
    act(() => this.onopen?.());
  }
  close() {
    this.isClosed = true;
  }
  /** The server closes the socket with `code`. */
  closeFromServer(code: number) {
    this.isClosed = true;
    act(() => this.onclose?.({ code }));
  }
}

export function stubSockets() {
  FakeSocket.instances = [];
  vi.stubGlobal("WebSocket", FakeSocket);
}
