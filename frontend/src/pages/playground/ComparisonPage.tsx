// Comparison: placeholder until the page is built.
import { useParams } from "react-router-dom";

export function ComparisonPage() {
  const { comparisonId } = useParams();
  return (
    <section className="page">
      <h1>
        Comparison <code>{comparisonId}</code>
      </h1>
    </section>
  );
}
