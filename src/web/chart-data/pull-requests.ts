import { enumeratePeriods, periodStart, type Interval } from './dates';

export interface CreatedMergedPoint {
  period: string;
  created: number;
  merged: number;
}

/** Created vs merged per period, every period in range present (zeros for quiet ones). */
export function createdVsMerged(
  points: CreatedMergedPoint[],
  range: { from: string; to: string; interval: Interval },
): CreatedMergedPoint[] {
  const rows = new Map(
    enumeratePeriods(range.from, range.to, range.interval).map((p) => [
      p,
      { period: p, created: 0, merged: 0 },
    ]),
  );
  for (const point of points) {
    const row = rows.get(periodStart(point.period, range.interval));
    if (!row) continue;
    row.created += point.created;
    row.merged += point.merged;
  }
  return [...rows.values()];
}
