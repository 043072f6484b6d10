// The form that creates a cron or a schedule: its own fields in a row, the JSON input
// its runs start with, the submit button and what the server answered.
import type { FormEvent, ReactNode } from "react";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import type { ApiError } from "../../api/client";
import { JsonEditor } from "../../components/JsonEditor";
import type { useRunInput } from "./useRunInput";

interface Props {
  /** What it creates, as the heading and button say it: "cron", "schedule". */
  noun: string;
  input: ReturnType<typeof useRunInput>;
  isPending: boolean;
  /** The line shown once the server created it. */
  created: ReactNode;
  error: ApiError | null;
  onSubmit: () => void;
  children: ReactNode;
}

export function NewTriggerForm({
  noun,
  input,
  isPending,
  created,
  error,
  onSubmit,
  children,
}: Props) {
  const headingId = `new-${noun}-heading`;
  const capitalised = noun.charAt(0).toUpperCase() + noun.slice(1);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit();
  };
  return (
    <form className="card triggers-form" onSubmit={submit} aria-labelledby={headingId}>
      <h3 id={headingId}>New {noun}</h3>
      <div className="form-row">{children}</div>
      <JsonEditor
        key={input.editorKey}
        label={`${capitalised} input`}
        initialValue={{}}
        rows={4}
        onChange={input.onChange}
      />
      <div className="toolbar">
        <button type="submit" className="button primary" disabled={isPending || !input.isValid}>
          Create {noun}
        </button>
        {created && (
          <span role="status" className="muted">
            {created}
          </span>
        )}
      </div>
      <ApiErrorMessage error={error} />
    </form>
  );
}
