// Playground objects as the API answers them, for the tests of this folder.
import type { Cell, Comparison, PullRequest, Variable } from "../../api/types";

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

/** A finished cell of a comparison unless `fields` says otherwise. */
export function cell(row: number, column: number, fields: Partial<Cell> = {}): Cell {
  return {
    row,
    column,
    repeat: 0,
    attempt: 0,
    is_latest: true,
    run_id: `run-${row}-${column}`,
    kind: "run",
    status: "SUCCEEDED",
    is_finished: true,
    output_step: "review",
    output: null,
    outputs: {},
    error: "",
    started_at: null,
    finished_at: null,
    duration_ms: 1200,
    usage: null,
    cost: null,
    scores: [],
    stream: "",
    stream_chunks: [],
    ...fields,
  };
}

/** An evaluator's passing verdict on a cell unless `fields` says otherwise. */
export function score(name: string, fields: Partial<Cell["scores"][number]> = {}) {
  return {
    evaluator: `ev-${name}`,
    name,
    status: "done" as const,
    value: 1,
    passed: true,
    reason: "",
    error: "",
    tokens: null,
    cost: null,
    latency_ms: null,
    run: null,
    ...fields,
  };
}

/** SupportReply's baseline against the variant "brief", on one input. */
export function comparison(cells: Cell[], is_finished = true): Comparison {
  return {
    id: "cmp-1",
    workflow: "SupportReply",
    from_step: null,
    columns: [
      {
        title: "Baseline (code defaults)",
        variant: null,
        variant_name: "",
        revision: null,
        overrides: {},
      },
      {
        title: "brief",
        variant: "var-1",
        variant_name: "brief",
        revision: 2,
        overrides: { draft: { system_prompt: "Be brief." } },
      },
    ],
    rows: [{ title: "Refund please", source_run: "past-1", input: { ticket: "Refund please" } }],
    repeat: 1,
    cells,
    is_finished,
    evaluators: [],
    baseline: 0,
    summary: [],
    reviews: [],
    review_summary: [],
    created_by: "pat",
    created_at: "2026-01-01T00:00:00Z",
  };
}
