// The one way the dashboard talks to the server: JSON over /api/v1 with the
// session cookie, the CSRF token and the selected tenant, and websocket URLs
// scoped to that tenant.

const apiRoot = "/api/v1";
const tenantStorageKey = "hatchet.tenant";
const unsafeMethods = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** A failed API call, carrying the server's `{"error": {code, message, details}}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

let currentTenant: string | null = readRememberedTenant();

function readRememberedTenant(): string | null {
  try {
    return localStorage.getItem(tenantStorageKey);
  } catch {
    return null;
  }
}

/** The slug sent as `X-Hatchet-Tenant`; remembered across page loads. */
export function getTenant(): string | null {
  return currentTenant;
}

export function setTenant(slug: string | null): void {
  currentTenant = slug;
  try {
    if (slug === null) localStorage.removeItem(tenantStorageKey);
    else localStorage.setItem(tenantStorageKey, slug);
  } catch {
    // Storage can be disabled (private mode); the choice then lasts for this page load.
  }
}

function readCookie(name: string): string | null {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

export interface ApiFetchOptions {
  method?: HttpMethod;
  body?: unknown;
  signal?: AbortSignal;
}

/**
 * Calls `/api/v1${path}` and returns the parsed JSON (undefined for 204). The body is
 * sent as JSON, or as it is when it is FormData (a file upload).
 * Throws ApiError for any non-2xx answer, and for network failures (code "network").
 */
export async function apiFetch<T>(path: string, options: ApiFetchOptions = {}): Promise<T> {
  return (await apiResponse<T>(path, options)).body;
}

/** An answer with its status, for a write whose status says what it did: a put
 * answers 201 when it created the thing and 200 when it changed one. */
export interface ApiResponse<T> {
  status: number;
  body: T;
}

/** `apiFetch`, keeping the answer's status. */
export async function apiResponse<T>(
  path: string,
  options: ApiFetchOptions = {},
): Promise<ApiResponse<T>> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = { Accept: "application/json" };
  if (currentTenant) headers["X-Hatchet-Tenant"] = currentTenant;
  if (unsafeMethods.has(method)) {
    const csrfToken = readCookie("csrftoken");
    if (csrfToken) headers["X-CSRFToken"] = csrfToken;
  }
  const isForm = options.body instanceof FormData;
  // A form's Content-Type names its boundary: the browser sets it.
  if (options.body !== undefined && !isForm) headers["Content-Type"] = "application/json";

  let response: Response;
  try {
    response = await fetch(apiRoot + path, {
      method,
      headers,
      body:
        options.body === undefined
          ? undefined
          : isForm
            ? (options.body as FormData)
            : JSON.stringify(options.body),
      credentials: "same-origin",
      signal: options.signal,
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
    throw new ApiError(0, "network", "The server could not be reached.", String(cause));
  }

  if (response.status === 204) return { status: 204, body: undefined as T };
  const payload: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw errorFromPayload(response, payload);
  return { status: response.status, body: payload as T };
}

function errorFromPayload(response: Response, payload: unknown): ApiError {
  const error = (payload as { error?: { code?: unknown; message?: unknown; details?: unknown } })
    ?.error;
  if (error && typeof error.code === "string" && typeof error.message === "string") {
    return new ApiError(response.status, error.code, error.message, error.details);
  }
  return new ApiError(
    response.status,
    `http_${response.status}`,
    response.statusText || `Request failed with status ${response.status}.`,
    payload,
  );
}

/** `ws(s)://<host>/ws${path}?tenant=<slug>` for the current page's host. */
export function socketUrl(path: string): string {
  const url = new URL(`/ws${path}`, window.location.href);
  url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
  if (currentTenant) url.searchParams.set("tenant", currentTenant);
  return url.toString();
}
