import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, apiFetch, apiResponse, getTenant, setTenant, socketUrl } from "./client";

function stubFetch(response: Response) {
  const fetchMock = vi.fn<(url: string, init: RequestInit) => Promise<Response>>(
    async () => response,
  );
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

beforeEach(() => {
  setTenant("acme");
  document.cookie = "csrftoken=abc%3D1";
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("apiFetch", () => {
  it("GETs JSON under /api/v1 with the tenant header, the cookie, and no CSRF token", async () => {
    const fetchMock = stubFetch(Response.json({ count: 0, results: [] }));

    await expect(apiFetch("/runs?limit=50")).resolves.toEqual({ count: 0, results: [] });

    const [url, init] = fetchMock.mock.calls[0]!;
    expect(url).toBe("/api/v1/runs?limit=50");
    expect(init.credentials).toBe("same-origin");
    expect(init.headers).toEqual({ Accept: "application/json", "X-Hatchet-Tenant": "acme" });
  });

  it("sends a JSON body and the decoded CSRF cookie on unsafe methods", async () => {
    const fetchMock = stubFetch(Response.json({ id: "r1" }, { status: 201 }));

    await apiFetch("/workflows/Support/runs", { method: "POST", body: { input: {} } });

    const [, init] = fetchMock.mock.calls[0]!;
    expect(init.method).toBe("POST");
    expect(init.body).toBe('{"input":{}}');
    expect(init.headers).toMatchObject({
      "X-CSRFToken": "abc=1",
      "Content-Type": "application/json",
    });
  });

  it("returns undefined for 204", async () => {
    stubFetch(new Response(null, { status: 204 }));
    await expect(apiFetch("/tokens/1", { method: "DELETE" })).resolves.toBeUndefined();
  });

  it("throws the server's error code, message and details", async () => {
    stubFetch(
      Response.json(
        { error: { code: "not_found", message: "No such run.", details: { id: "x" } } },
        { status: 404 },
      ),
    );
    const error = await apiFetch("/runs/x").catch((cause: unknown) => cause);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 404,
      code: "not_found",
      message: "No such run.",
      details: { id: "x" },
    });
  });

  it("still throws an ApiError when the error body is not the API's shape", async () => {
    stubFetch(new Response("<h1>Bad gateway</h1>", { status: 502, statusText: "Bad Gateway" }));
    await expect(apiFetch("/runs")).rejects.toMatchObject({
      status: 502,
      code: "http_502",
      message: "Bad Gateway",
    });
  });
});

describe("apiResponse", () => {
  it("keeps the status beside the body, so a put tells created from changed", async () => {
    stubFetch(Response.json({ key: "llm" }, { status: 201 }));
    await expect(
      apiResponse("/rate-limits", { method: "POST", body: { key: "llm" } }),
    ).resolves.toEqual({ status: 201, body: { key: "llm" } });

    stubFetch(new Response(null, { status: 204 }));
    await expect(apiResponse("/rate-limits/1", { method: "DELETE" })).resolves.toEqual({
      status: 204,
      body: undefined,
    });
  });
});

describe("tenant and socket URLs", () => {
  it("remembers the tenant in localStorage", () => {
    setTenant("globex");
    expect(getTenant()).toBe("globex");
    expect(localStorage.getItem("hatchet.tenant")).toBe("globex");
  });

  it("builds a ws URL on this host with the tenant in the query", () => {
    expect(socketUrl("/runs/123")).toBe(`ws://${window.location.host}/ws/runs/123?tenant=acme`);
  });
});
