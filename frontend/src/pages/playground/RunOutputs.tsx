// The outputs of the runs the "Run" button started: each streams in over the run's
// websocket, then shows the step's final output, or what it stored of its stream
// with the reason the run ended without output (the step that failed, and how).
import { useCallback, useReducer } from "react";
import { Link } from "react-router-dom";
import type { Fill } from "../../api/lines";
import { useLineFill, useSocket } from "../../api/useApi";
import { OutputView } from "../../components/OutputView";
import { StatusBadge } from "../../components/StatusBadge";
import { ErrorState } from "../../components/StateViews";
import { useRun, useStepRunStream } from "../runs/api";
import {
  emptyLiveRun,
  failureOf,
  isTerminal,
  liveRunReducer,
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
  const hasOutput =
    stepRun?.status === "SUCCEEDED" && stepRun.output !== null && stepRun.output !== undefined;
  // Once the run is over its socket is closed: the stream shown is the stored one.
  const stored = useStepRunStream(isDone && !hasOutput ? (stepRunOf(live, step) ?? null) : null, 1);
  const streamed = stored.data?.text ?? streamedText(live, step);
  const failure = detail.data && !hasOutput ? failureOf(detail.data, step) : "";

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
      {hasOutput ? (
        <div className="run-output-text final">
          <OutputView value={stepRun.output} label={`${step} output`} />
        </div>
      ) : (
        // A finished run that streamed nothing shows only why it has no output.
        (!isDone || streamed !== "") && (
          <pre
            className="run-output-text streaming"
            aria-live="polite"
            aria-label="Streamed output"
          >
            {streamed || "Waiting for output…"}
            {!isDone && <span className="cursor" aria-hidden="true" />}
          </pre>
        )
      )}
      {detail.error && <ErrorState error={detail.error} onRetry={detail.reload} />}
      {failure && <p className="form-error">{failure}</p>}
      {detail.data && !hasOutput && !streamed && !failure && <p className="muted">(no output)</p>}
    </article>
  );
}
