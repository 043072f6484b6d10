// A coloured pill for any status the API reports (workflow runs, step runs,
// workers, schedules, pull requests). The text is always shown, so colour is
// never the only signal.
import type {
  PullRequestProgress,
  PullRequestState,
  RunStatus,
  ScheduleStatus,
  StepRunStatus,
  WorkerStatus,
} from "../api/types";

export type Status =
  | RunStatus
  | StepRunStatus
  | WorkerStatus
  | ScheduleStatus
  | PullRequestState
  | PullRequestProgress;

/** Which colour family a status belongs to; also used by the DAG's nodes. */
export type StatusTone = "neutral" | "waiting" | "active" | "success" | "danger" | "muted";

const toneByStatus: Record<string, StatusTone> = {
  PENDING: "neutral",
  SCHEDULED: "neutral",
  QUEUED: "waiting",
  ASSIGNED: "waiting",
  WAITING: "waiting",
  queued: "waiting",
  DRAINING: "waiting",
  RUNNING: "active",
  running: "active",
  ACTIVE: "success",
  SUCCEEDED: "success",
  FIRED: "success",
  opened: "success",
  open: "success",
  merged: "success",
  FAILED: "danger",
  TIMED_OUT: "danger",
  failed: "danger",
  CANCELLED: "muted",
  DISCONNECTED: "muted",
  STOPPED: "muted",
  closed: "muted",
};

export function statusTone(status: string): StatusTone {
  return toneByStatus[status] ?? "neutral";
}

export function statusLabel(status: string): string {
  const words = status.toLowerCase().replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function StatusBadge({ status }: { status: Status }) {
  return (
    <span className={`status-badge tone-${statusTone(status)}`} data-status={status}>
      {statusLabel(status)}
    </span>
  );
}
