// One exposed variable: an editor that fits its JSON type, the code default beside
// it, and, once edited, how the edit differs from the default.
import { useId, useState } from "react";
import type { Variable } from "../../api/types";
import { JsonEditor } from "../../components/JsonEditor";
import { TextDiff } from "../../components/TextDiff";
import { editorKind, sameValue, valueText } from "./model";

export interface VariableEditorProps {
  variable: Variable;
  /** The edited value; undefined means "the code default". */
  value: unknown;
  onChange: (value: unknown) => void;
  onReset: () => void;
  readOnly?: boolean;
}

export function VariableEditor({
  variable,
  value,
  onChange,
  onReset,
  readOnly = false,
}: VariableEditorProps) {
  const [resets, setResets] = useState(0);
  const current = value === undefined ? variable.default : value;
  const isEdited = !sameValue(current, variable.default);
  const kind = editorKind(variable.type);
  const defaultId = useId();

  const reset = () => {
    setResets((count) => count + 1);
    onReset();
  };

  return (
    <section
      className={`card variable-editor${isEdited ? " edited" : ""}${readOnly ? " read-only" : ""}`}
      aria-labelledby={`${defaultId}-title`}
    >
      <header className="variable-editor-header">
        <h3 id={`${defaultId}-title`}>
          <code>{variable.name}</code>
        </h3>
        <span className="variable-type">{variable.type}</span>
        {isEdited && <span className="status-badge tone-active">Edited</span>}
        {readOnly && <span className="status-badge tone-muted">Read-only</span>}
        <span className="muted variable-site">
          {variable.call_site.path}:{variable.call_site.line} in {variable.call_site.function}()
        </span>
        {!readOnly && (
          <button
            type="button"
            className="button small"
            onClick={reset}
            disabled={!isEdited}
            aria-label={`Reset ${variable.name} to default`}
          >
            Reset to default
          </button>
        )}
      </header>
      <div className="variable-editor-body">
        <div className="variable-edit">
          {kind === "text" && (
            <label className="field">
              <span id={`${defaultId}-label`}>{variable.name}</span>
              <textarea
                aria-labelledby={`${defaultId}-label`}
                className="prompt-input"
                rows={6}
                value={typeof current === "string" ? current : valueText(current)}
                readOnly={readOnly}
                aria-describedby={defaultId}
                onChange={(event) => onChange(event.target.value)}
              />
            </label>
          )}
          {(kind === "integer" || kind === "number") && (
            <NumberField
              key={resets}
              label={variable.name}
              labelId={`${defaultId}-label`}
              value={typeof current === "number" ? current : Number(current)}
              integer={kind === "integer"}
              readOnly={readOnly}
              describedBy={defaultId}
              onChange={onChange}
            />
          )}
          {kind === "boolean" && (
            <label className="checkbox-field">
              <input
                type="checkbox"
                checked={current === true}
                disabled={readOnly}
                aria-describedby={defaultId}
                onChange={(event) => onChange(event.target.checked)}
              />
              <span>{variable.name}</span>
            </label>
          )}
          {kind === "json" &&
            (readOnly ? (
              <pre className="code variable-json">{valueText(current)}</pre>
            ) : (
              <JsonEditor
                key={resets}
                label={variable.name}
                initialValue={current}
                rows={6}
                onChange={(parsed, valid) => {
                  if (valid) onChange(parsed);
                }}
              />
            ))}
        </div>
        <div className="variable-default" id={defaultId}>
          <span className="variable-default-label">Code default</span>
          <pre className="code">{valueText(variable.default)}</pre>
        </div>
      </div>
      {isEdited && (
        <div className="variable-diff" role="group" aria-label={`Changes to ${variable.name}`}>
          <span className="variable-default-label">Changes from the code default</span>
          {kind === "text" || kind === "json" ? (
            <TextDiff
              before={valueText(variable.default)}
              after={valueText(current)}
              mode={kind === "json" ? "lines" : "words"}
              beforeLabel="code default"
              afterLabel="edit"
            />
          ) : (
            // A number or a flag changes as a whole: old, then new.
            <p className="text-diff words">
              <del title="Only in code default">{valueText(variable.default)}</del> →{" "}
              <ins title="Added in edit">{valueText(current)}</ins>
            </p>
          )}
        </div>
      )}
    </section>
  );
}

interface NumberFieldProps {
  label: string;
  labelId: string;
  value: number;
  integer: boolean;
  readOnly: boolean;
  describedBy: string;
  onChange: (value: number) => void;
}

/** A number input that keeps half-typed text ("0.", "-") without reporting it. */
function NumberField({
  label,
  labelId,
  value,
  integer,
  readOnly,
  describedBy,
  onChange,
}: NumberFieldProps) {
  const [text, setText] = useState(String(value));
  const [error, setError] = useState<string | null>(null);
  const errorId = useId();

  const [shownValue, setShownValue] = useState(value);
  if (!Object.is(value, shownValue)) {
    setShownValue(value);
    setText((shown) => (Number(shown) === value && shown.trim() !== "" ? shown : String(value)));
  }

  const update = (next: string) => {
    setText(next);
    const parsed = Number(next);
    if (next.trim() === "" || Number.isNaN(parsed)) {
      setError("Enter a number.");
    } else if (integer && !Number.isInteger(parsed)) {
      setError("Enter a whole number.");
    } else {
      setError(null);
      onChange(parsed);
    }
  };

  return (
    <label className="field">
      <span id={labelId}>{label}</span>
      <input
        aria-labelledby={labelId}
        type="number"
        step={integer ? 1 : "any"}
        value={text}
        readOnly={readOnly}
        aria-invalid={error !== null}
        aria-describedby={error ? `${errorId} ${describedBy}` : describedBy}
        onChange={(event) => update(event.target.value)}
      />
      {error && (
        <span id={errorId} className="form-error" role="alert">
          {error}
        </span>
      )}
    </label>
  );
}
