// Events: the tenant's event log, filtered by key, time and metadata (kept in the
// URL), with each event's payload at a glance and the runs it started on demand.
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import type { Event } from "../../api/types";
import { Pagination } from "../../components/Pagination";
import { RelativeTime } from "../../components/RelativeTime";
import { MetadataField, metadataText, parseMetadataText } from "../../components/MetadataField";
import { AsyncView, Empty } from "../../components/StateViews";
import { StatusBadge } from "../../components/StatusBadge";
import { TableHead } from "../../components/TableHead";
import {
  filtersFromSearch,
  pageSize,
  previewJson,
  searchFromFilters,
  type EventFilters,
} from "./eventFilters";
import { useEvent, useEvents } from "./api";
import "./events.css";

export function EventsPage() {
  const [search, setSearch] = useSearchParams();
  const filters = filtersFromSearch(search);
  const events = useEvents(filters);
  const isFiltered = searchFromFilters({ ...filters, offset: 0 }).toString() !== "";

  const apply = (next: EventFilters) => setSearch(searchFromFilters(next));

  return (
    <section className="page">
      <div className="page-header">
        <h1>Events</h1>
      </div>
      <FilterForm key={search.toString()} filters={filters} onApply={apply} />
      <AsyncView
        {...events}
        onRetry={events.reload}
        empty={
          <Empty
            message={
              isFiltered
                ? "No events match these filters."
                : "No events yet. Push one with hatchet.event.push(key, payload)."
            }
          />
        }
      >
        {(page) => (
          <>
            <EventsTable events={page.results} />
            <Pagination
              count={page.count}
              countCapped={page.count_capped}
              hasNext={page.next != null}
              limit={pageSize}
              offset={filters.offset}
              onChange={(offset) => apply({ ...filters, offset })}
            />
          </>
        )}
      </AsyncView>
    </section>
  );
}

function FilterForm({
  filters,
  onApply,
}: {
  filters: EventFilters;
  onApply: (next: EventFilters) => void;
}) {
  const [key, setKey] = useState(filters.key);
  const [keyPrefix, setKeyPrefix] = useState(filters.keyPrefix);
  const [createdAfter, setCreatedAfter] = useState(filters.createdAfter);
  const [createdBefore, setCreatedBefore] = useState(filters.createdBefore);
  const [metadata, setMetadata] = useState(metadataText(filters.metadata));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply({
      key: key.trim(),
      keyPrefix: keyPrefix.trim(),
      createdAfter,
      createdBefore,
      metadata: parseMetadataText(metadata),
      offset: 0,
    });
  };
  const clear = () =>
    onApply({
      key: "",
      keyPrefix: "",
      createdAfter: "",
      createdBefore: "",
      metadata: [],
      offset: 0,
    });

  return (
    <form className="card filter-form" onSubmit={submit} aria-label="Event filters">
      <label className="field">
        <span>Key</span>
        <input
          value={key}
          onChange={(event) => setKey(event.target.value)}
          placeholder="ticket:* or ticket:created"
        />
      </label>
      <label className="field">
        <span>Key starts with</span>
        <input
          value={keyPrefix}
          onChange={(event) => setKeyPrefix(event.target.value)}
          placeholder="ticket:"
        />
      </label>
      <label className="field">
        <span>Created after</span>
        <input
          type="datetime-local"
          value={createdAfter}
          onChange={(event) => setCreatedAfter(event.target.value)}
        />
      </label>
      <label className="field">
        <span>Created before</span>
        <input
          type="datetime-local"
          value={createdBefore}
          onChange={(event) => setCreatedBefore(event.target.value)}
        />
      </label>
      <MetadataField value={metadata} onChange={setMetadata} />
      <div className="toolbar filter-actions">
        <button type="submit" className="button primary">
          Apply filters
        </button>
        <button type="button" className="button" onClick={clear}>
          Clear
        </button>
      </div>
    </form>
  );
}

function EventsTable({ events }: { events: Event[] }) {
  return (
    <table className="data-table events-table">
      <TableHead columns={["Key", "Payload", "Metadata", "Received", "Runs started"]} />
      <tbody>
        {events.map((event) => (
          <EventRow key={event.id} event={event} />
        ))}
      </tbody>
    </table>
  );
}

function EventRow({ event }: { event: Event }) {
  const [isOpen, setIsOpen] = useState(false);
  const hasMetadata = Object.keys(event.additional_metadata ?? {}).length > 0;
  return (
    <tr>
      <td>
        <Link to={`/events/${event.id}`}>
          <code>{event.key}</code>
        </Link>
      </td>
      <td>
        <code className="json-preview" title={JSON.stringify(event.payload, null, 2)}>
          {previewJson(event.payload)}
        </code>
      </td>
      <td>
        {hasMetadata ? (
          <code className="json-preview">{previewJson(event.additional_metadata, 60)}</code>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td>
        <RelativeTime value={event.created_at} />
      </td>
      <td>
        <button
          type="button"
          className="button small"
          aria-expanded={isOpen}
          aria-label={`${isOpen ? "Hide" : "Show"} runs of ${event.key} event`}
          onClick={() => setIsOpen(!isOpen)}
        >
          {isOpen ? "Hide runs" : "Show runs"}
        </button>
        {isOpen && <StartedRuns eventId={event.id} />}
      </td>
    </tr>
  );
}

/** The runs an event started, fetched when asked for (the list does not carry them). */
function StartedRuns({ eventId }: { eventId: string }) {
  const detail = useEvent(eventId);
  return (
    <AsyncView
      {...detail}
      onRetry={detail.reload}
      isEmpty={(event) => event.runs.length === 0}
      empty={<p className="muted">No workflow listened for it.</p>}
    >
      {(event) => (
        <ul className="started-runs">
          {event.runs.map((run) => (
            <li key={run.id}>
              <Link to={`/runs/${run.id}`}>{run.workflow}</Link> <StatusBadge status={run.status} />
            </li>
          ))}
        </ul>
      )}
    </AsyncView>
  );
}
