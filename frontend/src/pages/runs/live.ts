// A run as it happens: the detail from the API, kept current by the run's websocket
// (`/ws/runs/<id>`, see workflows/consumers.py). Status messages patch the cached
// detail at once and then fetch it again (attempts, outputs and timings come with it);
// log lines and stream chunks are collected as they arrive.
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import type { RunDetail, RunStatus, StepRunStatus } from "../../api/types";
import { apiKey, useApi, useSocket, type ApiState, type SocketStatus } from "../../api/useApi";

/** A log line or stream chunk as the socket (and the logs/stream endpoints) give it. */
export interface LiveLine {
  step_run_id: string;
  attempt: number;
  kind: "log" | "stream";
  seq: number;
  level?: string;
  text: string;
  created_at?: string;
}

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

export function lineKey(line: LiveLine): string {
  return `${line.step_run_id}/${line.attempt}/${line.kind}/${line.seq}`;
}

/** Adds lines to a collection keyed by (step run, attempt, kind, seq): re-sent lines are kept once. */
export function mergeLines(into: Map<string, LiveLine>, lines: LiveLine[]): Map<string, LiveLine> {
  const next = new Map(into);
  for (const line of lines) next.set(lineKey(line), line);
  return next;
}

/** Lines of one step run, by attempt then sequence. */
export function linesOf(lines: Iterable<LiveLine>, stepRunId: string, kind: LiveLine["kind"]): LiveLine[] {
  return [...lines]
    .filter((line) => line.step_run_id === stepRunId && line.kind === kind)
    .sort((a, b) => a.attempt - b.attempt || a.seq - b.seq);
}

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
  lines: Map<string, LiveLine>;
  socket: SocketStatus;
}

const refetchDelayMs = 250;

export function useLiveRun(runId: string): LiveRun {
  const path = `/runs/${runId}`;
  const detail = useApi<RunDetail>(path);
  const client = useQueryClient();
  const [lines, setLines] = useState<Map<string, LiveLine>>(() => new Map());
  const timer = useRef<number | undefined>(undefined);
  const { reload } = detail;

  // Several status messages arrive together; one refetch after them is enough.
  const refetchSoon = useCallback(() => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(reload, refetchDelayMs);
  }, [reload]);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  useEffect(() => setLines(new Map()), [runId]);

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
        setLines((current) => mergeLines(current, [line]));
        return;
      }
      if (message.type === "run.snapshot") setLines((current) => mergeLines(current, message.lines));
      client.setQueryData<RunDetail>(apiKey(path), (run) => (run ? applyStatus(run, message) : run));
      refetchSoon();
    },
    [client, path, refetchSoon],
  );
  const socket = useSocket<RunMessage>(path, onMessage);
  return { ...detail, lines, socket };
}
