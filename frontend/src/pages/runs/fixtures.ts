// Runs as the API answers them, for the tests of these pages.
import type { RunDetailWithWaits, StepRun } from "../../api/types";

const traceback = `Traceback (most recent call last):
  File "tests/browser/worker_app.py", line 22, in load
    raise ConnectionError("warehouse refused the connection: too many clients")
ConnectionError: warehouse refused the connection: too many clients
`;

export function stepRun(overrides: Partial<StepRun> & Pick<StepRun, "id" | "step">): StepRun {
  return {
    action: `NightlyImport:${overrides.step}`,
    status: "SUCCEEDED",
    attempt: 1,
    retry_count: 0,
    output: null,
    error: "",
    playground: [],
    usage: null,
    parents: [],
    created_at: "2026-11-24T10:00:00Z",
    queued_at: "2026-11-24T10:00:00Z",
    started_at: null,
    finished_at: null,
    worker_id: null,
    attempts: [],
    ...overrides,
  };
}

export function failedRun(): RunDetailWithWaits {
  return {
    id: "run-1",
    workflow: "NightlyImport",
    version: 1,
    status: "FAILED",
    input: { day: "2026-11-23" },
    additional_metadata: { source: "test" },
    overrides: {},
    trigger: "api",
    priority: 3,
    waiting_reason: "",
    step_waiting_reasons: {},
    spawned_by: null,
    children: { count: 0, by_status: {}, by_step_run: {}, runs: [] },
    step_waits: {},
    error: "Step load failed.",
    created_at: "2026-11-24T10:00:00Z",
    started_at: "2026-11-24T10:00:00Z",
    finished_at: "2026-11-24T10:00:04Z",
    step_runs: [
      stepRun({
        id: "sr-fetch",
        step: "fetch",
        output: { rows: [1, 2, 3] },
        started_at: "2026-11-24T10:00:00Z",
        finished_at: "2026-11-24T10:00:01Z",
        attempts: [
          {
            number: 1,
            status: "SUCCEEDED",
            error: "",
            traceback: "",
            worker_id: "w-1",
            worker_name: "browser-worker",
            assigned_at: "2026-11-24T10:00:00Z",
            started_at: "2026-11-24T10:00:00Z",
            finished_at: "2026-11-24T10:00:01Z",
          },
        ],
      }),
      stepRun({
        id: "sr-load",
        step: "load",
        parents: ["fetch"],
        status: "FAILED",
        error: "ConnectionError: warehouse refused the connection: too many clients",
        started_at: "2026-11-24T10:00:01Z",
        finished_at: "2026-11-24T10:00:04Z",
        attempts: [
          {
            number: 1,
            status: "FAILED",
            error: "ConnectionError: warehouse refused the connection: too many clients",
            traceback,
            worker_id: "w-1",
            worker_name: "browser-worker",
            assigned_at: "2026-11-24T10:00:01Z",
            started_at: "2026-11-24T10:00:01Z",
            finished_at: "2026-11-24T10:00:04Z",
          },
        ],
      }),
    ],
  };
}
