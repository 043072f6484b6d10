// How a dataset row reads in a table: a short line for its input and its expected
// output, the whole value one hover away.

const summaryLength = 80;

function shorten(text: string): string {
  return text.length > summaryLength ? `${text.slice(0, summaryLength - 1)}…` : text;
}

/** The input's first text field (what tells one ticket from another), else its JSON. */
export function inputSummary(input: Record<string, unknown>): string {
  const text = Object.values(input).find((value) => typeof value === "string");
  return shorten(typeof text === "string" ? text : JSON.stringify(input));
}

/** A text expected output as it is, any other as JSON; "" when nothing is expected. */
export function expectedSummary(expected: unknown): string {
  if (expected === null || expected === undefined) return "";
  return shorten(typeof expected === "string" ? expected : JSON.stringify(expected));
}
