// React hooks over the API client: one for JSON resources (with optional polling)
// and one for a live websocket subscription.
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, apiFetch, socketUrl } from "./client";

export interface ApiState<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  /** Fetches again; keeps showing the previous data until the answer arrives. */
  reload: () => void;
}

export interface UseApiOptions {
  /** Re-fetch every this many milliseconds while mounted (and the tab is visible). */
  pollMs?: number;
}

/**
 * GETs `path` (relative to /api/v1) and re-fetches when it changes. A null path
 * fetches nothing, for resources that depend on something not yet known.
 */
export function useApi<T>(path: string | null, options: UseApiOptions = {}): ApiState<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(path !== null);
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);

  // A different resource must not flash the previous resource's data.
  const [shownPath, setShownPath] = useState(path);
  if (shownPath !== path) {
    setShownPath(path);
    setData(undefined);
    setError(null);
    setLoading(path !== null);
  }

  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    setLoading(true);
    apiFetch<T>(path, { signal: controller.signal })
      .then((result) => {
        setData(result);
        setError(null);
        setLoading(false);
      })
      .catch((cause: unknown) => {
        if (controller.signal.aborted) return;
        setError(
          cause instanceof ApiError ? cause : new ApiError(0, "client", String(cause)),
        );
        setLoading(false);
      });
    return () => controller.abort();
  }, [path, generation]);

  usePoll(reload, path === null ? undefined : options.pollMs);

  return { data, error, loading, reload };
}

/** Calls `tick` every `intervalMs` while the document is visible; undefined disables. */
export function usePoll(tick: () => void, intervalMs: number | undefined): void {
  const latestTick = useRef(tick);
  latestTick.current = tick;

  useEffect(() => {
    if (intervalMs === undefined) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === "visible") latestTick.current();
    }, intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
}

export type SocketStatus = "connecting" | "open" | "closed";

const firstRetryMs = 500;
const maxRetryMs = 15_000;

/**
 * Subscribes to `/ws${path}` for the current tenant and hands every parsed JSON
 * message to `onMessage`. Reconnects with exponential backoff after a drop and
 * closes on unmount or when `path` changes; a null path opens nothing.
 */
export function useSocket<M = unknown>(
  path: string | null,
  onMessage: (message: M) => void,
): SocketStatus {
  const [status, setStatus] = useState<SocketStatus>("connecting");
  const latestOnMessage = useRef(onMessage);
  latestOnMessage.current = onMessage;

  useEffect(() => {
    if (path === null) {
      setStatus("closed");
      return;
    }
    let socket: WebSocket | null = null;
    let retryTimer: number | undefined;
    let retryMs = firstRetryMs;
    let isUnmounted = false;

    const connect = () => {
      setStatus("connecting");
      socket = new WebSocket(socketUrl(path));
      socket.onopen = () => {
        retryMs = firstRetryMs;
        setStatus("open");
      };
      socket.onmessage = (event: MessageEvent<string>) => {
        let message: M;
        try {
          message = JSON.parse(event.data) as M;
        } catch {
          return;
        }
        latestOnMessage.current(message);
      };
      socket.onclose = () => {
        if (isUnmounted) return;
        setStatus("closed");
        retryTimer = window.setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, maxRetryMs);
      };
    };
    connect();

    return () => {
      isUnmounted = true;
      window.clearTimeout(retryTimer);
      socket?.close();
    };
    // The tenant is part of the URL; a tenant switch remounts the page tree.
  }, [path]);

  return status;
}
