// Events as the API answers them, for the tests of these pages.
import type { Event, EventDetail } from "../../api/types";

export const ticketEvent: Event = {
  id: "e-1",
  key: "ticket:created",
  payload: { ticket: "My order never arrived", priority: 2 },
  additional_metadata: { region: "eu" },
  created_at: "2026-05-01T09:30:00Z",
};
export const ticketEventDetail: EventDetail = {
  ...ticketEvent,
  runs: [
    {
      id: "r-1",
      workflow: "SupportReply",
      status: "SUCCEEDED",
      created_at: "2026-05-01T09:30:01Z",
    },
  ],
};
