// The workflows' reads and the writes a page makes (trigger a run, pause or resume),
// typed, over the shared client and hooks.
import type {
  Paginated,
  RunDetail,
  TriggerRunBody,
  Workflow,
  WorkflowDetail,
} from "../../api/types";
import { useApi, useApiMutation, type MutationCallbacks } from "../../api/useApi";

export function useWorkflows({ limit, offset }: { limit: number; offset?: number }) {
  const page = offset === undefined ? "" : `&offset=${offset}`;
  return useApi<Paginated<Workflow>>(`/workflows?limit=${limit}${page}`);
}

function workflowPath(name: string): string {
  return `/workflows/${encodeURIComponent(name)}`;
}

export function useWorkflow(name: string) {
  return useApi<WorkflowDetail>(workflowPath(name));
}

export function useTriggerRun(workflow: string, callbacks: MutationCallbacks<RunDetail> = {}) {
  return useApiMutation<TriggerRunBody, RunDetail>("POST", `${workflowPath(workflow)}/runs`, {
    invalidates: ["/runs", workflowPath(workflow)],
    ...callbacks,
  });
}

/** Pause (new runs wait) or resume (they go on, in order) the workflow. */
export function useSetPaused(workflow: string, paused: boolean) {
  const verb = paused ? "pause" : "resume";
  return useApiMutation<undefined, Workflow>("POST", `${workflowPath(workflow)}/${verb}`, {
    invalidates: ["/workflows", "/runs"],
  });
}
