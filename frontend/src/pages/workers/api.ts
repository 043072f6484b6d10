// The workers' read, typed, over the shared client and hooks.
import type { Paginated, Worker } from "../../api/types";
import { useApi, type UseApiOptions } from "../../api/useApi";

export function useWorkers(options: UseApiOptions = {}) {
  return useApi<Paginated<Worker>>("/workers?limit=500", options);
}
