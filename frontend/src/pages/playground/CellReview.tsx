// A person's review of one comparison cell: thumbs up or down, a score from 0 to 1 and
// a comment, any of them. Saving again replaces the reviewer's earlier review.
import { useState, type FormEvent } from "react";
import type { Review } from "../../api/types";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { useReviewCell } from "./api";

/** Who looks at the comparison: their name, and whether they may review. */
export interface Reviewer {
  name: string;
  canReview: boolean;
}

interface Props {
  comparisonId: string;
  runId: string;
  /** Every review of this cell, the reviewer's among them if they wrote one. */
  reviews: Review[];
  reviewer: Reviewer;
}

export function CellReview({ comparisonId, runId, reviews, reviewer }: Props) {
  const mine = reviews.find((review) => review.reviewer === reviewer.name);
  const others = reviews.filter((review) => review !== mine);
  return (
    <div className="cell-review">
      {others.map((review) => (
        <p key={review.id} className="muted">
          {review.reviewer}: {review.thumbs === "up" ? "👍" : review.thumbs === "down" ? "👎" : ""}
          {review.score != null && ` ${review.score.toFixed(2)}`}
          {review.comment && ` “${review.comment}”`}
        </p>
      ))}
      {reviewer.canReview && (
        <ReviewForm key={mine?.id ?? "new"} comparisonId={comparisonId} runId={runId} mine={mine} />
      )}
    </div>
  );
}

function ReviewForm({
  comparisonId,
  runId,
  mine,
}: {
  comparisonId: string;
  runId: string;
  mine: Review | undefined;
}) {
  const [thumbs, setThumbs] = useState(mine?.thumbs ?? "");
  const [score, setScore] = useState(mine?.score?.toString() ?? "");
  const [comment, setComment] = useState(mine?.comment ?? "");
  const save = useReviewCell(comparisonId);
  const scoreValue = score.trim() === "" ? null : Number(score);
  const isScoreValid = scoreValue === null || (scoreValue >= 0 && scoreValue <= 1);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate({ run_id: runId, thumbs: thumbs as Review["thumbs"], score: scoreValue, comment });
  };
  return (
    <form className="toolbar" onSubmit={submit} aria-label="Your review">
      {(["up", "down"] as const).map((value) => (
        <button
          key={value}
          type="button"
          className={`button${thumbs === value ? " primary" : ""}`}
          aria-pressed={thumbs === value}
          onClick={() => setThumbs(thumbs === value ? "" : value)}
        >
          {value === "up" ? "👍 Good" : "👎 Bad"}
        </button>
      ))}
      <label className="field">
        <span>Score (0-1)</span>
        <input
          type="number"
          min={0}
          max={1}
          step={0.05}
          value={score}
          onChange={(event) => setScore(event.target.value)}
          aria-invalid={!isScoreValid}
        />
      </label>
      <label className="field">
        <span>Comment</span>
        <input value={comment} onChange={(event) => setComment(event.target.value)} />
      </label>
      <button type="submit" className="button" disabled={save.isPending || !isScoreValid}>
        {mine ? "Update review" : "Save review"}
      </button>
      {save.isSuccess && (
        <span role="status" className="muted">
          Saved.
        </span>
      )}
      <ApiErrorMessage error={save.error} />
    </form>
  );
}
