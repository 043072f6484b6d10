// One event: its key, payload and metadata, the runs it started, and Replay
// (editors), which starts the runs again for the workflows that listen for it now.
import { Link, useParams } from "react-router-dom";
import { JsonViewer } from "../../components/JsonViewer";
import { RelativeTime } from "../../components/RelativeTime";
import { RequireRole } from "../../components/RequireRole";
import { RunLink } from "../../components/RunLink";
import { AsyncView, Empty } from "../../components/StateViews";
import { StatusBadge } from "../../components/StatusBadge";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { TableHead } from "../../components/TableHead";
import type { EventDetail, StartedRun } from "../../api/types";
import { useEvent, useReplayEvent } from "./api";
import "./events.css";

export function EventPage() {
  const { eventId = "" } = useParams();
  const event = useEvent(eventId);
  return (
    <section className="page">
      <p>
        <Link to="/events">← Events</Link>
      </p>
      <AsyncView {...event} onRetry={event.reload}>
        {(detail) => <EventView event={detail} />}
      </AsyncView>
    </section>
  );
}

function EventView({ event }: { event: EventDetail }) {
  return (
    <>
      <div className="page-header">
        <h1>
          Event <code>{event.key}</code>
        </h1>
        <RequireRole role="editor">
          <ReplayButton eventId={event.id} />
        </RequireRole>
      </div>
      <dl className="card event-facts">
        <dt>Id</dt>
        <dd>
          <code>{event.id}</code>
        </dd>
        <dt>Received</dt>
        <dd>
          <RelativeTime value={event.created_at} />
        </dd>
      </dl>
      <div className="grid-2">
        <section className="card event-card" aria-labelledby="payload-heading">
          <h2 id="payload-heading">Payload</h2>
          <JsonViewer value={event.payload} label="Payload" expandDepth={3} />
        </section>
        <section className="card event-card" aria-labelledby="metadata-heading">
          <h2 id="metadata-heading">Metadata</h2>
          <JsonViewer value={event.additional_metadata} label="Metadata" />
        </section>
      </div>
      <section aria-labelledby="runs-heading">
        <div className="page-header">
          <h2 id="runs-heading">Runs started</h2>
          <Link to={`/runs?event=${encodeURIComponent(event.id)}`}>All runs of this event</Link>
        </div>
        {event.runs.length === 0 ? (
          <Empty message="No workflow listened for this key when it arrived." />
        ) : (
          <RunsTable runs={event.runs} />
        )}
      </section>
    </>
  );
}

function RunsTable({ runs }: { runs: StartedRun[] }) {
  return (
    <table className="data-table">
      <TableHead columns={["Run", "Workflow", "Status", "Started"]} />
      <tbody>
        {runs.map((run) => (
          <tr key={run.id}>
            <td>
              <RunLink runId={run.id} />
            </td>
            <td>{run.workflow}</td>
            <td>
              <StatusBadge status={run.status} />
            </td>
            <td>
              <RelativeTime value={run.created_at} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ReplayButton({ eventId }: { eventId: string }) {
  const replay = useReplayEvent(eventId);
  return (
    <div className="replay-result">
      <div className="toolbar">
        <button
          type="button"
          className="button primary"
          disabled={replay.isPending}
          onClick={() => replay.mutate(undefined)}
        >
          Replay
        </button>
      </div>
      {replay.data && (
        <div role="status">
          {replay.data.length === 0 ? (
            "Replayed: no workflow listens for this key now, so no run started."
          ) : (
            <>
              Replayed: started{" "}
              {replay.data.map((run, index) => (
                <span key={run.id}>
                  {index > 0 && ", "}
                  <Link to={`/runs/${run.id}`}>{run.workflow}</Link>
                </span>
              ))}
              .
            </>
          )}
        </div>
      )}
      <ApiErrorMessage error={replay.error} />
    </div>
  );
}
