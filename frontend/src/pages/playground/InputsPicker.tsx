// The inputs to try the edit on: past runs of the workflow (searchable, several at
// once) and/or a custom JSON input.
import { useId, useState } from "react";
import { AsyncView, Empty } from "../../components/StateViews";
import { JsonEditor } from "../../components/JsonEditor";
import { RelativeTime } from "../../components/RelativeTime";
import type { ApiError } from "../../api/client";
import type { Paginated, Run } from "../../api/types";
import type { PastRun } from "./api";
import { inputSummary, matchesSearch } from "./model";

export interface CustomInput {
  enabled: boolean;
  value: unknown;
  valid: boolean;
}

export interface InputsPickerProps {
  pastRuns: PastRun[];
  list: {
    data: Paginated<Run> | undefined;
    error: ApiError | null;
    loading: boolean;
    reload: () => void;
  };
  selected: string[];
  onToggle: (runId: string, selected: boolean) => void;
  custom: CustomInput;
  onCustomChange: (custom: CustomInput) => void;
}

export function InputsPicker({
  pastRuns,
  list,
  selected,
  onToggle,
  custom,
  onCustomChange,
}: InputsPickerProps) {
  const [search, setSearch] = useState("");
  const listId = useId();
  const visible = pastRuns.filter(
    (past) => past.detail === undefined || matchesSearch(past.detail.input, search),
  );

  return (
    <div className="inputs-picker">
      <label className="field">
        <span>Search past runs</span>
        <input
          type="search"
          value={search}
          placeholder="Filter by input text"
          aria-controls={listId}
          onChange={(event) => setSearch(event.target.value)}
        />
      </label>
      <div id={listId} className="past-runs" role="group" aria-label="Past runs">
        <AsyncView
          {...list}
          onRetry={list.reload}
          empty={
            <Empty message="No finished runs of this workflow yet: write a custom input below." />
          }
        >
          {() =>
            visible.length === 0 ? (
              <p className="muted">No past run's input matches “{search}”.</p>
            ) : (
              <ul className="past-run-list">
                {visible.map(({ run, detail, error }) => (
                  <li key={run.id}>
                    <label className="past-run">
                      <input
                        type="checkbox"
                        checked={selected.includes(run.id)}
                        disabled={detail === undefined}
                        onChange={(event) => onToggle(run.id, event.target.checked)}
                      />
                      <span className="past-run-input">
                        {detail
                          ? inputSummary(detail.input)
                          : error
                            ? `Input unavailable: ${error.message}`
                            : "Loading input…"}
                      </span>
                      <span className="muted past-run-time">
                        <RelativeTime value={run.created_at} />
                      </span>
                    </label>
                  </li>
                ))}
              </ul>
            )
          }
        </AsyncView>
      </div>
      <label className="checkbox-field">
        <input
          type="checkbox"
          checked={custom.enabled}
          onChange={(event) => onCustomChange({ ...custom, enabled: event.target.checked })}
        />
        <span>Also use a custom input</span>
      </label>
      {custom.enabled && (
        <JsonEditor
          label="Custom input (JSON object)"
          initialValue={custom.value}
          rows={5}
          onChange={(value, valid) =>
            onCustomChange({
              enabled: true,
              value,
              valid: valid && value !== null && typeof value === "object" && !Array.isArray(value),
            })
          }
        />
      )}
      {custom.enabled && custom.valid === false && custom.value !== undefined && (
        <p className="form-error">The custom input must be a JSON object.</p>
      )}
    </div>
  );
}
