// The playground's pure logic: turning the catalog into choices, edited values into
// the overrides the API takes, outputs into text, and socket messages into state.
// Components render what these return; nothing here touches the network.
import type {
  Cell,
  Comparison,
  PullRequest,
  PullRequestProgress,
  RunStatus,
  Variable,
} from "../../api/types";

/** Values by step and variable name, as the API's `overrides` fields take them. */
export type Overrides = Record<string, Record<string, unknown>>;

/** The kind of editor a variable's JSON type calls for. */
export type EditorKind = "text" | "integer" | "number" | "boolean" | "json";

export function editorKind(type: string): EditorKind {
  if (type === "string") return "text";
  if (type === "integer" || type === "number" || type === "boolean") return type;
  return "json";
}

/** Workflows that expose variables, each with its steps (sorted), from the catalog. */
export function catalogTree(variables: Variable[]): Map<string, string[]> {
  const steps = new Map<string, Set<string>>();
  for (const variable of variables) {
    const known = steps.get(variable.workflow) ?? new Set<string>();
    known.add(variable.step);
    steps.set(variable.workflow, known);
  }
  return new Map(
    [...steps.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([workflow, names]) => [workflow, [...names].sort()]),
  );
}

export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Edited values by step and variable name (what the editors hold). */
export type Edits = Record<string, Record<string, unknown>>;

/**
 * The overrides to send: only values that differ from their code default, so an
 * untouched variable keeps following the code. A value for a variable the catalog
 * does not know (say, from an older variant) is kept as it is.
 */
export function overridesFromEdits(variables: Variable[], edits: Edits): Overrides {
  const overrides: Overrides = {};
  for (const [step, values] of Object.entries(edits)) {
    for (const [name, value] of Object.entries(values)) {
      const variable = variables.find((v) => v.step === step && v.name === name);
      if (variable && sameValue(value, variable.default)) continue;
      overrides[step] = { ...(overrides[step] ?? {}), [name]: value };
    }
  }
  return overrides;
}

/** Deep copy of a variant's overrides, as edits. */
export function editsFromOverrides(overrides: Overrides | undefined): Edits {
  return Object.fromEntries(
    Object.entries(overrides ?? {}).map(([step, values]) => [step, { ...values }]),
  );
}

/** Overrides compared regardless of key order. */
export function sameOverrides(a: Overrides, b: Overrides): boolean {
  const steps = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const step of steps) {
    const left = a[step] ?? {};
    const right = b[step] ?? {};
    const names = new Set([...Object.keys(left), ...Object.keys(right)]);
    for (const name of names) {
      if (!(name in left) || !(name in right) || !sameValue(left[name], right[name])) return false;
    }
  }
  return true;
}

/** How a value reads as text: strings as they are, anything else as indented JSON. */
export function valueText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  return JSON.stringify(value, null, 2) ?? "";
}

/**
 * A step output as prose for reading and diffing: a string as is; an object as one
 * "key: value" line per field (string values unquoted); anything else as JSON.
 */
export function outputText(output: unknown): string {
  if (output === null || output === undefined) return "";
  if (typeof output === "string") return output;
  if (typeof output === "object" && !Array.isArray(output)) {
    return Object.entries(output as Record<string, unknown>)
      .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
      .join("\n");
  }
  return JSON.stringify(output, null, 2) ?? "";
}

