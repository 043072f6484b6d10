// Shows how one text became another (e.g. a step's output under two variants).
// Removed text is struck through and added text underlined, with "+"/"−" gutters
// in line mode, so the change reads without colour too.
import { diffLines, diffWordsWithSpace, type ChangeObject } from "diff";

export interface TextDiffProps {
  before: string;
  after: string;
  /** "lines" suits long or multi-line texts; "words" shows edits inside a sentence. */
  mode?: "lines" | "words";
  /** Names the two sides for screen readers, e.g. "Baseline" and "Variant B". */
  beforeLabel?: string;
  afterLabel?: string;
}

type ChangeKind = "added" | "removed" | "same";

function changeKind(change: ChangeObject<string>): ChangeKind {
  if (change.added) return "added";
  if (change.removed) return "removed";
  return "same";
}

export function TextDiff({
  before,
  after,
  mode = "lines",
  beforeLabel = "before",
  afterLabel = "after",
}: TextDiffProps) {
  if (before === after) {
    return <p className="text-diff-same">No differences.</p>;
  }
  const changes = mode === "lines" ? diffLines(before, after) : diffWordsWithSpace(before, after);
  const wordLabel = { added: `Added in ${afterLabel}`, removed: `Only in ${beforeLabel}` };

  if (mode === "words") {
    return (
      <p className={`text-diff words`}>
        {changes.map((change, index) => {
          const kind = changeKind(change);
          if (kind === "added")
            return (
              <ins key={index} title={wordLabel.added}>
                {change.value}
              </ins>
            );
          if (kind === "removed")
            return (
              <del key={index} title={wordLabel.removed}>
                {change.value}
              </del>
            );
          return <span key={index}>{change.value}</span>;
        })}
      </p>
    );
  }

  const gutter: Record<ChangeKind, string> = { added: "+", removed: "−", same: " " };
  const lines = changes.flatMap((change) =>
    change.value
      .replace(/\n$/, "")
      .split("\n")
      .map((text) => ({ kind: changeKind(change), text })),
  );
  return (
    <div
      className="text-diff lines"
      role="table"
      aria-label={`Differences from ${beforeLabel} to ${afterLabel}`}
    >
      {lines.map((line, index) => {
        const Tag = line.kind === "added" ? "ins" : line.kind === "removed" ? "del" : "span";
        return (
          <div key={index} className={`text-diff-line ${line.kind}`} role="row">
            <span className="text-diff-gutter" aria-hidden="true" role="cell">
              {gutter[line.kind]}
            </span>
            <Tag role="cell">{line.text}</Tag>
          </div>
        );
      })}
    </div>
  );
}
