// One run: what started it and with what, its steps as a graph coloured by status,
// the chosen step's details, a timeline, and (for editors) cancel, retry and replay.
// It follows the run live over its websocket.
import { useEffect, useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import type { RunDetail, RunDetailWithWaits } from "../../api/types";
import { Dag, type DagStep } from "../../components/Dag";
import { JsonViewer } from "../../components/JsonViewer";
import { RequireRole } from "../../components/RequireRole";
import { AsyncView } from "../../components/StateViews";
import { StatusBadge } from "../../components/StatusBadge";
import { elapsedMs, formatDuration, formatTime, isFinished } from "./format";
import type { LineBook } from "../../api/lines";
import { useLiveRun } from "./live";
import { ChildRuns, childrenPath, SpawnedBy } from "./Children";
import { RunActions } from "./RunActions";
import { RunTrigger } from "./RunTrigger";
import { StepPanel } from "./StepPanel";
import { Timeline } from "./Timeline";
import "./runs.css";

export function RunPage() {
  const { runId = "" } = useParams();
  const live = useLiveRun(runId);
  return (
    <section className="page run-page">
      <AsyncView loading={live.loading} error={live.error} data={live.data} onRetry={live.reload}>
        {(run) => <RunView key={run.id} run={run} lines={live.lines} socket={live.socket} />}
      </AsyncView>
    </section>
  );
}

/** Milliseconds since the epoch, ticking every second while `ticking`; when it stops,
 * the moment it stopped. */
function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => {
      window.clearInterval(timer);
      setNow(Date.now());
    };
  }, [ticking]);
  return now;
}

function defaultStepId(run: RunDetail): string | null {
  const failed = run.step_runs.find(
    (stepRun) => stepRun.status === "FAILED" || stepRun.status === "TIMED_OUT",
  );
  return (failed ?? run.step_runs[0])?.id ?? null;
}

const socketLabel = { open: "Live", connecting: "Connecting…", closed: "Reconnecting…" } as const;

/** Child runs a step spawned are drawn one by one up to this many; beyond, as one node. */
const childNodesShown = 4;
const childPrefix = "child:";
const childrenPrefix = "children:";

/** The run's steps, and after each step that spawned runs, its children: each one, or
 * one node standing for them all when there are many. */
export function dagStepsOf(run: RunDetail & Partial<RunDetailWithWaits>): DagStep[] {
  const idByName = new Map(run.step_runs.map((stepRun) => [stepRun.step, stepRun.id]));
  const steps: DagStep[] = run.step_runs.map((stepRun) => ({
    id: stepRun.id,
    label: stepRun.step,
    status: stepRun.status,
    parents: stepRun.parents.flatMap((name) => idByName.get(name) ?? []),
  }));
  const children = run.children;
  if (!children) return steps;
  for (const [stepRunId, count] of Object.entries(children.by_step_run)) {
    const shown = children.runs.filter((child) => child.parent_step_run === stepRunId);
    if (count <= childNodesShown && shown.length === count) {
      for (const child of shown) {
        steps.push({
          id: `${childPrefix}${child.id}`,
          label: `↳ ${child.workflow}`,
          status: child.status,
          parents: [stepRunId],
        });
      }
    } else {
      steps.push({
        id: `${childrenPrefix}${stepRunId}`,
        label: `↳ ${count} child runs`,
        parents: [stepRunId],
      });
    }
  }
  return steps;
}

