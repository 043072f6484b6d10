// Previous/next controls for the API's limit/offset pages.

export interface PaginationProps {
  /** Total number of items, the page's `count`. */
  count: number;
  /** The page's `count_capped`: there are more than `count` items. */
  countCapped?: boolean;
  /** Whether the page has a `next` link; without it, `count` decides. */
  hasNext?: boolean;
  limit: number;
  offset: number;
  onChange: (offset: number) => void;
}

export function Pagination({
  count,
  countCapped = false,
  hasNext,
  limit,
  offset,
  onChange,
}: PaginationProps) {
  const more = hasNext ?? offset + limit < count;
  const first = count === 0 && !more ? 0 : offset + 1;
  const last = countCapped ? offset + limit : Math.min(offset + limit, count);
  const total = `${count.toLocaleString()}${countCapped ? "+" : ""}`;
  return (
    <nav className="pagination" aria-label="Pagination">
      <button
        type="button"
        className="button"
        disabled={offset === 0}
        onClick={() => onChange(Math.max(0, offset - limit))}
      >
        Previous
      </button>
      <span className="pagination-range" aria-live="polite">
        {first}–{last} of {total}
      </span>
      <button
        type="button"
        className="button"
        disabled={!more}
        onClick={() => onChange(offset + limit)}
      >
        Next
      </button>
    </nav>
  );
}
