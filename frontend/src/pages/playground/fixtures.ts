// Playground objects as the API answers them, for the tests of this folder.
import type { PullRequest, Variable } from "../../api/types";

/** A variable of SupportReply's draft step unless `where` says otherwise. */
export function variable(
  name: string,
  type: string,
  value: unknown,
  where: Partial<Variable> = {},
): Variable {
  return {
    id: `id-${name}`,
    workflow: "SupportReply",
    step: "draft",
    name,
    type,
    default: value,
    call_site: { path: "examples/support_reply.py", line: 61, function: "draft" },
    version: 1,
    first_seen_at: "2026-01-01T00:00:00Z",
    last_seen_at: "2026-01-01T00:00:00Z",
    history: [],
    ...where,
  };
}

export function queuedPullRequest(changes: PullRequest["changes"] = []): PullRequest {
  return {
    id: "pr-1",
    workflow: "SupportReply",
    variant: "v",
    variant_name: "brief",
    revision: 1,
    state: "queued",
    changes,
    created_by: "pat",
  };
}
