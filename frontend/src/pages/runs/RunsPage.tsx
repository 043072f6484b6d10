// Every run of the tenant, newest first, filtered by status, workflow, event,
// metadata and creation time (kept in the address), refreshed every few seconds.
// Editors select runs to add their inputs to a dataset.
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import type { Run, RunStatus } from "../../api/types";
import { MetadataField, metadataText, parseMetadataText } from "../../components/MetadataField";
import { Pagination } from "../../components/Pagination";
import { RelativeTime } from "../../components/RelativeTime";
import { RunLink } from "../../components/RunLink";
import { AsyncView, Empty } from "../../components/StateViews";
import { StatusBadge, statusLabel } from "../../components/StatusBadge";
import { TableHead } from "../../components/TableHead";
import { useSession } from "../../session";
import type { DatasetDetail } from "../datasets/api";
import { RequireRole } from "../../components/RequireRole";
import { AddMatchingToDataset, AddToDataset } from "./AddToDataset";
import {
  hasFilters,
  pageSize,
  readFilters,
  runStatuses,
  writeFilters,
  type RunFilters,
} from "./filters";
import { useWorkflows } from "../workflows/api";
import { useRuns } from "./api";
import { BulkRunActions } from "./BulkRunActions";
import { elapsedMs, formatDuration } from "./format";
import { RunTrigger } from "./RunTrigger";
import "./runs.css";

const pollMs = 3000;

export function RunsPage() {
  const [params, setParams] = useSearchParams();
  // The router applies address changes in a transition; the form shows a change at
  // once (a controlled checkbox or a date being typed must not snap back meanwhile),
  // and follows the address when it changes otherwise (back, a link).
  const address = params.toString();
  const [filters, setFilters] = useState(() => readFilters(params));
  const [filtersAddress, setFiltersAddress] = useState(address);
  if (address !== filtersAddress) {
    setFiltersAddress(address);
    setFilters(readFilters(params));
  }
  const runs = useRuns(filters, { pollMs });
  const [selected, setSelected] = useState<Run[]>([]);
  const [added, setAdded] = useState<DatasetDetail | null>(null);
  const [isAddingMatching, setIsAddingMatching] = useState(false);
  const onAdded = (dataset: DatasetDetail) => {
    setSelected([]);
    setIsAddingMatching(false);
    setAdded(dataset);
  };
  const select = (run: Run, isSelected: boolean) =>
    setSelected((runs) =>
      isSelected ? [...runs, run] : runs.filter((other) => other.id !== run.id),
    );

  const show = (next: RunFilters) => {
    setFilters(next);
    setParams(writeFilters(next));
  };
  // Changing a filter starts again at the first page.
  const update = (change: Partial<RunFilters>) => show({ ...filters, offset: 0, ...change });

  return (
    <section className="page">
      <header className="page-header">
        <h1>Runs</h1>
      </header>
      <RunFiltersForm filters={filters} onChange={update} />
      {selected.length > 0 && <AddToDataset runs={selected} onAdded={onAdded} />}
      {selected.length === 0 && filters.workflow && (
        <RequireRole role="editor">
          {isAddingMatching ? (
            <AddMatchingToDataset
              filters={{ ...filters, workflow: filters.workflow }}
              onAdded={onAdded}
            />
          ) : (
            <button type="button" className="button" onClick={() => setIsAddingMatching(true)}>
              Add the matching runs to a dataset
            </button>
          )}
        </RequireRole>
      )}
      {filters.parentRun && (
        <p className="muted">
          The child runs of run{" "}
          <Link to={`/runs/${filters.parentRun}`}>
            <code>{filters.parentRun}</code>
          </Link>
          .
        </p>
      )}
      {added && (
        <p role="status" className="added-to-dataset">
          Added to <Link to={`/datasets/${added.id}`}>{added.name}</Link>: v{added.version}, with{" "}
          {added.row_count} rows.
        </p>
      )}
      <AsyncView
        loading={runs.loading}
        error={runs.error}
        data={runs.data}
        onRetry={runs.reload}
        empty={
          <Empty
            message={
              hasFilters(filters)
                ? "No run matches these filters."
                : "No runs yet. Trigger one from a workflow's page."
            }
            action={
              hasFilters(filters) ? (
                <button
                  type="button"
                  className="button"
                  onClick={() => show(readFilters(new URLSearchParams()))}
                >
                  Clear filters
                </button>
              ) : (
                <Link to="/workflows">Go to workflows</Link>
              )
            }
          />
        }
      >
        {(page) => (
          <>
            {hasFilters(filters) && (
              <RequireRole role="editor">
                <BulkRunActions
                  filters={filters}
                  count={page.count}
                  countCapped={page.count_capped}
                />
              </RequireRole>
            )}
            <RunsTable
              runs={page.results}
              selected={selected.map((run) => run.id)}
              onSelect={select}
            />
            <Pagination
              count={page.count}
              countCapped={page.count_capped}
              hasNext={page.next != null}
              limit={pageSize}
              offset={filters.offset}
              onChange={(offset) => show({ ...filters, offset })}
            />
          </>
        )}
      </AsyncView>
    </section>
  );
}

