// A comparison as a grid: one row per input, one column per variant (the baseline
// first, each with the overrides that made it), each cell with its run's status and
// output (or error), and every non-baseline cell with the difference from the
// baseline cell of its row. A repeated cell shows the spread of its repeats (scores,
// pass counts, latency; "unstable" when they disagree) and each repeat in a tab; a
// re-run cell keeps its earlier attempts one click away.
import { memo, useMemo, useState } from "react";
import { Link } from "react-router-dom";
import type { Cell, Column, ColumnSummary, Comparison, Review, Score } from "../../api/types";
import { OutputView } from "../../components/OutputView";
import { StatusBadge } from "../../components/StatusBadge";
import { TextDiff } from "../../components/TextDiff";
import { CellReview, type Reviewer } from "./CellReview";
import {
  baselineColumn,
  cellSpread,
  cellText,
  counted,
  indexCells,
  inputSummary,
  placeKey,
  rowMatches,
  valueText,
  type RowFilter,
} from "./model";

export function ComparisonGrid({
  comparison,
  reviewer,
  onBaselineChange,
}: {
  comparison: Comparison;
  /** With a reviewer, each finished cell shows its reviews and a form for theirs. */
  reviewer?: Reviewer;
  /** With it, the viewer picks the column the others are held against. */
  onBaselineChange?: (column: number) => void;
}) {
  const baseline = baselineColumn(comparison);
  const [filter, setFilter] = useState<RowFilter>("all");
  const cells = useMemo(() => indexCells(comparison.cells), [comparison.cells]);
  const reviewsByRun = useMemo(() => reviewsOf(comparison.reviews), [comparison.reviews]);
  const shownRows = comparison.rows
    .map((row, index) => ({ row, index }))
    .filter(({ index }) => rowMatches(comparison, cells, index, filter));
  return (
    <div className="comparison-scroll">
      <label className="field comparison-filter">
        <span>Show</span>
        <select value={filter} onChange={(event) => setFilter(event.target.value as RowFilter)}>
          <option value="all">every input</option>
          <option value="failing">inputs a check failed</option>
          <option value="errors">inputs with errors</option>
          <option value="differ">outputs that differ from the baseline</option>
          <option value="regressions">regressions against the baseline</option>
        </select>
        {filter !== "all" && (
          <span className="muted" role="status">
            {shownRows.length} of {counted(comparison.rows.length, "input")}
          </span>
        )}
      </label>
      {onBaselineChange && comparison.columns.length > 1 && (
        <label className="field comparison-filter">
          <span>Hold the columns against</span>
          <select
            value={baseline}
            onChange={(event) => onBaselineChange(Number(event.target.value))}
          >
            {comparison.columns.map((column, index) => (
              <option key={index} value={index}>
                {column.title}
              </option>
            ))}
          </select>
        </label>
      )}
      <table className="comparison-grid" aria-label="Comparison">
        <thead>
          <tr>
            <th scope="col" className="comparison-input-head">
              Input
            </th>
            {comparison.columns.map((column, index) => (
              <th scope="col" key={index}>
                <ColumnHead column={column} isBaseline={index === baseline} />
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shownRows.map(({ row, index: rowIndex }) => {
            const baselineCell = cells.get(placeKey(rowIndex, baseline))?.[0]?.[0];
            return (
              <tr key={rowIndex}>
                <th scope="row" className="comparison-input">
                  <RowTitle title={row.title} input={row.input} />
                </th>
                {comparison.columns.map((column, columnIndex) => {
                  const attempts = cells.get(placeKey(rowIndex, columnIndex)) ?? [];
                  return (
                    <td key={columnIndex} aria-label={`${row.title} · ${column.title}`}>
                      {attempts.length > 0 ? (
                        <RepeatedCell
                          comparisonId={comparison.id}
                          attempts={attempts}
                          baseline={columnIndex === baseline ? undefined : baselineCell}
                          columnTitle={column.title}
                          reviewer={reviewer}
                          reviewsByRun={reviewsByRun}
                        />
                      ) : (
                        <span className="muted">No run.</span>
                      )}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
        {comparison.summary.length > 0 && (
          <tfoot>
            <tr>
              <th scope="row">Summary</th>
              {comparison.columns.map((column, index) => (
                <td key={index} aria-label={`${column.title} summary`}>
                  {comparison.summary[index] && (
                    <ColumnTotals
                      summary={comparison.summary[index]}
                      baselineTitle={comparison.columns[baseline]?.title ?? "the baseline"}
                    />
                  )}
                </td>
              ))}
            </tr>
          </tfoot>
        )}
      </table>
    </div>
  );
}

function reviewsOf(reviews: Review[]): ReadonlyMap<string, Review[]> {
  const byRun = new Map<string, Review[]>();
  for (const review of reviews)
    byRun.set(review.run_id, [...(byRun.get(review.run_id) ?? []), review]);
  return byRun;
}

const noReviews: Review[] = [];

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface RepeatedCellProps {
  comparisonId: string;
  /** Each repeat's attempts, the latest first. */
  attempts: readonly Cell[][];
  baseline?: Cell;
  columnTitle: string;
  reviewer?: Reviewer;
  reviewsByRun: ReadonlyMap<string, Review[]>;
}

/** The same cells in the same places: the grid's index is read again on every change
 * of any cell, and a cell whose own runs did not change need not render again. */
function sameAttempts(before: readonly Cell[][], after: readonly Cell[][]): boolean {
  return (
    before.length === after.length &&
    before.every(
      (attempts, index) =>
        attempts.length === after[index]?.length &&
        attempts.every((cell, at) => cell === after[index]?.[at]),
    )
  );
}

/**
 * A (row, column): with repeats, their spread and a tab per repeat; the repeat shown,
 * with its review form and, when it was re-run, its earlier attempts folded. It renders
 * again only when its own runs, its baseline or its reviews change: a large grid
 * receives a message per chunk of every cell's stream.
 */
const RepeatedCell = memo(
  function RepeatedCell({
    comparisonId,
    attempts,
    baseline,
    columnTitle,
    reviewer,
    reviewsByRun,
  }: RepeatedCellProps) {
    const [shown, setShown] = useState(0);
    const repeats = attempts.map((repeat) => repeat[0]).filter((cell) => cell !== undefined);
    const [cell, ...earlier] = attempts[shown] ?? attempts[0] ?? [];
    if (cell === undefined) return null;
    return (
      <>
        {repeats.length > 1 && (
          <>
            <SpreadView repeats={repeats} columnTitle={columnTitle} />
            <div className="repeat-tabs" role="tablist" aria-label={`${columnTitle} repeats`}>
              {repeats.map((repeat, index) => (
                <button
                  key={repeat.run_id}
                  type="button"
                  role="tab"
                  aria-selected={index === shown}
                  className={`repeat-tab${index === shown ? " selected" : ""}`}
                  data-status={repeat.status}
                  onClick={() => setShown(index)}
                >
                  Repeat {index + 1}
                </button>
              ))}
            </div>
          </>
        )}
        <ComparisonCell cell={cell} baseline={baseline} columnTitle={columnTitle} />
        {earlier.length > 0 && (
          <details className="earlier-attempts">
            <summary>{counted(earlier.length, "earlier attempt")}</summary>
            {earlier.map((attempt) => (
              <div key={attempt.run_id} className="earlier-attempt">
                <span className="muted">Attempt {attempt.attempt + 1}</span>
                <ComparisonCell
                  cell={attempt}
                  columnTitle={`${columnTitle} attempt ${attempt.attempt + 1}`}
                />
              </div>
            ))}
          </details>
        )}
        {reviewer && cell.is_finished && (
          <CellReview
            reviewer={reviewer}
            comparisonId={comparisonId}
            runId={cell.run_id}
            reviews={reviewsByRun.get(cell.run_id) ?? noReviews}
          />
        )}
      </>
    );
  },
  (before, after) =>
    before.comparisonId === after.comparisonId &&
    before.baseline === after.baseline &&
    before.columnTitle === after.columnTitle &&
    before.reviewer === after.reviewer &&
    before.reviewsByRun === after.reviewsByRun &&
    sameAttempts(before.attempts, after.attempts),
);

/** The repeats together: per evaluator its pass count and score range, the latency
 * range, and whether they disagree. */
function SpreadView({ repeats, columnTitle }: { repeats: Cell[]; columnTitle: string }) {
  const spread = cellSpread(repeats);
  return (
    <div className="cell-spread" role="group" aria-label={`${columnTitle} spread`}>
      <p>
        {counted(spread.repeats, "repeat")}
        {spread.finished < spread.repeats && (
          <span className="muted"> ({spread.finished} finished)</span>
        )}
        {spread.isUnstable && (
          <span
            className="tone-danger unstable"
            title="The repeats disagree: different outputs, statuses or verdicts."
          >
            {" "}
            · unstable
          </span>
        )}
      </p>
      <ul className="score-list">
        {spread.evaluators.map((evaluator) => (
          <li key={evaluator.evaluator}>
            {evaluator.name}: {evaluator.passed}/{evaluator.scored} pass
            {evaluator.score &&
              `, mean ${evaluator.score.mean.toFixed(2)} (${evaluator.score.min.toFixed(2)}–${evaluator.score.max.toFixed(2)})`}
          </li>
        ))}
      </ul>
      {spread.latency && (
        <p className="muted">
          {seconds(spread.latency.mean)} mean ({seconds(spread.latency.min)}–
          {seconds(spread.latency.max)})
        </p>
      )}
    </div>
  );
}

const percent = (value: number | null) => (value === null ? "—" : `${Math.round(value * 100)}%`);
const dollars = (value: number | null) => (value === null ? "—" : `$${value.toFixed(4)}`);

/** A column's pass rates and scores per evaluator, its latency, tokens and cost, and
 * how many rows it did better or worse on than the baseline. */
function ColumnTotals({
  summary,
  baselineTitle,
}: {
  summary: ColumnSummary;
  baselineTitle: string;
}) {
  return (
    <div className="column-totals">
      <ul className="score-list">
        {summary.evaluators.map((evaluator) => (
          <li key={evaluator.evaluator}>
            <strong>{evaluator.name}</strong>: {percent(evaluator.pass_rate)} pass
            {evaluator.mean_score !== null && `, mean ${evaluator.mean_score.toFixed(2)}`}
            {evaluator.pending > 0 && <span className="muted"> ({evaluator.pending} pending)</span>}
            {evaluator.errored > 0 && <span className="muted"> ({evaluator.errored} errored)</span>}
          </li>
        ))}
      </ul>
      <p className="muted">
        {summary.mean_latency_ms === null ? "—" : seconds(summary.mean_latency_ms)} mean ·{" "}
        {summary.total_tokens} tokens · {dollars(summary.total_cost)}
      </p>
      <p
        className="muted"
        title="Every repeat counts as a run in the pass rates, means and totals; a re-run cell counts its latest attempt only. Better and worse compare each input's mean score over its repeats."
      >
        over {counted(summary.runs, "run")}
      </p>
      {!summary.is_baseline && (
        <p>
          <span className="tone-success">{summary.improved} better</span> ·{" "}
          <span className="tone-danger">{summary.regressed} worse</span> · {summary.unchanged} same
          than {baselineTitle}
        </p>
      )}
    </div>
  );
}

/** An evaluator's verdict on a cell: pass or fail with its score, the reason on hover
 * and in the text for screen readers; a code evaluator's links to the run that gives
 * it (its logs, or why it still waits). */
function ScoreChip({ score }: { score: Score }) {
  const verdict =
    score.status === "pending"
      ? "…"
      : score.status === "error"
        ? "error"
        : `${score.passed ? "✓" : "✗"} ${score.value?.toFixed(2)}`;
  const tone =
    score.status !== "done" ? "tone-muted" : score.passed ? "tone-success" : "tone-danger";
  const reason = score.status === "error" ? score.error : score.reason;
  return (
    <li className={`score-chip ${tone}`} title={reason}>
      {score.run ? <Link to={`/runs/${score.run}`}>{score.name}</Link> : score.name}: {verdict}
      {reason && <span className="visually-hidden"> ({reason})</span>}
    </li>
  );
}

/**
 * The column's title, that it is the baseline (unless its title says so already) or
 * which revision of a variant it ran, and the overrides that made it, folded.
 */
function ColumnHead({ column, isBaseline }: { column: Column; isBaseline: boolean }) {
  const overrides = Object.entries(column.overrides ?? {}).flatMap(([step, values]) =>
    Object.entries(values).map(([name, value]) => ({ step, name, value })),
  );
  return (
    <>
      <span className="comparison-column-title">{column.title}</span>
      {isBaseline && !/baseline/i.test(column.title) ? (
        <span className="muted"> · baseline</span>
      ) : column.revision ? (
        <span className="muted"> · rev {column.revision}</span>
      ) : null}
      {overrides.length > 0 && (
        <details className="comparison-overrides">
          <summary>{counted(overrides.length, "override")}</summary>
          <dl>
            {overrides.map(({ step, name, value }) => (
              <div key={`${step}/${name}`}>
                <dt>
                  <code>
                    {step}.{name}
                  </code>
                </dt>
                <dd>
                  <pre className="code">{valueText(value)}</pre>
                </dd>
              </div>
            ))}
          </dl>
        </details>
      )}
    </>
  );
}

/** The row's title, and its input unless the title already is (the start of) it. */
function RowTitle({ title, input }: { title: string; input: unknown }) {
  const summary = inputSummary(input, 200);
  if (summary.startsWith(title.replace(/…$/, ""))) {
    return <span className="comparison-row-title">{summary}</span>;
  }
  return (
    <>
      <span className="comparison-row-title">{title}</span>
      <span className="muted comparison-row-input">{summary}</span>
    </>
  );
}

interface ComparisonCellProps {
  cell: Cell;
  /** The baseline cell of the row; absent for the baseline column itself. */
  baseline?: Cell;
  columnTitle: string;
}

export const ComparisonCell = memo(function ComparisonCell({
  cell,
  baseline,
  columnTitle,
}: ComparisonCellProps) {
  const text = cellText(cell);
  const hasOutput = cell.is_finished && cell.output !== null && cell.output !== undefined;
  // A run that ended without output and streamed nothing has only its error to show.
  const showsBox = hasOutput || text !== "" || !cell.is_finished || !cell.error;
  const canDiff =
    baseline !== undefined &&
    baseline.is_finished &&
    cell.is_finished &&
    cell.status === "SUCCEEDED";
  return (
    <div className="comparison-cell" data-status={cell.status}>
      <div className="comparison-cell-meta">
        <StatusBadge status={cell.status} />
        {cell.duration_ms !== null && (
          <span className="muted">{(cell.duration_ms / 1000).toFixed(1)} s</span>
        )}
        {cell.cost !== null && <span className="muted">{dollars(cell.cost)}</span>}
        {cell.usage && <span className="muted">{cell.usage.total_tokens} tokens</span>}
        <Link to={`/runs/${cell.run_id}`} className="muted">
          Run
        </Link>
      </div>
      {cell.scores.length > 0 && (
        <ul className="score-list" aria-label={`${columnTitle} scores`}>
          {cell.scores.map((score) => (
            <ScoreChip key={score.evaluator} score={score} />
          ))}
        </ul>
      )}
      {hasOutput ? (
        <div className="comparison-output final">
          <OutputView value={cell.output} label={`${columnTitle} output`} />
        </div>
      ) : (
        showsBox && (
          <pre
            className={`comparison-output${cell.is_finished ? "" : " streaming"}`}
            aria-label={`${columnTitle} output`}
            aria-live={cell.is_finished ? undefined : "polite"}
          >
            {text || (cell.is_finished ? "(no output)" : "Waiting for output…")}
          </pre>
        )
      )}
      {cell.error && <p className="form-error cell-error">{cell.error}</p>}
      {canDiff && (
        <div
          className="comparison-diff"
          role="group"
          aria-label={`${columnTitle}: diff against the baseline`}
        >
          <span className="variable-default-label">Diff against the baseline</span>
          <TextDiff
            before={cellText(baseline)}
            after={text}
            mode="words"
            beforeLabel="baseline"
            afterLabel={columnTitle}
          />
        </div>
      )}
    </div>
  );
});
