// A durable step run's waits (its checkpoints), in the order it made them: what each
// waits for, since when and until when, and how it ended. An editor may skip the sleep
// a step waits in, or push the event it waits for.
import { useState } from "react";
import type { DurableWait, StepRun } from "../../api/types";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { JsonEditor } from "../../components/JsonEditor";
import { RequireRole } from "../../components/RequireRole";
import { formatTime } from "./format";
import { usePushEvent, useSkipWait } from "./api";

interface SleepSpec {
  seconds: number;
}
interface EventSpec {
  key: string;
  filter: Record<string, unknown>;
  lookback: number;
  timeout: number | null;
}
interface ChildrenSpec {
  runs: string[];
  timeout: number | null;
}

export function describeWait(wait: DurableWait): string {
  if (wait.kind === "sleep") return `sleep for ${(wait.spec as SleepSpec).seconds}s`;
  if (wait.kind === "event") {
    const spec = wait.spec as EventSpec;
    const filter = Object.entries(spec.filter ?? {});
    const where = filter.length
      ? ` where ${filter.map(([path, value]) => `${path} = ${JSON.stringify(value)}`).join(", ")}`
      : "";
    return `event ${spec.key}${where}`;
  }
  const runs = (wait.spec as ChildrenSpec).runs ?? [];
  return `${runs.length} child run${runs.length === 1 ? "" : "s"}`;
}

function outcome(wait: DurableWait): string {
  if (!wait.resolved_at) return "waiting";
  const result = (wait.result ?? {}) as Record<string, unknown>;
  if (result.timed_out) return `timed out ${formatTime(wait.resolved_at)}`;
  if (result.skipped) return `skipped ${formatTime(wait.resolved_at)}`;
  if (result.abandoned) return `abandoned ${formatTime(wait.resolved_at)} (the step ended)`;
  return `over ${formatTime(wait.resolved_at)}`;
}

/** The payload an event must carry to meet the filter: each path set to its value. */
export function payloadFor(filter: Record<string, unknown>): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(filter)) {
    const parts = path.split(".");
    let node = payload;
    for (const part of parts.slice(0, -1)) {
      if (typeof node[part] !== "object" || node[part] === null) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1] ?? path] = value;
  }
  return payload;
}

export function Waits({ stepRun, waits }: { stepRun: StepRun; waits: DurableWait[] }) {
  if (waits.length === 0) return null;
  const open = stepRun.status === "WAITING" ? waits.find((wait) => !wait.resolved_at) : undefined;
  return (
    <>
      <h3>Waits</h3>
      <ol className="waits" aria-label={`Waits of ${stepRun.step}`}>
        {waits.map((wait) => (
          <li key={wait.ordinal} className={wait.resolved_at ? "muted" : undefined}>
            <strong>{describeWait(wait)}</strong> · since {formatTime(wait.created_at)}
            {wait.due_at && (
              <>
                {" "}
                · {wait.kind === "sleep" ? "until" : "times out"} {formatTime(wait.due_at)}
              </>
            )}{" "}
            · {outcome(wait)}
          </li>
        ))}
      </ol>
      {open && (
        <RequireRole role="editor">
          {open.kind === "sleep" && <SkipSleep stepRunId={stepRun.id} />}
          {open.kind === "event" && <SendEvent spec={open.spec as EventSpec} />}
        </RequireRole>
      )}
    </>
  );
}

function SkipSleep({ stepRunId }: { stepRunId: string }) {
  const skip = useSkipWait(stepRunId);
  return (
    <div className="toolbar">
      <button
        type="button"
        className="button"
        disabled={skip.isPending}
        onClick={() => skip.mutate(undefined)}
      >
        Skip the sleep
      </button>
      {skip.error && <ApiErrorMessage error={skip.error} />}
    </div>
  );
}

function SendEvent({ spec }: { spec: EventSpec }) {
  const push = usePushEvent();
  const [payload, setPayload] = useState<unknown>(() => payloadFor(spec.filter ?? {}));
  const [valid, setValid] = useState(true);
  return (
    <form
      className="send-event"
      onSubmit={(event) => {
        event.preventDefault();
        push.mutate({ key: spec.key, payload });
      }}
    >
      <JsonEditor
        initialValue={payload}
        label={`Payload of the ${spec.key} event`}
        rows={4}
        onChange={(value, isValid) => {
          setPayload(value);
          setValid(isValid);
        }}
      />
      <div className="toolbar">
        <button type="submit" className="button primary" disabled={!valid || push.isPending}>
          Send event {spec.key}
        </button>
        {push.isSuccess && <span role="status">Sent.</span>}
        {push.error && <ApiErrorMessage error={push.error} />}
      </div>
    </form>
  );
}
