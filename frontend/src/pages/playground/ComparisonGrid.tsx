// A comparison as a grid: one row per input, one column per variant (the baseline
// first, each with the overrides that made it), each cell with its run's status and
// output (or error), and every non-baseline cell with the difference from the
// baseline cell of its row.
import { useState } from "react";
import { Link } from "react-router-dom";
import type { Cell, Column, ColumnSummary, Comparison, Review, Score } from "../../api/types";
import { OutputView } from "../../components/OutputView";
import { StatusBadge } from "../../components/StatusBadge";
import { TextDiff } from "../../components/TextDiff";
import { CellReview, type Reviewer } from "./CellReview";
import {
  baselineColumn,
  cellAt,
  cellText,
  counted,
  inputSummary,
  rowMatches,
  valueText,
  type RowFilter,
} from "./model";

export function ComparisonGrid({
  comparison,
  reviewer,
}: {
  comparison: Comparison;
  /** With a reviewer, each finished cell shows its reviews and a form for theirs. */
  reviewer?: Reviewer;
}) {
  const baseline = baselineColumn(comparison);
  const [filter, setFilter] = useState<RowFilter>("all");
  const shownRows = comparison.rows
    .map((row, index) => ({ row, index }))
    .filter(({ index }) => rowMatches(comparison, index, filter));
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
            const baselineCell = cellAt(comparison, rowIndex, baseline);
            return (
              <tr key={rowIndex}>
                <th scope="row" className="comparison-input">
                  <RowTitle title={row.title} input={row.input} />
                </th>
                {comparison.columns.map((column, columnIndex) => {
                  const cell = cellAt(comparison, rowIndex, columnIndex);
                  return (
                    <td key={columnIndex} aria-label={`${row.title} · ${column.title}`}>
                      {cell ? (
                        <>
                          <ComparisonCell
                            cell={cell}
                            baseline={columnIndex === baseline ? undefined : baselineCell}
                            columnTitle={column.title}
                          />
                          {reviewer && cell.is_finished && (
                            <CellReview
                              reviewer={reviewer}
                              comparisonId={comparison.id}
                              runId={cell.run_id}
                              reviews={reviewsOf(comparison.reviews, cell.run_id)}
                            />
                          )}
                        </>
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

const reviewsOf = (reviews: Review[], runId: string) =>
  reviews.filter((review) => review.run_id === runId);

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
        {summary.mean_latency_ms === null
          ? "—"
          : `${(summary.mean_latency_ms / 1000).toFixed(1)} s`}{" "}
        mean · {summary.total_tokens} tokens · {dollars(summary.total_cost)}
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

export function ComparisonCell({ cell, baseline, columnTitle }: ComparisonCellProps) {
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
}
