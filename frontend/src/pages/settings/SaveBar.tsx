// The foot of a settings form that saves in place: its submit button, "Saved." once
// the server took it, and the server's refusal.
import type { ApiError } from "../../api/client";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";

export interface SaveBarProps {
  label: string;
  isPending: boolean;
  isSaved: boolean;
  error: ApiError | null;
}

export function SaveBar({ label, isPending, isSaved, error }: SaveBarProps) {
  return (
    <>
      <div className="toolbar">
        <button type="submit" className="button primary" disabled={isPending}>
          {label}
        </button>
        {isSaved && !isPending && (
          <span role="status" className="muted">
            Saved.
          </span>
        )}
      </div>
      <ApiErrorMessage error={error} />
    </>
  );
}
