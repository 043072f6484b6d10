// Rate limits: how many units the steps naming a key may take per period, and how
// many they took in the window ending now, refreshed every few seconds. Editors put a
// limit (create it, or change the one of that key) and delete them.
import { useRef, useState, type FormEvent, type RefObject } from "react";
import { useSearchParams } from "react-router-dom";
import type { RateLimit, RateLimitPeriod } from "../../api/types";
import { ApiErrorMessage } from "../../components/ApiErrorMessage";
import { ConfirmButton } from "../../components/ConfirmButton";
import { Pagination } from "../../components/Pagination";
import { RelativeTime } from "../../components/RelativeTime";
import { RequireRole } from "../../components/RequireRole";
import { AsyncView, Empty } from "../../components/StateViews";
import { TableHead } from "../../components/TableHead";
import { UsageMeter } from "../../components/UsageMeter";
import { useSession } from "../../session";
import { useDeleteRateLimit, usePutRateLimit, useRateLimits } from "./api";
import "./rate-limits.css";

const pageSize = 50;
const pollMs = 3_000;
const periods: RateLimitPeriod[] = ["second", "minute", "hour", "day"];

/** The form's fields as typed: the limit stays text until it is sent, so it can be
 * cleared and retyped. */
interface Draft {
  key: string;
  limit: string;
  period: RateLimitPeriod;
}

const blankDraft: Draft = { key: "", limit: "", period: "minute" };

export function RateLimitsPage() {
  const [params, setParams] = useSearchParams();
  const offset = Math.max(0, Number(params.get("offset") ?? "0") || 0);
  const rateLimits = useRateLimits({ limit: pageSize, offset }, { pollMs });
  const { can } = useSession();
  const canEdit = can("editor");
  const [draft, setDraft] = useState(blankDraft);
  const limitInput = useRef<HTMLInputElement>(null);
  const edit = (rateLimit: RateLimit) => {
    setDraft({ key: rateLimit.key, limit: String(rateLimit.limit), period: rateLimit.period });
    // The form is under the list: focusing the field an edit most often changes brings
    // it into view.
    limitInput.current?.focus();
  };

  return (
    <section className="page">
      <div className="page-header">
        <h1>Rate limits</h1>
        <span className="muted">Refreshes every {pollMs / 1000} seconds</span>
      </div>
      <AsyncView
        {...rateLimits}
        onRetry={rateLimits.reload}
        empty={
          <Empty
            message={
              <>
                No rate limits yet. A rate limit caps the units the steps that name its key may take
                per second, minute, hour or day; a step whose units are not free waits in the queue
                until they are. A step declares the units it takes with{" "}
                <code>rate_limits=[RateLimit(key="llm", units=1)]</code> in the Python SDK, and{" "}
                <code>hatchet.rate_limits.put("llm", limit=60, period="minute")</code> creates the
                limit.
              </>
            }
          />
        }
      >
        {(page) => (
          <>
            <table className="data-table">
              <TableHead
                columns={["Key", "Limit", "Current use", "Kind", "Updated"]}
                hasActions={canEdit}
              />
              <tbody>
                {page.results.map((rateLimit) => (
                  <RateLimitRow
                    key={rateLimit.id}
                    rateLimit={rateLimit}
                    canEdit={canEdit}
                    onEdit={() => edit(rateLimit)}
                  />
                ))}
              </tbody>
            </table>
            {page.count > pageSize && (
              <Pagination
                count={page.count}
                limit={pageSize}
                offset={offset}
                onChange={(next) => setParams(next ? { offset: String(next) } : {})}
              />
            )}
          </>
        )}
      </AsyncView>
      <RequireRole role="editor">
        <PutRateLimitForm draft={draft} onChange={setDraft} limitInput={limitInput} />
      </RequireRole>
    </section>
  );
}

function RateLimitRow({
  rateLimit,
  canEdit,
  onEdit,
}: {
  rateLimit: RateLimit;
  canEdit: boolean;
  onEdit: () => void;
}) {
  const remove = useDeleteRateLimit(rateLimit.id);
  const { key, limit, period, used } = rateLimit;
  return (
    <tr>
      <td>
        <code>{key}</code>
      </td>
      <td>
        {limit} / {period}
      </td>
      <td>
        <UsageMeter
          used={used}
          total={limit}
          label="Units used"
          valueText={`${used} of ${limit} units used in the last ${period}`}
        >
          {used} of {limit}
        </UsageMeter>
      </td>
      <td>
        {rateLimit.dynamic ? (
          <span className="status-badge tone-active">dynamic</span>
        ) : (
          <span className="muted">named</span>
        )}
      </td>
      <td>
        <RelativeTime value={rateLimit.updated_at} />
      </td>
      {canEdit && (
        <td>
          <div className="toolbar">
            <button type="button" className="button" onClick={onEdit}>
              Edit
            </button>
            <ConfirmButton disabled={remove.isPending} onConfirm={() => remove.mutate(undefined)}>
              Delete
            </ConfirmButton>
          </div>
          <ApiErrorMessage error={remove.error} />
        </td>
      )}
    </tr>
  );
}

function PutRateLimitForm({
  draft,
  onChange,
  limitInput,
}: {
  draft: Draft;
  onChange: (draft: Draft) => void;
  limitInput: RefObject<HTMLInputElement | null>;
}) {
  const put = usePutRateLimit({ onSuccess: () => onChange(blankDraft) });
  const change = (fields: Partial<Draft>) => onChange({ ...draft, ...fields });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    put.mutate({ key: draft.key.trim(), limit: Number(draft.limit), period: draft.period });
  };
  return (
    <form className="card rate-limit-form" onSubmit={submit} aria-labelledby="put-rate-limit">
      <h2 id="put-rate-limit">Put a rate limit</h2>
      <p className="muted">
        A key that exists gets the new limit and period; the units its window already took stay
        taken.
      </p>
      <div className="form-row">
        <label className="field">
          <span>Key</span>
          <input
            value={draft.key}
            onChange={(event) => change({ key: event.target.value })}
            required
            placeholder="llm"
            className="code"
          />
        </label>
        <label className="field">
          <span>Limit</span>
          <input
            ref={limitInput}
            type="number"
            min={1}
            step={1}
            value={draft.limit}
            onChange={(event) => change({ limit: event.target.value })}
            required
          />
        </label>
        <label className="field">
          <span>Period</span>
          <select
            value={draft.period}
            onChange={(event) => change({ period: event.target.value as RateLimitPeriod })}
          >
            {periods.map((period) => (
              <option key={period} value={period}>
                {period}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="toolbar">
        <button type="submit" className="button primary" disabled={put.isPending}>
          Save limit
        </button>
        {put.isSuccess && (
          <span role="status" className="muted">
            {put.data.status === 201 ? "Created" : "Updated"} {put.data.body.key}
          </span>
        )}
      </div>
      <ApiErrorMessage error={put.error} />
    </form>
  );
}
