// The playground's reads and writes, typed, over the shared client and hooks.
import { useApi, useApiMutation } from "../../api/useApi";
import type {
  BlindPair,
  Comparison,
  ComparisonSummary,
  Evaluator,
  NewComparisonBody,
  NewPlaygroundRunBody,
  NewPullRequestBody,
  NewReviewBody,
  NewThresholdBody,
  NewVariantBody,
  NewVoteBody,
  Paginated,
  EditVariantBody,
  PlaygroundRunDetail,
  PullRequest,
  Review,
  Run,
  Threshold,
  Variable,
  Variant,
  VariantRevision,
  Vote,
} from "../../api/types";

const q = encodeURIComponent;

export function useVariables() {
  return useApi<Paginated<Variable>>("/playground/variables?limit=500");
}

export function useVariants(workflow: string | null) {
  return useApi<Paginated<Variant>>(
    workflow ? `/playground/variants?workflow=${q(workflow)}&limit=100` : null,
  );
}

export function useRevisions(variantId: string | null) {
  return useApi<Paginated<VariantRevision>>(
    variantId ? `/playground/variants/${variantId}/revisions?limit=50` : null,
  );
}

const pastRunsLimit = 25;

/**
 * The newest successful runs of a workflow with their inputs, in one request. Real
 * traffic only: the playground's own runs (trigger "playground") are experiments, not
 * inputs, and the API leaves them out.
 */
export function usePastRuns(workflow: string | null) {
  return useApi<Paginated<Run>>(
    workflow
      ? `/runs?workflow=${q(workflow)}&status=SUCCEEDED&exclude_trigger=playground&with_input=true&limit=${pastRunsLimit}`
      : null,
  );
}

/** The comparison with its columns summed up against `baseline` (null: its own). */
export function useComparison(comparisonId: string | undefined, baseline: number | null = null) {
  const against = baseline === null ? "" : `?baseline=${baseline}`;
  return useApi<Comparison>(comparisonId ? `/playground/compare/${comparisonId}${against}` : null, {
    keepPrevious: true,
  });
}

/** New attempts at the failed cells of a finished comparison. */
export function useRerunFailed(comparisonId: string) {
  return useApiMutation<undefined, Comparison>(
    "POST",
    `/playground/compare/${comparisonId}/rerun-failed`,
    { invalidates: [`/playground/compare/${comparisonId}`] },
  );
}

export function useStartRun() {
  return useApiMutation<NewPlaygroundRunBody, PlaygroundRunDetail>("POST", "/playground/runs", {
    invalidates: ["/playground/runs"],
  });
}

export function useStartComparison() {
  return useApiMutation<NewComparisonBody, Comparison>("POST", "/playground/compare", {
    invalidates: ["/playground/compare"],
  });
}

export function useSaveVariant() {
  return useApiMutation<NewVariantBody, Variant>("POST", "/playground/variants", {
    invalidates: ["/playground/variants"],
  });
}

export function useEditVariant(variantId: string) {
  return useApiMutation<EditVariantBody, Variant>("PATCH", `/playground/variants/${variantId}`, {
    invalidates: ["/playground/variants"],
  });
}

export function useRestoreRevision(variantId: string) {
  return useApiMutation<{ revision: number }, Variant>(
    "POST",
    `/playground/variants/${variantId}/restore`,
    { invalidates: ["/playground/variants"] },
  );
}

/** The newest pull request opened from a variant, if any. */
export function useLatestPullRequest(variantId: string) {
  return useApi<Paginated<PullRequest>>(`/playground/pull-requests?variant=${variantId}&limit=1`);
}

export function useOpenPullRequest() {
  return useApiMutation<NewPullRequestBody, PullRequest>("POST", "/playground/pull-requests", {
    invalidates: ["/playground/pull-requests"],
  });
}

export function useRecentComparisons(workflow: string) {
  return useApi<Paginated<ComparisonSummary>>(
    `/playground/compare?workflow=${q(workflow)}&limit=5`,
  );
}

/** A person's review of one cell; the comparison is read again to show it. */
export function useReviewCell(comparisonId: string) {
  return useApiMutation<NewReviewBody, Review>(
    "POST",
    `/playground/compare/${comparisonId}/reviews`,
    { invalidates: [`/playground/compare/${comparisonId}`] },
  );
}

/** A row not yet voted on for columns a and b, its outputs in random order. */
export function useBlindPair(comparisonId: string, a: number, b: number) {
  return useApi<BlindPair>(`/playground/compare/${comparisonId}/blind-pair?a=${a}&b=${b}`);
}

export function useVote(comparisonId: string) {
  return useApiMutation<NewVoteBody, Vote>("POST", `/playground/compare/${comparisonId}/votes`, {
    invalidates: [`/playground/compare/${comparisonId}`],
  });
}

export function useEvaluators(workflow: string) {
  return useApi<Paginated<Evaluator>>(`/playground/evaluators?workflow=${q(workflow)}&limit=100`);
}

/** The workflow's regression thresholds (the gate's and the pull request status's). */
export function useThresholds(workflow: string) {
  return useApi<Paginated<Threshold>>(`/playground/thresholds?workflow=${q(workflow)}&limit=100`);
}

export function useSetThreshold() {
  return useApiMutation<NewThresholdBody, Threshold>("POST", "/playground/thresholds", {
    invalidates: ["/playground/thresholds"],
  });
}

export function useDeleteThreshold(thresholdId: string) {
  return useApiMutation<undefined, void>("DELETE", `/playground/thresholds/${thresholdId}`, {
    invalidates: ["/playground/thresholds"],
  });
}
