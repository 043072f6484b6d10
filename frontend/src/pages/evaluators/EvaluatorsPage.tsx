// Evaluators: the checks that score every cell of a comparison (built-in checks and
// LLM judges configured here, code evaluators registered by the workers), each with a
// form to make or change one and a place to try it on an output typed by hand.
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router-dom";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { ConfirmButton } from "../../components/ConfirmButton";
import { RequireRole } from "../../components/RequireRole";
import { AsyncView, Empty } from "../../components/StateViews";
import { TableHead } from "../../components/TableHead";
import { WorkflowSelect } from "../../components/WorkflowSelect";
import { useSession } from "../../session";
import {
  useCreateEvaluator,
  useDeleteEvaluator,
  useEditEvaluator,
  useEvaluators,
  useTryEvaluator,
  type Evaluator,
  type EvaluatorKind,
} from "./api";
import {
  configOf,
  describe,
  draftOf,
  KINDS,
  kindLabel,
  type ConfigDraft,
  type ConfigField,
} from "./config";
import "./evaluators.css";

export function EvaluatorsPage() {
  const [params, setParams] = useSearchParams();
  const workflow = params.get("workflow") || null;
  const evaluators = useEvaluators(workflow);
  return (
    <section className="page">
      <div className="page-header">
        <div>
          <h1>Evaluators</h1>
          <p className="muted">
            Each comparison scores its cells with its workflow&apos;s evaluators, and holds the
            columns against the baseline by them.
          </p>
        </div>
        <WorkflowSelect
          label="Show workflow"
          value={workflow ?? ""}
          emptyLabel="All workflows"
          onChange={(name) => setParams(name ? { workflow: name } : {})}
        />
      </div>
      <RequireRole role="editor">
        <EvaluatorForm key={workflow ?? ""} workflow={workflow ?? ""} />
      </RequireRole>
      <AsyncView
        {...evaluators}
        onRetry={evaluators.reload}
        empty={<Empty message="No evaluators yet: make one with the form above." />}
      >
        {(page) => <EvaluatorsTable evaluators={page.results} />}
      </AsyncView>
    </section>
  );
}

function EvaluatorsTable({ evaluators }: { evaluators: Evaluator[] }) {
  return (
    <table className="data-table evaluators-table">
      <caption className="visually-hidden">Evaluators by workflow and name</caption>
      <TableHead columns={["Name", "Workflow", "Kind", "Checks", "Step", "Passes at", ""]} />
      <tbody>
        {evaluators.map((evaluator) => (
          <EvaluatorRow key={evaluator.id} evaluator={evaluator} />
        ))}
      </tbody>
    </table>
  );
}

type Opened = "none" | "edit" | "try";

function EvaluatorRow({ evaluator }: { evaluator: Evaluator }) {
  const { role } = useSession();
  const [opened, setOpened] = useState<Opened>("none");
  const remove = useDeleteEvaluator(evaluator.id);
  const panelButton = (panel: Opened, label: string) => (
    <button
      type="button"
      className="button small"
      aria-expanded={opened === panel}
      onClick={() => setOpened(opened === panel ? "none" : panel)}
    >
      {label}
    </button>
  );
  const isConfigurable = evaluator.kind in KINDS;
  return (
    <>
      <tr>
        <td>{evaluator.name}</td>
        <td>{evaluator.workflow}</td>
        <td>{kindLabel(evaluator.kind)}</td>
        <td className="evaluator-checks">{describe(evaluator.kind, evaluator.config)}</td>
        <td>{evaluator.step || <span className="muted">its output</span>}</td>
        <td>{evaluator.threshold ?? 0.5}</td>
        <td className="evaluator-actions">
          {panelButton("try", `Try ${evaluator.name}`)}
          {role !== "viewer" && isConfigurable && panelButton("edit", `Edit ${evaluator.name}`)}
          {role !== "viewer" && (
            <ConfirmButton onConfirm={() => remove.mutate(undefined)} disabled={remove.isPending}>
              Delete {evaluator.name}
            </ConfirmButton>
          )}
          <ApiErrorMessage error={remove.error} />
        </td>
      </tr>
      {opened !== "none" && (
        <tr className="evaluator-panel">
          <td colSpan={7}>
            {opened === "try" ? (
              <TryPanel evaluator={evaluator} />
            ) : (
              <EvaluatorForm
                workflow={evaluator.workflow}
                evaluator={evaluator}
                onDone={() => setOpened("none")}
              />
            )}
          </td>
        </tr>
      )}
    </>
  );
}

const configurableKinds = Object.entries(KINDS) as [EvaluatorKind, { label: string }][];

