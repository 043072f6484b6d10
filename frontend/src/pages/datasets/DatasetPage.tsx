// One dataset: its versions, the rows of the one chosen (the newest unless the
// address names another), and for editors the changes that make a new version:
// uploading a file, removing rows. Any version downloads as JSONL; editors rename it.
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { ConfirmButton } from "../../components/ConfirmButton";
import { RelativeTime } from "../../components/RelativeTime";
import { RequireRole } from "../../components/RequireRole";
import { RunLink } from "../../components/RunLink";
import { AsyncView } from "../../components/StateViews";
import { TableHead } from "../../components/TableHead";
import { useSession } from "../../session";
import {
  exportUrl,
  useDataset,
  useDeleteDataset,
  useEditDataset,
  useRemoveRows,
  useUploadRows,
  type DatasetDetail,
  type DatasetVersion,
} from "./api";
import { expectedSummary, inputSummary } from "./format";
import "./datasets.css";

export function DatasetPage() {
  const { datasetId } = useParams();
  const [params, setParams] = useSearchParams();
  const asked = Number(params.get("version"));
  const version = Number.isInteger(asked) && asked > 0 ? asked : null;
  const dataset = useDataset(datasetId, version);
  const choose = (number: number | null) =>
    setParams(number === null ? {} : { version: String(number) });
  return (
    <section className="page">
      <AsyncView {...dataset} onRetry={dataset.reload}>
        {(detail) => <DatasetView dataset={detail} onChooseVersion={choose} />}
      </AsyncView>
    </section>
  );
}

function DatasetView({
  dataset,
  onChooseVersion,
}: {
  dataset: DatasetDetail;
  onChooseVersion: (number: number | null) => void;
}) {
  const navigate = useNavigate();
  const remove = useDeleteDataset(dataset.id, { onSuccess: () => navigate("/datasets") });
  const shown = dataset.shown_version;
  const isNewest = shown === null || shown === dataset.version;
  return (
    <>
      <div className="page-header">
        <div>
          <h1>{dataset.name}</h1>
          <p className="muted">
            Inputs of{" "}
            <Link to={`/workflows/${encodeURIComponent(dataset.workflow)}`}>
              {dataset.workflow}
            </Link>
            {dataset.description ? ` · ${dataset.description}` : ""}
          </p>
        </div>
        <RequireRole role="editor">
          <ConfirmButton onConfirm={() => remove.mutate(undefined)} disabled={remove.isPending}>
            Delete dataset
          </ConfirmButton>
        </RequireRole>
      </div>
      <ApiErrorMessage error={remove.error} />
      <RequireRole role="editor">
        <EditForm dataset={dataset} />
      </RequireRole>
      {dataset.versions.length === 0 ? (
        <p className="muted">No rows yet: upload a file, or add runs from the runs list.</p>
      ) : (
        <VersionPicker dataset={dataset} onChoose={onChooseVersion} />
      )}
      {isNewest && (
        <RequireRole role="editor">
          <UploadForm datasetId={dataset.id} onUploaded={() => onChooseVersion(null)} />
        </RequireRole>
      )}
      {shown !== null && (
        <RowsTable
          key={shown}
          dataset={dataset}
          canRemove={isNewest}
          onRemoved={() => onChooseVersion(null)}
        />
      )}
    </>
  );
}

function EditForm({ dataset }: { dataset: DatasetDetail }) {
  const [name, setName] = useState(dataset.name);
  const [description, setDescription] = useState(dataset.description);
  const edit = useEditDataset(dataset.id);
  const isChanged = name.trim() !== dataset.name || description !== dataset.description;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    edit.mutate({ name: name.trim(), description });
  };
  return (
    <form className="dataset-tools" aria-label="Edit dataset" onSubmit={submit}>
      <label className="field">
        <span>Name</span>
        <input value={name} onChange={(event) => setName(event.target.value)} required />
      </label>
      <label className="field">
        <span>Description</span>
        <input value={description} onChange={(event) => setDescription(event.target.value)} />
      </label>
      <button
        type="submit"
        className="button"
        disabled={!isChanged || !name.trim() || edit.isPending}
      >
        Save
      </button>
      <ApiErrorMessage error={edit.error} />
    </form>
  );
}

