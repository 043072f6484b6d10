// Workers: placeholder until the page is built.
export function WorkersPage() {
  return (
    <section className="page">
      <h1>Workers</h1>
    </section>
  );
}