/** Makes an evaluator, or changes `evaluator`. */
function EvaluatorForm({
  workflow: initialWorkflow,
  evaluator,
  onDone,
}: {
  workflow: string;
  evaluator?: Evaluator;
  onDone?: () => void;
}) {
  const [workflow, setWorkflow] = useState(initialWorkflow);
  const [name, setName] = useState(evaluator?.name ?? "");
  const [kind, setKind] = useState<EvaluatorKind>(evaluator?.kind ?? "contains");
  const [draft, setDraft] = useState<ConfigDraft>(
    evaluator ? draftOf(evaluator.kind, evaluator.config) : {},
  );
  const [step, setStep] = useState(evaluator?.step ?? "");
  const [threshold, setThreshold] = useState(String(evaluator?.threshold ?? 0.5));
  const [problem, setProblem] = useState("");
  const reset = () => {
    setName("");
    setDraft({});
    onDone?.();
  };
  const create = useCreateEvaluator({ onSuccess: reset });
  const edit = useEditEvaluator(evaluator?.id ?? "", { onSuccess: reset });
  const saving = evaluator ? edit : create;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const shaped = configOf(kind, draft);
    if ("error" in shaped) {
      setProblem(shaped.error);
      return;
    }
    setProblem("");
    const fields = {
      name: name.trim(),
      kind,
      config: shaped.config,
      step: step.trim(),
      threshold: Number(threshold),
    };
    if (evaluator) edit.mutate(fields);
    else create.mutate({ workflow, ...fields });
  };
  const label = evaluator ? `Change ${evaluator.name}` : "New evaluator";
  return (
    <form className="card evaluator-form" aria-label={label} onSubmit={submit}>
      {!evaluator && (
        <WorkflowSelect
          label="Workflow"
          value={workflow}
          emptyLabel="Choose a workflow"
          onChange={setWorkflow}
        />
      )}
      <label className="field">
        <span>Name</span>
        <input value={name} onChange={(event) => setName(event.target.value)} required />
      </label>
      <label className="field">
        <span>Kind</span>
        <select
          value={kind}
          onChange={(event) => {
            setKind(event.target.value as EvaluatorKind);
            setDraft({});
          }}
        >
          {configurableKinds.map(([value, spec]) => (
            <option key={value} value={value}>
              {spec.label}
            </option>
          ))}
        </select>
      </label>
      {(KINDS[kind]?.fields ?? []).map((field) => (
        <ConfigInput
          key={`${kind}.${field.name}`}
          field={field}
          value={draft[field.name] ?? ""}
          onChange={(value) => setDraft({ ...draft, [field.name]: value })}
        />
      ))}
      <label className="field">
        <span>Step</span>
        <input
          value={step}
          placeholder="the output a cell shows"
          onChange={(event) => setStep(event.target.value)}
        />
      </label>
      <label className="field field-narrow">
        <span>Passes at</span>
        <input
          type="number"
          min={0}
          max={1}
          step={0.05}
          value={threshold}
          onChange={(event) => setThreshold(event.target.value)}
        />
      </label>
      <button
        type="submit"
        className="button"
        disabled={saving.isPending || !name.trim() || (!evaluator && !workflow)}
      >
        {evaluator ? "Save" : "Add evaluator"}
      </button>
      {problem && (
        <p role="alert" className="form-error">
          {problem}
        </p>
      )}
      <ApiErrorMessage error={saving.error} />
    </form>
  );
}

function ConfigInput({
  field,
  value,
  onChange,
}: {
  field: ConfigField;
  value: string;
  onChange: (value: string) => void;
}) {
  if (field.type === "checkbox") {
    return (
      <label className="field field-checkbox">
        <input
          type="checkbox"
          checked={value === "true"}
          onChange={(event) => onChange(event.target.checked ? "true" : "")}
        />
        <span>{field.label}</span>
      </label>
    );
  }
  const common = { value, required: field.required, placeholder: field.help };
  const isLong = field.type === "longtext" || field.type === "json";
  return (
    <label className={isLong ? "field field-wide" : "field"}>
      <span>{field.label}</span>
      {isLong ? (
        <textarea rows={3} {...common} onChange={(event) => onChange(event.target.value)} />
      ) : (
        <input
          type={field.type === "number" ? "number" : "text"}
          step="any"
          {...common}
          onChange={(event) => onChange(event.target.value)}
        />
      )}
    </label>
  );
}

/** Text as it is, unless it reads as JSON (an object, a list, a number). */
function outputOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function TryPanel({ evaluator }: { evaluator: Evaluator }) {
  const [output, setOutput] = useState("");
  const [expected, setExpected] = useState("");
  const attempt = useTryEvaluator(evaluator.id);
  const verdict = attempt.data;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    attempt.mutate({
      output: outputOf(output),
      expected: expected.trim() ? outputOf(expected) : null,
    });
  };
  return (
    <form className="evaluator-try" aria-label={`Try ${evaluator.name}`} onSubmit={submit}>
      <label className="field field-wide">
        <span>Output to try</span>
        <textarea rows={3} value={output} onChange={(event) => setOutput(event.target.value)} />
      </label>
      {evaluator.kind === "equals_expected" && (
        <label className="field field-wide">
          <span>Expected output</span>
          <textarea
            rows={2}
            value={expected}
            onChange={(event) => setExpected(event.target.value)}
          />
        </label>
      )}
      <button type="submit" className="button" disabled={attempt.isPending}>
        {attempt.isPending ? "Evaluating…" : "Evaluate"}
      </button>
      <ApiErrorMessage error={attempt.error} />
      {verdict && (
        <p className="evaluator-verdict" role="status">
          {verdict.error ? (
            <span className="verdict-error">No verdict: {verdict.error}</span>
          ) : verdict.status === "pending" ? (
            <span>Pending: {verdict.reason || "waiting for a worker"}</span>
          ) : (
            <>
              <strong className={verdict.passed ? "verdict-pass" : "verdict-fail"}>
                {verdict.passed ? "Pass" : "Fail"}
              </strong>{" "}
              score {verdict.value?.toFixed(2)}: {verdict.reason}
            </>
          )}
        </p>
      )}
    </form>
  );
}
