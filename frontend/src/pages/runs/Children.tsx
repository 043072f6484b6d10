// A run's links to other runs: the step run that spawned it, and the child runs its
// steps spawned (the first ones, with the count of each status and a link to all).
import { Link } from "react-router-dom";
import type { ChildrenSummary, ParentLink } from "../../api/types";
import { StatusBadge } from "../../components/StatusBadge";
import { formatTime } from "./format";

export function childrenPath(runId: string): string {
  return `/runs?parent_run=${encodeURIComponent(runId)}`;
}

export function SpawnedBy({ parent }: { parent: ParentLink }) {
  return (
    <>
      <Link to={`/runs/${parent.run}`}>{parent.workflow}</Link>, step <code>{parent.step}</code>{" "}
      <span className="muted">(key {parent.spawn_key})</span>
    </>
  );
}

export function ChildRuns({ runId, children }: { runId: string; children: ChildrenSummary }) {
  if (children.count === 0) return null;
  const counts = Object.entries(children.by_status);
  return (
    <section className="card" aria-labelledby="children-heading">
      <h2 id="children-heading">Child runs ({children.count})</h2>
      <p className="muted" aria-label="Child runs by status">
        {counts.map(([status, count]) => `${count} ${status.toLowerCase()}`).join(" · ")}
      </p>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Key</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {children.runs.map((child) => (
            <tr key={child.id}>
              <td>
                <Link to={`/runs/${child.id}`}>{child.workflow}</Link>
              </td>
              <td>
                <code>{child.spawn_key}</code>
              </td>
              <td>
                <StatusBadge status={child.status} />
              </td>
              <td>{formatTime(child.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {children.count > children.runs.length && (
        <p>
          <Link to={childrenPath(runId)}>All {children.count} child runs</Link>
        </p>
      )}
    </section>
  );
}
