// Alerts: the tenant's rules (on failed runs, workers gone, queue waits) with their
// state, and the notifications they sent with each destination's outcome. Admins
// create, edit and delete rules and send a test to a rule's destinations.
import { useId, useState, type FormEvent } from "react";
import type { AlertEvent, AlertKind, AlertRule, NewAlertRuleBody } from "../../api/types";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { ConfirmButton } from "../../components/ConfirmButton";
import { RelativeTime } from "../../components/RelativeTime";
import { RequireRole } from "../../components/RequireRole";
import { AsyncView, Empty } from "../../components/StateViews";
import { TableHead } from "../../components/TableHead";
import { useSession } from "../../session";
import {
  useAlertEvents,
  useAlertRule,
  useAlertRules,
  useDeleteAlertRule,
  useSaveAlertRule,
  useTestAlertRule,
} from "./api";
import "./alerts.css";

const eventsPollMs = 10_000;

const kinds: { kind: AlertKind; label: string; threshold: string }[] = [
  { kind: "failed_runs", label: "Failed runs", threshold: "Failed runs" },
  { kind: "workers_gone", label: "Workers gone", threshold: "" },
  { kind: "queue_wait", label: "Queue wait", threshold: "Seconds waiting" },
];

/** What a rule watches, in words. */
export function conditionOf(rule: AlertRule): string {
  const of = rule.workflow ? ` of ${rule.workflow}` : "";
  if (rule.kind === "failed_runs")
    return `${rule.threshold} failed runs${of} within ${rule.window_seconds} s`;
  if (rule.kind === "queue_wait")
    return `a step run${of} waiting over ${rule.threshold} s for a worker`;
  return `an action${of} served within ${rule.window_seconds} s left without a live worker`;
}

export function AlertsPage() {
  const rules = useAlertRules();
  const { can } = useSession();
  const canEdit = can("admin");
  // null: no form; "": a new rule; else the id of the rule being edited.
  const [editing, setEditing] = useState<string | null>(null);

  return (
    <section className="page alerts-page">
      <div className="page-header">
        <h1>Alerts</h1>
        <RequireRole role="admin">
          {editing === null && (
            <button type="button" className="button primary" onClick={() => setEditing("")}>
              New rule
            </button>
          )}
        </RequireRole>
      </div>
      {editing !== null && <RuleEditor ruleId={editing || null} onClose={() => setEditing(null)} />}
      <section className="card" aria-labelledby="alert-rules-heading">
        <h2 id="alert-rules-heading">Rules</h2>
        <AsyncView
          {...rules}
          onRetry={rules.reload}
          empty={
            <Empty message="No alert rules yet. A rule tells a Slack-compatible webhook or email addresses when runs fail, workers go away or steps wait in the queue." />
          }
        >
          {(page) => (
            <table className="data-table">
              <TableHead
                columns={["Name", "Fires on", "Sends to", "State", "Last notified"]}
                hasActions={canEdit}
              />
              <tbody>
                {page.results.map((rule) => (
                  <RuleRow
                    key={rule.id}
                    rule={rule}
                    canEdit={canEdit}
                    onEdit={() => setEditing(rule.id)}
                  />
                ))}
              </tbody>
            </table>
          )}
        </AsyncView>
      </section>
      <RecentEvents />
    </section>
  );
}

function RuleRow({
  rule,
  canEdit,
  onEdit,
}: {
  rule: AlertRule;
  canEdit: boolean;
  onEdit: () => void;
}) {
  const remove = useDeleteAlertRule(rule.id);
  const test = useTestAlertRule(rule.id);
  return (
    <>
      <tr>
        <td>{rule.name}</td>
        <td>{conditionOf(rule)}</td>
        <td>{[...rule.webhook_urls, ...rule.emails].join(", ")}</td>
        <td>
          <span className={`alert-state alert-state-${rule.state}`}>
            {rule.is_enabled ? rule.state : "disabled"}
          </span>
        </td>
        <td>
          <RelativeTime value={rule.notified_at} />
        </td>
        {canEdit && (
          <td>
            <div className="toolbar">
              <button type="button" className="button" onClick={onEdit}>
                Edit
              </button>
              <button
                type="button"
                className="button"
                disabled={test.isPending}
                onClick={() => test.mutate(undefined)}
              >
                {test.isPending ? "Sending…" : "Send test"}
              </button>
              <ConfirmButton onConfirm={() => remove.mutate(undefined)} disabled={remove.isPending}>
                Delete
              </ConfirmButton>
            </div>
            <ApiErrorMessage error={test.error ?? remove.error} />
          </td>
        )}
      </tr>
      {test.data && (
        <tr>
          <td colSpan={6}>
            <div role="status" aria-label={`Test of ${rule.name}`}>
              <Deliveries event={test.data} />
            </div>
          </td>
        </tr>
      )}
    </>
  );
}

function Deliveries({ event }: { event: AlertEvent }) {
  return (
    <ul className="alert-deliveries">
      {event.deliveries.map((delivery) => (
        <li key={delivery.id}>
          <span className={`alert-delivery alert-delivery-${delivery.status}`}>
            {delivery.status}
          </span>{" "}
          {delivery.channel} {delivery.destination}
          {delivery.error && <span className="muted"> — {delivery.error}</span>}
        </li>
      ))}
    </ul>
  );
}

