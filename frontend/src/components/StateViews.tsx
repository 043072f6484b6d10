// The three states every API-backed view passes through before it has data to
// show: loading, empty, failed. Pages use AsyncView so they all look alike.
import type { ReactNode } from "react";
import type { ApiError } from "../api/client";

export function Loading({ label = "Loading" }: { label?: string }) {
  return (
    <div className="state-view loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}…
    </div>
  );
}

export interface EmptyProps {
  message: ReactNode;
  /** A next step, e.g. a link or button to create the first item. */
  action?: ReactNode;
}

export function Empty({ message, action }: EmptyProps) {
  return (
    <div className="state-view empty">
      <p>{message}</p>
      {action}
    </div>
  );
}

export interface ErrorStateProps {
  error: ApiError;
  onRetry?: () => void;
}

export function ErrorState({ error, onRetry }: ErrorStateProps) {
  return (
    <div className="state-view error" role="alert">
      <p>
        <code className="error-code">{error.code}</code> {error.message}
      </p>
      {onRetry && (
        <button type="button" className="button" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export interface AsyncViewProps<T> {
  loading: boolean;
  error: ApiError | null;
  data: T | undefined;
  onRetry?: () => void;
  /** Shown instead of children when isEmpty(data) holds. */
  empty?: ReactNode;
  /** Defaults to "an empty array, or a page whose results are empty". */
  isEmpty?: (data: T) => boolean;
  children: (data: T) => ReactNode;
}

function hasNoItems(data: unknown): boolean {
  if (Array.isArray(data)) return data.length === 0;
  const results = (data as { results?: unknown } | null)?.results;
  return Array.isArray(results) && results.length === 0;
}

/**
 * Renders children with the data once there is some. Data already on screen stays
 * while a reload is in flight, so polling never blinks the page.
 */
export function AsyncView<T>({
  loading,
  error,
  data,
  onRetry,
  empty,
  isEmpty = hasNoItems,
  children,
}: AsyncViewProps<T>) {
  if (error) return <ErrorState error={error} onRetry={onRetry} />;
  if (data === undefined) return loading ? <Loading /> : null;
  if (empty !== undefined && isEmpty(data)) return <>{empty}</>;
  return <>{children(data)}</>;
}