function RunView({
  run,
  lines,
  socket,
}: {
  run: RunDetail & Partial<RunDetailWithWaits>;
  lines: LineBook;
  socket: keyof typeof socketLabel;
}) {
  const navigate = useNavigate();
  const [selectedId, setSelectedId] = useState<string | null>(() => defaultStepId(run));
  const finished = isFinished(run.status);
  const now = useNow(!finished);
  const selected = run.step_runs.find((stepRun) => stepRun.id === selectedId) ?? null;

  const dagSteps = useMemo<DagStep[]>(() => dagStepsOf(run), [run]);
  const choose = (id: string) => {
    if (id.startsWith(childPrefix)) navigate(`/runs/${id.slice(childPrefix.length)}`);
    else if (id.startsWith(childrenPrefix)) navigate(childrenPath(run.id));
    else setSelectedId(id);
  };

  const hasMetadata = Object.keys(run.additional_metadata).length > 0;
  const hasOverrides = Object.keys(run.overrides).length > 0;

  return (
    <>
      <header className="page-header run-header">
        <div className="run-title">
          <h1>
            <Link to={`/workflows/${encodeURIComponent(run.workflow)}`}>{run.workflow}</Link>{" "}
            <span className="muted">run</span> <StatusBadge status={run.status} />
          </h1>
          {!finished && (
            <span className={`live-indicator ${socket}`} role="status">
              {socketLabel[socket]}
            </span>
          )}
        </div>
        <RequireRole role="editor">
          <RunActions run={run} />
        </RequireRole>
      </header>

      <dl className="run-facts card">
        <div>
          <dt>Run</dt>
          <dd>
            <code>{run.id}</code>
          </dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>{run.version}</dd>
        </div>
        <div>
          <dt>Trigger</dt>
          <dd>
            <RunTrigger run={run} />
          </dd>
        </div>
        {run.spawned_by && (
          <div>
            <dt>Spawned by</dt>
            <dd>
              <SpawnedBy parent={run.spawned_by} />
            </dd>
          </div>
        )}
        {run.concurrency_key && (
          <div>
            <dt>Concurrency key</dt>
            <dd>
              <code>{run.concurrency_key}</code>
            </dd>
          </div>
        )}
        <div>
          <dt>Priority</dt>
          <dd>{run.priority} of 4</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{formatTime(run.created_at)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatTime(run.started_at)}</dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>{formatTime(run.finished_at)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(elapsedMs(run.started_at, run.finished_at, now))}</dd>
        </div>
      </dl>
      <WaitReasons run={run} />
      {run.error && (
        <p className="form-error run-error">
          <strong>Error:</strong> {run.error}
        </p>
      )}

      <div className="split-layout run-layout">
        <div className="split-column">
          <section className="card" aria-labelledby="steps-heading">
            <h2 id="steps-heading">Steps</h2>
            <Dag steps={dagSteps} selectedId={selectedId} onSelect={choose} height={220} />
          </section>
          {run.children && <ChildRuns runId={run.id} children={run.children} />}
          <section className="card" aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">Timeline</h2>
            <Timeline
              steps={run.step_runs.map((stepRun) => ({
                id: stepRun.id,
                label: stepRun.step,
                status: stepRun.status,
                startedAt: stepRun.started_at,
                finishedAt: stepRun.finished_at,
              }))}
              runStartedAt={run.started_at}
              now={now}
              selectedId={selectedId}
            />
          </section>
          <section className="card" aria-labelledby="input-heading">
            <h2 id="input-heading">Input</h2>
            <JsonViewer value={run.input} label="Run input" />
            {hasMetadata && (
              <>
                <h3>Metadata</h3>
                <JsonViewer value={run.additional_metadata} label="Run metadata" />
              </>
            )}
            {hasOverrides && (
              <>
                <h3>Overrides</h3>
                <JsonViewer value={run.overrides} label="Run overrides" />
              </>
            )}
          </section>
        </div>
        <div className="split-column">
          {selected ? (
            <StepPanel
              run={run}
              stepRun={selected}
              liveLines={lines}
              waits={run.step_waits?.[selected.id]}
            />
          ) : (
            <p className="card muted">Choose a step in the graph to see its details.</p>
          )}
        </div>
      </div>
    </>
  );
}

/** Why the run, and each queued step of it, waits: a run's GET says so; the answer of a
 * cancel or retry, which may stand in for it meanwhile, does not. */
function WaitReasons({ run }: { run: RunDetail & Partial<RunDetailWithWaits> }) {
  const stepReasons = run.step_waiting_reasons ?? {};
  const waitingSteps = run.step_runs.filter((stepRun) => stepReasons[stepRun.id]);
  if (!run.waiting_reason && waitingSteps.length === 0) return null;
  return (
    <ul className="muted run-waiting" aria-label="Why it waits">
      {run.waiting_reason && <li>Waiting: {run.waiting_reason}</li>}
      {waitingSteps.map((stepRun) => (
        <li key={stepRun.id}>
          Step {stepRun.step} is queued: {stepReasons[stepRun.id]}
        </li>
      ))}
    </ul>
  );
}
