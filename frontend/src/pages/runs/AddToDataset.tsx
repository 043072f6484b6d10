// "Add to dataset" from the runs list, for the runs selected or for every run of a
// workflow that the filters match: their inputs (and, if asked, their outputs as what
// is expected) become rows of a dataset of their workflow, a chosen one or a new one.
import { useState, type FormEvent } from "react";
import type { Run } from "../../api/types";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import {
  useAddRows,
  useCreateDataset,
  useDatasets,
  type AddDatasetRowsBody,
  type DatasetDetail,
} from "../datasets/api";
import { filterBody, type RunFilters } from "./filters";

export function AddToDataset({
  runs,
  onAdded,
}: {
  runs: Run[];
  onAdded: (dataset: DatasetDetail) => void;
}) {
  const workflows = [...new Set(runs.map((run) => run.workflow))];
  const [workflow] = workflows;
  if (workflows.length !== 1 || workflow === undefined) {
    return (
      <p className="card add-to-dataset" role="status">
        {runs.length} runs of {workflows.length} workflows selected: a dataset holds the inputs of
        one workflow, so select runs of one.
      </p>
    );
  }
  return (
    <AddRunsForm
      workflow={workflow}
      what={`${runs.length} ${runs.length === 1 ? "run" : "runs"} of ${workflow} selected`}
      source={{ runs: runs.map((run) => run.id) }}
      onAdded={onAdded}
    />
  );
}

/** The runs of one workflow the filters match (the playground's own runs left out). */
export function AddMatchingToDataset({
  filters,
  onAdded,
}: {
  filters: RunFilters & { workflow: string };
  onAdded: (dataset: DatasetDetail) => void;
}) {
  return (
    <AddRunsForm
      workflow={filters.workflow}
      what={`Every run of ${filters.workflow} these filters match, but the playground's`}
      source={{ filter: filterBody(filters) }}
      onAdded={onAdded}
    />
  );
}

type RowsSource = Pick<AddDatasetRowsBody, "runs" | "filter">;

const newDataset = "new";

function AddRunsForm({
  workflow,
  what,
  source,
  onAdded,
}: {
  workflow: string;
  what: string;
  source: RowsSource;
  onAdded: (dataset: DatasetDetail) => void;
}) {
  const datasets = useDatasets(workflow);
  const [chosen, setChosen] = useState("");
  const [name, setName] = useState("");
  const [withOutputs, setWithOutputs] = useState(false);
  const add = useAddRows(chosen, { onSuccess: onAdded });
  const create = useCreateDataset({
    onSuccess: (dataset) => {
      setChosen(dataset.id);
      setName("");
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (chosen === newDataset) create.mutate({ workflow, name: name.trim(), description: "" });
    else add.mutate({ ...source, expected_from_output: withOutputs });
  };
  const options = datasets.data?.results ?? [];
  return (
    <form className="card add-to-dataset" aria-label="Add to dataset" onSubmit={submit}>
      <strong>{what}</strong>
      <label className="field">
        <span>Dataset</span>
        <select value={chosen} onChange={(event) => setChosen(event.target.value)} required>
          <option value="">Choose a dataset</option>
          {options.map((dataset) => (
            <option key={dataset.id} value={dataset.id}>
              {dataset.name} ({dataset.row_count} rows)
            </option>
          ))}
          <option value={newDataset}>New dataset…</option>
        </select>
      </label>
      {chosen === newDataset ? (
        <>
          <label className="field">
            <span>New dataset's name</span>
            <input value={name} onChange={(event) => setName(event.target.value)} required />
          </label>
          <button type="submit" className="button" disabled={!name.trim() || create.isPending}>
            Create dataset
          </button>
        </>
      ) : (
        <>
          <label>
            <input
              type="checkbox"
              checked={withOutputs}
              onChange={(event) => setWithOutputs(event.target.checked)}
            />
            Their outputs are what is expected
          </label>
          <button type="submit" className="button" disabled={!chosen || add.isPending}>
            Add to dataset
          </button>
        </>
      )}
      <ApiErrorMessage error={create.error ?? add.error} />
    </form>
  );
}
