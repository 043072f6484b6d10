// Any address the dashboard has no page for.
import { Link } from "react-router-dom";

export function NotFoundPage() {
  return (
    <section className="page">
      <h1>Page not found</h1>
      <p>
        Nothing lives at this address. <Link to="/runs">Go to runs</Link>.
      </p>
    </section>
  );
}
