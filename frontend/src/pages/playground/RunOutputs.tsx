// The outputs of the runs the "Run" button started: each streams in over the run's
// websocket, then shows the step's final output, or what it stored of its stream
// (with its error).
import { useCallback, useReducer } from "react";
import { Link } from "react-router-dom";
import type { Fill } from "../../api/lines";
import { useLineFill, useSocket } from "../../api/useApi";
import { StatusBadge } from "../../components/StatusBadge";
import { ErrorState } from "../../components/StateViews";
import { useRun, useStepRunStream } from "../runs/api";
import {
  emptyLiveRun,
  isTerminal,
  liveRunReducer,
  outputText,
  stepRunOf,
  streamedText,
  type RunSocketMessage,
} from "./model";

// An output shows the stream, so a gap is filled with stream chunks.
const shownKinds = ["stream"] as const;

export interface StartedRun {
  runId: string;
  title: string;
}

export function RunOutputs({ runs, step }: { runs: StartedRun[]; step: string }) {
  return (
    <ol className="run-outputs">
      {runs.map((run) => (
        <li key={run.runId}>
          <RunOutput run={run} step={step} />
        </li>
      ))}
    </ol>
  );
}

function RunOutput({ run, step }: { run: StartedRun; step: string }) {
  const [live, dispatch] = useReducer(liveRunReducer, emptyLiveRun);
  const isDone = isTerminal(live.status);
  useSocket<RunSocketMessage>(isDone ? null : `/runs/${run.runId}`, dispatch);
  useLineFill(
    live.lines,
    shownKinds,
    useCallback((fill: Fill) => dispatch({ type: "lines.filled", fill }), []),
  );
  const detail = useRun(isDone ? run.runId : null);
  const stepRun = detail.data?.step_runs.find((candidate) => candidate.step === step);
  const finalText = stepRun && stepRun.status === "SUCCEEDED" ? outputText(stepRun.output) : null;
  // Once the run is over its socket is closed: the stream shown is the stored one.
  const stored = useStepRunStream(
    isDone && finalText === null ? (stepRunOf(live, step) ?? null) : null,
    1,
  );
  const streamed = stored.data?.text ?? streamedText(live, step);

  return (
    <article className="card run-output" aria-label={`Output for ${run.title}`}>
      <header className="run-output-header">
        <span className="run-output-title" title={run.title}>
          {run.title}
        </span>
        {live.status ? (
          <StatusBadge status={live.status} />
        ) : (
          <span className="muted">Connecting…</span>
        )}
        <Link to={`/runs/${run.runId}`} className="muted">
          Open run
        </Link>
      </header>
      {finalText !== null ? (
        <pre className="run-output-text final" aria-label={`${step} output`}>
          {finalText}
        </pre>
      ) : (
        <pre className="run-output-text streaming" aria-live="polite" aria-label="Streamed output">
          {streamed || (isDone ? "" : "Waiting for output…")}
          {!isDone && <span className="cursor" aria-hidden="true" />}
        </pre>
      )}
      {detail.error && <ErrorState error={detail.error} onRetry={detail.reload} />}
      {stepRun?.error && <p className="form-error">{stepRun.error}</p>}
      {detail.data?.error && !stepRun?.error && <p className="form-error">{detail.data.error}</p>}
    </article>
  );
}
