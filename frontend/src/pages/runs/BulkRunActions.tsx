// Cancel or replay every run the list's filters match, after saying how many.
import { useState } from "react";
import type { BulkCancelled } from "../../api/types";
import { useBulkRuns } from "./api";
import type { RunFilters } from "./filters";

type Action = "cancel" | "replay";

const verbs: Record<Action, { ask: string; confirm: string }> = {
  cancel: { ask: "Cancel", confirm: "Cancel them" },
  replay: { ask: "Replay", confirm: "Replay them" },
};

export function BulkRunActions({
  filters,
  count,
  countCapped = false,
}: {
  filters: RunFilters;
  count: number;
  countCapped?: boolean;
}) {
  const [asking, setAsking] = useState<Action | null>(null);
  const cancel = useBulkRuns("cancel", filters);
  const replay = useBulkRuns("replay", filters);
  const [done, setDone] = useState<string | null>(null);
  const runs = countCapped
    ? `${count.toLocaleString()}+ matching runs`
    : `${count.toLocaleString()} matching run${count === 1 ? "" : "s"}`;
  const act = (action: Action) =>
    (action === "cancel" ? cancel : replay).mutate(undefined, {
      onSuccess: (result) => {
        setAsking(null);
        setDone(
          "cancelled" in result
            ? `Cancelled ${(result as BulkCancelled).cancelled} of ${result.matched} matching runs (the others had finished).`
            : `Replayed ${result.matched} runs: ${result.replayed} new runs.`,
        );
      },
    });
  const error = cancel.error ?? replay.error;
  return (
    <div className="toolbar bulk-run-actions">
      {asking === null ? (
        (["cancel", "replay"] as const).map((action) => (
          <button
            key={action}
            type="button"
            className="button"
            onClick={() => {
              setDone(null);
              setAsking(action);
            }}
          >
            {verbs[action].ask} the {runs}
          </button>
        ))
      ) : (
        <div role="group" aria-label="Confirm">
          <span>
            {verbs[asking].ask} {runs}
            {asking === "cancel" ? " (those that have not finished)" : ""}?
          </span>{" "}
          <button
            type="button"
            className="button danger"
            disabled={cancel.isPending || replay.isPending}
            onClick={() => act(asking)}
          >
            {verbs[asking].confirm}
          </button>{" "}
          <button type="button" className="button" onClick={() => setAsking(null)}>
            Never mind
          </button>
        </div>
      )}
      {done && <p role="status">{done}</p>}
      {error && (
        <p className="form-error" role="alert">
          {error.message}
        </p>
      )}
    </div>
  );
}
