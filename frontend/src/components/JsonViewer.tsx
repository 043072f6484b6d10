// A read-only, foldable tree of any JSON value: run inputs, step outputs, event
// payloads. Objects and arrays fold with real buttons, so it works by keyboard.
import { useState } from "react";
import { CopyButton } from "./CopyButton";

export interface JsonViewerProps {
  value: unknown;
  /** Containers nested deeper than this start folded; 0 folds the root. */
  expandDepth?: number;
  /** Names the tree for screen readers, e.g. "Run input". */
  label?: string;
}

export function JsonViewer({ value, expandDepth = 2, label = "JSON" }: JsonViewerProps) {
  return (
    <div className="json-viewer" role="group" aria-label={label}>
      <div className="json-viewer-toolbar">
        <CopyButton text={JSON.stringify(value, null, 2) ?? "undefined"} label={`Copy ${label}`} />
      </div>
      <div className="json-tree">
        <JsonNode value={value} depth={0} expandDepth={expandDepth} />
      </div>
    </div>
  );
}

interface JsonNodeProps {
  value: unknown;
  depth: number;
  expandDepth: number;
  /** The key or index this value sits under in its parent; absent for the root. */
  name?: string;
}

function JsonNode({ value, depth, expandDepth, name }: JsonNodeProps) {
  const isContainer = value !== null && typeof value === "object";
  const [isExpanded, setIsExpanded] = useState(depth < expandDepth);
  const keyLabel = name !== undefined && <span className="json-key">{name}: </span>;

  if (!isContainer) {
    return (
      <div className="json-line">
        {keyLabel}
        <JsonScalar value={value} />
      </div>
    );
  }

  const isArray = Array.isArray(value);
  const entries: [string, unknown][] = isArray
    ? value.map((item, index) => [String(index), item])
    : Object.entries(value);
  const [open, close] = isArray ? ["[", "]"] : ["{", "}"];
  const summary = `${entries.length} ${isArray ? "item" : "key"}${entries.length === 1 ? "" : "s"}`;

  if (entries.length === 0) {
    return (
      <div className="json-line">
        {keyLabel}
        <span className="json-punctuation">{open + close}</span>
      </div>
    );
  }

  return (
    <div className="json-container">
      <div className="json-line">
        <button
          type="button"
          className="json-toggle"
          aria-expanded={isExpanded}
          aria-label={`${isExpanded ? "Collapse" : "Expand"} ${name ?? "root"}`}
          onClick={() => setIsExpanded(!isExpanded)}
        >
          {isExpanded ? "▾" : "▸"}
        </button>
        {keyLabel}
        <span className="json-punctuation">{open}</span>
        {!isExpanded && (
          <>
            <span className="json-summary"> {summary} </span>
            <span className="json-punctuation">{close}</span>
          </>
        )}
      </div>
      {isExpanded && (
        <>
          <div className="json-children">
            {entries.map(([key, item]) => (
              <JsonNode
                key={key}
                name={key}
                value={item}
                depth={depth + 1}
                expandDepth={expandDepth}
              />
            ))}
          </div>
          <div className="json-line">
            <span className="json-punctuation">{close}</span>
          </div>
        </>
      )}
    </div>
  );
}

function JsonScalar({ value }: { value: unknown }) {
  if (typeof value === "string")
    return <span className="json-string">{JSON.stringify(value)}</span>;
  if (typeof value === "number") return <span className="json-number">{String(value)}</span>;
  if (typeof value === "boolean") return <span className="json-boolean">{String(value)}</span>;
  if (value === null) return <span className="json-null">null</span>;
  return <span className="json-null">undefined</span>;
}
