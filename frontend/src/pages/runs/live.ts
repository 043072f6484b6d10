// A run as it happens: the detail from the API, kept current by the run's websocket
// (`/ws/runs/<id>`, see workflows/consumers.py). Status messages patch the cached
// detail at once and then fetch it again (attempts, outputs and timings come with it);
// log lines and stream chunks go into a line book, each once, gaps filled from the
// stored lines.
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import {
  emptyBook,
  withFill,
  withLines,
  withStored,
  type Fill,
  type LineBook,
  type LiveLine,
} from "../../api/lines";
import type { RunDetail, RunStatus, StepRunStatus } from "../../api/types";
import { useLineFill, useSocket, type ApiState, type SocketStatus } from "../../api/useApi";
import { runKey, useRun } from "./api";

export type RunMessage =
  | {
      type: "run.snapshot";
      run_id: string;
      status: RunStatus;
      step_runs: { step_run_id: string; step: string; status: StepRunStatus; attempt: number }[];
      lines: LiveLine[];
    }
  | { type: "run.status"; run_id: string; status: RunStatus }
  | { type: "step_run.status"; step_run_id: string; status: StepRunStatus; attempt: number }
  | ({ type: "step_run.line" } & LiveLine);

/** The detail with a status message applied; the same object when nothing changed. */
export function applyStatus(run: RunDetail, message: RunMessage): RunDetail {
  if (message.type === "run.status") {
    return run.status === message.status ? run : { ...run, status: message.status };
  }
  if (message.type === "step_run.status") {
    let changed = false;
    const step_runs = run.step_runs.map((stepRun) => {
      if (stepRun.id !== message.step_run_id) return stepRun;
      if (stepRun.status === message.status && stepRun.attempt === message.attempt) return stepRun;
      changed = true;
      return { ...stepRun, status: message.status, attempt: message.attempt };
    });
    return changed ? { ...run, step_runs } : run;
  }
  if (message.type === "run.snapshot") {
    const byId = new Map(message.step_runs.map((stepRun) => [stepRun.step_run_id, stepRun]));
    return {
      ...run,
      status: message.status,
      step_runs: run.step_runs.map((stepRun) => {
        const live = byId.get(stepRun.id);
        return live ? { ...stepRun, status: live.status, attempt: live.attempt } : stepRun;
      }),
    };
  }
  return run;
}

export interface LiveRun extends ApiState<RunDetail> {
  lines: LineBook;
  socket: SocketStatus;
}

const refetchDelayMs = 250;
// The run page shows both kinds, so a gap is filled with both.
const shownKinds = ["log", "stream"] as const;

export function useLiveRun(runId: string): LiveRun {
  const detail = useRun(runId);
  const client = useQueryClient();
  const [lines, setLines] = useState<LineBook>(emptyBook);
  const [linesOf, setLinesOf] = useState(runId);
  if (runId !== linesOf) {
    setLinesOf(runId);
    setLines(emptyBook);
  }
  const timer = useRef<number | undefined>(undefined);
  const { reload } = detail;

  // Several status messages arrive together; one refetch after them is enough.
  const refetchSoon = useCallback(() => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(reload, refetchDelayMs);
  }, [reload]);
  useEffect(() => () => window.clearTimeout(timer.current), []);

  const onMessage = useCallback(
    (message: RunMessage) => {
      if (message.type === "step_run.line") {
        const line: LiveLine = {
          step_run_id: message.step_run_id,
          attempt: message.attempt,
          kind: message.kind,
          seq: message.seq,
          level: message.level,
          text: message.text,
          created_at: message.created_at,
        };
        setLines((current) => withLines(current, [line]));
        return;
      }
      if (message.type === "run.snapshot")
        setLines((current) => withStored(current, message.lines));
      client.setQueryData<RunDetail>(runKey(runId), (run) =>
        run ? applyStatus(run, message) : run,
      );
      refetchSoon();
    },
    [client, runId, refetchSoon],
  );
  const socket = useSocket<RunMessage>(`/runs/${runId}`, onMessage);
  useLineFill(
    lines,
    shownKinds,
    useCallback((fill: Fill) => setLines((current) => withFill(current, fill)), []),
  );
  return { ...detail, lines, socket };
}
