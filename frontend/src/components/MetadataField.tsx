// The metadata filter of the runs and events lists: "name:value" pairs, as the API's
// repeated `metadata=` parameter takes them. The server judges each pair, so a
// malformed one comes back as its 400 message rather than being guessed at here.

/** "region:eu, plan:pro" or one pair per line, as typed, to its pairs. */
export function parseMetadataText(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((pair) => pair.trim())
    .filter(Boolean);
}

/** Pairs back to the text the field shows, one per line. */
export function metadataText(pairs: string[]): string {
  return pairs.join("\n");
}

export function MetadataField({
  value,
  onChange,
}: {
  value: string;
  onChange: (text: string) => void;
}) {
  return (
    <label className="field">
      <span>Metadata</span>
      <textarea
        rows={Math.max(1, value.split("\n").length)}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        placeholder="name:value, …"
        title="name:value pairs, one per line or separated by commas"
      />
    </label>
  );
}