function RunFiltersForm({
  filters,
  onChange,
}: {
  filters: RunFilters;
  onChange: (change: Partial<RunFilters>) => void;
}) {
  const workflows = useWorkflows({ limit: 200 });
  const names = workflows.data?.results.map((workflow) => workflow.name) ?? [];
  // A workflow named in the address stays selectable even before the list arrives.
  if (filters.workflow && !names.includes(filters.workflow)) names.unshift(filters.workflow);

  // Typed filters apply on submit, not per keystroke: a half-typed pair is not a
  // query. They follow the address when it changes otherwise (Clear filters, back).
  const appliedMetadata = metadataText(filters.metadata);
  const [eventId, setEventId] = useState(filters.event);
  const [metadata, setMetadata] = useState(appliedMetadata);
  const [applied, setApplied] = useState({ event: filters.event, metadata: appliedMetadata });
  if (applied.event !== filters.event || applied.metadata !== appliedMetadata) {
    setApplied({ event: filters.event, metadata: appliedMetadata });
    if (applied.event !== filters.event) setEventId(filters.event);
    if (applied.metadata !== appliedMetadata) setMetadata(appliedMetadata);
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onChange({ event: eventId.trim(), metadata: parseMetadataText(metadata) });
  };

  const toggle = (status: RunStatus, checked: boolean) =>
    onChange({
      statuses: checked
        ? runStatuses.filter((s) => s === status || filters.statuses.includes(s))
        : filters.statuses.filter((s) => s !== status),
    });

  return (
    <form className="card run-filters" aria-label="Filter runs" onSubmit={submit}>
      <fieldset className="status-filter">
        <legend>Status</legend>
        {runStatuses.map((status) => (
          <label key={status}>
            <input
              type="checkbox"
              checked={filters.statuses.includes(status)}
              onChange={(event) => toggle(status, event.target.checked)}
            />
            {statusLabel(status)}
          </label>
        ))}
      </fieldset>
      <label className="field">
        <span>Workflow</span>
        <select
          value={filters.workflow}
          onChange={(event) => onChange({ workflow: event.target.value })}
        >
          <option value="">All workflows</option>
          {names.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Created from</span>
        <input
          type="datetime-local"
          value={filters.from}
          onChange={(event) => onChange({ from: event.target.value })}
        />
      </label>
      <label className="field">
        <span>Created before</span>
        <input
          type="datetime-local"
          value={filters.to}
          onChange={(event) => onChange({ to: event.target.value })}
        />
      </label>
      <label className="field">
        <span>Event</span>
        <input
          value={eventId}
          onChange={(event) => setEventId(event.target.value)}
          placeholder="event id"
          size={36}
          className="code"
        />
      </label>
      <MetadataField value={metadata} onChange={setMetadata} />
      <button type="submit" className="button">
        Apply
      </button>
      {workflows.error && (
        <p className="form-error">Could not load the workflows: {workflows.error.message}</p>
      )}
    </form>
  );
}

function RunsTable({
  runs,
  selected,
  onSelect,
}: {
  runs: Run[];
  selected: string[];
  onSelect: (run: Run, isSelected: boolean) => void;
}) {
  const { can } = useSession();
  const canSelect = can("editor");
  const columns = ["Run", "Input", "Workflow", "Status", "Trigger", "Created", "Duration"];
  return (
    <table className="data-table runs-table">
      <caption className="visually-hidden">Runs, newest first</caption>
      <TableHead columns={canSelect ? ["Select", ...columns] : columns} />
      <tbody>
        {runs.map((run) => (
          <tr key={run.id}>
            {canSelect && (
              <td>
                <input
                  type="checkbox"
                  aria-label={`Select run ${run.id}`}
                  checked={selected.includes(run.id)}
                  onChange={(event) => onSelect(run, event.target.checked)}
                />
              </td>
            )}
            <td>
              <RunLink runId={run.id} label={`Run ${run.id} of ${run.workflow}`} />
            </td>
            <td className="run-input-summary" title={run.input_summary}>
              {run.input_summary}
            </td>
            <td>{run.workflow}</td>
            <td>
              <StatusBadge status={run.status} />
            </td>
            <td>
              <RunTrigger run={run} />
            </td>
            <td>
              <RelativeTime value={run.created_at} />
            </td>
            <td>{formatDuration(elapsedMs(run.started_at, run.finished_at))}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
