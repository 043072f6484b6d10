// Previous/next controls for the API's limit/offset pages.

export interface PaginationProps {
  /** Total number of items, the page's `count`. */
  count: number;
  limit: number;
  offset: number;
  onChange: (offset: number) => void;
}

export function Pagination({ count, limit, offset, onChange }: PaginationProps) {
  const first = count === 0 ? 0 : offset + 1;
  const last = Math.min(offset + limit, count);
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
        {first}–{last} of {count}
      </span>
      <button
        type="button"
        className="button"
        disabled={offset + limit >= count}
        onClick={() => onChange(offset + limit)}
      >
        Next
      </button>
    </nav>
  );
}
