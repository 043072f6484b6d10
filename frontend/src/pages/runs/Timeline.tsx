// When each step ran within the run: one horizontal bar per step, from its start to
// its finish (or to now while it runs), on a scale from the run's start to its end.
import type { StepRunStatus } from "../../api/types";
import { statusLabel, statusTone } from "../../components/StatusBadge";
import { elapsedMs, formatDuration } from "./format";

export interface TimelineStep {
  id: string;
  label: string;
  status: StepRunStatus;
  startedAt: string | null | undefined;
  finishedAt: string | null | undefined;
}

export interface TimelineProps {
  steps: TimelineStep[];
  /** The run's start; the scale begins there or at the earliest step start, if earlier. */
  runStartedAt?: string | null;
  /** Milliseconds since the epoch, for bars still growing. */
  now: number;
  selectedId?: string | null;
}

export interface Bar {
  /** Percent of the scale, from the left. */
  left: number;
  width: number;
  durationMs: number | null;
}

/** Places each started step on a scale from the first start to the last finish (or now). */
export function layoutBars(
  steps: TimelineStep[],
  runStartedAt: string | null | undefined,
  now: number,
): Map<string, Bar | null> {
  const starts = steps.flatMap((step) => (step.startedAt ? [Date.parse(step.startedAt)] : []));
  // A retried run starts again, after the steps that had already succeeded: the scale
  // begins at whichever came first.
  const runStart = runStartedAt ? Date.parse(runStartedAt) : Number.NaN;
  const origin = Math.min(...(Number.isNaN(runStart) ? starts : [runStart, ...starts]));
  const ends = steps.flatMap((step) =>
    step.startedAt ? [step.finishedAt ? Date.parse(step.finishedAt) : now] : [],
  );
  const span = Math.max(1, Math.max(origin, ...ends) - origin);
  const bars = new Map<string, Bar | null>();
  for (const step of steps) {
    if (!step.startedAt || Number.isNaN(origin)) {
      bars.set(step.id, null);
      continue;
    }
    const start = Date.parse(step.startedAt) - origin;
    const end = (step.finishedAt ? Date.parse(step.finishedAt) : now) - origin;
    const left = clamp((start / span) * 100);
    bars.set(step.id, {
      left,
      // A very short step still gets a visible sliver.
      width: Math.max(0.75, Math.min(100 - left, ((end - start) / span) * 100)),
      durationMs: elapsedMs(step.startedAt, step.finishedAt, now),
    });
  }
  return bars;
}

function clamp(percent: number): number {
  return Math.min(100, Math.max(0, percent));
}

export function Timeline({ steps, runStartedAt, now, selectedId = null }: TimelineProps) {
  const bars = layoutBars(steps, runStartedAt, now);
  return (
    <ol className="timeline" aria-label="Step timeline">
      {steps.map((step) => {
        const bar = bars.get(step.id) ?? null;
        const tone = statusTone(step.status);
        const summary = bar
          ? `${statusLabel(step.status)}, ${formatDuration(bar.durationMs)}`
          : "Not started";
        return (
          <li
            key={step.id}
            className={`timeline-row${step.id === selectedId ? " selected" : ""}`}
            data-step={step.label}
          >
            <span className="timeline-label">{step.label}</span>
            <span className="timeline-track">
              {bar && (
                <span
                  className={`timeline-bar tone-${tone}`}
                  style={{ left: `${bar.left}%`, width: `${bar.width}%` }}
                  title={summary}
                />
              )}
            </span>
            <span className="timeline-duration">{summary}</span>
          </li>
        );
      })}
    </ol>
  );
}
