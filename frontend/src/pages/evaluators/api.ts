// The evaluators' reads and writes, typed, over the shared client and hooks.
import type { components } from "../../api/schema";
import type { Paginated } from "../../api/types";
import { useApi, useApiMutation, type MutationCallbacks } from "../../api/useApi";

type Schemas = components["schemas"];

export type Evaluator = Schemas["Evaluator"];
export type EvaluatorKind = Schemas["EvaluatorKindEnum"];
export type NewEvaluatorBody = Schemas["NewEvaluatorRequest"];
export type EditEvaluatorBody = Schemas["EditEvaluatorRequest"];
export type TryEvaluatorBody = Schemas["TryEvaluatorRequest"];
export type Verdict = Schemas["Verdict"];

const evaluatorsPath = "/playground/evaluators";

export function useEvaluators(workflow: string | null) {
  const filter = workflow ? `&workflow=${encodeURIComponent(workflow)}` : "";
  return useApi<Paginated<Evaluator>>(`${evaluatorsPath}?limit=200${filter}`);
}

export function useCreateEvaluator(callbacks: MutationCallbacks<Evaluator> = {}) {
  return useApiMutation<NewEvaluatorBody, Evaluator>("POST", evaluatorsPath, {
    invalidates: [evaluatorsPath],
    ...callbacks,
  });
}

export function useEditEvaluator(id: string, callbacks: MutationCallbacks<Evaluator> = {}) {
  return useApiMutation<EditEvaluatorBody, Evaluator>("PATCH", `${evaluatorsPath}/${id}`, {
    invalidates: [evaluatorsPath],
    ...callbacks,
  });
}

export function useDeleteEvaluator(id: string) {
  return useApiMutation<undefined, void>("DELETE", `${evaluatorsPath}/${id}`, {
    invalidates: [evaluatorsPath],
  });
}

/** Asks for a verdict on an output typed by hand; nothing is stored. */
export function useTryEvaluator(id: string) {
  return useApiMutation<TryEvaluatorBody, Verdict>("POST", `${evaluatorsPath}/${id}/try`);
}
