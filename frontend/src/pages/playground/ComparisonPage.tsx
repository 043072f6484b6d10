// One comparison, headed by its workflow, from-step, author and time: the grid loads
// from the API, then fills in live over /ws/playground/compare/{id} as each cell's run
// streams and finishes. The viewer picks the column the others are held against (the
// API sums up against it, and the socket is told to as well), an editor re-runs the
// failed cells and saves the rows to a dataset.
import { useCallback, useEffect, useReducer, useState } from "react";
import { Link, useParams } from "react-router-dom";
import type { Fill } from "../../api/lines";
import { useLineFill, useSocket } from "../../api/useApi";
import type { Comparison } from "../../api/types";
import { RelativeTime } from "../../components/RelativeTime";
import { AsyncView } from "../../components/StateViews";
import { useComparison, useRerunFailed } from "./api";
import { SaveRowsToDataset } from "./SaveRowsToDataset";
import type { Reviewer } from "./CellReview";
import { ComparisonGrid } from "./ComparisonGrid";
import { useSession } from "../../session";
import {
  comparisonReducer,
  comparisonState,
  counted,
  failedCells,
  isSettled,
  type ComparisonMessage,
} from "./model";
import "./playground.css";

export function ComparisonPage() {
  const { comparisonId } = useParams();
  // null: the comparison's own baseline.
  const [baseline, setBaseline] = useState<number | null>(null);
  const loaded = useComparison(comparisonId, baseline);
  const { user, can } = useSession();
  return (
    <section className="page comparison-page">
      <div className="page-header">
        <div>
          <h1>
            {loaded.data ? (
              <>
                Comparison of {loaded.data.workflow}
                {loaded.data.from_step ? ` from step ${loaded.data.from_step}` : ""}
              </>
            ) : (
              "Comparison"
            )}
          </h1>
          {loaded.data && (
            <p className="muted">
              Started by {loaded.data.created_by} <RelativeTime value={loaded.data.created_at} />
            </p>
          )}
        </div>
        <div className="toolbar">
          {loaded.data && loaded.data.columns.length > 1 && (
            <Link className="button" to={`/playground/compare/${comparisonId}/blind`}>
              Blind review
            </Link>
          )}
          <Link
            className="button"
            to={`/playground${loaded.data ? `?workflow=${encodeURIComponent(loaded.data.workflow)}` : ""}`}
          >
            Back to the playground
          </Link>
        </div>
      </div>
      <AsyncView {...loaded} onRetry={loaded.reload}>
        {(comparison) => (
          <LiveComparison
            key={comparison.id}
            initial={comparison}
            reviewer={{ name: user?.username ?? "", canReview: can("editor") }}
            baseline={baseline}
            onBaselineChange={setBaseline}
          />
        )}
      </AsyncView>
    </section>
  );
}

// A cell shows its stream, so a gap is filled with stream chunks.
const shownKinds = ["stream"] as const;

export function LiveComparison({
  initial,
  reviewer,
  baseline = null,
  onBaselineChange,
}: {
  initial: Comparison;
  reviewer?: Reviewer;
  /** The column the viewer holds the others against; null: the comparison's own. */
  baseline?: number | null;
  onBaselineChange?: (column: number) => void;
}) {
  const [live, dispatch] = useReducer(comparisonReducer, initial, comparisonState);
  const { comparison } = live;
  // The matrix read again (after a review, a re-run or another baseline) is the
  // server's latest word.
  useEffect(() => dispatch({ type: "comparison.snapshot", comparison: initial }), [initial]);
  // Judges may answer after the last run finished: their scores arrive on the socket
  // too, summed up against the viewer's baseline.
  useSocket<ComparisonMessage>(
    isSettled(comparison) ? null : `/playground/compare/${comparison.id}`,
    dispatch,
    baseline === null ? undefined : { type: "comparison.baseline", baseline },
  );
  const rerun = useRerunFailed(comparison.id);
  const failed = failedCells(comparison).length;
  useLineFill(
    live.lines,
    shownKinds,
    useCallback((fill: Fill) => dispatch({ type: "lines.filled", fill }), []),
  );
  const finished = comparison.cells.filter((cell) => cell.is_finished).length;
  return (
    <>
      <p className="comparison-summary">
        {counted(comparison.columns.length, "column")} × {counted(comparison.rows.length, "input")}{" "}
        ·{" "}
        <span aria-live="polite">
          {comparison.is_finished
            ? "all runs finished"
            : `${finished} of ${counted(comparison.cells.length, "run")} finished`}
        </span>
      </p>
      {reviewer?.canReview && (
        <div className="toolbar comparison-actions">
          {comparison.is_finished && failed > 0 && (
            <button
              type="button"
              className="button"
              disabled={rerun.isPending}
              onClick={() =>
                rerun.mutate(undefined, {
                  onSuccess: (matrix) =>
                    dispatch({ type: "comparison.snapshot", comparison: matrix }),
                })
              }
            >
              Re-run {counted(failed, "failed cell")}
            </button>
          )}
          <SaveRowsToDataset comparison={comparison} />
        </div>
      )}
      {rerun.error && (
        <p className="form-error" role="alert">
          {rerun.error.message}
        </p>
      )}
      <ComparisonGrid
        comparison={comparison}
        reviewer={reviewer}
        onBaselineChange={onBaselineChange}
      />
    </>
  );
}
