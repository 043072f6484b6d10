import { describe, expect, it } from "vitest";
import {
  emptyBook,
  gapsOf,
  shownLines,
  streamChunks,
  streamText,
  withFill,
  withLines,
  withStored,
  type LiveLine,
} from "./lines";

const line = (
  seq: number,
  text: string,
  kind: LiveLine["kind"] = "stream",
  attempt = 1,
): LiveLine => ({
  step_run_id: "s1",
  attempt,
  kind,
  seq,
  text,
});

describe("a line book", () => {
  it("keeps each line once, whether live or stored, and returns itself when nothing is new", () => {
    const book = withStored(emptyBook, [line(0, "a "), line(1, "b ")]);
    expect(withLines(book, [line(1, "b ")])).toBe(book);
    expect(withStored(book, [line(0, "a ")])).toBe(book);
    expect(streamText(withLines(book, [line(2, "c"), line(2, "c")]), "s1")).toBe("a b c");
  });

  it("tells a log line and a chunk of the same seq apart", () => {
    const book = withLines(emptyBook, [line(0, "chunk"), line(0, "log", "log")]);
    expect(shownLines(book, "s1", "log").map((l) => l.text)).toEqual(["log"]);
    expect(streamText(book, "s1")).toBe("chunk");
  });

  it("shows lines in seq order up to the first missing seq, and names that gap", () => {
    let book = withLines(emptyBook, [line(0, "a "), line(3, "d"), line(2, "c ")]);
    expect(streamText(book, "s1")).toBe("a ");
    expect(gapsOf(book)).toEqual([{ step_run_id: "s1", attempt: 1, through: 3 }]);
    book = withLines(book, [line(1, "b ", "log")]);
    expect(streamText(book, "s1")).toBe("a c d");
    expect(gapsOf(book)).toEqual([]);
  });

  it("counts a gap as none once the store was read past it", () => {
    const lost = withLines(emptyBook, [line(0, "a "), line(2, "c")]);
    const filled = withFill(lost, {
      step_run_id: "s1",
      attempt: 1,
      through: 2,
      lines: [line(1, "b ")],
    });
    expect(streamText(filled, "s1")).toBe("a b c");
    // A seq the store never had (a refused line) stops nothing once read past.
    const never = withFill(lost, { step_run_id: "s1", attempt: 1, through: 2, lines: [] });
    expect(streamText(never, "s1")).toBe("a c");
    expect(gapsOf(never)).toEqual([]);
  });

  it("takes a snapshot as read up to its last seq: seqs missing below it are no gap", () => {
    const book = withLines(withStored(emptyBook, [line(1, "b ")]), [line(2, "c")]);
    expect(streamText(book, "s1")).toBe("b c");
    expect(gapsOf(book)).toEqual([]);
  });

  it("streams the latest attempt only", () => {
    const book = withLines(emptyBook, [
      line(0, "old "),
      line(1, "try"),
      line(0, "new", "stream", 2),
    ]);
    expect(streamChunks(book, "s1").map((l) => [l.attempt, l.text])).toEqual([[2, "new"]]);
    expect(shownLines(book, "s1", "stream")).toHaveLength(3);
  });
});
