import type { Interval } from './dates';
import { fillSeries, type PeriodPoint } from './series';

export type Metric = 'commits' | 'additions' | 'deletions';

export interface Contributor {
  id: string;
  name: string;
  avatarUrl: string | null;
  commits: number;
  linesAdded: number;
  linesRemoved: number;
  /** Per-period totals; empty until loaded (only the top contributors' series are fetched up front). */
  series: PeriodPoint[];
}

export function metricOf(
  point: Pick<PeriodPoint, 'commits' | 'linesAdded' | 'linesRemoved'>,
  metric: Metric,
) {
  if (metric === 'additions') return point.linesAdded;
  if (metric === 'deletions') return point.linesRemoved;
  return point.commits;
}

/** Contributors by the chosen metric, highest first; ties broken by commits, then name, so order is stable. */
export function rankContributors(contributors: Contributor[], metric: Metric): Contributor[] {
  return [...contributors].sort(
    (a, b) =>
      metricOf(b, metric) - metricOf(a, metric) || b.commits - a.commits || a.name.localeCompare(b.name),
  );
}

export const OTHERS_KEY = 'others';

export interface StackedSeries {
  /** One key per stacked area, in stacking order; `others` last when the rest adds up to anything. */
  keys: { key: string; name: string }[];
  rows: Record<string, number | string>[];
}

/**
 * Rows for a stacked area chart: one row per period in range, one column per top contributor (their own series),
 * and "Others" = the total minus the top contributors, so the stack always adds up to the repository's total.
 */
export function stackContributors(
  top: Contributor[],
  total: PeriodPoint[],
  metric: Metric,
  range: { from: string; to: string; interval: Interval },
  othersCount: number,
): StackedSeries {
  const shown = top.filter((c) => metricOf(c, metric) > 0);
  const columns = shown.map((c) => ({
    key: `c${c.id}`,
    name: c.name,
    values: fillSeries(c.series, range.from, range.to, range.interval).map((p) => metricOf(p, metric)),
  }));
  const totals = fillSeries(total, range.from, range.to, range.interval);
  const others = totals.map((p, i) =>
    Math.max(0, metricOf(p, metric) - columns.reduce((sum, column) => sum + column.values[i]!, 0)),
  );
  const keys = columns.map(({ key, name }) => ({ key, name }));
  const hasOthers = others.some((v) => v > 0);
  if (hasOthers) keys.push({ key: OTHERS_KEY, name: othersCount > 0 ? `${othersCount} others` : 'Others' });
  const rows = totals.map((p, i) => {
    const row: Record<string, number | string> = { period: p.period };
    for (const column of columns) row[column.key] = column.values[i]!;
    if (hasOthers) row[OTHERS_KEY] = others[i]!;
    return row;
  });
  return { keys, rows };
}

/** A contributor's own series over the drawn range, for the card's sparkline. */
export function sparkValues(
  series: PeriodPoint[],
  metric: Metric,
  range: { from: string; to: string; interval: Interval },
): number[] {
  return fillSeries(series, range.from, range.to, range.interval).map((p) => metricOf(p, metric));
}

/** An SVG path through the values, scaled into a width × height box (y grows downwards). */
export function sparklinePath(values: number[], width: number, height: number): string {
  if (values.length === 0) return '';
  const max = Math.max(...values, 1);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  return values
    .map((v, i) => {
      const x = values.length > 1 ? i * step : width / 2;
      const y = height - (v / max) * height;
      return `${i === 0 ? 'M' : 'L'}${round(x)},${round(y)}`;
    })
    .join(' ');
}

const round = (n: number) => Math.round(n * 100) / 100;
