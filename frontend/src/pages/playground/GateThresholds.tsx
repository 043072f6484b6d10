// The workflow's regression thresholds: how far a variant may fall behind the defaults
// in code on an evaluator's pass rate or mean score (or the least it must reach) before
// `manage.py playground evaluate` and the pull request's hatchet/evaluation status fail.
import { useState, type FormEvent } from "react";
import type { GateMetric, Threshold } from "../../api/types";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { RequireRole } from "../../components/RequireRole";
import { useDeleteThreshold, useEvaluators, useSetThreshold, useThresholds } from "./api";

const metricNames: Record<GateMetric, string> = {
  pass_rate: "pass rate",
  mean_score: "mean score",
};

/** "may drop at most 0.05", "at least 0.8", or both. */
export function boundText(threshold: Pick<Threshold, "max_drop" | "at_least">): string {
  const parts = [];
  if (threshold.max_drop != null) parts.push(`may drop at most ${threshold.max_drop}`);
  if (threshold.at_least != null) parts.push(`at least ${threshold.at_least}`);
  return parts.join(", ");
}

function bound(text: string): number | null {
  return text.trim() === "" ? null : Number(text);
}

export function GateThresholds({ workflow }: { workflow: string }) {
  const thresholds = useThresholds(workflow);
  const evaluators = useEvaluators(workflow);
  const save = useSetThreshold();
  const [evaluator, setEvaluator] = useState("");
  const [metric, setMetric] = useState<GateMetric>("pass_rate");
  const [maxDrop, setMaxDrop] = useState("");
  const [atLeast, setAtLeast] = useState("");
  const names = evaluators.data?.results.map((e) => e.name) ?? [];
  const chosen = evaluator || names[0] || "";
  const hasBound = maxDrop.trim() !== "" || atLeast.trim() !== "";

  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate({
      workflow,
      evaluator: chosen,
      metric,
      max_drop: bound(maxDrop),
      at_least: bound(atLeast),
    });
  }

  return (
    <div className="gate-thresholds">
      <h4>Regression thresholds</h4>
      <p className="muted">
        The pull request's <code>hatchet/evaluation</code> status and the CI gate fail when the
        variant breaks one; with none set, no evaluator's pass rate may drop.
      </p>
      <ul aria-label="Regression thresholds">
        {thresholds.data?.results.map((threshold) => (
          <ThresholdRow key={threshold.id} threshold={threshold} />
        ))}
      </ul>
      <RequireRole role="editor">
        {names.length === 0 ? (
          <p className="muted">Attach an evaluator to the workflow to set a threshold.</p>
        ) : (
          <form className="threshold-form" onSubmit={submit}>
            <select
              aria-label="Evaluator"
              value={chosen}
              onChange={(e) => setEvaluator(e.target.value)}
            >
              {names.map((name) => (
                <option key={name}>{name}</option>
              ))}
            </select>
            <select
              aria-label="Metric"
              value={metric}
              onChange={(e) => setMetric(e.target.value as GateMetric)}
            >
              <option value="pass_rate">pass rate</option>
              <option value="mean_score">mean score</option>
            </select>
            <BoundInput label="May drop at most" value={maxDrop} onChange={setMaxDrop} />
            <BoundInput label="At least" value={atLeast} onChange={setAtLeast} />
            <button type="submit" className="button" disabled={!hasBound || save.isPending}>
              Set threshold
            </button>
          </form>
        )}
      </RequireRole>
      <ApiErrorMessage error={save.error} />
    </div>
  );
}

/** A bound from 0 to 1, blank for none. */
function BoundInput({
  label,
  value,
  onChange,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <input
      aria-label={label}
      type="number"
      min={0}
      max={1}
      step={0.01}
      placeholder={label.toLowerCase()}
      value={value}
      onChange={(e) => onChange(e.target.value)}
    />
  );
}

function ThresholdRow({ threshold }: { threshold: Threshold }) {
  const remove = useDeleteThreshold(threshold.id);
  return (
    <li>
      {threshold.evaluator} {metricNames[threshold.metric]}: {boundText(threshold)}{" "}
      <RequireRole role="editor">
        <button
          type="button"
          className="button small"
          aria-label={`Remove the threshold on ${threshold.evaluator} ${metricNames[threshold.metric]}`}
          disabled={remove.isPending}
          onClick={() => remove.mutate(undefined)}
        >
          Remove
        </button>
      </RequireRole>
      <ApiErrorMessage error={remove.error} />
    </li>
  );
}