function RecentEvents() {
  const events = useAlertEvents({ pollMs: eventsPollMs });
  return (
    <section className="card" aria-labelledby="alert-events-heading">
      <h2 id="alert-events-heading">Recent alerts</h2>
      <AsyncView
        {...events}
        onRetry={events.reload}
        empty={<Empty message="No alerts sent yet." />}
      >
        {(page) => (
          <table className="data-table">
            <TableHead columns={["When", "Rule", "Kind", "Message", "Deliveries"]} />
            <tbody>
              {page.results.map((event) => (
                <tr key={event.id}>
                  <td>
                    <RelativeTime value={event.created_at} />
                  </td>
                  <td>{event.rule_name}</td>
                  <td>{event.kind}</td>
                  <td>
                    <strong>{event.title}</strong>
                    {event.message && <pre className="alert-message">{event.message}</pre>}
                  </td>
                  <td>
                    <Deliveries event={event} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </AsyncView>
    </section>
  );
}

/** The editor of one rule: a new one, or an existing one once it is read whole. */
function RuleEditor({ ruleId, onClose }: { ruleId: string | null; onClose: () => void }) {
  const rule = useAlertRule(ruleId);
  if (ruleId === null) return <RuleForm ruleId={null} initial={blankRule} onClose={onClose} />;
  return (
    <AsyncView {...rule} onRetry={rule.reload}>
      {(found) => <RuleForm ruleId={ruleId} initial={bodyOf(found)} onClose={onClose} />}
    </AsyncView>
  );
}

const blankRule: NewAlertRuleBody = {
  name: "",
  kind: "failed_runs",
  workflow: null,
  threshold: 5,
  window_seconds: 600,
  cooldown_seconds: 3600,
  webhook_urls: [],
  emails: [],
  is_enabled: true,
};

function bodyOf(rule: AlertRule): NewAlertRuleBody {
  const { name, kind, workflow, threshold, window_seconds, cooldown_seconds, is_enabled } = rule;
  return {
    name,
    kind,
    workflow,
    threshold,
    window_seconds,
    cooldown_seconds,
    webhook_urls: rule.webhook_urls,
    emails: rule.emails,
    is_enabled,
  };
}

const lines = (text: string) =>
  text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);

function RuleForm({
  ruleId,
  initial,
  onClose,
}: {
  ruleId: string | null;
  initial: NewAlertRuleBody;
  onClose: () => void;
}) {
  const [draft, setDraft] = useState(initial);
  const [webhooks, setWebhooks] = useState((initial.webhook_urls ?? []).join("\n"));
  const [emails, setEmails] = useState((initial.emails ?? []).join("\n"));
  const errorId = useId();
  const save = useSaveAlertRule(ruleId, { onSuccess: onClose });
  const thresholdLabel = kinds.find((option) => option.kind === draft.kind)?.threshold;
  const set = (fields: Partial<NewAlertRuleBody>) => setDraft({ ...draft, ...fields });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate({
      ...draft,
      name: draft.name.trim(),
      workflow: draft.workflow?.trim() || null,
      webhook_urls: lines(webhooks),
      emails: lines(emails),
    });
  };
  return (
    <form
      className="card alert-rule-form"
      onSubmit={submit}
      aria-label={ruleId === null ? "New alert rule" : "Edit alert rule"}
    >
      <label className="field">
        <span>Rule name</span>
        <input
          value={draft.name}
          onChange={(event) => set({ name: event.target.value })}
          required
          maxLength={200}
          aria-describedby={save.error ? errorId : undefined}
          autoFocus
        />
      </label>
      <label className="field">
        <span>Fires on</span>
        <select
          value={draft.kind}
          onChange={(event) => set({ kind: event.target.value as AlertKind })}
        >
          {kinds.map((option) => (
            <option key={option.kind} value={option.kind}>
              {option.label}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Workflow (blank: all)</span>
        <input
          value={draft.workflow ?? ""}
          onChange={(event) => set({ workflow: event.target.value })}
          maxLength={200}
        />
      </label>
      {thresholdLabel && (
        <label className="field">
          <span>{thresholdLabel}</span>
          <input
            type="number"
            min={1}
            value={draft.threshold}
            onChange={(event) => set({ threshold: Number(event.target.value) })}
          />
        </label>
      )}
      {draft.kind !== "queue_wait" && (
        <label className="field">
          <span>Window (seconds)</span>
          <input
            type="number"
            min={10}
            value={draft.window_seconds}
            onChange={(event) => set({ window_seconds: Number(event.target.value) })}
          />
        </label>
      )}
      <label className="field">
        <span>Cooldown (seconds)</span>
        <input
          type="number"
          min={0}
          value={draft.cooldown_seconds}
          onChange={(event) => set({ cooldown_seconds: Number(event.target.value) })}
        />
      </label>
      <label className="field">
        <span>Webhook URLs (one a line)</span>
        <textarea
          value={webhooks}
          onChange={(event) => setWebhooks(event.target.value)}
          rows={2}
          placeholder="https://hooks.slack.com/services/…"
        />
      </label>
      <label className="field">
        <span>Email addresses (one a line)</span>
        <textarea value={emails} onChange={(event) => setEmails(event.target.value)} rows={2} />
      </label>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={draft.is_enabled}
          onChange={(event) => set({ is_enabled: event.target.checked })}
        />{" "}
        Enabled
      </label>
      <div className="toolbar">
        <button type="submit" className="button primary" disabled={save.isPending}>
          Save rule
        </button>
        <button type="button" className="button" onClick={onClose}>
          Cancel
        </button>
      </div>
      <ApiErrorMessage id={errorId} error={save.error} />
    </form>
  );
}
