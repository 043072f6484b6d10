import { page } from "../../test-utils";

/** GET /workflows with the one workflow the playground's tests use. */
export const supportWorkflows = page([
  {
    id: "w1",
    name: "Support",
    latest_version: 1,
    step_count: 3,
    created_at: "2026-11-01T00:00:00Z",
  },
]);
