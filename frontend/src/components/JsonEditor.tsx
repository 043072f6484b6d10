// A plain textarea for editing JSON (run inputs, overrides, payloads) that checks
// the text as it is typed and tells the parent whether it may be submitted.
import { useId, useState } from "react";

export interface JsonEditorProps {
  /** The starting value; the editor owns the text after that. */
  initialValue: unknown;
  /** Called on every edit: the parsed value (undefined while invalid) and validity. */
  onChange: (value: unknown, valid: boolean) => void;
  label: string;
  rows?: number;
}

export interface JsonParseResult {
  value: unknown;
  error: string | null;
}

/** Parses JSON text; on failure the message names the line and column when known. */
export function parseJson(text: string): JsonParseResult {
  try {
    return { value: JSON.parse(text), error: null };
  } catch (cause) {
    return { value: undefined, error: describeParseError(text, (cause as Error).message) };
  }
}

function describeParseError(text: string, message: string): string {
  // Newer engines already say "(line L column C)"; older ones only give a position.
  if (/line \d+ column \d+/.test(message)) return message;
  const position = /position (\d+)/.exec(message);
  if (!position) return message;
  const before = text.slice(0, Number(position[1]));
  const line = before.split("\n").length;
  const column = before.length - before.lastIndexOf("\n");
  return `${message} (line ${line} column ${column})`;
}

export function JsonEditor({ initialValue, onChange, label, rows = 10 }: JsonEditorProps) {
  const [text, setText] = useState(() => JSON.stringify(initialValue, null, 2) ?? "");
  const [error, setError] = useState<string | null>(null);
  const errorId = useId();

  const update = (nextText: string) => {
    setText(nextText);
    const parsed = parseJson(nextText);
    setError(parsed.error);
    onChange(parsed.value, parsed.error === null);
  };

  const format = () => {
    const parsed = parseJson(text);
    if (parsed.error === null) update(JSON.stringify(parsed.value, null, 2));
  };

  return (
    <div className="json-editor">
      <label className="field">
        <span>{label}</span>
        <textarea
          className="code"
          value={text}
          rows={rows}
          spellCheck={false}
          aria-invalid={error !== null}
          aria-describedby={error ? errorId : undefined}
          onChange={(event) => update(event.target.value)}
        />
      </label>
      <div className="json-editor-footer">
        <button type="button" className="button small" onClick={format} disabled={error !== null}>
          Format
        </button>
        {error && (
          <p id={errorId} className="form-error" role="alert">
            Invalid JSON: {error}
          </p>
        )}
      </div>
    </div>
  );
}
