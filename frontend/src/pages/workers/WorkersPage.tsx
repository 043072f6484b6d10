// Workers: who is connected, how busy each one is and what it can run; live by polling.
import { RelativeTime } from "../../components/RelativeTime";
import { AsyncView, Empty } from "../../components/StateViews";
import { StatusBadge } from "../../components/StatusBadge";
import { TableHead } from "../../components/TableHead";
import { UsageMeter } from "../../components/UsageMeter";
import type { Worker } from "../../api/types";
import { useWorkers } from "./api";
import "./workers.css";

const pollMs = 3_000;

export function WorkersPage() {
  const workers = useWorkers({ pollMs });
  return (
    <section className="page">
      <div className="page-header">
        <h1>Workers</h1>
        <span className="muted">Refreshes every {pollMs / 1000} seconds</span>
      </div>
      <AsyncView
        {...workers}
        onRetry={workers.reload}
        // A page without a results list (an unexpected answer) reads as empty, not a crash.
        empty={
          <Empty
            message={
              <>
                No workers have connected yet. Start one with <code>worker.start()</code> from the
                SDK.
              </>
            }
          />
        }
      >
        {(page) => <WorkersTable workers={page.results} />}
      </AsyncView>
    </section>
  );
}

function WorkersTable({ workers }: { workers: Worker[] }) {
  return (
    <table className="data-table workers-table">
      <TableHead
        columns={[
          "Name",
          "Status",
          "Slots",
          "Actions",
          "Last heartbeat",
          "Connected",
          "SDK / node",
        ]}
      />
      <tbody>
        {workers.map((worker) => (
          <tr key={worker.id}>
            <td>
              <strong>{worker.name}</strong>
              <Labels labels={worker.labels} />
            </td>
            <td>
              <StatusBadge status={worker.status ?? "DISCONNECTED"} />
            </td>
            <td>
              <UsageMeter
                used={worker.used_slots}
                total={worker.slots}
                label="Slots in use"
                valueText={`${worker.used_slots} of ${worker.slots} slots in use`}
              >
                {worker.used_slots} used · {Math.max(worker.slots - worker.used_slots, 0)} free
              </UsageMeter>
            </td>
            <td>
              {worker.actions.length === 0 ? (
                <span className="muted">none</span>
              ) : (
                <ul className="worker-actions">
                  {worker.actions.map((action) => (
                    <li key={action}>
                      <code>{action}</code>
                    </li>
                  ))}
                </ul>
              )}
            </td>
            <td>
              <RelativeTime value={worker.last_heartbeat_at} />
            </td>
            <td>
              <RelativeTime value={worker.connected_at} />
            </td>
            <td className="muted">
              {worker.sdk_version || "—"}
              {worker.node && <div>{worker.node}</div>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Labels({ labels }: { labels: Record<string, unknown> }) {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return null;
  return (
    <div className="worker-labels">
      {entries.map(([key, value]) => (
        <span key={key} className="status-badge tone-neutral">
          {key}={typeof value === "string" ? value : JSON.stringify(value)}
        </span>
      ))}
    </div>
  );
}
