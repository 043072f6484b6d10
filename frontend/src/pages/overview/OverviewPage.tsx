// Overview: the tenant's runs per second, failures, queue depth and trigger-to-start
// latency over a window, and what is queued, running and connected now; live by polling.
import { useSearchParams } from "react-router-dom";
import { AsyncView, Empty } from "../../components/StateViews";
import type { Overview, OverviewBucket, OverviewWindow } from "../../api/types";
import { useOverview } from "./api";
import { LineChart } from "./LineChart";
import "./overview.css";

const pollMs = 10_000;

const windows: Record<OverviewWindow, string> = {
  "15m": "Last 15 minutes",
  "1h": "Last hour",
  "6h": "Last 6 hours",
  "24h": "Last 24 hours",
  "7d": "Last 7 days",
};

function isWindow(value: string | null): value is OverviewWindow {
  return value !== null && value in windows;
}

export function OverviewPage() {
  const [params, setParams] = useSearchParams();
  const asked = params.get("window");
  const window: OverviewWindow = isWindow(asked) ? asked : "1h";
  const overview = useOverview(window, { pollMs });
  return (
    <section className="page">
      <div className="page-header">
        <h1>Overview</h1>
        <div className="toolbar">
          <label className="toolbar">
            <span>Window</span>
            <select
              value={window}
              onChange={(event) => setParams({ window: event.target.value }, { replace: true })}
            >
              {Object.entries(windows).map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <span className="muted">Refreshes every {pollMs / 1000} seconds</span>
        </div>
      </div>
      <AsyncView {...overview} onRetry={overview.reload}>
        {(data) => <OverviewView overview={data} />}
      </AsyncView>
    </section>
  );
}

function latest(values: (number | null)[]): number | null {
  return [...values].reverse().find((value): value is number => value !== null) ?? null;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function rate(value: number): string {
  return value >= 10 ? value.toFixed(0) : value.toFixed(value >= 1 ? 1 : 2);
}

function milliseconds(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${value.toFixed(0)} ms`;
}

function timeOf(start: string, bucketSeconds: number): string {
  const at = new Date(start);
  return bucketSeconds >= 1440
    ? at.toLocaleString(undefined, {
        month: "short",
        day: "numeric",
        hour: "2-digit",
        minute: "2-digit",
      })
    : at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

function column<K extends keyof OverviewBucket>(buckets: OverviewBucket[], key: K) {
  return buckets.map((bucket) => bucket[key]);
}

function OverviewView({ overview }: { overview: Overview }) {
  const { buckets } = overview;
  const runsPerSecond = column(buckets, "runs_per_second");
  const failedPerSecond = buckets.map((b) =>
    b.runs > 0 ? (b.runs_per_second * b.failed) / b.runs : 0,
  );
  const failed = column(buckets, "failed");
  const cancelled = column(buckets, "cancelled");
  const depth = column(buckets, "queue_depth");
  const p50 = column(buckets, "p50_ms");
  const p99 = column(buckets, "p99_ms");
  const times = {
    from: timeOf(buckets[0]?.start ?? new Date().toISOString(), overview.bucket_seconds),
    to: "now",
  };
  const quiet = buckets.every((b) => b.runs === 0 && b.queue_depth === null);
  const latestDepth = latest(depth);
  const latestP50 = latest(p50);
  const latestP99 = latest(p99);
  return (
    <>
      <dl className="card overview-totals">
        <div>
          <dt>Queued now</dt>
          <dd>{overview.queued}</dd>
        </div>
        <div>
          <dt>Running now</dt>
          <dd>{overview.running}</dd>
        </div>
        <div>
          <dt>Workers connected</dt>
          <dd>{overview.workers}</dd>
        </div>
      </dl>
      {quiet ? (
        <Empty message="No runs were triggered in this window, and no queue was sampled yet." />
      ) : (
        <div className="grid-2 overview-charts">
          <LineChart
            title="Runs per second"
            summary={`now ${rate(runsPerSecond[runsPerSecond.length - 1] ?? 0)} runs/s, ${rate(
              failedPerSecond[failedPerSecond.length - 1] ?? 0,
            )} failed/s; peak ${rate(Math.max(0, ...runsPerSecond))} runs/s`}
            series={[
              { name: "runs/s", values: runsPerSecond, tone: "accent" },
              { name: "failed/s", values: failedPerSecond, tone: "danger" },
            ]}
            format={rate}
            fillFirst
            {...times}
          />
          <LineChart
            title="Failed runs"
            summary={`${sum(failed)} failed and ${sum(cancelled)} cancelled in the window; ${
              failed[failed.length - 1] ?? 0
            } failed in the latest bucket`}
            series={[
              { name: "failed", values: failed, tone: "danger" },
              { name: "cancelled", values: cancelled, tone: "neutral" },
            ]}
            format={String}
            {...times}
          />
          <LineChart
            title="Queue depth"
            summary={
              latestDepth === null
                ? "no queue sampled in the window yet"
                : `latest sample ${latestDepth} step runs queued; peak ${Math.max(
                    0,
                    ...depth.filter((d): d is number => d !== null),
                  )}`
            }
            series={[{ name: "queued", values: depth, tone: "waiting" }]}
            format={String}
            fillFirst
            {...times}
          />
          <LineChart
            title="Trigger-to-start latency"
            summary={
              latestP50 === null || latestP99 === null
                ? "no run started in the window"
                : `latest p50 ${milliseconds(latestP50)}, p99 ${milliseconds(latestP99)}`
            }
            series={[
              { name: "p50", values: p50, tone: "accent" },
              { name: "p99", values: p99, tone: "danger" },
            ]}
            format={milliseconds}
            {...times}
          />
        </div>
      )}
    </>
  );
}
