// Events: placeholder until the page is built.
export function EventsPage() {
  return (
    <section className="page">
      <h1>Events</h1>
    </section>
  );
}
