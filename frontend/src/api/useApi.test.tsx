import { act, renderHook, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeSocket, Providers, stubSockets } from "../test-utils";
import { useApi, useSocket } from "./useApi";

const wrapper = Providers;

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("useApi", () => {
  it("loads, then shows the data", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => Response.json({ name: "Support" })),
    );
    const { result } = renderHook(() => useApi<{ name: string }>("/workflows/Support"), {
      wrapper,
    });

    expect(result.current.loading).toBe(true);
    await waitFor(() => expect(result.current.data).toEqual({ name: "Support" }));
    expect(result.current.loading).toBe(false);
    expect(result.current.error).toBeNull();
  });

  it("reports an ApiError and recovers on reload", async () => {
    const fetchMock = vi
      .fn()
      .mockResolvedValueOnce(
        Response.json({ error: { code: "boom", message: "Down." } }, { status: 500 }),
      )
      .mockResolvedValueOnce(Response.json([1]));
    vi.stubGlobal("fetch", fetchMock);
    const { result } = renderHook(() => useApi<number[]>("/workers"), { wrapper });

    await waitFor(() => expect(result.current.error?.code).toBe("boom"));
    act(() => result.current.reload());
    await waitFor(() => expect(result.current.data).toEqual([1]));
    expect(result.current.error).toBeNull();
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it("fetches nothing for a null path", () => {
    const fetchMock = vi.fn();
    vi.stubGlobal("fetch", fetchMock);
    const { result } = renderHook(() => useApi(null), { wrapper });
    expect(result.current.loading).toBe(false);
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("drops the previous resource's data when the path changes", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) => Response.json({ url })),
    );
    const { result, rerender } = renderHook(({ path }) => useApi<{ url: string }>(path), {
      initialProps: { path: "/runs/a" },
      wrapper,
    });
    await waitFor(() => expect(result.current.data).toEqual({ url: "/api/v1/runs/a" }));

    rerender({ path: "/runs/b" });
    expect(result.current.data).toBeUndefined();
    await waitFor(() => expect(result.current.data).toEqual({ url: "/api/v1/runs/b" }));
  });
});

describe("useSocket", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("reconnects after a drop but not after the server's refusal", () => {
    vi.useFakeTimers();
    stubSockets();
    const { result } = renderHook(() => useSocket("/runs/1", () => {}), { wrapper });

    FakeSocket.last?.closeFromServer(1006);
    act(() => vi.advanceTimersByTime(500));
    expect(FakeSocket.instances).toHaveLength(2);

    // Revoked, removed or downgraded: asking again would be refused again.
    FakeSocket.last?.closeFromServer(4401);
    act(() => vi.advanceTimersByTime(60_000));
    expect(FakeSocket.instances).toHaveLength(2);
    expect(result.current).toBe("closed");
  });
});
