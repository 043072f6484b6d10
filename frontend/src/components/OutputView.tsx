// A step's output as a person reads it: a string, or an object whose one field is a
// string, shows as text (Markdown when it looks like Markdown); the JSON is one click
// away. Any other value shows as its JSON tree.
import { useState } from "react";
import { JsonViewer } from "./JsonViewer";
import { looksLikeMarkdown, Markdown } from "./Markdown";
import "./OutputView.css";

/** The text an output stands for, if it is one: a string, or a lone string field. */
export function outputProse(output: unknown): string | null {
  if (typeof output === "string") return output;
  if (output !== null && typeof output === "object" && !Array.isArray(output)) {
    const values = Object.values(output as Record<string, unknown>);
    const [only] = values;
    if (values.length === 1 && typeof only === "string") return only;
  }
  return null;
}

export interface OutputViewProps {
  value: unknown;
  /** Names the output for screen readers, e.g. "Output of draft". */
  label: string;
}

export function OutputView({ value, label }: OutputViewProps) {
  const prose = outputProse(value);
  const [showsJson, setShowsJson] = useState(false);
  if (prose === null) return <JsonViewer value={value} label={label} />;
  return (
    <div className="output-view" role="group" aria-label={label}>
      <div className="output-view-toolbar">
        <button
          type="button"
          className="button small"
          aria-pressed={!showsJson}
          onClick={() => setShowsJson(false)}
        >
          Text
        </button>
        <button
          type="button"
          className="button small"
          aria-pressed={showsJson}
          onClick={() => setShowsJson(true)}
        >
          JSON
        </button>
      </div>
      {showsJson ? (
        <JsonViewer value={value} label={`${label} (JSON)`} />
      ) : looksLikeMarkdown(prose) ? (
        <Markdown text={prose} />
      ) : (
        <p className="output-text">{prose}</p>
      )}
    </div>
  );
}
