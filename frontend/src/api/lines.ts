// Log lines and stream chunks of step runs as the sockets and the logs and stream
// endpoints give them, each kept once and shown in the order its step run sent it.
// A step run's attempt numbers its lines 0, 1, 2, ... (logs and chunks share the
// counter), so a seq missing below one that arrived is a gap: lines past it wait
// until the stored lines fill it, and the text shown is always the start of the
// stored stream, never a word twice or out of place.

/** A log line or stream chunk, as the run socket and the logs/stream endpoints give it. */
export interface LiveLine {
  step_run_id: string;
  attempt: number;
  kind: "log" | "stream";
  seq: number;
  level?: string;
  text: string;
  created_at?: string;
}

/** The lines of one attempt of one step run. */
interface AttemptLines {
  stepRunId: string;
  attempt: number;
  /** By `${kind}/${seq}`. */
  lines: ReadonlyMap<string, LiveLine>;
  /** The seq up to which the stored lines were read: one missing at or below it was never stored. */
  settled: number;
  /** The highest seq up to which nothing is missing: what may be shown. */
  shownThrough: number;
  /** The highest seq that arrived. */
  last: number;
}

/** Lines by (step run, attempt, kind, seq), each once. */
export interface LineBook {
  attempts: ReadonlyMap<string, AttemptLines>;
}

export const emptyBook: LineBook = { attempts: new Map() };

/** A gap to fill: the attempt's stored lines up to `through` (the highest seq that arrived). */
export interface Gap {
  step_run_id: string;
  attempt: number;
  through: number;
}

/** Stored lines read to fill a gap. */
export interface Fill extends Gap {
  lines: LiveLine[];
}

function attemptKey(stepRunId: string, attempt: number): string {
  return `${stepRunId}/${attempt}`;
}

function holds(lines: ReadonlyMap<string, LiveLine>, seq: number): boolean {
  return lines.has(`stream/${seq}`) || lines.has(`log/${seq}`);
}

function advanced(entry: AttemptLines): AttemptLines {
  let through = Math.max(entry.shownThrough, entry.settled);
  while (holds(entry.lines, through + 1)) through += 1;
  return through === entry.shownThrough ? entry : { ...entry, shownThrough: through };
}

type EditableLines = Omit<AttemptLines, "lines"> & { lines: Map<string, LiveLine> };

/**
 * The book with `lines` added (those it holds already are dropped) and each attempt
 * in `settle` read from the store up to its `through`; the same book when nothing
 * changed.
 */
function merged(
  book: LineBook,
  lines: Iterable<LiveLine>,
  settle: ReadonlyMap<string, Gap>,
): LineBook {
  const changed = new Map<string, EditableLines>();
  const current = (key: string): AttemptLines | undefined =>
    changed.get(key) ?? book.attempts.get(key);
  const editable = (stepRunId: string, attempt: number): EditableLines => {
    const key = attemptKey(stepRunId, attempt);
    let entry = changed.get(key);
    if (entry === undefined) {
      const held = book.attempts.get(key);
      entry = held
        ? { ...held, lines: new Map(held.lines) }
        : { stepRunId, attempt, lines: new Map(), settled: -1, shownThrough: -1, last: -1 };
      changed.set(key, entry);
    }
    return entry;
  };
  for (const line of lines) {
    const lineKey = `${line.kind}/${line.seq}`;
    if (current(attemptKey(line.step_run_id, line.attempt))?.lines.has(lineKey)) continue;
    const entry = editable(line.step_run_id, line.attempt);
    entry.lines.set(lineKey, line);
    entry.last = Math.max(entry.last, line.seq);
  }
  for (const [key, gap] of settle) {
    if (gap.through <= (current(key)?.settled ?? -1)) continue;
    editable(gap.step_run_id, gap.attempt).settled = gap.through;
  }
  if (changed.size === 0) return book;
  const attempts = new Map(book.attempts);
  for (const [key, entry] of changed) attempts.set(key, advanced(entry));
  return { attempts };
}

const settlesNothing: ReadonlyMap<string, Gap> = new Map();

/** The book with lines that arrived live. */
export function withLines(book: LineBook, lines: Iterable<LiveLine>): LineBook {
  return merged(book, lines, settlesNothing);
}

/**
 * The book with lines read from the store (a snapshot, a cell, a page of the logs or
 * stream endpoint): everything each attempt stored up to the highest seq read is in them.
 */
export function withStored(book: LineBook, lines: readonly LiveLine[]): LineBook {
  const settle = new Map<string, Gap>();
  for (const line of lines) {
    const key = attemptKey(line.step_run_id, line.attempt);
    const through = Math.max(settle.get(key)?.through ?? -1, line.seq);
    settle.set(key, { step_run_id: line.step_run_id, attempt: line.attempt, through });
  }
  return merged(book, lines, settle);
}

/** The book with a gap filled: its attempt is read from the store up to `through`. */
export function withFill(book: LineBook, fill: Fill): LineBook {
  return merged(book, fill.lines, new Map([[attemptKey(fill.step_run_id, fill.attempt), fill]]));
}

/** The attempts holding a line past a missing seq. */
export function gapsOf(book: LineBook): Gap[] {
  return [...book.attempts.values()]
    .filter((entry) => entry.last > entry.shownThrough)
    .map((entry) => ({
      step_run_id: entry.stepRunId,
      attempt: entry.attempt,
      through: entry.last,
    }));
}

function byAttemptAndSeq(a: LiveLine, b: LiveLine): number {
  return a.attempt - b.attempt || a.seq - b.seq;
}

/** A step run's lines of one kind that may be shown, by attempt then seq. */
export function shownLines(book: LineBook, stepRunId: string, kind: LiveLine["kind"]): LiveLine[] {
  const shown: LiveLine[] = [];
  for (const entry of book.attempts.values()) {
    if (entry.stepRunId !== stepRunId) continue;
    for (const line of entry.lines.values()) {
      if (line.kind === kind && line.seq <= entry.shownThrough) shown.push(line);
    }
  }
  return shown.sort(byAttemptAndSeq);
}

/** The chunks of a step run's latest attempt that streamed, in order, up to its first gap. */
export function streamChunks(book: LineBook, stepRunId: string): LiveLine[] {
  const chunks = shownLines(book, stepRunId, "stream");
  const latest = Math.max(0, ...chunks.map((chunk) => chunk.attempt));
  return chunks.filter((chunk) => chunk.attempt === latest);
}

export function streamText(book: LineBook, stepRunId: string): string {
  return streamChunks(book, stepRunId)
    .map((chunk) => chunk.text)
    .join("");
}
