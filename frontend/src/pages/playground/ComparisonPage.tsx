// One comparison, headed by its workflow, from-step, author and time: the grid loads
// from the API, then fills in live over /ws/playground/compare/{id} as each cell's run
// streams and finishes.
import { useCallback, useEffect, useReducer } from "react";
import { Link, useParams } from "react-router-dom";
import type { Fill } from "../../api/lines";
import { useLineFill, useSocket } from "../../api/useApi";
import type { Comparison } from "../../api/types";
import { RelativeTime } from "../../components/RelativeTime";
import { AsyncView } from "../../components/StateViews";
import { useComparison } from "./api";
import type { Reviewer } from "./CellReview";
import { ComparisonGrid } from "./ComparisonGrid";
import { useSession } from "../../session";
import {
  comparisonReducer,
  comparisonState,
  counted,
  isSettled,
  type ComparisonMessage,
} from "./model";
import "./playground.css";

export function ComparisonPage() {
  const { comparisonId } = useParams();
  const loaded = useComparison(comparisonId);
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
}: {
  initial: Comparison;
  reviewer?: Reviewer;
}) {
  const [live, dispatch] = useReducer(comparisonReducer, initial, comparisonState);
  const { comparison } = live;
  // The matrix read again (after a review is saved) is the server's latest word.
  useEffect(() => dispatch({ type: "comparison.snapshot", comparison: initial }), [initial]);
  // Judges may answer after the last run finished: their scores arrive on the socket too.
  useSocket<ComparisonMessage>(
    isSettled(comparison) ? null : `/playground/compare/${comparison.id}`,
    dispatch,
  );
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
      <ComparisonGrid comparison={comparison} reviewer={reviewer} />
    </>
  );
}
