// The prompt playground: pick a workflow and step, edit the values its code exposes
// with context.playground(...), try them on past or custom inputs, compare against
// the code defaults, save them as a variant and turn that into a pull request.
// State that makes a link (workflow, step, variant) lives in the query string.
import { useEffect, useMemo, useState } from "react";
import { useNavigate, useSearchParams } from "react-router-dom";
import type { ColumnRequestBody, RowRequestBody, Variable, Variant } from "../../api/types";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { RequireRole } from "../../components/RequireRole";
import { AsyncView, Empty } from "../../components/StateViews";
import { useSession } from "../../session";
import { usePastRuns, useStartComparison, useStartRun, useVariables, useVariants } from "./api";
import { useDatasets } from "../datasets/api";
import { InputsPicker, type CustomInput, type DatasetChoice } from "./InputsPicker";
import {
  catalogTree,
  counted,
  editsFromOverrides,
  inputSummary,
  overridesFromEdits,
  sameOverrides,
  type Edits,
} from "./model";
import { PullRequestPanel } from "./PullRequestPanel";
import { RecentComparisons } from "./RecentComparisons";
import { RunOutputs, type StartedRun } from "./RunOutputs";
import { VariableEditor } from "./VariableEditor";
import { VariantsPanel } from "./VariantsPanel";
import "./playground.css";

