// Crons & schedules: placeholder until the page is built.
export function TriggersPage() {
  return (
    <section className="page">
      <h1>Crons & schedules</h1>
    </section>
  );
}
