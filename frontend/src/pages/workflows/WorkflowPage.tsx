// Workflow: placeholder until the page is built.
import { useParams } from "react-router-dom";

export function WorkflowPage() {
  const { name } = useParams();
  return (
    <section className="page">
      <h1>
        Workflow <code>{name}</code>
      </h1>
    </section>
  );
}
