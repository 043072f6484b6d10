// The events list's filters live in the page's URL (so a filtered view can be shared
// and survives a reload); this turns them into the API's query and back.

export interface EventFilters {
  /** A key, or a pattern where "*" stands for one segment. */
  key: string;
  keyPrefix: string;
  /** `datetime-local` values ("2026-05-01T09:30"), in the browser's zone. */
  createdAfter: string;
  createdBefore: string;
  /** "name:value" pairs; all must match. */
  metadata: string[];
  offset: number;
}

export const pageSize = 25;

export function filtersFromSearch(search: URLSearchParams): EventFilters {
  const offset = Number(search.get("offset") ?? 0);
  return {
    key: search.get("key") ?? "",
    keyPrefix: search.get("key_prefix") ?? "",
    createdAfter: search.get("after") ?? "",
    createdBefore: search.get("before") ?? "",
    metadata: search.getAll("metadata").filter(Boolean),
    offset: Number.isInteger(offset) && offset > 0 ? offset : 0,
  };
}

export function searchFromFilters(filters: EventFilters): URLSearchParams {
  const search = new URLSearchParams();
  if (filters.key) search.set("key", filters.key);
  if (filters.keyPrefix) search.set("key_prefix", filters.keyPrefix);
  if (filters.createdAfter) search.set("after", filters.createdAfter);
  if (filters.createdBefore) search.set("before", filters.createdBefore);
  for (const pair of filters.metadata) search.append("metadata", pair);
  if (filters.offset > 0) search.set("offset", String(filters.offset));
  return search;
}

/** A `datetime-local` value as an ISO instant; the text itself if it is not a date. */
function toInstant(local: string): string {
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? local : date.toISOString();
}

/** `/events?...` for these filters; the server reports anything it cannot read. */
export function eventsPath(filters: EventFilters): string {
  const query = new URLSearchParams();
  if (filters.key) query.set("key", filters.key);
  if (filters.keyPrefix) query.set("key_prefix", filters.keyPrefix);
  if (filters.createdAfter) query.set("created_after", toInstant(filters.createdAfter));
  if (filters.createdBefore) query.set("created_before", toInstant(filters.createdBefore));
  for (const pair of filters.metadata) query.append("metadata", pair);
  query.set("limit", String(pageSize));
  query.set("offset", String(filters.offset));
  return `/events?${query.toString()}`;
}

/** A one-line preview of a payload, cut at `max` characters. */
export function previewJson(value: unknown, max = 120): string {
  const text = JSON.stringify(value) ?? "";
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
