// The workflows' reads and the one write a page makes (trigger a run), typed, over
// the shared client and hooks.
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
