// Workflows: placeholder until the page is built.
export function WorkflowsPage() {
  return (
    <section className="page">
      <h1>Workflows</h1>
    </section>
  );
}
