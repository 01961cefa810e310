import { enumeratePeriods, periodStart, type Interval } from './dates';

/** One bucket of a time series as the API returns it. */
export interface PeriodPoint {
  period: string;
  commits: number;
  linesAdded: number;
  linesRemoved: number;
  /** Lines in the code at the period's end (the server's running total from the first commit), when known. */
  linesTotal?: number;
}

export const emptyPoint = (period: string): PeriodPoint => ({
  period,
  commits: 0,
  linesAdded: 0,
  linesRemoved: 0,
});

function addInto(target: PeriodPoint, point: PeriodPoint): void {
  target.commits += point.commits;
  target.linesAdded += point.linesAdded;
  target.linesRemoved += point.linesRemoved;
}

/**
 * Sums points into `interval` buckets and fills every bucket between `from` and `to` with zeros, so charts show
 * quiet weeks as gaps at zero rather than joining the neighbours. Points outside the range are dropped.
 */
export function fillSeries(
  points: PeriodPoint[],
  from: string,
  to: string,
  interval: Interval,
): PeriodPoint[] {
  const buckets = new Map(enumeratePeriods(from, to, interval).map((p) => [p, emptyPoint(p)]));
  for (const point of points) {
    const bucket = buckets.get(periodStart(point.period, interval));
    if (bucket) addInto(bucket, point);
  }
  return [...buckets.values()];
}

/** The first and last day that any point covers, or null for an empty series. */
export function seriesExtent(points: PeriodPoint[]): { from: string; to: string } | null {
  if (points.length === 0) return null;
  let from = points[0]!.period;
  let to = from;
  for (const { period } of points) {
    if (period < from) from = period;
    if (period > to) to = period;
  }
  return { from, to };
}

export function totals(points: PeriodPoint[]): Omit<PeriodPoint, 'period'> {
  const sum = emptyPoint('');
  for (const point of points) addInto(sum, point);
  return { commits: sum.commits, linesAdded: sum.linesAdded, linesRemoved: sum.linesRemoved };
}

/** Code frequency: additions up, deletions drawn below the axis. */
export function codeFrequencyRows(
  points: PeriodPoint[],
): { period: string; additions: number; deletions: number }[] {
  return points.map((p) => ({ period: p.period, additions: p.linesAdded, deletions: -p.linesRemoved }));
}

/**
 * Lines in the code at the end of each drawn bucket: what stood before the first drawn bucket (from the server's
 * running total of the first point inside the range) plus each bucket's added − removed. Buckets are fillSeries'.
 */
export function runningTotalRows(
  points: PeriodPoint[],
  buckets: PeriodPoint[],
): { period: string; total: number }[] {
  const first = buckets[0]?.period;
  const sorted = [...points].sort((a, b) => (a.period < b.period ? -1 : 1));
  const inside = sorted.find((p) => first !== undefined && p.period >= first);
  const before = sorted.filter((p) => first !== undefined && p.period < first).at(-1);
  let total =
    inside?.linesTotal !== undefined
      ? inside.linesTotal - inside.linesAdded + inside.linesRemoved
      : (before?.linesTotal ?? 0);
  return buckets.map((b) => ({ period: b.period, total: (total += b.linesAdded - b.linesRemoved) }));
}