/** A short one-line summary of a run input, for lists and row titles. */
export function inputSummary(input: unknown, max = 90): string {
  let text: string;
  if (input && typeof input === "object" && !Array.isArray(input)) {
    const values = Object.values(input as Record<string, unknown>);
    text =
      values.length === 1 && typeof values[0] === "string"
        ? values[0]
        : JSON.stringify(input);
  } else {
    text = JSON.stringify(input) ?? "";
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function matchesSearch(input: unknown, search: string): boolean {
  const needle = search.trim().toLowerCase();
  if (needle === "") return true;
  return (JSON.stringify(input) ?? "").toLowerCase().includes(needle);
}

// ---------------------------------------------------------------------------
// A playground run followed over the run websocket (/ws/runs/{id}).

export interface RunLineMessage {
  step_run_id: string;
  attempt: number;
  kind: string;
  seq: number;
  level?: string;
  text: string;
}

export type RunSocketMessage =
  | {
      type: "run.snapshot";
      run_id: string;
      status: RunStatus;
      step_runs: { step_run_id: string; step: string; status: string; attempt: number }[];
      lines: RunLineMessage[];
    }
  | { type: "run.status"; run_id: string; status: RunStatus }
  | { type: "step_run.status"; step_run_id: string; status: string; attempt: number }
  | ({ type: "step_run.line" } & RunLineMessage);

export interface LiveRun {
  status: RunStatus | null;
  /** Stream chunks by "stepRun/attempt/seq", so a chunk seen twice counts once. */
  chunks: Record<string, { order: number; text: string }>;
  received: number;
}

export const emptyLiveRun: LiveRun = { status: null, chunks: {}, received: 0 };

function withChunk(state: LiveRun, line: RunLineMessage): LiveRun {
  if (line.kind !== "stream") return state;
  const key = `${line.step_run_id}/${line.attempt}/${line.seq}`;
  if (key in state.chunks) return state;
  return {
    ...state,
    chunks: { ...state.chunks, [key]: { order: state.received, text: line.text } },
    received: state.received + 1,
  };
}

export function liveRunReducer(state: LiveRun, message: RunSocketMessage): LiveRun {
  switch (message.type) {
    case "run.snapshot": {
      let next: LiveRun = { ...state, status: message.status };
      for (const line of message.lines) next = withChunk(next, line);
      return next;
    }
    case "run.status":
      return { ...state, status: message.status };
    case "step_run.line":
      return withChunk(state, message);
    default:
      return state;
  }
}

/** The streamed text so far, chunks in the order a step run sent them. */
export function streamedText(state: LiveRun): string {
  return Object.entries(state.chunks)
    .sort(([keyA, a], [keyB, b]) => {
      const [runA, attemptA, seqA] = keyA.split("/");
      const [runB, attemptB, seqB] = keyB.split("/");
      if (runA !== runB || attemptA !== attemptB) return a.order - b.order;
      return Number(seqA) - Number(seqB);
    })
    .map(([, chunk]) => chunk.text)
    .join("");
}

const terminalRunStatuses: ReadonlySet<string> = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);

export function isTerminal(status: string | null | undefined): boolean {
  return status !== null && status !== undefined && terminalRunStatuses.has(status);
}

// ---------------------------------------------------------------------------
// A comparison followed over /ws/playground/compare/{id}.

interface CellPlace {
  row: number;
  column: number;
  run_id: string;
}

export type ComparisonMessage =
  | { type: "comparison.snapshot"; comparison: Comparison }
  | ({ type: "cell.status"; status: RunStatus } & CellPlace)
  | ({ type: "cell.step"; step: string; step_run_id: string; status: string; attempt: number } & CellPlace)
  | ({ type: "cell.stream" | "cell.log"; step: string; step_run_id: string; attempt: number; seq: number; text: string } & CellPlace)
  | { type: "cell"; cell: Cell }
  | { type: "comparison.finished"; id: string };

function updateCell(
  comparison: Comparison,
  place: { row: number; column: number },
  change: (cell: Cell) => Cell,
): Comparison {
  let found = false;
  const cells = comparison.cells.map((cell) => {
    if (cell.row !== place.row || cell.column !== place.column) return cell;
    found = true;
    return change(cell);
  });
  return found ? { ...comparison, cells } : comparison;
}

/** The comparison after one socket message; null until the first snapshot or load. */
export function comparisonReducer(
  state: Comparison | null,
  message: ComparisonMessage,
): Comparison | null {
  if (message.type === "comparison.snapshot") return message.comparison;
  if (state === null) return state;
  switch (message.type) {
    case "cell.status":
      return updateCell(state, message, (cell) => ({ ...cell, status: message.status }));
    case "cell.stream":
      return updateCell(state, message, (cell) =>
        cell.is_finished ? cell : { ...cell, stream: cell.stream + message.text },
      );
    case "cell": {
      const next = updateCell(state, message.cell, () => message.cell);
      return { ...next, is_finished: next.cells.every((cell) => cell.is_finished) };
    }
    case "comparison.finished":
      return { ...state, is_finished: true };
    default:
      return state;
  }
}

/** The baseline column: the one with no variant and no overrides, else the first. */
export function baselineColumn(comparison: Comparison): number {
  const index = comparison.columns.findIndex(
    (column) => column.variant === null && Object.keys(column.overrides ?? {}).length === 0,
  );
  return index === -1 ? 0 : index;
}

export function cellAt(comparison: Comparison, row: number, column: number): Cell | undefined {
  return comparison.cells.find((cell) => cell.row === row && cell.column === column);
}

/** What a cell shows: its final output once finished, its stream until then. */
export function cellText(cell: Cell): string {
  if (cell.is_finished && cell.output !== null && cell.output !== undefined) {
    return outputText(cell.output);
  }
  return cell.stream;
}

// ---------------------------------------------------------------------------
// A pull request followed over /ws/playground/pull-requests/{id}.

export type PullRequestMessage =
  | { type: "pull_request.snapshot"; pull_request: PullRequest }
  | {
      type: "pull_request.state";
      id: string;
      state: PullRequestProgress;
      reason: string;
      attempts: number;
      branch: string;
      commit_sha: string;
      pr_number: number | null;
      pr_url: string;
      pr_state: PullRequest["pr_state"];
      updated_at: string;
    };

export function pullRequestReducer(
  state: PullRequest | null,
  message: PullRequestMessage,
): PullRequest | null {
  if (message.type === "pull_request.snapshot") return message.pull_request;
  if (state === null || message.type !== "pull_request.state" || message.id !== state.id) {
    return state;
  }
  const { type: _type, ...fields } = message;
  return { ...state, ...fields };
}

export const pullRequestSteps: PullRequestProgress[] = ["queued", "running", "opened"];
