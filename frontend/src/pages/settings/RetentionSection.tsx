// How long the tenant's finished runs and events are kept: every member sees the
// period, admins change it (the tenant's own number of days, forever, or the server's
// default).
import { useState, type FormEvent } from "react";
import type { Retention } from "../../api/types";
import { AsyncView } from "../../components/StateViews";
import { useSession } from "../../session";
import { useRetention, useSaveRetention } from "./api";
import { SaveBar } from "./SaveBar";

type Choice = "default" | "forever" | "days";

function period(days: number): string {
  if (days === 0) return "forever";
  return days === 1 ? "1 day" : `${days} days`;
}

export function RetentionSection() {
  const retention = useRetention();
  return (
    <section className="card settings-section" aria-labelledby="retention-heading">
      <h2 id="retention-heading">History retention</h2>
      <AsyncView {...retention} onRetry={retention.reload}>
        {(current) => <RetentionView current={current} />}
      </AsyncView>
    </section>
  );
}

function RetentionView({ current }: { current: Retention }) {
  const { can } = useSession();
  return (
    <>
      <p>
        Finished runs (with their step runs, logs and streams) and events are kept{" "}
        <strong>{period(current.effective_days)}</strong>
        {current.days === null && " (the server's default)"}.
      </p>
      <p className="muted">
        {current.effective_days === 0
          ? "Nothing is deleted."
          : current.is_archived
            ? "Older ones are written to the server's archive, then deleted."
            : "Older ones are deleted."}
      </p>
      {can("admin") && <RetentionForm current={current} />}
    </>
  );
}

function choiceOf(days: number | null): Choice {
  if (days === null) return "default";
  return days === 0 ? "forever" : "days";
}

function RetentionForm({ current }: { current: Retention }) {
  const [choice, setChoice] = useState<Choice>(choiceOf(current.days));
  const [days, setDays] = useState(String(current.days || 30));
  const [isSaved, setIsSaved] = useState(false);
  const save = useSaveRetention({ onSuccess: () => setIsSaved(true) });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setIsSaved(false);
    const chosen = { default: null, forever: 0, days: Number(days) }[choice];
    save.mutate({ days: chosen });
  };

  return (
    <form className="settings-form" onSubmit={submit} aria-label="History retention">
      <label className="field">
        <span>Keep history</span>
        <select value={choice} onChange={(event) => setChoice(event.target.value as Choice)}>
          <option value="default">The server's default ({period(current.default_days)})</option>
          <option value="forever">Forever</option>
          <option value="days">For a number of days</option>
        </select>
      </label>
      {choice === "days" && (
        <label className="field">
          <span>Days</span>
          <input
            type="number"
            min={1}
            value={days}
            onChange={(event) => setDays(event.target.value)}
            required
          />
        </label>
      )}
      <SaveBar
        label="Save retention"
        isPending={save.isPending}
        isSaved={isSaved}
        error={save.error}
      />
    </form>
  );
}
