// A workflow-name field that suggests the tenant's registered workflows; any name
// can still be typed, and the server says if it does not exist.
import { useId } from "react";
import { useWorkflows } from "../workflows/api";

export function WorkflowNameInput({
  value,
  onChange,
}: {
  value: string;
  onChange: (name: string) => void;
}) {
  const workflows = useWorkflows({ limit: 500 });
  const listId = useId();
  const names = workflows.data?.results.map((workflow) => workflow.name) ?? [];
  return (
    <label className="field">
      <span>Workflow</span>
      <input
        value={value}
        onChange={(event) => onChange(event.target.value)}
        list={listId}
        required
        autoComplete="off"
        placeholder="e.g. NightlyImport"
      />
      <datalist id={listId}>
        {names.map((name) => (
          <option key={name} value={name} />
        ))}
      </datalist>
    </label>
  );
}

const absoluteFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "short",
});

/** An API timestamp in the reader's zone, e.g. "May 1, 2026, 9:30 AM". */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return "—";
  return absoluteFormat.format(new Date(value));
}

/** A `datetime-local` value (the reader's zone) as an ISO instant with its zone. */
export function localToIso(local: string): string {
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? local : date.toISOString();
}
