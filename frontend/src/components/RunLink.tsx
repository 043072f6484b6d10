// A workflow run named by the start of its id, linking to its page, as every list of
// runs shows one.
import { Link } from "react-router-dom";

export function RunLink({ runId, label }: { runId: string; label?: string }) {
  return (
    <Link to={`/runs/${runId}`} aria-label={label}>
      <code>{runId.slice(0, 8)}</code>
    </Link>
  );
}
