// React hooks over the API client: TanStack Query for JSON resources (reads, with
// optional polling) and for writes that refresh what they change, one hook for a
// live websocket subscription, and one that fills the gaps of live lines from the
// stored ones.
import {
  keepPreviousData,
  QueryClient,
  useMutation,
  useQuery,
  useQueryClient,
  type UseMutationResult,
} from "@tanstack/react-query";
import { useCallback, useEffect, useEffectEvent, useRef, useState } from "react";
import {
  ApiError,
  apiFetch,
  apiResponse,
  getTenant,
  socketUrl,
  type ApiResponse,
  type HttpMethod,
} from "./client";
import { gapsOf, type Fill, type Gap, type LineBook, type LiveLine } from "./lines";
import type { Paginated, StepRunLine } from "./types";

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      // The API's answer is the truth: errors are shown, not retried behind the user.
      queries: { retry: false, refetchOnWindowFocus: false, staleTime: 1_000 },
      mutations: { retry: false },
    },
  });
}

function asApiError(cause: unknown): ApiError {
  return cause instanceof ApiError ? cause : new ApiError(0, "client", String(cause));
}

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
  /** While a new path loads, keep showing the previous path's data (a view of the same
   * thing asked differently, not another thing). */
  keepPrevious?: boolean;
}

/** The cache key of a resource: the tenant it belongs to, then its path. */
export function apiKey(path: string): [string, string | null, string] {
  return ["api", getTenant(), path];
}

/**
 * GETs `path` (relative to /api/v1) and re-fetches when it changes. A null path
 * fetches nothing, for resources that depend on something not yet known.
 */
export function useApi<T>(path: string | null, options: UseApiOptions = {}): ApiState<T> {
  const query = useQuery<T, ApiError>({
    queryKey: apiKey(path ?? ""),
    queryFn: async ({ signal }) => {
      try {
        return await apiFetch<T>(path as string, { signal });
      } catch (cause) {
        throw asApiError(cause);
      }
    },
    enabled: path !== null,
    refetchInterval: options.pollMs ?? false,
    placeholderData: options.keepPrevious ? keepPreviousData : undefined,
    refetchIntervalInBackground: false,
  });
  const { refetch } = query;
  const reload = useCallback(() => void refetch(), [refetch]);
  return {
    data: query.data,
    error: query.error ?? null,
    loading: path !== null && query.isPending,
    reload,
  };
}

export interface ApiMutationOptions<R> {
  /** Resources whose path starts with one of these are fetched again after success. */
  invalidates?: string[];
  onSuccess?: (result: R) => void;
}

/** What a page adds to a named write hook: its reaction to success. */
export type MutationCallbacks<R> = Pick<ApiMutationOptions<R>, "onSuccess">;

/**
 * A write to the API: `mutate(body)` sends `method` to `path` (or to the path a
 * function makes from the body) and, once it succeeded, refreshes the resources it
 * changes.
 */
export function useApiMutation<B = unknown, R = unknown>(
  method: Exclude<HttpMethod, "GET">,
  path: string | ((body: B) => string),
  options: ApiMutationOptions<R> = {},
): UseMutationResult<R, ApiError, B> {
  return useWrite<B, R>((body) => apiFetch<R>(targetOf(path, body), { method, body }), options);
}

/** `useApiMutation` whose result keeps the answer's status, for a write that says
 * with it what it did (a put: 201 created, 200 changed). */
export function useApiMutationWithStatus<B = unknown, R = unknown>(
  method: Exclude<HttpMethod, "GET">,
  path: string | ((body: B) => string),
  options: ApiMutationOptions<ApiResponse<R>> = {},
): UseMutationResult<ApiResponse<R>, ApiError, B> {
  return useWrite<B, ApiResponse<R>>(
    (body) => apiResponse<R>(targetOf(path, body), { method, body }),
    options,
  );
}

function targetOf<B>(path: string | ((body: B) => string), body: B): string {
  return typeof path === "function" ? path(body) : path;
}

function useWrite<B, R>(
  send: (body: B) => Promise<R>,
  options: ApiMutationOptions<R>,
): UseMutationResult<R, ApiError, B> {
  const client = useQueryClient();
  return useMutation<R, ApiError, B>({
    mutationFn: async (body: B) => {
      try {
        return await send(body);
      } catch (cause) {
        throw asApiError(cause);
      }
    },
    onSuccess: async (result) => {
      const prefixes = options.invalidates ?? [];
      await client.invalidateQueries({
        predicate: (query) => {
          const key = query.queryKey;
          return (
            key[0] === "api" &&
            typeof key[2] === "string" &&
            prefixes.some((prefix) => (key[2] as string).startsWith(prefix))
          );
        },
      });
      options.onSuccess?.(result);
    },
  });
}

