// What an editor can do to a run: cancel it while it is unfinished, retry it in
// place after it failed or was cancelled, or replay it (whole, or from one step) as
// a new run. Each shows the server's refusal beside it.
import { useState } from "react";
import { useNavigate } from "react-router-dom";
import type { ApiError } from "../../api/client";
import type { RunDetail } from "../../api/types";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { ConfirmButton } from "../../components/ConfirmButton";
import { useCancelRun, useReplayRun, useRetryRun } from "./api";
import { isFinished } from "./format";

export function RunActions({ run }: { run: RunDetail }) {
  const navigate = useNavigate();
  const [fromStep, setFromStep] = useState("");
  const cancel = useCancelRun(run.id);
  const retry = useRetryRun(run.id);
  const replay = useReplayRun(run.id, {
    onSuccess: (created) => navigate(`/runs/${created.id}`),
  });
  const canRetry = run.status === "FAILED" || run.status === "CANCELLED";
  const error: ApiError | null = cancel.error ?? retry.error ?? replay.error;

  const reset = () => {
    cancel.reset();
    retry.reset();
    replay.reset();
  };

  return (
    <div className="run-actions">
      <div className="toolbar">
        {!isFinished(run.status) && (
          <ConfirmButton
            disabled={cancel.isPending}
            confirmLabel="Confirm cancel"
            onConfirm={() => {
              reset();
              cancel.mutate(undefined);
            }}
          >
            Cancel
          </ConfirmButton>
        )}
        {canRetry && (
          <button
            type="button"
            className="button primary"
            disabled={retry.isPending}
            onClick={() => {
              reset();
              retry.mutate(undefined);
            }}
          >
            Retry
          </button>
        )}
        <label className="field inline-field">
          <span>Replay from</span>
          <select value={fromStep} onChange={(event) => setFromStep(event.target.value)}>
            <option value="">the start (whole run)</option>
            {run.step_runs.map((stepRun) => (
              <option key={stepRun.id} value={stepRun.step}>
                step {stepRun.step}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          className="button"
          disabled={replay.isPending}
          onClick={() => {
            reset();
            replay.mutate(fromStep ? { from_step: fromStep } : {});
          }}
        >
          Replay
        </button>
      </div>
      <ApiErrorMessage error={error} />
    </div>
  );
}
