// Starts a run of a workflow with an input (and optional metadata) typed as JSON.
// The button stays disabled while either text is not a JSON object; the server's
// refusal is shown beside it; a started run opens at once.
import { useId, useState, type FormEvent } from "react";
import { useNavigate } from "react-router-dom";
import type { TriggerRunBody } from "../../api/types";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { JsonEditor } from "../../components/JsonEditor";
import { useTriggerRun } from "./api";

interface JsonField {
  value: unknown;
  valid: boolean;
}

/** Why a parsed value cannot be sent as `name`, or null when it can. */
export function objectProblem(name: string, field: JsonField): string | null {
  if (!field.valid) return null; // The editor already shows the parse error.
  const value = field.value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return `${name} must be a JSON object ({ … }).`;
  }
  return null;
}

export function TriggerRunForm({ workflow }: { workflow: string }) {
  const navigate = useNavigate();
  const [input, setInput] = useState<JsonField>({ value: {}, valid: true });
  const [metadata, setMetadata] = useState<JsonField>({ value: {}, valid: true });
  const problemId = useId();
  const trigger = useTriggerRun(workflow, {
    onSuccess: (run) => navigate(`/runs/${run.id}`),
  });

  const problems = [
    objectProblem("The input", input),
    objectProblem("The metadata", metadata),
  ].filter((problem): problem is string => problem !== null);
  const canSend = input.valid && metadata.valid && problems.length === 0 && !trigger.isPending;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!canSend) return;
    const body: TriggerRunBody = { input: input.value as Record<string, unknown> };
    const extra = metadata.value as Record<string, unknown>;
    if (Object.keys(extra).length > 0) body.additional_metadata = extra;
    trigger.mutate(body);
  };

  return (
    <form className="trigger-form" onSubmit={submit} aria-label={`Trigger a run of ${workflow}`}>
      <JsonEditor
        label="Run input"
        initialValue={{}}
        rows={8}
        onChange={(value, valid) => {
          trigger.reset();
          setInput({ value, valid });
        }}
      />
      <details>
        <summary>Additional metadata (optional)</summary>
        <JsonEditor
          label="Run metadata"
          initialValue={{}}
          rows={4}
          onChange={(value, valid) => {
            trigger.reset();
            setMetadata({ value, valid });
          }}
        />
      </details>
      {problems.length > 0 && (
        <div id={problemId} role="alert">
          {problems.map((problem) => (
            <p key={problem} className="form-error">
              {problem}
            </p>
          ))}
        </div>
      )}
      <ApiErrorMessage error={trigger.error} />
      <div className="toolbar">
        <button
          type="submit"
          className="button primary"
          disabled={!canSend}
          aria-describedby={problems.length > 0 ? problemId : undefined}
        >
          {trigger.isPending ? "Triggering…" : "Trigger run"}
        </button>
      </div>
    </form>
  );
}
