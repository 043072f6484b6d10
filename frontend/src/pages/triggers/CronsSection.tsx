// Crons: declared by workflows in code or created here; pause, resume, delete (the
// server refuses deleting a declared one and says why), and a form to create one.
import { useState } from "react";
import type { Cron, NewCronBody } from "../../api/types";
import { ConfirmButton } from "../../components/ConfirmButton";
import { RelativeTime } from "../../components/RelativeTime";
import { RequireRole } from "../../components/RequireRole";
import { AsyncView, Empty } from "../../components/StateViews";
import { useSession } from "../../session";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { TableHead } from "../../components/TableHead";
import { WorkflowNameInput, formatDateTime } from "./WorkflowNameInput";
import { useCreateCron, useCrons, useDeleteCron, usePauseCron, useResumeCron } from "./api";
import { NewTriggerForm } from "./NewTriggerForm";
import { useRunInput } from "./useRunInput";

export function CronsSection() {
  const crons = useCrons();
  const { can } = useSession();
  const canEdit = can("editor");
  return (
    <section className="triggers-section" aria-labelledby="crons-heading">
      <h2 id="crons-heading">Crons</h2>
      <AsyncView
        {...crons}
        onRetry={crons.reload}
        empty={
          <Empty message="No crons. Declare one with on_crons=[...] in a workflow, or create one here." />
        }
      >
        {(page) => (
          <table className="data-table">
            <TableHead
              columns={["Workflow", "Expression", "Timezone", "State", "Next fire", "Last fired"]}
              hasActions={canEdit}
            />
            <tbody>
              {page.results.map((cron) => (
                <CronRow key={cron.id} cron={cron} canEdit={canEdit} />
              ))}
            </tbody>
          </table>
        )}
      </AsyncView>
      <RequireRole role="editor">
        <NewCronForm />
      </RequireRole>
    </section>
  );
}

function CronRow({ cron, canEdit }: { cron: Cron; canEdit: boolean }) {
  const pause = usePauseCron(cron.id);
  const resume = useResumeCron(cron.id);
  const remove = useDeleteCron(cron.id);
  const isBusy = pause.isPending || resume.isPending || remove.isPending;
  const error = pause.error ?? resume.error ?? remove.error;
  const resetAll = () => [pause, resume, remove].forEach((mutation) => mutation.reset());
  return (
    <tr>
      <td>
        <strong>{cron.workflow}</strong>
        {cron.name && <div className="muted">{cron.name}</div>}
        <div className="muted">
          {cron.source === "declared" ? "declared in code" : "created here"}
        </div>
      </td>
      <td>
        <code>{cron.expression}</code>
      </td>
      <td>{cron.timezone}</td>
      <td>
        {cron.is_paused ? (
          <span className="status-badge tone-muted">Paused</span>
        ) : (
          <span className="status-badge tone-success">Active</span>
        )}
      </td>
      <td>
        {cron.next_fire_at ? (
          <>
            <div>{formatDateTime(cron.next_fire_at)}</div>
            <RelativeTime value={cron.next_fire_at} />
          </>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td>
        <RelativeTime value={cron.last_fired_at} />
      </td>
      {canEdit && (
        <td>
          <div className="toolbar">
            <button
              type="button"
              className="button"
              disabled={isBusy}
              onClick={() => {
                resetAll();
                (cron.is_paused ? resume : pause).mutate(undefined);
              }}
            >
              {cron.is_paused ? "Resume" : "Pause"}
            </button>
            <ConfirmButton
              disabled={isBusy}
              onConfirm={() => {
                resetAll();
                remove.mutate(undefined);
              }}
            >
              Delete
            </ConfirmButton>
          </div>
          <ApiErrorMessage error={error} />
        </td>
      )}
    </tr>
  );
}

function NewCronForm() {
  const [workflow, setWorkflow] = useState("");
  const [name, setName] = useState("");
  const [expression, setExpression] = useState("");
  const [timezone, setTimezone] = useState("UTC");
  const input = useRunInput();
  const create = useCreateCron({
    onSuccess: () => {
      setName("");
      setExpression("");
      input.reset();
    },
  });
  const submit = () => {
    const body: NewCronBody = {
      workflow: workflow.trim(),
      expression: expression.trim(),
      timezone: timezone.trim() || "UTC",
      input: input.value as NewCronBody["input"],
    };
    if (name.trim()) body.name = name.trim();
    create.mutate(body);
  };
  return (
    <NewTriggerForm
      noun="cron"
      input={input}
      isPending={create.isPending}
      created={
        create.isSuccess && `Created; next fire ${formatDateTime(create.data.next_fire_at)}.`
      }
      error={create.error}
      onSubmit={submit}
    >
      <WorkflowNameInput value={workflow} onChange={setWorkflow} />
      <label className="field">
        <span>Expression</span>
        <input
          value={expression}
          onChange={(event) => setExpression(event.target.value)}
          required
          placeholder="*/15 * * * * or @daily"
          className="code"
        />
      </label>
      <label className="field">
        <span>Timezone</span>
        <input
          value={timezone}
          onChange={(event) => setTimezone(event.target.value)}
          placeholder="UTC"
        />
      </label>
      <label className="field">
        <span>Name (optional)</span>
        <input value={name} onChange={(event) => setName(event.target.value)} />
      </label>
    </NewTriggerForm>
  );
}
