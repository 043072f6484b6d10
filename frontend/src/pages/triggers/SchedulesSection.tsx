// One-off schedules: when each runs (or ran), its status and run; editors create,
// reschedule and cancel those that have not fired yet.
import { useState, type FormEvent } from "react";
import type { NewScheduleBody, Schedule } from "../../api/types";
import { ConfirmButton } from "../../components/ConfirmButton";
import { RelativeTime } from "../../components/RelativeTime";
import { RequireRole } from "../../components/RequireRole";
import { RunLink } from "../../components/RunLink";
import { AsyncView, Empty } from "../../components/StateViews";
import { StatusBadge } from "../../components/StatusBadge";
import { useSession } from "../../session";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { TableHead } from "../../components/TableHead";
import { WorkflowNameInput, formatDateTime, localToIso } from "./WorkflowNameInput";
import { useCancelSchedule, useCreateSchedule, useReschedule, useSchedules } from "./api";
import { NewTriggerForm } from "./NewTriggerForm";
import { useRunInput } from "./useRunInput";

export function SchedulesSection() {
  const schedules = useSchedules();
  const { can } = useSession();
  const canEdit = can("editor");
  return (
    <section className="triggers-section" aria-labelledby="schedules-heading">
      <h2 id="schedules-heading">Schedules</h2>
      <AsyncView
        {...schedules}
        onRetry={schedules.reload}
        empty={<Empty message="No one-off runs are scheduled." />}
      >
        {(page) => (
          <table className="data-table">
            <TableHead columns={["Workflow", "Run at", "Status", "Run"]} hasActions={canEdit} />
            <tbody>
              {page.results.map((schedule) => (
                <ScheduleRow key={schedule.id} schedule={schedule} canEdit={canEdit} />
              ))}
            </tbody>
          </table>
        )}
      </AsyncView>
      <RequireRole role="editor">
        <NewScheduleForm />
      </RequireRole>
    </section>
  );
}

function ScheduleRow({ schedule, canEdit }: { schedule: Schedule; canEdit: boolean }) {
  const [isRescheduling, setIsRescheduling] = useState(false);
  const [runAt, setRunAt] = useState("");
  const cancel = useCancelSchedule(schedule.id);
  const reschedule = useReschedule(schedule.id, {
    onSuccess: () => setIsRescheduling(false),
  });
  const isWaiting = schedule.status === "SCHEDULED";
  const submitReschedule = (event: FormEvent) => {
    event.preventDefault();
    reschedule.mutate({ trigger_at: localToIso(runAt) });
  };
  return (
    <tr>
      <td>
        <strong>{schedule.workflow}</strong>
      </td>
      <td>
        <div>{formatDateTime(schedule.trigger_at)}</div>
        <RelativeTime value={schedule.trigger_at} />
      </td>
      <td>
        <StatusBadge status={schedule.status} />
      </td>
      <td>
        {schedule.run_id ? <RunLink runId={schedule.run_id} /> : <span className="muted">—</span>}
      </td>
      {canEdit && (
        <td>
          {isWaiting && !isRescheduling && (
            <div className="toolbar">
              <button type="button" className="button" onClick={() => setIsRescheduling(true)}>
                Reschedule
              </button>
              <ConfirmButton disabled={cancel.isPending} onConfirm={() => cancel.mutate(undefined)}>
                Cancel
              </ConfirmButton>
            </div>
          )}
          {isWaiting && isRescheduling && (
            <form className="toolbar" onSubmit={submitReschedule}>
              <label className="field">
                <span>New run time</span>
                <input
                  type="datetime-local"
                  value={runAt}
                  onChange={(event) => setRunAt(event.target.value)}
                  required
                />
              </label>
              <button type="submit" className="button primary" disabled={reschedule.isPending}>
                Save time
              </button>
              <button
                type="button"
                className="button"
                onClick={() => {
                  reschedule.reset();
                  setIsRescheduling(false);
                }}
              >
                Keep time
              </button>
            </form>
          )}
          <ApiErrorMessage error={cancel.error ?? reschedule.error} />
        </td>
      )}
    </tr>
  );
}

function NewScheduleForm() {
  const [workflow, setWorkflow] = useState("");
  const [runAt, setRunAt] = useState("");
  const input = useRunInput();
  const create = useCreateSchedule({
    onSuccess: () => {
      setRunAt("");
      input.reset();
    },
  });
  const submit = () => {
    create.mutate({
      workflow: workflow.trim(),
      trigger_at: localToIso(runAt),
      input: input.value as NewScheduleBody["input"],
    });
  };
  return (
    <NewTriggerForm
      noun="schedule"
      input={input}
      isPending={create.isPending}
      created={create.isSuccess && `Scheduled for ${formatDateTime(create.data.trigger_at)}.`}
      error={create.error}
      onSubmit={submit}
    >
      <WorkflowNameInput value={workflow} onChange={setWorkflow} />
      <label className="field">
        <span>Run at</span>
        <input
          type="datetime-local"
          value={runAt}
          onChange={(event) => setRunAt(event.target.value)}
          required
        />
      </label>
    </NewTriggerForm>
  );
}
