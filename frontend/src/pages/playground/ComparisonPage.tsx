// One comparison: the grid loads from the API, then fills in live over
// /ws/playground/compare/{id} as each cell's run streams and finishes.
import { useCallback, useReducer } from "react";
import { Link, useParams } from "react-router-dom";
import type { Fill } from "../../api/lines";
import { useLineFill, useSocket } from "../../api/useApi";
import type { Comparison } from "../../api/types";
import { RelativeTime } from "../../components/RelativeTime";
import { AsyncView } from "../../components/StateViews";
import { useComparison } from "./api";
import { ComparisonGrid } from "./ComparisonGrid";
import { comparisonReducer, comparisonState, type ComparisonMessage } from "./model";
import "./playground.css";

export function ComparisonPage() {
  const { comparisonId } = useParams();
  const loaded = useComparison(comparisonId);
  return (
    <section className="page comparison-page">
      <div className="page-header">
        <div>
          <h1>Comparison</h1>
          <p className="muted">
            <code>{comparisonId}</code>
          </p>
        </div>
        <Link
          className="button"
          to={`/playground${loaded.data ? `?workflow=${encodeURIComponent(loaded.data.workflow)}` : ""}`}
        >
          Back to the playground
        </Link>
      </div>
      <AsyncView {...loaded} onRetry={loaded.reload}>
        {(comparison) => <LiveComparison key={comparison.id} initial={comparison} />}
      </AsyncView>
    </section>
  );
}

// A cell shows its stream, so a gap is filled with stream chunks.
const shownKinds = ["stream"] as const;

export function LiveComparison({ initial }: { initial: Comparison }) {
  const [live, dispatch] = useReducer(comparisonReducer, initial, comparisonState);
  const { comparison } = live;
  useSocket<ComparisonMessage>(
    comparison.is_finished ? null : `/playground/compare/${comparison.id}`,
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
        <strong>{comparison.workflow}</strong>
        {comparison.from_step ? ` from step ${comparison.from_step}` : ""} ·{" "}
        {comparison.columns.length} columns × {comparison.rows.length} inputs · by{" "}
        {comparison.created_by} <RelativeTime value={comparison.created_at} /> ·{" "}
        <span aria-live="polite">
          {comparison.is_finished
            ? "all runs finished"
            : `${finished} of ${comparison.cells.length} runs finished`}
        </span>
      </p>
      <ComparisonGrid comparison={comparison} />
    </>
  );
}
