// A small line chart in inline SVG: one or more series over the same buckets, gaps
// (null) bridged, the first series optionally filled. It draws what it is given; the
// page says what the values mean in the title and the summary.
import "./overview.css";

export interface Series {
  name: string;
  values: (number | null)[];
  /** A class of overview.css that colours it. */
  tone: "accent" | "danger" | "waiting" | "neutral";
}

export interface LineChartProps {
  title: string;
  /** Read by screen readers instead of the drawing: the latest values, in words. */
  summary: string;
  series: Series[];
  /** The first and last buckets' times, under the chart. */
  from: string;
  to: string;
  format: (value: number) => string;
  fillFirst?: boolean;
}

const width = 600;
const height = 160;
const left = 48;
const right = 8;
const top = 8;
const bottom = 8;

/** The smallest of 1, 2 and 5 times a power of ten that is at least `value`. */
export function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((step) => step * power >= value) ?? 10) * power;
}

function pointsOf(values: (number | null)[], ceiling: number): [number, number][] {
  const span = Math.max(values.length - 1, 1);
  return values.flatMap((value, index) =>
    value === null
      ? []
      : [
          [
            left + (index / span) * (width - left - right),
            top + (1 - value / ceiling) * (height - top - bottom),
          ] as [number, number],
        ],
  );
}

function pathOf(points: [number, number][]): string {
  return points
    .map(([x, y], i) => `${i === 0 ? "M" : "L"}${x.toFixed(1)},${y.toFixed(1)}`)
    .join("");
}

export function LineChart({ title, summary, series, from, to, format, fillFirst }: LineChartProps) {
  const values = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const ceiling = niceCeiling(Math.max(0, ...values));
  const baseline = height - bottom;
  return (
    <figure className="card chart">
      <figcaption>
        <h2>{title}</h2>
        <ul className="chart-legend" aria-hidden="true">
          {series.map((s) => (
            <li key={s.name} className={`tone-${s.tone}-line`}>
              {s.name}
            </li>
          ))}
        </ul>
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${title}: ${summary}`}>
        <line className="chart-axis" x1={left} x2={width - right} y1={baseline} y2={baseline} />
        <text className="chart-tick" x={left - 6} y={top + 4} textAnchor="end">
          {format(ceiling)}
        </text>
        <text className="chart-tick" x={left - 6} y={baseline} textAnchor="end">
          0
        </text>
        {series.map((s, index) => {
          const points = pointsOf(s.values, ceiling);
          const first = points[0];
          const last = points[points.length - 1];
          if (first === undefined || last === undefined) return null;
          const line = pathOf(points);
          const [lastX, lastY] = last;
          const area =
            fillFirst && index === 0
              ? `${line}L${lastX.toFixed(1)},${baseline}L${first[0].toFixed(1)},${baseline}Z`
              : null;
          return (
            <g key={s.name} className={`tone-${s.tone}-line`} data-series={s.name}>
              {area && <path className="chart-area" d={area} />}
              <path className="chart-line" d={line} />
              <circle className="chart-dot" cx={lastX} cy={lastY} r={3} />
            </g>
          );
        })}
      </svg>
      <div className="chart-times muted" aria-hidden="true">
        <span>{from}</span>
        <span>{to}</span>
      </div>
    </figure>
  );
}
