// The workflow's latest comparisons, so one can be opened again from the playground.
import { Link } from "react-router-dom";
import { RelativeTime } from "../../components/RelativeTime";
import { AsyncView } from "../../components/StateViews";
import { useRecentComparisons } from "./api";
import { counted } from "./model";

export function RecentComparisons({ workflow }: { workflow: string }) {
  const comparisons = useRecentComparisons(workflow);
  return (
    <AsyncView
      {...comparisons}
      onRetry={comparisons.reload}
      empty={<p className="muted">No comparisons of this workflow yet.</p>}
    >
      {(page) => (
        <ul className="recent-comparisons">
          {page.results.map((comparison) => (
            <li key={comparison.id}>
              <Link to={`/playground/compare/${comparison.id}`}>
                {comparison.columns.map((column) => column.title).join(" vs ")}
              </Link>{" "}
              <span className="muted">
                · {counted(comparison.rows.length, "input")} · {comparison.created_by}{" "}
                <RelativeTime value={comparison.created_at} />
              </span>
            </li>
          ))}
        </ul>
      )}
    </AsyncView>
  );
}
