// One workflow: its latest version's step graph, its versions, what triggers it
// (events and crons, with the next fire time), its recent runs, and for editors a
// form to trigger a run.
import { useMemo } from "react";
import { Link, useParams } from "react-router-dom";
import type { WorkflowDetail } from "../../api/types";
import { Dag, type DagStep } from "../../components/Dag";
import { RelativeTime } from "../../components/RelativeTime";
import { RequireRole } from "../../components/RequireRole";
import { RunLink } from "../../components/RunLink";
import { AsyncView } from "../../components/StateViews";
import { StatusBadge } from "../../components/StatusBadge";
import { TableHead } from "../../components/TableHead";
import { useCrons } from "../triggers/api";
import { useSetPaused, useWorkflow } from "./api";
import { TriggerRunForm } from "./TriggerRunForm";
import "./workflows.css";

export function WorkflowPage() {
  const { name = "" } = useParams();
  const detail = useWorkflow(name);
  return (
    <section className="page workflow-page">
      <header className="page-header">
        <h1>
          <span className="muted">Workflow</span> {name}
        </h1>
      </header>
      <AsyncView
        loading={detail.loading}
        error={detail.error}
        data={detail.data}
        onRetry={detail.reload}
      >
        {(workflow) => <WorkflowView workflow={workflow} />}
      </AsyncView>
    </section>
  );
}