export function PlaygroundPage() {
  const variables = useVariables();
  const [params, setParams] = useSearchParams();
  const tree = useMemo(() => catalogTree(variables.data?.results ?? []), [variables.data]);

  const workflow =
    params.get("workflow") && tree.has(params.get("workflow") as string)
      ? (params.get("workflow") as string)
      : ([...tree.keys()][0] ?? null);
  const steps = workflow ? (tree.get(workflow) ?? []) : [];
  const step =
    params.get("step") && steps.includes(params.get("step") as string)
      ? (params.get("step") as string)
      : (steps[0] ?? null);

  const choose = (next: { workflow?: string; step?: string }) => {
    const updated = new URLSearchParams(params);
    if (next.workflow !== undefined) {
      updated.set("workflow", next.workflow);
      updated.delete("step");
      updated.delete("variant");
    }
    if (next.step !== undefined) updated.set("step", next.step);
    setParams(updated);
  };

  return (
    <section className="page playground-page">
      <div className="page-header">
        <div>
          <h1>Playground</h1>
          <p className="muted">
            Edit what a step exposes with <code>context.playground(…)</code>, try it on real inputs,
            and turn it into a pull request.
          </p>
        </div>
        {workflow && step && (
          <div className="toolbar playground-pick">
            <label className="field">
              <span id="playground-workflow-label">Workflow</span>
              <select
                aria-labelledby="playground-workflow-label"
                value={workflow}
                onChange={(event) => choose({ workflow: event.target.value })}
              >
                {[...tree.keys()].map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span id="playground-step-label">Step</span>
              <select
                aria-labelledby="playground-step-label"
                value={step}
                onChange={(event) => choose({ step: event.target.value })}
              >
                {steps.map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
              </select>
            </label>
          </div>
        )}
      </div>
      <AsyncView
        {...variables}
        onRetry={variables.reload}
        empty={
          <Empty
            message={
              <>
                No step exposes a variable yet. Call{" "}
                <code>context.playground("name", default)</code> in a step and run the workflow
                once: its variables appear here.
              </>
            }
          />
        }
      >
        {(page) =>
          workflow && step ? (
            <Workspace
              key={workflow}
              workflow={workflow}
              step={step}
              variables={page.results.filter((variable) => variable.workflow === workflow)}
            />
          ) : null
        }
      </AsyncView>
    </section>
  );
}

interface Remembered {
  edits: Edits;
  appliedVariant: string | null;
  chosenRuns: string[];
}

const rememberedKey = (workflow: string) => `hatchet.playground.${workflow}`;

function readRemembered(workflow: string): Remembered {
  try {
    const text = sessionStorage.getItem(rememberedKey(workflow));
    const value = text ? (JSON.parse(text) as Partial<Remembered>) : {};
    return {
      edits: value.edits ?? {},
      appliedVariant: value.appliedVariant ?? null,
      chosenRuns: value.chosenRuns ?? [],
    };
  } catch {
    return { edits: {}, appliedVariant: null, chosenRuns: [] };
  }
}

function remember(workflow: string, value: Remembered): void {
  try {
    sessionStorage.setItem(rememberedKey(workflow), JSON.stringify(value));
  } catch {
    // Storage can be full or disabled; the edits then last as long as the page.
  }
}

interface WorkspaceProps {
  workflow: string;
  step: string;
  /** Every variable of the workflow, all steps. */
  variables: Variable[];
}

function Workspace({ workflow, step, variables }: WorkspaceProps) {
  const { can } = useSession();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const variantId = params.get("variant");
  const variants = useVariants(workflow);
  const selected = variants.data?.results.find((variant) => variant.id === variantId);

  // Unsaved edits survive a trip to the comparison page and back (this tab only).
  const [remembered] = useState(() => readRemembered(workflow));
  const [edits, setEdits] = useState<Edits>(remembered.edits);
  const [appliedVariant, setAppliedVariant] = useState<string | null>(remembered.appliedVariant);
  const [chosenRuns, setChosenRuns] = useState<string[]>(remembered.chosenRuns);
  useEffect(
    () => remember(workflow, { edits, appliedVariant, chosenRuns }),
    [workflow, edits, appliedVariant, chosenRuns],
  );
  // The variant named in the address replaces the edits when it, or a new revision, arrives.
  const selectedKey = selected ? `${selected.id}/${selected.revision ?? 0}` : null;
  if (selected && selectedKey !== appliedVariant) {
    setEdits(editsFromOverrides(selected.overrides));
    setAppliedVariant(selectedKey);
  }

  const overrides = useMemo(() => overridesFromEdits(variables, edits), [variables, edits]);
  const hasEdits = Object.keys(overrides).length > 0;
  const hasUnsavedEdits =
    selected !== undefined &&
    !sameOverrides(overrides, overridesFromEdits(variables, selected.overrides));

  const stepVariables = variables.filter((variable) => variable.step === step);
  const setValue = (name: string, value: unknown) =>
    setEdits((current) => ({ ...current, [step]: { ...(current[step] ?? {}), [name]: value } }));
  const resetValue = (name: string) =>
    setEdits((current) => {
      const { [name]: _dropped, ...rest } = current[step] ?? {};
      return { ...current, [step]: rest };
    });

  const loadVariant = (variant: Variant) => {
    const updated = new URLSearchParams(params);
    updated.set("variant", variant.id);
    setParams(updated);
    setEdits(editsFromOverrides(variant.overrides));
    setAppliedVariant(`${variant.id}/${variant.revision ?? 0}`);
  };

  // Inputs.
  const past = usePastRuns(workflow);
  const [custom, setCustom] = useState<CustomInput>({ enabled: false, value: {}, valid: true });
  const chosen = (past.data?.results ?? []).filter((pastRun) => chosenRuns.includes(pastRun.id));
  const inputCount = chosen.length + (custom.enabled ? 1 : 0);
  const isCustomInvalid = custom.enabled && !custom.valid;
  const inputsReady = inputCount > 0 && !isCustomInvalid;
  const datasets = useDatasets(workflow || null);
  const [dataset, setDataset] = useState<DatasetChoice | null>(null);
  const datasetName = datasets.data?.results.find((found) => found.id === dataset?.id)?.name;
  const [repeat, setRepeat] = useState(1);
  const comparisonReady = (inputCount > 0 || dataset !== null) && !isCustomInvalid;

  // The variant stands for the edit when nothing was changed since loading it.
  const useVariant = selected !== undefined && !hasUnsavedEdits;

  const startRun = useStartRun();
  const [started, setStarted] = useState<StartedRun[]>([]);
  const [runError, setRunError] = useState<string | null>(null);
  const run = async () => {
    setRunError(null);
    const inputs = [
      ...chosen.map((pastRun) => ({ title: pastRun.input_summary, input: pastRun.input ?? {} })),
      ...(custom.enabled
        ? [
            {
              title: `Custom: ${inputSummary(custom.value)}`,
              input: custom.value as Record<string, unknown>,
            },
          ]
        : []),
    ];
    setStarted([]);
    for (const item of inputs) {
      try {
        const record = await startRun.mutateAsync({
          workflow,
          input: item.input,
          ...(useVariant ? { variant: selected.id } : { overrides }),
        });
        // Each output shows as soon as its run exists, not after all have started.
        setStarted((shown) => [...shown, { runId: record.run_id, title: item.title }]);
      } catch (cause) {
        setRunError(cause instanceof Error ? cause.message : String(cause));
        break;
      }
    }
  };

  const compare = useStartComparison();
  const startComparison = () => {
    const editColumn: ColumnRequestBody = useVariant
      ? { variant: selected.id }
      : { overrides, title: "Edited" };
    const rows: RowRequestBody[] = [
      // A blank title is refused; without one the row is named by the API.
      ...chosen.map((pastRun) =>
        pastRun.input_summary
          ? { run: pastRun.id, title: pastRun.input_summary }
          : { run: pastRun.id },
      ),
      ...(custom.enabled
        ? [{ input: custom.value as Record<string, unknown>, title: "Custom input" }]
        : []),
    ];
    compare.mutate(
      {
        workflow,
        columns: [{ baseline: true, title: "Baseline (code defaults)" }, editColumn],
        rows,
        repeat,
        ...(dataset && { dataset: dataset.id }),
        ...(dataset?.version && { dataset_version: dataset.version }),
      },
      { onSuccess: (comparison) => navigate(`/playground/compare/${comparison.id}`) },
    );
  };

  const canEdit = can("editor");

  return (
    <div className="playground-layout">
      <div className="playground-column">
        <section aria-labelledby="variables-title">
          <h2 id="variables-title">
            Variables of <code>{step}</code>
            {selected && (
              <span className="muted variant-loaded">
                {" "}
                · variant “{selected.name}” rev {selected.revision}
                {hasUnsavedEdits ? " (edited)" : ""}
              </span>
            )}
          </h2>
          {!canEdit && (
            <p className="notice">You can look around; editing needs the editor role.</p>
          )}
          {stepVariables.map((variable) => (
            <VariableEditor
              key={`${appliedVariant ?? ""}/${variable.id}`}
              variable={variable}
              value={edits[step]?.[variable.name]}
              onChange={(value) => setValue(variable.name, value)}
              onReset={() => resetValue(variable.name)}
              readOnly={!canEdit}
            />
          ))}
        </section>
        <section className="card" aria-labelledby="variants-title">
          <h2 id="variants-title">Variants</h2>
          <VariantsPanel
            workflow={workflow}
            overrides={overrides}
            selected={selected}
            hasUnsavedEdits={hasUnsavedEdits}
            onLoad={loadVariant}
          />
          {selected && <PullRequestPanel variant={selected} hasUnsavedEdits={hasUnsavedEdits} />}
        </section>
      </div>
      <div className="playground-column">
        <section className="card" aria-labelledby="inputs-title">
          <h2 id="inputs-title">Inputs</h2>
          <InputsPicker
            list={past}
            readOnly={!canEdit}
            selected={chosenRuns}
            onToggle={(runId, isChosen) =>
              setChosenRuns((current) =>
                isChosen ? [...current, runId] : current.filter((id) => id !== runId),
              )
            }
            custom={custom}
            onCustomChange={setCustom}
            datasets={datasets.data?.results}
            dataset={dataset}
            onDatasetChange={setDataset}
          />
        </section>
        <RequireRole role="editor">
          <div className="toolbar playground-actions">
            <button
              type="button"
              className="button primary"
              disabled={!inputsReady || startRun.isPending}
              onClick={() => void run()}
            >
              Run
            </button>
            <button
              type="button"
              className="button"
              disabled={!comparisonReady || !hasEdits || compare.isPending}
              onClick={startComparison}
            >
              Compare with baseline
            </button>
            <label className="field repeat-field">
              <span>Repeat each cell</span>
              <input
                type="number"
                min={1}
                max={10}
                value={repeat}
                onChange={(event) =>
                  setRepeat(Math.min(10, Math.max(1, Math.round(Number(event.target.value) || 1))))
                }
              />
            </label>
            {isCustomInvalid ? (
              <span className="form-error">
                The custom input is not a JSON object: fix it, or untick it to run without it.
              </span>
            ) : (
              <span className="muted">
                {inputCount === 0 && dataset === null
                  ? "Choose at least one input."
                  : `${counted(inputCount, "input")} chosen${datasetName ? ` + dataset ${datasetName}` : ""}${hasEdits ? "" : " · no edits: runs use the code defaults"}.`}
              </span>
            )}
          </div>
          {runError && (
            <p className="form-error" role="alert">
              {runError}
            </p>
          )}
          <ApiErrorMessage error={compare.error} />
        </RequireRole>
        <section aria-labelledby="outputs-title">
          <h2 id="outputs-title">Outputs</h2>
          {started.length === 0 ? (
            <p className="muted">
              {startRun.isPending
                ? "Starting runs…"
                : "Run the edit on the chosen inputs to see its outputs here."}
            </p>
          ) : (
            <RunOutputs runs={started} step={step} />
          )}
        </section>
        <section aria-labelledby="comparisons-title">
          <h2 id="comparisons-title">Recent comparisons</h2>
          <RecentComparisons workflow={workflow} />
        </section>
      </div>
    </div>
  );
}
