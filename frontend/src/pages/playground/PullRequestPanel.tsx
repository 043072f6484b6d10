// "Open pull request" for a saved variant, then its progress live (queued, running,
// opened with its link, or failed with the reason), as the server reports it.
import { useReducer } from "react";
import { useSocket } from "../../api/useApi";
import type { PullRequest, Variant } from "../../api/types";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { RequireRole } from "../../components/RequireRole";
import { StatusBadge } from "../../components/StatusBadge";
import { ErrorState } from "../../components/StateViews";
import { useLatestPullRequest, useOpenPullRequest } from "./api";
import { GateThresholds } from "./GateThresholds";
import { pullRequestReducer, pullRequestSteps, valueText, type PullRequestMessage } from "./model";

export function PullRequestPanel({
  variant,
  hasUnsavedEdits,
}: {
  variant: Variant;
  hasUnsavedEdits: boolean;
}) {
  const open = useOpenPullRequest();
  const existing = useLatestPullRequest(variant.id);
  const latest = open.data ?? existing.data?.results[0];

  return (
    <section className="pull-request-panel" aria-labelledby="pull-request-title">
      <h3 id="pull-request-title">Pull request</h3>
      <p className="muted">
        Writes revision {variant.revision} of “{variant.name}” into the code as the new defaults.
      </p>
      {hasUnsavedEdits && (
        <p className="notice">Unsaved edits are not part of the pull request: save them first.</p>
      )}
      <RequireRole role="editor">
        <button
          type="button"
          className="button primary"
          disabled={open.isPending}
          onClick={() => open.mutate({ variant: variant.id })}
        >
          {open.isPending ? "Opening pull request…" : "Open pull request"}
        </button>
      </RequireRole>
      <ApiErrorMessage error={open.error} />
      {existing.error && !open.data && (
        <ErrorState error={existing.error} onRetry={existing.reload} />
      )}
      {latest && (
        <PullRequestLive key={`${latest.id}/${latest.updated_at ?? ""}`} initial={latest} />
      )}
      <GateThresholds workflow={variant.workflow} />
    </section>
  );
}

export function PullRequestLive({ initial }: { initial: PullRequest }) {
  const [pullRequest, dispatch] = useReducer(pullRequestReducer, initial);
  const current = pullRequest ?? initial;
  const isSettled = current.state === "opened" || current.state === "failed";
  useSocket<PullRequestMessage>(
    isSettled ? null : `/playground/pull-requests/${current.id}`,
    dispatch,
  );
  const state = current.state ?? "queued";
  const reached = pullRequestSteps.indexOf(state === "failed" ? "running" : state);

  return (
    <div className="card pull-request" aria-live="polite">
      <ol className="pr-progress" aria-label="Pull request progress">
        {pullRequestSteps.map((step, index) => {
          const failedHere = state === "failed" && step === "opened";
          return (
            <li
              key={step}
              className={failedHere ? "failed" : index <= reached ? "done" : "todo"}
              aria-current={step === state ? "step" : undefined}
            >
              {failedHere ? "Failed" : step.charAt(0).toUpperCase() + step.slice(1)}
            </li>
          );
        })}
      </ol>
      <p>
        <StatusBadge status={state} />{" "}
        {current.pr_state ? <StatusBadge status={current.pr_state} /> : null}{" "}
        {state === "opened" && current.pr_url ? (
          <a href={current.pr_url} target="_blank" rel="noreferrer">
            Pull request #{current.pr_number}
          </a>
        ) : null}
      </p>
      {state === "failed" && current.reason && (
        <p className="form-error" role="alert">
          {current.reason}
        </p>
      )}
      {current.branch && (
        <p className="muted">
          Branch <code>{current.branch}</code>
        </p>
      )}
      {current.changes.length > 0 && (
        <ul className="pr-changes">
          {current.changes.map((change) => (
            <li key={`${change.step}/${change.name}`}>
              <code>{change.name}</code> in <code>{change.path}</code>:{" "}
              <del>{valueText(change.old)}</del> → <ins>{valueText(change.new)}</ins>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
