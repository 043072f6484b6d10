// Blind A/B review: two answers to the same input, in random order and unlabelled, and
// which one is better. The server keeps which column wrote each (the page never learns
// it) and counts the votes per column, shown below as totals.
import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import type { Comparison } from "../../api/types";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { JsonViewer } from "../../components/JsonViewer";
import { AsyncView, Empty } from "../../components/StateViews";
import { TableHead } from "../../components/TableHead";
import { useSession } from "../../session";
import { useBlindPair, useComparison, useVote } from "./api";
import "./playground.css";

export function BlindReviewPage() {
  const { comparisonId = "" } = useParams();
  const loaded = useComparison(comparisonId);
  return (
    <section className="page blind-review-page">
      <div className="page-header">
        <div>
          <h1>Blind review</h1>
          <p className="muted">
            Two answers to the same input, in random order. Pick the better one: which prompt wrote
            it shows only in the totals.
          </p>
        </div>
        <Link className="button" to={`/playground/compare/${comparisonId}`}>
          Back to the comparison
        </Link>
      </div>
      <AsyncView {...loaded} onRetry={loaded.reload}>
        {(comparison) => <BlindReview comparison={comparison} />}
      </AsyncView>
    </section>
  );
}

function BlindReview({ comparison }: { comparison: Comparison }) {
  const [first, setFirst] = useState(0);
  const [second, setSecond] = useState(1);
  if (comparison.columns.length < 2) {
    return <Empty message="A blind review needs two columns; this comparison has one." />;
  }
  const options = comparison.columns.map((column, index) => (
    <option key={index} value={index}>
      {column.title}
    </option>
  ));
  return (
    <>
      <div className="form-row">
        <label className="field">
          <span>First column</span>
          <select value={first} onChange={(event) => setFirst(Number(event.target.value))}>
            {options}
          </select>
        </label>
        <label className="field">
          <span>Second column</span>
          <select value={second} onChange={(event) => setSecond(Number(event.target.value))}>
            {options}
          </select>
        </label>
      </div>
      {first === second ? (
        <p role="alert">Pick two different columns.</p>
      ) : (
        <BlindPairVote
          key={`${first}-${second}`}
          comparisonId={comparison.id}
          a={first}
          b={second}
        />
      )}
      <ReviewTotals comparison={comparison} />
    </>
  );
}

function BlindPairVote({ comparisonId, a, b }: { comparisonId: string; a: number; b: number }) {
  const pair = useBlindPair(comparisonId, a, b);
  const vote = useVote(comparisonId);
  const { can } = useSession();
  const canVote = can("editor");
  return (
    <AsyncView {...pair} onRetry={pair.reload}>
      {(shown) =>
        shown.pair === null ? (
          <p role="status">Every input has your vote for these two columns.</p>
        ) : (
          <div className="card blind-pair">
            <p className="muted">
              {shown.remaining === 1 ? "1 input left" : `${shown.remaining} inputs left`} to judge
            </p>
            <JsonViewer value={shown.input} label="Input" />
            <div className="blind-pair-answers">
              <JsonViewer value={shown.left} label="Left answer" />
              <JsonViewer value={shown.right} label="Right answer" />
            </div>
            <div className="toolbar">
              {(
                [
                  ["left", "Left is better"],
                  ["tie", "About the same"],
                  ["right", "Right is better"],
                ] as const
              ).map(([choice, text]) => (
                <button
                  key={choice}
                  type="button"
                  className="button"
                  disabled={!canVote || vote.isPending}
                  onClick={() => vote.mutate({ pair: shown.pair as string, choice })}
                >
                  {text}
                </button>
              ))}
              {!canVote && <span className="muted">Voting needs the editor role.</span>}
            </div>
            <ApiErrorMessage error={vote.error} />
          </div>
        )
      }
    </AsyncView>
  );
}

const score = (value: number | null) => (value === null ? "—" : value.toFixed(2));

/** What people said of each column: reviews of its cells and blind votes. */
export function ReviewTotals({ comparison }: { comparison: Comparison }) {
  return (
    <table className="data-table" aria-label="Review totals">
      <TableHead
        columns={[
          "Column",
          "Thumbs up",
          "Thumbs down",
          "Mean score",
          "Wins",
          "Ties",
          "Losses",
          "Pairwise score",
        ]}
      />
      <tbody>
        {comparison.review_summary.map((summary) => (
          <tr key={summary.column}>
            <th scope="row">{comparison.columns[summary.column]?.title}</th>
            <td>{summary.thumbs_up}</td>
            <td>{summary.thumbs_down}</td>
            <td>{score(summary.mean_score)}</td>
            <td>{summary.wins}</td>
            <td>{summary.ties}</td>
            <td>{summary.losses}</td>
            <td>{score(summary.pairwise_score)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
