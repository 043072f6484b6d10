// The rate limits' read and writes, typed, over the shared client and hooks.
import type { ApiResponse } from "../../api/client";
import type { Paginated, PutRateLimitBody, RateLimit } from "../../api/types";
import {
  useApi,
  useApiMutation,
  useApiMutationWithStatus,
  type MutationCallbacks,
  type UseApiOptions,
} from "../../api/useApi";

const refreshRateLimits = { invalidates: ["/rate-limits"] };

export function useRateLimits(
  { limit, offset }: { limit: number; offset: number },
  options: UseApiOptions = {},
) {
  return useApi<Paginated<RateLimit>>(`/rate-limits?limit=${limit}&offset=${offset}`, options);
}

/** Creates the key's limit (201), or sets a new limit and period on it (200). */
export function usePutRateLimit(callbacks: MutationCallbacks<ApiResponse<RateLimit>> = {}) {
  return useApiMutationWithStatus<PutRateLimitBody, RateLimit>("POST", "/rate-limits", {
    ...refreshRateLimits,
    ...callbacks,
  });
}

export function useDeleteRateLimit(rateLimitId: string) {
  return useApiMutation<undefined, void>(
    "DELETE",
    `/rate-limits/${rateLimitId}`,
    refreshRateLimits,
  );
}
