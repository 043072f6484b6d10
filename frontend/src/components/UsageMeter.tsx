// How much of a capacity is taken (a worker's slots, a rate limit's units): the
// numbers, then a bar. The numbers carry the meaning; the bar is for the glance.
import type { ReactNode } from "react";
import "./UsageMeter.css";

export interface UsageMeterProps {
  used: number;
  total: number;
  /** The meter's accessible name: "Slots in use". */
  label: string;
  /** What a screen reader says for the value: "3 of 4 slots in use". */
  valueText: string;
  /** The numbers shown above the bar. */
  children: ReactNode;
}

export function UsageMeter({ used, total, label, valueText, children }: UsageMeterProps) {
  // Use can exceed the total (a rate limit lowered under what its window took).
  const percent = total > 0 ? Math.min(100, Math.round((used / total) * 100)) : 0;
  return (
    <div className="usage-meter">
      <span>{children}</span>
      <div
        className="usage-meter-track"
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={used}
        aria-valuetext={valueText}
      >
        <div
          className={`usage-meter-fill${percent >= 100 ? " full" : ""}`}
          style={{ width: `${percent}%` }}
        />
      </div>
    </div>
  );
}
