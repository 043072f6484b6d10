// The triggers' reads and writes (crons and schedules), typed, over the shared client
// and hooks.
import type {
  Cron,
  CronDetail,
  NewCronBody,
  NewScheduleBody,
  Paginated,
  RescheduleBody,
  Schedule,
} from "../../api/types";
import { useApi, useApiMutation, type MutationCallbacks } from "../../api/useApi";

const refreshCrons = { invalidates: ["/crons"] };
const refreshSchedules = { invalidates: ["/schedules"] };

/** The tenant's crons, or those of one workflow. */
export function useCrons(workflow?: string) {
  return useApi<Paginated<Cron>>(
    workflow === undefined
      ? "/crons?limit=500"
      : `/crons?workflow=${encodeURIComponent(workflow)}&limit=100`,
  );
}

export function useCreateCron(callbacks: MutationCallbacks<CronDetail> = {}) {
  return useApiMutation<NewCronBody, CronDetail>("POST", "/crons", {
    ...refreshCrons,
    ...callbacks,
  });
}

export function usePauseCron(cronId: string) {
  return useApiMutation<undefined, CronDetail>("POST", `/crons/${cronId}/pause`, refreshCrons);
}

export function useResumeCron(cronId: string) {
  return useApiMutation<undefined, CronDetail>("POST", `/crons/${cronId}/resume`, refreshCrons);
}

export function useDeleteCron(cronId: string) {
  return useApiMutation<undefined, void>("DELETE", `/crons/${cronId}`, refreshCrons);
}

export function useSchedules() {
  return useApi<Paginated<Schedule>>("/schedules?limit=500");
}

export function useCreateSchedule(callbacks: MutationCallbacks<Schedule> = {}) {
  return useApiMutation<NewScheduleBody, Schedule>("POST", "/schedules", {
    ...refreshSchedules,
    ...callbacks,
  });
}

export function useCancelSchedule(scheduleId: string) {
  return useApiMutation<undefined, Schedule>(
    "POST",
    `/schedules/${scheduleId}/cancel`,
    refreshSchedules,
  );
}

export function useReschedule(scheduleId: string, callbacks: MutationCallbacks<Schedule> = {}) {
  return useApiMutation<RescheduleBody, Schedule>("PATCH", `/schedules/${scheduleId}`, {
    ...refreshSchedules,
    ...callbacks,
  });
}
