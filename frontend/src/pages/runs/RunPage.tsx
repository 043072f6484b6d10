// Run: placeholder until the page is built.
import { useParams } from "react-router-dom";

export function RunPage() {
  const { runId } = useParams();
  return (
    <section className="page">
      <h1>
        Run <code>{runId}</code>
      </h1>
    </section>
  );
}
