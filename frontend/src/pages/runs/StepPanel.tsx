// Everything about one step run: status, what it received and returned, each
// attempt (worker, timings, error and traceback), its logs and its streamed output.
import { useMemo } from "react";
import type { Attempt, DurableWait, RunDetail, StepRun, StepRunLine } from "../../api/types";
import { JsonViewer } from "../../components/JsonViewer";
import { OutputView } from "../../components/OutputView";
import { StatusBadge } from "../../components/StatusBadge";
import { useStepRunLogs, useStepRunStream } from "./api";
import { Waits } from "./Waits";
import { elapsedMs, formatDuration, formatTime, isFinished } from "./format";
import { shownLines, streamText, withStored, type LineBook, type LiveLine } from "../../api/lines";

export interface StepPanelProps {
  run: RunDetail;
  stepRun: StepRun;
  /** Lines that arrived over the run's socket. */
  liveLines: LineBook;
  /** A durable step's waits, as the run's GET answers them. */
  waits?: DurableWait[];
}

function asLive(stepRunId: string, kind: LiveLine["kind"], lines: StepRunLine[]): LiveLine[] {
  return lines.map((line) => ({ ...line, level: line.level ?? "", step_run_id: stepRunId, kind }));
}

export function StepPanel({ run, stepRun, liveLines, waits = [] }: StepPanelProps) {
  const logs = useStepRunLogs(stepRun.id);
  const stream = useStepRunStream(stepRun.id);

  const { logLines, streamed } = useMemo(() => {
    // The endpoints' pages are stored lines too: a page opened without its socket
    // still shows them.
    const all = withStored(
      withStored(liveLines, asLive(stepRun.id, "log", logs.data?.results ?? [])),
      asLive(stepRun.id, "stream", stream.data?.results ?? []),
    );
    // The stream shows the latest attempt's output, as the stream endpoint does.
    return { logLines: shownLines(all, stepRun.id, "log"), streamed: streamText(all, stepRun.id) };
  }, [liveLines, logs.data, stream.data, stepRun.id]);

  const parents = Object.fromEntries(
    run.step_runs
      .filter((other) => stepRun.parents.includes(other.step))
      .map((other) => [other.step, other.output ?? null]),
  );
  const attempts = [...stepRun.attempts].sort((a, b) => b.number - a.number);

  return (
    <section className="card step-panel" aria-labelledby={`step-${stepRun.id}`}>
      <header className="step-panel-header">
        <h2 id={`step-${stepRun.id}`}>
          Step <code>{stepRun.step}</code>
        </h2>
        <StatusBadge status={stepRun.status} />
        <span className="muted">
          attempt {stepRun.attempt ?? 0} ·{" "}
          {formatDuration(elapsedMs(stepRun.started_at, stepRun.finished_at))}
        </span>
      </header>
      {stepRun.error && <p className="form-error step-error">{stepRun.error}</p>}

      <div className="grid-2">
        <details open>
          <summary>Input</summary>
          <JsonViewer value={{ input: run.input, parents }} label={`Input of ${stepRun.step}`} />
        </details>
        <details open>
          <summary>Output</summary>
          {stepRun.output === null || stepRun.output === undefined ? (
            <p className="muted">
              {isFinished(stepRun.status) ? "No output." : "Not finished yet."}
            </p>
          ) : (
            <OutputView value={stepRun.output} label={`Output of ${stepRun.step}`} />
          )}
        </details>
      </div>

      {stepRun.playground.length > 0 && (
        <details>
          <summary>Playground values ({stepRun.playground.length})</summary>
          <JsonViewer
            value={stepRun.playground}
            label={`Playground values of ${stepRun.step}`}
            expandDepth={2}
          />
        </details>
      )}

      <Waits stepRun={stepRun} waits={waits} />

      <h3>Attempts</h3>
      {attempts.length === 0 ? (
        <p className="muted">
          No attempt yet: the step is waiting for {stepRun.parents.length ? "its parents or " : ""}a
          worker.
        </p>
      ) : (
        <ol className="attempts" reversed aria-label={`Attempts of ${stepRun.step}`}>
          {attempts.map((attempt) => (
            <AttemptView key={attempt.number} attempt={attempt} />
          ))}
        </ol>
      )}

      <h3>Logs</h3>
      {logs.error && <p className="form-error">Could not load the logs: {logs.error.message}</p>}
      {logLines.length === 0 ? (
        <p className="muted">{logs.loading ? "Loading logs…" : "No log lines."}</p>
      ) : (
        <pre className="log-lines" aria-label={`Logs of ${stepRun.step}`}>
          {logLines.map((line) => (
            <span
              key={`${line.attempt}/${line.seq}`}
              className={`log-line level-${line.level || "info"}`}
            >
              <span className="log-attempt">#{line.attempt}</span> {line.text}
              {"\n"}
            </span>
          ))}
        </pre>
      )}

      <h3>Stream</h3>
      {stream.error && (
        <p className="form-error">Could not load the stream: {stream.error.message}</p>
      )}
      {streamed ? (
        <pre className="stream-output" aria-label={`Stream of ${stepRun.step}`} aria-live="polite">
          {streamed}
        </pre>
      ) : (
        <p className="muted">{stream.loading ? "Loading stream…" : "No streamed output."}</p>
      )}
    </section>
  );
}

function AttemptView({ attempt }: { attempt: Attempt }) {
  return (
    <li className="attempt">
      <div className="attempt-summary">
        <strong>Attempt {attempt.number}</strong>
        <StatusBadge status={attempt.status} />
        <span>worker {attempt.worker_name || attempt.worker_id || "—"}</span>
        <span className="muted">
          started {formatTime(attempt.started_at)} · finished {formatTime(attempt.finished_at)} ·{" "}
          {formatDuration(elapsedMs(attempt.started_at, attempt.finished_at))}
        </span>
      </div>
      {attempt.error && <p className="attempt-error">{attempt.error}</p>}
      {attempt.traceback && (
        <details open={attempt.status !== "SUCCEEDED"}>
          <summary>Traceback</summary>
          <pre className="traceback" aria-label={`Traceback of attempt ${attempt.number}`}>
            {attempt.traceback}
          </pre>
        </details>
      )}
    </li>
  );
}