function versionLabel(version: DatasetVersion): string {
  const change =
    version.origin === "removal"
      ? `${version.removed} removed`
      : `${version.added} added from ${version.origin}`;
  return `v${version.number} · ${version.row_count} rows · ${change} · by ${version.author}`;
}

function VersionPicker({
  dataset,
  onChoose,
}: {
  dataset: DatasetDetail;
  onChoose: (number: number | null) => void;
}) {
  const shown = dataset.shown_version ?? dataset.version;
  const current = dataset.versions.find((version) => version.number === shown);
  return (
    <div className="dataset-versions">
      <label className="field">
        <span>Version</span>
        <select
          value={shown}
          onChange={(event) => {
            const number = Number(event.target.value);
            onChoose(number === dataset.version ? null : number);
          }}
        >
          {dataset.versions.map((version) => (
            <option key={version.number} value={version.number}>
              {versionLabel(version)}
            </option>
          ))}
        </select>
      </label>
      {current && (
        <span className="muted">
          made <RelativeTime value={current.created_at} />
        </span>
      )}
      <a className="button" href={exportUrl(dataset.id, shown)} download>
        Export v{shown} as JSONL
      </a>
    </div>
  );
}

function UploadForm({ datasetId, onUploaded }: { datasetId: string; onUploaded: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const upload = useUploadRows(datasetId, { onSuccess: onUploaded });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (file === null) return;
    const form = new FormData();
    form.append("file", file);
    upload.mutate(form);
  };
  return (
    <form className="card dataset-tools" aria-label="Upload rows" onSubmit={submit}>
      <label className="field">
        <span>JSONL or CSV file</span>
        <input
          type="file"
          accept=".jsonl,.ndjson,.csv"
          onChange={(event) => setFile(event.target.files?.[0] ?? null)}
        />
      </label>
      <button type="submit" className="button" disabled={file === null || upload.isPending}>
        Upload rows
      </button>
      <p className="muted">
        JSONL: a line per row, <code>{'{"input": {...}, "expected": ..., "notes": "..."}'}</code>.
        CSV: a column per input field (or an <code>input</code> column of JSON), and{" "}
        <code>expected</code>, <code>notes</code> if any.
      </p>
      <ApiErrorMessage error={upload.error} />
    </form>
  );
}

function RowsTable({
  dataset,
  canRemove,
  onRemoved,
}: {
  dataset: DatasetDetail;
  canRemove: boolean;
  onRemoved: () => void;
}) {
  const { can } = useSession();
  const isRemovable = canRemove && can("editor");
  const [selected, setSelected] = useState<string[]>([]);
  const remove = useRemoveRows(dataset.id, {
    onSuccess: () => {
      setSelected([]);
      onRemoved();
    },
  });
  const toggle = (id: string, checked: boolean) =>
    setSelected((ids) => (checked ? [...ids, id] : ids.filter((other) => other !== id)));
  return (
    <>
      {isRemovable && (
        <div className="dataset-tools">
          <button
            type="button"
            className="button danger"
            disabled={selected.length === 0 || remove.isPending}
            onClick={() => remove.mutate({ rows: selected })}
          >
            Remove {selected.length} {selected.length === 1 ? "row" : "rows"}
          </button>
          <ApiErrorMessage error={remove.error} />
        </div>
      )}
      <table className="data-table dataset-rows">
        <caption className="visually-hidden">Rows of version {dataset.shown_version}</caption>
        <TableHead
          columns={[
            ...(isRemovable ? ["Select"] : []),
            "#",
            "Input",
            "Expected",
            "Notes",
            "From run",
          ]}
        />
        <tbody>
          {dataset.rows.map((row, index) => (
            <tr key={row.id}>
              {isRemovable && (
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select row ${index + 1}`}
                    checked={selected.includes(row.id)}
                    onChange={(event) => toggle(row.id, event.target.checked)}
                  />
                </td>
              )}
              <td>{index + 1}</td>
              <td className="dataset-input" title={JSON.stringify(row.input, null, 2)}>
                {inputSummary(row.input)}
              </td>
              <td title={row.expected === null ? undefined : JSON.stringify(row.expected, null, 2)}>
                {expectedSummary(row.expected) || <span className="muted">none</span>}
              </td>
              <td>{row.notes}</td>
              <td>
                {row.source_run ? (
                  <RunLink runId={row.source_run} label={`Run ${row.source_run}`} />
                ) : (
                  <span className="muted">none</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
