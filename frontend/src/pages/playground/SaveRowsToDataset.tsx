// "Save rows to dataset": a comparison's inputs (with the runs they came from and
// what was expected of them) added to a dataset of its workflow, as a new version.
import { useState } from "react";
import { Link } from "react-router-dom";
import type { Comparison } from "../../api/types";
import { useAddRows, useDatasets } from "../datasets/api";
import { counted } from "./model";

export function SaveRowsToDataset({ comparison }: { comparison: Comparison }) {
  const datasets = useDatasets(comparison.workflow);
  const [chosen, setChosen] = useState("");
  const choices = datasets.data?.results ?? [];
  const datasetId = chosen || choices[0]?.id || "";
  const save = useAddRows(datasetId);
  if (choices.length === 0) {
    return (
      <span className="muted">
        <Link to="/datasets">Make a dataset</Link> of {comparison.workflow} to save these rows to.
      </span>
    );
  }
  return (
    <form
      className="save-rows"
      onSubmit={(event) => {
        event.preventDefault();
        save.mutate({ comparison: comparison.id, expected_from_output: false });
      }}
    >
      <label className="field">
        <span>Dataset</span>
        <select value={datasetId} onChange={(event) => setChosen(event.target.value)}>
          {choices.map((dataset) => (
            <option key={dataset.id} value={dataset.id}>
              {dataset.name}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="button" disabled={save.isPending}>
        Save rows to dataset
      </button>
      {save.data && (
        <span role="status">
          Saved {counted(comparison.rows.length, "row")} to{" "}
          <Link to={`/datasets/${save.data.id}`}>{save.data.name}</Link> (version{" "}
          {save.data.version}).
        </span>
      )}
      {save.error && (
        <span className="form-error" role="alert">
          {save.error.message}
        </span>
      )}
    </form>
  );
}