function WorkflowView({ workflow }: { workflow: WorkflowDetail }) {
  const steps = useMemo<DagStep[]>(
    () =>
      workflow.steps.map((step) => ({
        id: step.name,
        label: step.is_on_failure ? `${step.name} (on failure)` : step.name,
        parents: step.parents,
      })),
    [workflow.steps],
  );
  const versions = [...workflow.versions].sort((a, b) => b.number - a.number);

  return (
    <div className="split-layout workflow-layout">
      <div className="split-column">
        <section className="card" aria-labelledby="graph-heading">
          <h2 id="graph-heading">
            Steps <span className="muted">(version {workflow.latest_version ?? "—"})</span>
          </h2>
          {steps.length ? (
            <Dag steps={steps} height={220} />
          ) : (
            <p className="muted">This version has no steps.</p>
          )}
          <table className="data-table step-table">
            <caption className="visually-hidden">Step settings</caption>
            <TableHead columns={["Step", "Parents", "Timeout", "Retries", "Flow control"]} />
            <tbody>
              {workflow.steps.map((step) => (
                <tr key={step.name}>
                  <td>
                    <code>{step.name}</code>
                  </td>
                  <td>
                    {step.is_on_failure ? (
                      <span className="muted">runs when any other step fails for good</span>
                    ) : step.parents.length ? (
                      step.parents.join(", ")
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td>{step.timeout_seconds} s</td>
                  <td>{step.retries ?? 0}</td>
                  <td>
                    <FlowControl step={step} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>

        <section className="card" aria-labelledby="runs-heading">
          <h2 id="runs-heading">Recent runs</h2>
          {workflow.recent_runs.length === 0 ? (
            <p className="muted">No runs yet.</p>
          ) : (
            <ul className="recent-runs">
              {workflow.recent_runs.map((run) => (
                <li key={run.id}>
                  <RunLink runId={run.id} label={`Run ${run.id}`} />
                  <StatusBadge status={run.status} />
                  <RelativeTime value={run.created_at} />
                </li>
              ))}
            </ul>
          )}
          <Link to={`/runs?workflow=${encodeURIComponent(workflow.name)}`}>
            All runs of {workflow.name}
          </Link>
        </section>

        <section className="card" aria-labelledby="versions-heading">
          <h2 id="versions-heading">Versions</h2>
          <table className="data-table">
            <caption className="visually-hidden">Versions, newest first</caption>
            <TableHead columns={["Version", "Checksum", "Registered"]} />
            <tbody>
              {versions.map((version) => (
                <tr key={version.number}>
                  <td>{version.number}</td>
                  <td>
                    <code>{version.checksum.slice(0, 12)}</code>
                  </td>
                  <td>
                    <RelativeTime value={version.created_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>

      <div className="split-column">
        <PauseCard workflow={workflow} />
        <RequireRole role="editor">
          <section className="card" aria-labelledby="trigger-heading">
            <h2 id="trigger-heading">Trigger a run</h2>
            <TriggerRunForm workflow={workflow.name} />
          </section>
        </RequireRole>
        <TriggersCard workflow={workflow} />
      </div>
    </div>
  );
}

function PauseCard({ workflow }: { workflow: WorkflowDetail }) {
  const setPaused = useSetPaused(workflow.name, !workflow.is_paused);
  return (
    <section className="card" aria-labelledby="pause-heading">
      <h2 id="pause-heading">{workflow.is_paused ? "Paused" : "Running"}</h2>
      <p className="muted">
        {workflow.is_paused
          ? "New runs wait (crons, schedules and events still start them) until it resumes; then they go on in the order they came."
          : "Pausing holds new runs until it resumes; runs already going go on."}
      </p>
      <RequireRole role="editor">
        <button
          type="button"
          className="button"
          disabled={setPaused.isPending}
          onClick={() => setPaused.mutate(undefined)}
        >
          {workflow.is_paused ? "Resume" : "Pause"}
        </button>
        {setPaused.error && (
          <p className="form-error" role="alert">
            {setPaused.error.message}
          </p>
        )}
      </RequireRole>
    </section>
  );
}

function TriggersCard({ workflow }: { workflow: WorkflowDetail }) {
  const crons = useCrons(workflow.name);
  const events = workflow.triggers.on_events;
  return (
    <section className="card" aria-labelledby="triggers-heading">
      <h2 id="triggers-heading">Triggers</h2>
      <h3>Events</h3>
      {events.length === 0 ? (
        <p className="muted">No event triggers it.</p>
      ) : (
        <ul className="event-patterns">
          {events.map((pattern) => (
            <li key={pattern}>
              <code>{pattern}</code>
            </li>
          ))}
        </ul>
      )}
      <h3>Crons</h3>
      <AsyncView
        loading={crons.loading}
        error={crons.error}
        data={crons.data}
        onRetry={crons.reload}
        empty={<p className="muted">No cron runs it.</p>}
      >
        {(page) => (
          <table className="data-table">
            <caption className="visually-hidden">Crons</caption>
            <TableHead columns={["Schedule", "Source", "Next run"]} />
            <tbody>
              {page.results.map((cron) => (
                <tr key={cron.id}>
                  <td>
                    <code>{cron.expression}</code> <span className="muted">{cron.timezone}</span>
                    {cron.name && <div className="muted">{cron.name}</div>}
                  </td>
                  <td>{cron.source}</td>
                  <td>
                    {cron.is_paused ? (
                      <span className="muted">paused</span>
                    ) : (
                      <RelativeTime value={cron.next_fire_at} />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </AsyncView>
    </section>
  );
}

type Step = WorkflowDetail["steps"][number];

/** What holds a step back or sends it to some workers only, one line each. */
function FlowControl({ step }: { step: Step }) {
  const lines = flowControlOf(step);
  if (lines.length === 0) return <span className="muted">—</span>;
  return (
    <ul className="flow-control">
      {lines.map((line) => (
        <li key={line}>{line}</li>
      ))}
    </ul>
  );
}

function flowControlOf(step: Step): string[] {
  const lines = step.rate_limits.map((limit) => {
    const units = String(limit.units ?? 1);
    if (limit.key !== undefined) return `takes ${units} of rate limit ${String(limit.key)}`;
    return (
      `takes ${units} of rate limit per ${String(limit.dynamic_key)} ` +
      `(${String(limit.limit)} a ${String(limit.period)})`
    );
  });
  for (const [label, want] of Object.entries(step.desired_worker_labels)) {
    const wanted = `${label} ${String(want.comparator)} ${String(want.value)}`;
    lines.push(
      want.required ? `needs ${wanted}` : `prefers ${wanted} (weight ${String(want.weight)})`,
    );
  }
  if (step.concurrency) {
    lines.push(
      `at most ${String(step.concurrency.max_runs)} at once per ${String(step.concurrency.key)}`,
    );
  }
  if (step.sticky) lines.push(`stays on its run's worker (${step.sticky})`);
  return lines;
}
