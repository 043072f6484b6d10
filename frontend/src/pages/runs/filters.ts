// The runs list's filters live in the page's query string (so a link or a reload
// shows the same list); this turns them into the API's query and back.
import type { RunStatus } from "../../api/types";

export const runStatuses: RunStatus[] = ["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"];

export interface RunFilters {
  statuses: RunStatus[];
  workflow: string;
  /** The id of the event that started the runs. */
  event: string;
  /** The id of the run whose steps spawned them. */
  parentRun: string;
  /** "name:value" pairs; all must match. */
  metadata: string[];
  /** `datetime-local` values (local time, no zone), as the inputs hold them. */
  from: string;
  to: string;
  offset: number;
}

export const pageSize = 25;

export function readFilters(params: URLSearchParams): RunFilters {
  const statuses = (params.get("status") ?? "")
    .split(",")
    .map((part) => part.trim().toUpperCase())
    .filter((part): part is RunStatus => (runStatuses as string[]).includes(part));
  const offset = Number(params.get("offset") ?? "0");
  return {
    statuses,
    workflow: params.get("workflow") ?? "",
    event: params.get("event") ?? "",
    parentRun: params.get("parent_run") ?? "",
    metadata: params.getAll("metadata").filter(Boolean),
    from: params.get("from") ?? "",
    to: params.get("to") ?? "",
    offset: Number.isInteger(offset) && offset > 0 ? offset : 0,
  };
}

/** The filters the address and the API spell alike; empty ones are left out. */
function setMatchParams(params: URLSearchParams, filters: RunFilters) {
  if (filters.statuses.length) params.set("status", filters.statuses.join(","));
  if (filters.workflow) params.set("workflow", filters.workflow);
  if (filters.event) params.set("event", filters.event);
  if (filters.parentRun) params.set("parent_run", filters.parentRun);
  for (const pair of filters.metadata) params.append("metadata", pair);
}

/** The page's query string for these filters; empty ones are left out. */
export function writeFilters(filters: RunFilters): URLSearchParams {
  const params = new URLSearchParams();
  setMatchParams(params, filters);
  if (filters.from) params.set("from", filters.from);
  if (filters.to) params.set("to", filters.to);
  if (filters.offset) params.set("offset", String(filters.offset));
  return params;
}

function toIso(local: string): string | null {
  if (!local) return null;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/**
 * `/runs?...` for the API: statuses comma-separated, metadata pairs repeated, the time
 * range as ISO 8601. The code evaluators' runs (one per scored cell) are left out unless
 * a workflow is chosen: a score links to its own run.
 */
/** The runs list's query of the runs the filters match, without its page. */
export function matchQuery(filters: RunFilters): URLSearchParams {
  const params = new URLSearchParams();
  setMatchParams(params, filters);
  if (!filters.workflow) params.set("exclude_trigger", "evaluator");
  const after = toIso(filters.from);
  const before = toIso(filters.to);
  if (after) params.set("created_after", after);
  if (before) params.set("created_before", before);
  return params;
}

export function runsPath(filters: RunFilters): string {
  const params = matchQuery(filters);
  params.set("limit", String(pageSize));
  params.set("offset", String(filters.offset));
  return `/runs?${params.toString()}`;
}

export function hasFilters(filters: RunFilters): boolean {
  return Boolean(
    filters.statuses.length ||
    filters.workflow ||
    filters.event ||
    filters.parentRun ||
    filters.metadata.length ||
    filters.from ||
    filters.to,
  );
}

/** The filters as the body of a dataset's "add the runs this filter matches" (the
 * runs list's query, without its page). */
export function filterBody(filters: RunFilters): Record<string, string | string[]> {
  const params = new URLSearchParams(runsPath(filters).split("?")[1]);
  params.delete("limit");
  params.delete("offset");
  const body: Record<string, string | string[]> = {};
  for (const name of new Set(params.keys())) {
    body[name] = name === "metadata" ? params.getAll(name) : (params.get(name) ?? "");
  }
  return body;
}
