// The playground's pure logic: turning the catalog into choices, edited values into
// the overrides the API takes, outputs into text, and socket messages into state.
// Components render what these return; nothing here touches the network.
import {
  emptyBook,
  streamChunks,
  streamText,
  withFill,
  withLines,
  withStored,
  type Fill,
  type LineBook,
  type LiveLine,
} from "../../api/lines";
import type {
  Cell,
  ColumnSummary,
  Comparison,
  PullRequest,
  PullRequestProgress,
  RunDetail,
  RunStatus,
  Variable,
} from "../../api/types";
import { outputProse } from "../../components/OutputView";

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
 * A step output as prose for reading and diffing: its text when it is one (a string or
 * a lone string field); an object as one "key: value" line per field (string values
 * unquoted); anything else as JSON.
 */
export function outputText(output: unknown): string {
  if (output === null || output === undefined) return "";
  const prose = outputProse(output);
  if (prose !== null) return prose;
  if (typeof output === "object" && !Array.isArray(output)) {
    return Object.entries(output as Record<string, unknown>)
      .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
      .join("\n");
  }
  return JSON.stringify(output, null, 2) ?? "";
}

/**
 * A one-line summary of an input, as the runs list's `input_summary` reads: its first
 * string field, else its compact JSON; whitespace runs as one space, cut to `max`.
 */
export function inputSummary(input: unknown, max = 80): string {
  const first =
    input && typeof input === "object" && !Array.isArray(input)
      ? Object.values(input as Record<string, unknown>).find((value) => typeof value === "string")
      : undefined;
  const text =
    typeof first === "string"
      ? first.split(/\s+/).filter(Boolean).join(" ")
      : (JSON.stringify(input) ?? "");
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** "1 input", "3 inputs": a count with its noun, plural when it is not one. */
export function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * Why a finished run has no output for `step`: the run's error (it names the step that
 * failed, where the step shown may only say it was cancelled), else the step's own.
 */
export function failureOf(run: RunDetail, step: string): string {
  const stepRun = run.step_runs.find((candidate) => candidate.step === step);
  return run.error || stepRun?.error || "";
}

export function matchesSearch(input: unknown, search: string): boolean {
  const needle = search.trim().toLowerCase();
  if (needle === "") return true;
  return (JSON.stringify(input) ?? "").toLowerCase().includes(needle);
}

// ---------------------------------------------------------------------------
// A playground run followed over the run websocket (/ws/runs/{id}).

export type RunSocketMessage =
  | {
      type: "run.snapshot";
      run_id: string;
      status: RunStatus;
      step_runs: { step_run_id: string; step: string; status: string; attempt: number }[];
      lines: LiveLine[];
    }
  | { type: "run.status"; run_id: string; status: RunStatus }
  | { type: "step_run.status"; step_run_id: string; status: string; attempt: number }
  | ({ type: "step_run.line" } & LiveLine)
  | { type: "lines.filled"; fill: Fill };

export interface LiveRun {
  status: RunStatus | null;
  /** Step run ids by step name, from the snapshot. */
  stepRuns: Record<string, string>;
  lines: LineBook;
}

export const emptyLiveRun: LiveRun = { status: null, stepRuns: {}, lines: emptyBook };

export function liveRunReducer(state: LiveRun, message: RunSocketMessage): LiveRun {
  switch (message.type) {
    case "run.snapshot":
      return {
        status: message.status,
        stepRuns: Object.fromEntries(
          message.step_runs.map((stepRun) => [stepRun.step, stepRun.step_run_id]),
        ),
        lines: withStored(state.lines, message.lines),
      };
    case "run.status":
      return { ...state, status: message.status };
    case "step_run.line": {
      const lines = withLines(state.lines, [message]);
      return lines === state.lines ? state : { ...state, lines };
    }
    case "lines.filled":
      return { ...state, lines: withFill(state.lines, message.fill) };
    default:
      return state;
  }
}

/** The step run of `step`, once the snapshot named it. */
export function stepRunOf(state: LiveRun, step: string): string | undefined {
  return state.stepRuns[step];
}

