// How a run started, as the runs list and the run page show it: a run that an event
// started links to that event.
import { Link } from "react-router-dom";
import type { Run } from "../../api/types";

export function RunTrigger({ run }: { run: Pick<Run, "trigger" | "event"> }) {
  if (!run.event) return <>{run.trigger ?? "—"}</>;
  return (
    <Link to={`/events/${run.event}`} aria-label={`Event ${run.event}`}>
      {run.trigger ?? "event"}
    </Link>
  );
}
