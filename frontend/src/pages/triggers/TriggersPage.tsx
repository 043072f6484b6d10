// Crons & schedules: the recurring and one-off ways a workflow starts by itself.
import { CronsSection } from "./CronsSection";
import { SchedulesSection } from "./SchedulesSection";
import "./triggers.css";

export function TriggersPage() {
  return (
    <section className="page">
      <div className="page-header">
        <h1>Crons &amp; schedules</h1>
      </div>
      <CronsSection />
      <SchedulesSection />
    </section>
  );
}