/** What `step` streamed so far: its latest attempt's chunks in order, up to a gap. */
export function streamedText(state: LiveRun, step: string): string {
  const stepRunId = stepRunOf(state, step);
  return stepRunId === undefined ? "" : streamText(state.lines, stepRunId);
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
  | ({
      type: "cell.step";
      step: string;
      step_run_id: string;
      status: string;
      attempt: number;
    } & CellPlace)
  | ({
      type: "cell.stream" | "cell.log";
      step: string;
      step_run_id: string;
      attempt: number;
      seq: number;
      text: string;
    } & CellPlace)
  | { type: "cell"; cell: Cell }
  | { type: "comparison.summary"; baseline: number; summary: ColumnSummary[] }
  | { type: "comparison.finished"; id: string }
  | { type: "lines.filled"; fill: Fill };

/** A comparison as it fills in: the matrix, and the lines its cells' runs sent. */
export interface ComparisonState {
  comparison: Comparison;
  lines: LineBook;
  /** The run of each step run that sent a line, to place the lines of a fill. */
  runOf: Readonly<Record<string, string>>;
}

function chunkLines(cell: Cell): LiveLine[] {
  return cell.stream_chunks.map((chunk) => ({ ...chunk, kind: "stream" }));
}

/**
 * The cell with its stream as the book has it: each step run's latest attempt, in
 * order up to a gap, the step runs in the order they streamed (`stepRunId` last if
 * it has not streamed before).
 */
function withStream(cell: Cell, lines: LineBook, stepRunId?: string): Cell {
  const stepRuns = new Set(cell.stream_chunks.map((chunk) => chunk.step_run_id));
  if (stepRunId !== undefined) stepRuns.add(stepRunId);
  const stream_chunks = [...stepRuns].flatMap((id) =>
    streamChunks(lines, id).map(({ step_run_id, attempt, seq, text }) => ({
      step_run_id,
      attempt,
      seq,
      text,
    })),
  );
  return { ...cell, stream_chunks, stream: stream_chunks.map((chunk) => chunk.text).join("") };
}

function withRuns(runOf: ComparisonState["runOf"], cells: Cell[]): ComparisonState["runOf"] {
  const next = { ...runOf };
  for (const cell of cells)
    for (const chunk of cell.stream_chunks) next[chunk.step_run_id] = cell.run_id;
  return next;
}

/** The comparison as the API gave it, its cells' streams held as lines. */
export function comparisonState(
  comparison: Comparison,
  lines: LineBook = emptyBook,
): ComparisonState {
  const stored = withStored(lines, comparison.cells.flatMap(chunkLines));
  return {
    comparison: { ...comparison, cells: comparison.cells.map((cell) => withStream(cell, stored)) },
    lines: stored,
    runOf: withRuns({}, comparison.cells),
  };
}

function updateCell(
  comparison: Comparison,
  isCell: (cell: Cell) => boolean,
  change: (cell: Cell) => Cell,
): Comparison {
  let found = false;
  const cells = comparison.cells.map((cell) => {
    if (!isCell(cell)) return cell;
    found = true;
    return change(cell);
  });
  return found ? { ...comparison, cells } : comparison;
}

// A message names its cell by run: a (row, column) holds a run per repeat and attempt.
const at = (place: { run_id: string }) => (cell: Cell) => cell.run_id === place.run_id;

const gridOrder = (a: Cell, b: Cell) =>
  a.row - b.row || a.column - b.column || a.repeat - b.repeat || a.attempt - b.attempt;

/**
 * The comparison with `cell` in its place: replacing its run's, or, for a new attempt
 * (a re-run of a failed cell), added in grid order with the earlier attempts of its
 * repeat no longer the latest.
 */
function withCell(comparison: Comparison, cell: Cell): Comparison {
  if (comparison.cells.some(at(cell))) return updateCell(comparison, at(cell), () => cell);
  const earlier = (other: Cell) =>
    other.row === cell.row && other.column === cell.column && other.repeat === cell.repeat;
  const cells = comparison.cells.map((other) =>
    earlier(other) && other.attempt < cell.attempt ? { ...other, is_latest: false } : other,
  );
  return { ...comparison, cells: [...cells, cell].sort(gridOrder) };
}

/** The comparison after one socket message (or a fill of its lines). */
export function comparisonReducer(
  state: ComparisonState,
  message: ComparisonMessage,
): ComparisonState {
  const { comparison } = state;
  switch (message.type) {
    case "comparison.snapshot":
      return comparisonState(message.comparison, state.lines);
    case "cell.status":
      return {
        ...state,
        comparison: updateCell(comparison, at(message), (cell) => ({
          ...cell,
          status: message.status,
        })),
      };
    case "cell.stream":
    case "cell.log": {
      const { step_run_id, attempt, seq, text } = message;
      const kind = message.type === "cell.stream" ? "stream" : "log";
      const lines = withLines(state.lines, [{ step_run_id, attempt, kind, seq, text }]);
      if (lines === state.lines) return state;
      return {
        comparison: updateCell(comparison, at(message), (cell) =>
          withStream(cell, lines, step_run_id),
        ),
        lines,
        runOf: { ...state.runOf, [step_run_id]: message.run_id },
      };
    }
    case "cell": {
      const lines = withStored(state.lines, chunkLines(message.cell));
      const next = withCell(comparison, withStream(message.cell, lines));
      return {
        comparison: { ...next, is_finished: next.cells.every((cell) => cell.is_finished) },
        lines,
        runOf: withRuns(state.runOf, [message.cell]),
      };
    }
    case "lines.filled": {
      const lines = withFill(state.lines, message.fill);
      const runId = state.runOf[message.fill.step_run_id];
      return {
        ...state,
        comparison: updateCell(
          comparison,
          (cell) => cell.run_id === runId,
          (cell) => withStream(cell, lines, message.fill.step_run_id),
        ),
        lines,
      };
    }
    case "comparison.summary":
      return {
        ...state,
        comparison: { ...comparison, baseline: message.baseline, summary: message.summary },
      };
    case "comparison.finished":
      return { ...state, comparison: { ...comparison, is_finished: true } };
    default:
      return state;
  }
}

/** The column the others are held against, as the server chose it. */
export function baselineColumn(comparison: Comparison): number {
  return comparison.baseline;
}

/** Whether anything may still change: a run still going, or a judge not yet answered. */
export function isSettled(comparison: Comparison): boolean {
  return (
    comparison.is_finished &&
    comparison.cells.every((cell) => cell.scores.every((score) => score.status !== "pending"))
  );
}

/** The grid's cells by place, read once per change of the comparison's cells: each
 * (row, column)'s repeats, every attempt of each repeat newest first, the first
 * being the latest. Looking each place up in the list made a 200-cell grid cost
 * ~80,000 comparisons a render. */
export type CellIndex = ReadonlyMap<string, readonly Cell[][]>;

export const placeKey = (row: number, column: number) => `${row}/${column}`;

export function indexCells(cells: readonly Cell[]): CellIndex {
  const byRepeat = new Map<string, Cell[]>();
  for (const cell of cells) {
    const key = `${placeKey(cell.row, cell.column)}/${cell.repeat}`;
    const attempts = byRepeat.get(key);
    if (attempts) attempts.push(cell);
    else byRepeat.set(key, [cell]);
  }
  const index = new Map<string, Cell[][]>();
  for (const cell of cells) {
    if (!cell.is_latest) continue;
    const attempts = byRepeat.get(`${placeKey(cell.row, cell.column)}/${cell.repeat}`) ?? [cell];
    const ordered = [cell, ...attempts.filter((other) => other.attempt < cell.attempt)];
    ordered.sort((a, b) => b.attempt - a.attempt);
    const place = placeKey(cell.row, cell.column);
    const repeats = index.get(place);
    if (repeats) repeats.push(ordered);
    else index.set(place, [ordered]);
  }
  return index;
}

/** How spread out numbers are: their mean, least and greatest. */
export interface Range {
  mean: number;
  min: number;
  max: number;
}

function rangeOf(values: number[]): Range | null {
  if (values.length === 0) return null;
  return {
    mean: values.reduce((sum, value) => sum + value, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

/** One evaluator over a cell's repeats: its scores' range, and how many passed. */
export interface EvaluatorSpread {
  evaluator: string;
  name: string;
  score: Range | null;
  passed: number;
  scored: number;
}

/** A cell's repeats taken together. */
export interface CellSpread {
  repeats: number;
  finished: number;
  evaluators: EvaluatorSpread[];
  latency: Range | null;
  /** Finished repeats that disagree: different outputs, statuses or verdicts. */
  isUnstable: boolean;
}

/** The spread of a (row, column)'s repeats (their latest attempts). */
export function cellSpread(cells: Cell[]): CellSpread {
  const finished = cells.filter((cell) => cell.is_finished);
  const names = new Map<string, string>();
  for (const cell of cells) for (const score of cell.scores) names.set(score.evaluator, score.name);
  const evaluators = [...names.entries()].map(([evaluator, name]) => {
    const done = cells
      .flatMap((cell) => cell.scores)
      .filter((score) => score.evaluator === evaluator && score.status === "done");
    return {
      evaluator,
      name,
      score: rangeOf(done.flatMap((score) => (score.value === null ? [] : [score.value]))),
      passed: done.filter((score) => score.passed).length,
      scored: done.length,
    };
  });
  const differ = (key: (cell: Cell) => string) => new Set(finished.map(key)).size > 1;
  const verdicts = (cell: Cell) =>
    JSON.stringify(cell.scores.filter((s) => s.status === "done").map((s) => [s.name, s.passed]));
  return {
    repeats: cells.length,
    finished: finished.length,
    evaluators,
    latency: rangeOf(
      finished.flatMap((cell) => (cell.duration_ms === null ? [] : [cell.duration_ms])),
    ),
    isUnstable:
      differ((cell) => cell.status) ||
      differ((cell) => JSON.stringify(cell.output ?? null)) ||
      differ(verdicts),
  };
}

/** What a cell shows: its final output once finished, its stream until then. */
export function cellText(cell: Cell): string {
  if (cell.is_finished && cell.output !== null && cell.output !== undefined) {
    return outputText(cell.output);
  }
  return cell.stream;
}

const failedStatuses = new Set(["FAILED", "CANCELLED", "TIMED_OUT"]);

/** A cell whose run failed or was cancelled, or that an evaluator could not judge. */
const hasFailed = (cell: Cell) =>
  failedStatuses.has(cell.status) || cell.scores.some((score) => score.status === "error");

/**
 * The cells a re-run would start again (as the API chooses them): latest attempts
 * whose run failed or was cancelled, or that an evaluator could not judge.
 */
export function failedCells(comparison: Comparison): Cell[] {
  return comparison.cells.filter((cell) => cell.is_latest && cell.is_finished && hasFailed(cell));
}

/** Which rows of a comparison the grid shows. */
export type RowFilter = "all" | "failing" | "errors" | "differ" | "regressions";

/** The mean of the done scores of a (row, column)'s repeats, as the summary's rows. */
const meanScore = (cells: Cell[]): number | null => {
  const values = cells
    .flatMap((cell) => cell.scores)
    .filter((score) => score.status === "done" && score.value !== null)
    .map((score) => score.value as number);
  return values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : null;
};

/**
 * Whether a row passes the filter: `failing`, a cell an evaluator failed; `errors`, a
 * cell whose run failed or that an evaluator could not judge; `differ`, a succeeded cell
 * whose output is not its (succeeded) baseline cell's; `regressions`, a column scoring lower
 * on average (over its repeats) than the baseline column. Only latest attempts count.
 */
export function rowMatches(
  comparison: Comparison,
  index: CellIndex,
  row: number,
  filter: RowFilter,
): boolean {
  if (filter === "all") return true;
  const latest = (column: number) =>
    (index.get(placeKey(row, column)) ?? []).flatMap((attempts) => attempts.slice(0, 1));
  const cells = comparison.columns.flatMap((_, column) => latest(column));
  const baseline = latest(comparison.baseline)[0];
  const others = cells.filter((cell) => cell.column !== comparison.baseline);
  switch (filter) {
    case "failing":
      return cells.some((cell) => cell.scores.some((score) => score.passed === false));
    case "errors":
      return cells.some(hasFailed);
    case "differ":
      return (
        baseline?.status === "SUCCEEDED" &&
        others.some((cell) => cell.status === "SUCCEEDED" && cellText(cell) !== cellText(baseline))
      );
    case "regressions": {
      const held = meanScore(latest(comparison.baseline));
      return (
        held !== null &&
        comparison.columns.some((_, column) => {
          const mean = meanScore(latest(column));
          return column !== comparison.baseline && mean !== null && mean < held;
        })
      );
    }
  }
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
