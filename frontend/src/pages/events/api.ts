// The events' reads and writes, typed, over the shared client and hooks.
import type { CappedPage, Event, EventDetail, StartedRun } from "../../api/types";
import { useApi, useApiMutation } from "../../api/useApi";
import { eventsPath, type EventFilters } from "./eventFilters";

export function useEvents(filters: EventFilters) {
  return useApi<CappedPage<Event>>(eventsPath(filters));
}

/** An event with the runs it started. */
export function useEvent(eventId: string) {
  return useApi<EventDetail>(`/events/${eventId}`);
}

export function useReplayEvent(eventId: string) {
  return useApiMutation<undefined, StartedRun[]>("POST", `/events/${eventId}/replay`, {
    invalidates: [`/events/${eventId}`, "/runs"],
  });
}
