// Saved variants of the workflow: save the current edit as one, load one, save an
// edit as a new revision, and restore a past revision.
import { useState, type FormEvent } from "react";
import type { Variant } from "../../api/types";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { RelativeTime } from "../../components/RelativeTime";
import { RequireRole } from "../../components/RequireRole";
import { AsyncView, Empty } from "../../components/StateViews";
import {
  useEditVariant,
  useRestoreRevision,
  useRevisions,
  useSaveVariant,
  useVariants,
} from "./api";
import { valueText, type Overrides } from "./model";

export interface VariantsPanelProps {
  workflow: string;
  overrides: Overrides;
  selected: Variant | undefined;
  hasUnsavedEdits: boolean;
  onLoad: (variant: Variant) => void;
}

export function VariantsPanel({
  workflow,
  overrides,
  selected,
  hasUnsavedEdits,
  onLoad,
}: VariantsPanelProps) {
  const variants = useVariants(workflow);
  const hasEdits = Object.keys(overrides).length > 0;

  return (
    <div className="variants-panel">
      <RequireRole role="editor">
        <SaveVariantForm
          workflow={workflow}
          overrides={overrides}
          hasEdits={hasEdits}
          onSaved={onLoad}
        />
        {selected && hasUnsavedEdits && (
          <UpdateVariant variant={selected} overrides={overrides} onSaved={onLoad} />
        )}
      </RequireRole>
      <h3>Saved variants</h3>
      <AsyncView
        {...variants}
        onRetry={variants.reload}
        empty={<Empty message="No saved variants of this workflow yet." />}
      >
        {(page) => (
          <ul className="variant-list">
            {page.results.map((variant) => (
              <li key={variant.id} className={variant.id === selected?.id ? "selected" : undefined}>
                <div className="variant-line">
                  <strong>{variant.name}</strong>
                  <span className="muted">
                    rev {variant.revision} · {variant.created_by} ·{" "}
                    <RelativeTime value={variant.updated_at} />
                  </span>
                </div>
                <button
                  type="button"
                  className="button small"
                  aria-label={`Load variant ${variant.name}`}
                  aria-pressed={variant.id === selected?.id}
                  onClick={() => onLoad(variant)}
                >
                  {variant.id === selected?.id ? "Loaded" : "Load"}
                </button>
              </li>
            ))}
          </ul>
        )}
      </AsyncView>
      {selected && <Revisions variant={selected} onRestored={onLoad} />}
    </div>
  );
}

function SaveVariantForm({
  workflow,
  overrides,
  hasEdits,
  onSaved,
}: {
  workflow: string;
  overrides: Overrides;
  hasEdits: boolean;
  onSaved: (variant: Variant) => void;
}) {
  const [name, setName] = useState("");
  const save = useSaveVariant();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(
      { workflow, name: name.trim(), notes: "", overrides },
      {
        onSuccess: (variant) => {
          setName("");
          onSaved(variant);
        },
      },
    );
  };
  return (
    <form className="save-variant" onSubmit={submit}>
      <label className="field">
        <span>Variant name</span>
        <input
          value={name}
          maxLength={200}
          placeholder="e.g. brief replies"
          onChange={(event) => setName(event.target.value)}
        />
      </label>
      <button
        type="submit"
        className="button"
        disabled={save.isPending || name.trim() === "" || !hasEdits}
        title={hasEdits ? undefined : "Edit a variable first"}
      >
        Save variant
      </button>
      <ApiErrorMessage error={save.error} />
    </form>
  );
}

function UpdateVariant({
  variant,
  overrides,
  onSaved,
}: {
  variant: Variant;
  overrides: Overrides;
  onSaved: (variant: Variant) => void;
}) {
  const edit = useEditVariant(variant.id);
  return (
    <div className="update-variant">
      <button
        type="button"
        className="button"
        disabled={edit.isPending}
        onClick={() =>
          edit.mutate(
            { overrides, base_revision: variant.revision },
            { onSuccess: (saved) => onSaved(saved) },
          )
        }
      >
        Save as revision {(variant.revision ?? 0) + 1} of “{variant.name}”
      </button>
      <ApiErrorMessage error={edit.error} />
    </div>
  );
}

function Revisions({
  variant,
  onRestored,
}: {
  variant: Variant;
  onRestored: (variant: Variant) => void;
}) {
  const revisions = useRevisions(variant.id);
  const restore = useRestoreRevision(variant.id);
  return (
    <details className="revisions">
      <summary>Revisions of “{variant.name}”</summary>
      <AsyncView
        {...revisions}
        onRetry={revisions.reload}
        empty={<Empty message="No revisions." />}
      >
        {(page) => (
          <ol className="revision-list">
            {page.results.map((revision) => (
              <li key={revision.number}>
                <div className="variant-line">
                  <strong>Revision {revision.number}</strong>
                  <span className="muted">
                    {revision.author} · <RelativeTime value={revision.created_at} />
                    {revision.restored_from ? ` · restored from ${revision.restored_from}` : ""}
                  </span>
                </div>
                <ul className="revision-changes">
                  {revision.changes.map((change) => (
                    <li key={`${change.step}/${change.name}`}>
                      {change.kind}{" "}
                      <code>
                        {change.step}.{change.name}
                      </code>
                      {change.kind !== "added" && (
                        <>
                          {" "}
                          from <del>{valueText(change.old)}</del>
                        </>
                      )}
                      {change.kind !== "removed" && (
                        <>
                          {" "}
                          to <ins>{valueText(change.new)}</ins>
                        </>
                      )}
                    </li>
                  ))}
                </ul>
                {revision.number !== variant.revision && (
                  <RequireRole role="editor">
                    <button
                      type="button"
                      className="button small"
                      disabled={restore.isPending}
                      onClick={() =>
                        restore.mutate(
                          { revision: revision.number },
                          { onSuccess: (restored) => onRestored(restored) },
                        )
                      }
                    >
                      Restore revision {revision.number}
                    </button>
                  </RequireRole>
                )}
              </li>
            ))}
          </ol>
        )}
      </AsyncView>
      <ApiErrorMessage error={restore.error} />
    </details>
  );
}
