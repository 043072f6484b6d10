// Datasets: named sets of a workflow's real inputs to compare variants over, and the
// form that makes a new one.
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router-dom";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { RelativeTime } from "../../components/RelativeTime";
import { RequireRole } from "../../components/RequireRole";
import { AsyncView, Empty } from "../../components/StateViews";
import { TableHead } from "../../components/TableHead";
import { WorkflowSelect } from "../../components/WorkflowSelect";
import { useCreateDataset, useDatasets, type Dataset } from "./api";
import "./datasets.css";

export function DatasetsPage() {
  const datasets = useDatasets();
  return (
    <section className="page">
      <div className="page-header">
        <h1>Datasets</h1>
      </div>
      <RequireRole role="editor">
        <NewDatasetForm />
      </RequireRole>
      <AsyncView
        {...datasets}
        onRetry={datasets.reload}
        empty={
          <Empty
            message="No datasets yet. Make one here, or select runs in the runs list and add them to a dataset."
            action={<Link to="/runs">Go to runs</Link>}
          />
        }
      >
        {(page) => <DatasetsTable datasets={page.results} />}
      </AsyncView>
    </section>
  );
}

function DatasetsTable({ datasets }: { datasets: Dataset[] }) {
  return (
    <table className="data-table datasets-table">
      <caption className="visually-hidden">Datasets, last changed first</caption>
      <TableHead columns={["Name", "Workflow", "Rows", "Version", "Changed"]} />
      <tbody>
        {datasets.map((dataset) => (
          <tr key={dataset.id}>
            <td>
              <Link to={`/datasets/${dataset.id}`}>{dataset.name}</Link>
              {dataset.description && <p className="muted">{dataset.description}</p>}
            </td>
            <td>{dataset.workflow}</td>
            <td>{dataset.row_count}</td>
            <td>{dataset.version === 0 ? "none yet" : `v${dataset.version}`}</td>
            <td>
              <RelativeTime value={dataset.updated_at} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function NewDatasetForm() {
  const navigate = useNavigate();
  const [workflow, setWorkflow] = useState("");
  const [name, setName] = useState("");
  const create = useCreateDataset({
    onSuccess: (dataset) => navigate(`/datasets/${dataset.id}`),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ workflow, name: name.trim(), description: "" });
  };
  return (
    <form className="card dataset-form" aria-label="New dataset" onSubmit={submit}>
      <WorkflowSelect
        label="Workflow"
        value={workflow}
        emptyLabel="Choose a workflow"
        onChange={setWorkflow}
        required
      />
      <label className="field">
        <span>Name</span>
        <input value={name} onChange={(event) => setName(event.target.value)} required />
      </label>
      <button
        type="submit"
        className="button"
        disabled={create.isPending || !workflow || !name.trim()}
      >
        New dataset
      </button>
      <ApiErrorMessage error={create.error} />
    </form>
  );
}
