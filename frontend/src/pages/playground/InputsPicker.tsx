// The inputs to try the edit on: past runs of the workflow (searchable, several at
// once) and/or a custom JSON input, which starts from the latest past run's input so
// that its fields are there to edit; and, for a comparison, a dataset of the workflow
// at one of its versions, whose rows follow the inputs chosen.
import { useId, useState } from "react";
import { AsyncView, Empty } from "../../components/StateViews";
import { JsonEditor } from "../../components/JsonEditor";
import { RelativeTime } from "../../components/RelativeTime";
import type { ApiState } from "../../api/useApi";
import type { Paginated, Run } from "../../api/types";
import type { Dataset } from "../datasets/api";
import { matchesSearch } from "./model";

export interface CustomInput {
  enabled: boolean;
  value: unknown;
  valid: boolean;
}

/** A dataset to compare over, at a version (null: its newest). */
export interface DatasetChoice {
  id: string;
  version: number | null;
}

export interface InputsPickerProps {
  /** The past runs, each with its input (newest first). */
  list: ApiState<Paginated<Run>>;
  selected: string[];
  onToggle: (runId: string, selected: boolean) => void;
  custom: CustomInput;
  onCustomChange: (custom: CustomInput) => void;
  /** For a viewer: the inputs show, and nothing can be chosen. */
  readOnly?: boolean;
  /** The workflow's datasets; with some, one can be chosen to compare over. */
  datasets?: Dataset[];
  dataset?: DatasetChoice | null;
  onDatasetChange?: (dataset: DatasetChoice | null) => void;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

export function InputsPicker({
  list,
  selected,
  onToggle,
  custom,
  onCustomChange,
  readOnly = false,
  datasets = [],
  dataset = null,
  onDatasetChange,
}: InputsPickerProps) {
  const [search, setSearch] = useState("");
  const listId = useId();
  const runs = list.data?.results ?? [];
  const visible = runs.filter((run) => matchesSearch(run.input ?? run.input_summary, search));
  const fields = [...new Set(runs.flatMap((run) => Object.keys(run.input ?? {})))];

  const enableCustom = (enabled: boolean) => {
    const latest = runs[0]?.input;
    // An untouched custom input starts as the latest real one, fields and all.
    const startsFromLatest =
      enabled &&
      latest !== undefined &&
      isObject(custom.value) &&
      !Object.keys(custom.value).length;
    onCustomChange(
      startsFromLatest ? { enabled, value: latest, valid: true } : { ...custom, enabled },
    );
  };

  return (
    <div className={`inputs-picker${readOnly ? " read-only" : ""}`}>
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
                {visible.map((run) => (
                  <li key={run.id}>
                    <label className="past-run">
                      <input
                        type="checkbox"
                        checked={selected.includes(run.id)}
                        disabled={readOnly}
                        onChange={(event) => onToggle(run.id, event.target.checked)}
                      />
                      <span className="past-run-input">{run.input_summary}</span>
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
          disabled={readOnly}
          onChange={(event) => enableCustom(event.target.checked)}
        />
        <span>Also use a custom input</span>
      </label>
      {custom.enabled && (
        <>
          <JsonEditor
            label="Custom input (JSON object)"
            initialValue={custom.value}
            rows={5}
            onChange={(value, valid) =>
              onCustomChange({ enabled: true, value, valid: valid && isObject(value) })
            }
          />
          {fields.length > 0 && (
            <p className="muted">
              Recent inputs have the fields{" "}
              {fields.map((field, index) => (
                <span key={field}>
                  {index > 0 && ", "}
                  <code>{field}</code>
                </span>
              ))}
              .
            </p>
          )}
        </>
      )}
      {custom.enabled && custom.valid === false && custom.value !== undefined && (
        <p className="form-error">The custom input must be a JSON object.</p>
      )}
      {onDatasetChange && datasets.length > 0 && (
        <DatasetPicker
          datasets={datasets}
          dataset={dataset}
          onChange={onDatasetChange}
          readOnly={readOnly}
        />
      )}
    </div>
  );
}

/** "Compare over a dataset": one of the workflow's datasets, at a version. */
function DatasetPicker({
  datasets,
  dataset,
  onChange,
  readOnly,
}: {
  datasets: Dataset[];
  dataset: DatasetChoice | null;
  onChange: (dataset: DatasetChoice | null) => void;
  readOnly: boolean;
}) {
  const chosen = datasets.find((candidate) => candidate.id === dataset?.id);
  const versions = chosen
    ? Array.from({ length: chosen.version }, (_, i) => chosen.version - i)
    : [];
  return (
    <fieldset className="dataset-picker">
      <legend>Compare over a dataset</legend>
      <label className="field">
        <span>Dataset</span>
        <select
          value={dataset?.id ?? ""}
          disabled={readOnly}
          onChange={(event) =>
            onChange(event.target.value ? { id: event.target.value, version: null } : null)
          }
        >
          <option value="">None</option>
          {datasets.map((candidate) => (
            <option key={candidate.id} value={candidate.id}>
              {candidate.name} ({candidate.row_count} rows)
            </option>
          ))}
        </select>
      </label>
      {chosen && dataset && (
        <label className="field">
          <span>Version</span>
          <select
            value={dataset.version ?? ""}
            disabled={readOnly}
            onChange={(event) =>
              onChange({
                id: chosen.id,
                version: event.target.value ? Number(event.target.value) : null,
              })
            }
          >
            <option value="">newest (v{chosen.version})</option>
            {versions.map((version) => (
              <option key={version} value={version}>
                v{version}
              </option>
            ))}
          </select>
        </label>
      )}
      <p className="muted">
        A comparison runs the dataset's rows after the inputs chosen above; Run uses those inputs
        only.
      </p>
    </fieldset>
  );
}
