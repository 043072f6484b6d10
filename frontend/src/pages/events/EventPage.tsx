// Event: placeholder until the page is built.
import { useParams } from "react-router-dom";

export function EventPage() {
  const { eventId } = useParams();
  return (
    <section className="page">
      <h1>
        Event <code>{eventId}</code>
      </h1>
    </section>
  );
}
