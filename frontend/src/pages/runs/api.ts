// The runs' reads and writes (runs, their step runs' logs and stream), typed, over the
// shared client and hooks.
import type {
  BulkCancelled,
  BulkReplayed,
  CappedPage,
  DurableWait,
  Paginated,
  ReplayRunBody,
  Run,
  RunDetail,
  RunDetailWithWaits,
  StepRunLine,
  StreamPage,
} from "../../api/types";
import {
  apiKey,
  useApi,
  useApiMutation,
  type MutationCallbacks,
  type UseApiOptions,
} from "../../api/useApi";
import { matchQuery, runsPath, type RunFilters } from "./filters";

export function useRuns(filters: RunFilters, options: UseApiOptions = {}) {
  return useApi<CappedPage<Run>>(runsPath(filters), options);
}

export function runPath(runId: string): string {
  return `/runs/${runId}`;
}

/** The cache key of a run's detail, for a live view that patches it in place. */
export function runKey(runId: string) {
  return apiKey(runPath(runId));
}

export function useRun(runId: string | null) {
  return useApi<RunDetailWithWaits>(runId ? runPath(runId) : null);
}

export function useCancelRun(runId: string) {
  return useApiMutation<void, RunDetail>("POST", `${runPath(runId)}/cancel`, {
    invalidates: ["/runs"],
  });
}

export function useRetryRun(runId: string) {
  return useApiMutation<void, RunDetail>("POST", `${runPath(runId)}/retry`, {
    invalidates: ["/runs"],
  });
}

export function useReplayRun(runId: string, callbacks: MutationCallbacks<RunDetail> = {}) {
  return useApiMutation<ReplayRunBody, RunDetail>("POST", `${runPath(runId)}/replay`, {
    invalidates: ["/runs"],
    ...callbacks,
  });
}

/** End a waiting durable step's sleep now. */
export function useSkipWait(stepRunId: string) {
  return useApiMutation<void, DurableWait>("POST", `/step-runs/${stepRunId}/skip-wait`, {
    invalidates: ["/runs"],
  });
}

/** Push an event, as the step a durable wait is for awaits it. */
export function usePushEvent() {
  return useApiMutation<{ key: string; payload: unknown }, unknown>("POST", "/events", {
    invalidates: ["/runs", "/events"],
  });
}

export function useStepRunLogs(stepRunId: string) {
  return useApi<Paginated<StepRunLine>>(`/step-runs/${stepRunId}/logs?limit=500`);
}

/** What a step run streamed, as stored (its latest attempt); `limit` caps the lines. */
export function useStepRunStream(stepRunId: string | null, limit?: number) {
  const query = limit === undefined ? "" : `?limit=${limit}`;
  return useApi<StreamPage>(stepRunId ? `/step-runs/${stepRunId}/stream${query}` : null);
}

/** Cancel or replay every run the filters match (at most 10,000). */
export function useBulkRuns(action: "cancel" | "replay", filters: RunFilters) {
  return useApiMutation<undefined, BulkCancelled | BulkReplayed>(
    "POST",
    `/runs/${action}?${matchQuery(filters).toString()}`,
    { invalidates: ["/runs"] },
  );
}
