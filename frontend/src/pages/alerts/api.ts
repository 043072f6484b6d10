// The alerts' reads and writes (rules, their test delivery, the events they sent),
// typed, over the shared client and hooks.
import type { AlertEvent, AlertRule, NewAlertRuleBody, Paginated } from "../../api/types";
import { useApi, useApiMutation, type MutationCallbacks } from "../../api/useApi";

const refreshAlerts = { invalidates: ["/alerts/"] };

export function useAlertRules() {
  return useApi<Paginated<AlertRule>>("/alerts/rules?limit=500");
}

/** One rule, as an admin edits it (with its webhook URLs whole); null: none. */
export function useAlertRule(ruleId: string | null) {
  return useApi<AlertRule>(ruleId === null ? null : `/alerts/rules/${ruleId}`);
}

/** Creates a rule, or (with `ruleId`) sets every field of that one. */
export function useSaveAlertRule(
  ruleId: string | null,
  callbacks: MutationCallbacks<AlertRule> = {},
) {
  return useApiMutation<NewAlertRuleBody, AlertRule>(
    ruleId === null ? "POST" : "PATCH",
    ruleId === null ? "/alerts/rules" : `/alerts/rules/${ruleId}`,
    { ...refreshAlerts, ...callbacks },
  );
}

export function useDeleteAlertRule(ruleId: string) {
  return useApiMutation<undefined, void>("DELETE", `/alerts/rules/${ruleId}`, refreshAlerts);
}

/** Sends a test to each of the rule's destinations; answers each one's outcome. */
export function useTestAlertRule(ruleId: string) {
  return useApiMutation<undefined, AlertEvent>(
    "POST",
    `/alerts/rules/${ruleId}/test`,
    refreshAlerts,
  );
}

export function useAlertEvents({ pollMs }: { pollMs: number }) {
  return useApi<Paginated<AlertEvent>>("/alerts/events?limit=50", { pollMs });
}