export type SocketStatus = "connecting" | "open" | "closed";

const firstRetryMs = 500;
const maxRetryMs = 15_000;
/** The server's refusals (docs/security.md): signed out or removed (4401), a role that
 * may not use the socket (4403), nothing of that id (4404). Asking again gets the same. */
const refusalCodes = new Set([4401, 4403, 4404]);

/**
 * Subscribes to `/ws${path}` for the current tenant and hands every parsed JSON
 * message to `onMessage`. Reconnects with exponential backoff after a drop (not after
 * a refusal) and closes on unmount or when `path` changes; a null path opens nothing.
 * A `greeting` is sent each time the socket opens and whenever it changes while open
 * (what the viewer asks of the server, such as the baseline a comparison's summaries
 * are held against).
 */
export function useSocket<M = unknown>(
  path: string | null,
  onMessage: (message: M) => void,
  greeting?: unknown,
): SocketStatus {
  const [status, setStatus] = useState<SocketStatus>("connecting");
  const handleMessage = useEffectEvent(onMessage);
  const greetingText = greeting === undefined ? null : JSON.stringify(greeting);
  const currentGreeting = useEffectEvent(() => greetingText);
  const openSocket = useRef<WebSocket | null>(null);

  useEffect(() => {
    if (path === null) return;
    let socket: WebSocket | null = null;
    let retryTimer: number | undefined;
    let retryMs = firstRetryMs;
    let isUnmounted = false;

    const connect = () => {
      setStatus("connecting");
      socket = new WebSocket(socketUrl(path));
      socket.onopen = () => {
        retryMs = firstRetryMs;
        openSocket.current = socket;
        const text = currentGreeting();
        if (text !== null) socket?.send(text);
        setStatus("open");
      };
      socket.onmessage = (event: MessageEvent<string>) => {
        let message: M;
        try {
          message = JSON.parse(event.data) as M;
        } catch {
          return;
        }
        handleMessage(message);
      };
      socket.onclose = (event: CloseEvent) => {
        openSocket.current = null;
        if (isUnmounted) return;
        setStatus("closed");
        if (refusalCodes.has(event.code)) return;
        retryTimer = window.setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, maxRetryMs);
      };
    };
    connect();

    return () => {
      isUnmounted = true;
      openSocket.current = null;
      window.clearTimeout(retryTimer);
      socket?.close();
    };
    // The tenant is part of the URL; a tenant switch remounts the page tree.
  }, [path]);

  useEffect(() => {
    if (greetingText !== null) openSocket.current?.send(greetingText);
  }, [greetingText]);

  return path === null ? "closed" : status;
}

const fillPageSize = 500;

/** The stored lines of one kind of a gap's attempt, up to the gap's end. */
async function storedLines(
  client: QueryClient,
  gap: Gap,
  kind: LiveLine["kind"],
): Promise<LiveLine[]> {
  const endpoint = kind === "log" ? "logs" : "stream";
  const lines: LiveLine[] = [];
  for (let offset = 0; ; offset += fillPageSize) {
    const path = `/step-runs/${gap.step_run_id}/${endpoint}?attempt=${gap.attempt}&limit=${fillPageSize}&offset=${offset}`;
    const page = await client.fetchQuery({
      queryKey: apiKey(path),
      queryFn: ({ signal }) => apiFetch<Paginated<StepRunLine>>(path, { signal }),
      staleTime: 0,
    });
    lines.push(...page.results.map((line) => ({ ...line, step_run_id: gap.step_run_id, kind })));
    const lastSeq = page.results.at(-1)?.seq;
    if (page.next === null || lastSeq === undefined || lastSeq >= gap.through) return lines;
  }
}

/**
 * Fills each gap of `book` (a line missing below one that arrived) with the stored
 * lines of the `kinds` a view shows, read through the query cache, and hands them to
 * `onFill`; one read at a time per attempt. A store that cannot be read still ends
 * the wait, with no lines: the view then shows what arrived, hole and all.
 */
export function useLineFill(
  book: LineBook,
  kinds: readonly LiveLine["kind"][],
  onFill: (fill: Fill) => void,
): void {
  const client = useQueryClient();
  const filling = useRef(new Set<string>());
  const handleFill = useEffectEvent(onFill);

  useEffect(() => {
    for (const gap of gapsOf(book)) {
      const key = `${gap.step_run_id}/${gap.attempt}`;
      if (filling.current.has(key)) continue;
      filling.current.add(key);
      void Promise.all(kinds.map((kind) => storedLines(client, gap, kind)))
        .then(
          (groups) => groups.flat(),
          () => [],
        )
        .then((lines) => {
          filling.current.delete(key);
          handleFill({ ...gap, lines });
        });
    }
  }, [book, client, kinds]);
}
