// The Overview's read, typed, over the shared client and hooks.
import type { Overview, OverviewWindow } from "../../api/types";
import { useApi, type UseApiOptions } from "../../api/useApi";

export function useOverview(window: OverviewWindow, options: UseApiOptions = {}) {
  return useApi<Overview>(`/overview?window=${window}`, { keepPrevious: true, ...options });
}
